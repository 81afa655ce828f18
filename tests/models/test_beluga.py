"""Beluga (ExPecto): published size, tiny preset train step, and the state-dict converter
checked against a NumPy forward written in the reference's PyTorch layout."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.linen import meta
from numpy.lib.stride_tricks import sliding_window_view

from genereg_jax.models import beluga
from genereg_jax.models import get_model

import train_check


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_paper_size_shapes_and_parameter_count():
  model = get_model("beluga", "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 2000, 4))))
  params = meta.unbox(variables)["params"]
  # Flattened trunk: 106 positions x 640 channels = 67,840 inputs, as nn.Linear(67840, 2003).
  assert params["hidden"]["kernel"].shape == (67_840, 2003)
  convs = [(4, 320), (320, 320), (320, 480), (480, 480), (480, 640), (640, 640)]
  expected = sum(8 * i * o + o for i, o in convs) + 67_840 * 2003 + 2003 + 2003 * 2002 + 2002
  assert _count(params) == expected == 149_536_251
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((2, 2000, 4))), variables)
  assert out.shape == (2, 2002)


def test_tiny_forward_and_jitted_train_step():
  model = get_model("beluga", "tiny")
  x = jax.random.bernoulli(jax.random.key(1), 0.25, (4, 200, 4)).astype(jnp.float32)
  y = jnp.ones((4, 12))
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  chex.assert_shape(model.apply({"params": params}, x), (4, 12))
  losses = train_check.jitted_losses(model, params, x, y, learning_rate=1e-2,
                                     dropout_seed=2)
  assert losses[-1] < losses[0]


def _reference_state_dict(rng, widths=(6, 6, 8, 8, 10, 10), length=200, pools=(2, 2, 1),
                          hidden=7, outputs=5):
  """Random weights named and shaped as ExPecto's torch ``Beluga`` state dict."""
  sd, channels, positions = {}, 4, length
  for key, width, pool in zip(beluga._CONV_KEYS, widths, (1, pools[0], 1, pools[1], 1, 1)):
    del pool
    sd[f"{key}.weight"] = rng.normal(0, 0.3, (width, channels, 1, 8)).astype(np.float32)
    sd[f"{key}.bias"] = rng.normal(0, 0.1, width).astype(np.float32)
    channels = width
  for pool in pools:
    positions = (positions - 14) // pool
  sd["model.1.2.1.weight"] = rng.normal(0, 0.05, (hidden, channels * positions)).astype(np.float32)
  sd["model.1.2.1.bias"] = rng.normal(0, 0.1, hidden).astype(np.float32)
  sd["model.1.4.1.weight"] = rng.normal(0, 0.3, (outputs, hidden)).astype(np.float32)
  sd["model.1.4.1.bias"] = rng.normal(0, 0.1, outputs).astype(np.float32)
  return sd


def _reference_forward(sd, x_agct, pools=(2, 2, 1)):
  """The torch Sequential in NumPy: channels-first ``[batch, 4 (A,G,C,T), length]``."""
  def conv(x, key):
    w, b = sd[f"{key}.weight"][:, :, 0, :], sd[f"{key}.bias"]
    windows = sliding_window_view(x, w.shape[-1], axis=2)  # [batch, in, positions, width]
    return np.maximum(np.einsum("bilk,oik->bol", windows, w) + b[None, :, None], 0)

  x = x_agct.astype(np.float64)
  for block, pool in enumerate(pools):
    x = conv(conv(x, beluga._CONV_KEYS[2 * block]), beluga._CONV_KEYS[2 * block + 1])
    if pool > 1:
      keep = x.shape[2] // pool * pool
      x = x[:, :, :keep].reshape(x.shape[0], x.shape[1], -1, pool).max(-1)
  x = x.reshape(x.shape[0], -1)  # torch .view: channels-first
  x = np.maximum(x @ sd["model.1.2.1.weight"].T + sd["model.1.2.1.bias"], 0)
  return x @ sd["model.1.4.1.weight"].T + sd["model.1.4.1.bias"]


def test_converter_matches_numpy_forward_of_reference_layout(tmp_path):
  rng = np.random.default_rng(0)
  sd = _reference_state_dict(rng)
  np.savez(tmp_path / "beluga.npz", **sd)
  model, params = beluga.load_state_dict(str(tmp_path / "beluga.npz"), input_length=200)
  assert model.block_features == ((6, 6), (8, 8), (10, 10)) and model.num_outputs == 5
  assert model.pool_sizes == (2, 2, 1)  # read off the 200 bp flatten size
  x = rng.integers(0, 4, (3, 200))
  ours = np.eye(4, dtype=np.float32)[x]  # [batch, length, 4] in A, C, G, T
  agct = ours[..., [0, 2, 1, 3]].transpose(0, 2, 1)
  expected = _reference_forward(sd, agct)
  got = np.asarray(model.apply({"params": params}, ours))
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
  # Reading the channels in our order without the reorder would differ: the test can fail.
  assert np.abs(_reference_forward(sd, ours.transpose(0, 2, 1)) - expected).max() > 1e-2


def test_converter_rejects_foreign_state_dicts():
  sd = _reference_state_dict(np.random.default_rng(1))
  with pytest.raises(ValueError, match="missing"):
    beluga.convert_state_dict({k: v for k, v in sd.items() if k != "model.0.8.bias"})
  with pytest.raises(ValueError, match="unconverted"):
    beluga.convert_state_dict({**sd, "model.2.weight": np.zeros(3)})


def test_config_from_paper_shaped_state_dict_is_the_published_model():
  shapes = {"model.0.0": (320, 4, 1, 8), "model.0.2": (320, 320, 1, 8),
            "model.0.6": (480, 320, 1, 8), "model.0.8": (480, 480, 1, 8),
            "model.0.12": (640, 480, 1, 8), "model.0.14": (640, 640, 1, 8),
            "model.1.2.1": (2003, 67_840), "model.1.4.1": (2002, 2003)}
  sd = {f"{k}.weight": np.broadcast_to(np.float32(0), s) for k, s in shapes.items()}
  config = beluga.config_from_state_dict(sd)
  paper = get_model("beluga", "paper")
  assert all(getattr(paper, k) == v for k, v in config.items()), config
