"""Orca's 1-Mb model (genereg_jax.models.orca): size from the reference's layers, geometry,
symmetry, training.

The count transcribes ``Net(num_1d=None)`` of jzhoulab/orca ``orca_modules.py``:
PyTorch convolutions with biases, each followed by ``BatchNorm`` (weight and bias
trainable; running mean and variance not).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax.models import orca
from genereg_jax.nn import conv2d
from genereg_jax.tasks import contact_map


def _count(tree) -> int:
  return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(tree))


def _reference_count() -> tuple[int, int]:
  """Parameters and batch-norm running statistics of ``orca_modules.Net``."""
  conv = lambda c_in, c_out, k: c_in * c_out * k + c_out
  params = stats = 0
  c_in = 4
  for c in (64, 96, 128, 128, 128, 128, 128):  # lconv1..7 and conv1..7, kernel 9.
    params += conv(c_in, c, 9) + 3 * conv(c, c, 9) + 4 * 2 * c
    stats += 4 * 2 * c
    c_in = c
  for b in range(19):  # lconvtwos[b] and convtwos[b], 3x3.
    params += conv(128 if b == 0 else 64, 32, 9) + 2 * conv(32, 64, 9) + conv(64, 32, 9)
    params += 2 * 2 * (32 + 64)
    stats += 2 * 2 * (32 + 64)
  params += conv(64, 5, 1) + 2 * 5 + conv(5, 1, 1)  # final
  return params, stats + 2 * 5


def test_paper_parameter_count_and_geometry():
  model = orca.orca_1mb("paper")
  x = jnp.zeros((1, orca.SEQUENCE_LENGTH, 4))
  variables = nn.meta.unbox(jax.eval_shape(lambda: model.init(jax.random.key(0), x)))
  assert _reference_count() == (4_769_429, 13_706)
  assert _count(variables["params"]) == 4_769_429
  assert _count(variables["batch_stats"]) == 13_706
  params = variables["params"]
  assert params["lconv_0"]["conv_0"]["kernel"].shape == (9, 4, 64)
  assert params["lconvtwo_0"]["conv_0"]["kernel"].shape == (3, 3, 128, 32)
  assert params["convtwo_18"]["conv_1"]["kernel"].shape == (3, 3, 32, 64)
  assert model.output_stride == 4000 and model.map_bins(orca.SEQUENCE_LENGTH) == 250
  assert model.decoder_dilations == (1, 2, 4, 8, 16, 32, 64) + (2, 4, 8, 16, 32, 64) * 2
  out = jax.eval_shape(lambda v: model.apply(v, x), variables)
  assert out["human"].shape == (1, 31_375, 1)
  with_1d = orca.orca_1mb("paper", num_1d=32)
  out = jax.eval_shape(lambda: with_1d.init_with_output(jax.random.key(0), x)[0])
  assert out["human_1d"].shape == (1, 250, 32)


def test_tiny_shapes_and_training_lowers_masked_mse():
  # Three encoder stages (pools 4 and 8: 32-bp bins) and two 2-D blocks of the tiny
  # preset, on 512 bp (a 12 x 12 map): the train step's compile is the cost, and it
  # grows with the number of blocks.
  model = orca.orca_1mb("tiny", encoder_features=(8, 12, 16), pool_sizes=(4, 8),
                        decoder_dilations=(1, 2))
  rng = np.random.default_rng(0)
  sequence = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (2, 512))]
  # One jitted init that also runs the forward pass (an eager init compiles every
  # initialiser op on its own: minutes on 2 cores).
  out, variables = jax.jit(model.init_with_output)(jax.random.key(0), sequence)
  variables, out = nn.meta.unbox(variables), out["human"]
  assert orca.orca_1mb("tiny").map_bins(8_192) == 28 and model.map_bins(512) == 12
  assert out.shape == (2, conv2d.num_pairs(12, 2), 2)
  full = conv2d.from_upper_triangle(np.asarray(out), 12, 2)
  assert np.isnan(full[0, 0, 1, 0]) and np.isfinite(full[0, 0, 2, 0]) and np.nanstd(full) > 0

  target = rng.normal(size=out.shape).astype(np.float32)
  target[:, ::9] = np.nan
  batch = {"sequence": sequence, "target": target}
  task = contact_map.ContactMap(head="human", diagonal_offset=2)
  tx = optax.adam(3e-3)

  @jax.jit
  def step(params, batch_stats, opt_state, key):
    def loss_fn(p):
      outputs, mutated = model.apply({"params": p, "batch_stats": batch_stats},
                                     batch["sequence"], train=True, rngs={"dropout": key},
                                     mutable=["batch_stats"])
      return task.loss(outputs, batch)[0], mutated["batch_stats"]
    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), stats, opt_state, loss

  params, stats = variables["params"], variables["batch_stats"]
  opt_state, losses = tx.init(params), []
  for i in range(3):
    params, stats, opt_state, loss = step(params, stats, opt_state, jax.random.key(i))
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < losses[0], losses


def test_encoder_reaches_map_bins():
  model = orca.orca_1mb("tiny")
  x = jnp.zeros((1, 8_192, 4))
  variables = nn.meta.unbox(jax.eval_shape(lambda: model.init(jax.random.key(0), x)))
  _, inter = jax.eval_shape(lambda v: model.apply(v, x, mutable=["intermediates"]),
                            variables)
  # 256-bp bins: 32 before the 2-bin crop at each end.
  assert inter["intermediates"]["encoder_out"][0].shape == (1, 32, 16)


def test_bad_geometry_is_an_error():
  model = orca.orca_1mb("tiny")
  with pytest.raises(ValueError, match="multiple"):
    model.init(jax.random.key(0), jnp.zeros((1, 8_200, 4)))
  with pytest.raises(ValueError, match="pool sizes"):
    orca.orca_1mb("tiny", pool_sizes=(4, 4)).init(jax.random.key(0),
                                                   jnp.zeros((1, 8_192, 4)))
