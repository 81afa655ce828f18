"""DeepUbi: released parameter count, a NumPy forward pass, window features, a train step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.linen import meta

from genereg_jax.models import get_model
from train_check import jitted_losses


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("channels, expected", [
    # text_cnn.py with vocab 21: embedding 21·21; convs 64·21·(2+3+4+5+6) + 5·64;
    # dense 320·128+128; output 128·2+2.
    (21, 68_987),
    # One-hot + the 31 IPCP properties per residue: only the embedding grows (52·21).
    (52, 68_987 + 31 * 21),
])
def test_released_parameter_count(channels, expected):
  model = get_model("deepubi", "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 31, channels))))
  assert _count(meta.unbox(variables)) == expected


def test_forward_pass_matches_numpy_and_ignores_the_central_residue():
  model = get_model("deepubi", "tiny")
  rng = np.random.default_rng(0)
  x = np.eye(21, dtype=np.float32)[rng.integers(0, 21, (3, 31))]
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  got = np.asarray(model.apply({"params": params}, x))
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
  h = np.delete(x.astype(np.float64), 15, axis=1) @ p["embedding"]["kernel"]
  pooled = []
  for width in (2, 4, 6):
    kernel, bias = p[f"conv_{width}"]["kernel"], p[f"conv_{width}"]["bias"]
    scan = np.stack([np.einsum("bwc,wco->bo", h[:, i:i + width], kernel)
                     for i in range(30 - width + 1)], axis=1) + bias
    pooled.append(np.maximum(scan, 0).max(axis=1))
  hidden = np.maximum(np.concatenate(pooled, -1) @ p["hidden"]["kernel"] + p["hidden"]["bias"], 0)
  z = hidden @ p["output"]["kernel"] + p["output"]["bias"]
  np.testing.assert_allclose(got, z[:, 1:] - z[:, :1], rtol=1e-4, atol=1e-5)
  changed = x.copy()
  changed[:, 15] = np.roll(changed[:, 15], 3, axis=-1)
  np.testing.assert_array_equal(model.apply({"params": params}, changed), got)


def test_window_features_join_the_pooled_features():
  model = get_model("deepubi", "tiny")
  x, features = jnp.zeros((2, 31, 21)), jnp.ones((2, 40))  # e.g. PseAAC's 40 values
  params = meta.unbox(model.init(jax.random.key(0), x, features))["params"]
  assert params["hidden"]["kernel"].shape == (3 * 8 + 40, 16)
  assert model.apply({"params": params}, x, features).shape == (2, 1)


def test_train_step_lowers_the_loss():
  model = get_model("deepubi", "tiny")
  rng = np.random.default_rng(1)
  x = np.eye(21, dtype=np.float32)[rng.integers(0, 21, (32, 31))]
  y = (x[:, 12, 14] > 0).astype(np.float32)[:, None]  # R three residues before the K
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  losses = jitted_losses(model, params, x, y, learning_rate=1e-2, dropout_seed=0, steps=8)
  assert losses[-1] < losses[0]
