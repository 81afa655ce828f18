"""Tests for Basenji2 (Kelley, PLoS Comput. Biol. 2020) and its residual blocks.

The paper-size parameter count is compared with the MultiMolecule port of the
human model (30.09 M); the conv block with a NumPy re-implementation.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax import models
from genereg_jax.models import basenji
from genereg_jax.nn import residual


def _count(tree) -> int:
  return sum(x.size for x in jax.tree_util.tree_leaves(tree))


def test_paper_geometry():
  model = basenji.basenji2("paper")
  assert model.tower_widths == [339, 399, 470, 554, 652, 768]
  assert model.dilations == [1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72]
  assert model.output_stride == 128
  assert model.crop_bp == 8192
  assert model.output_length(basenji.SEQUENCE_LENGTH) == basenji.TARGET_LENGTH
  # 646 bp from stem + tower, then 2 x 212 dilated steps of 128 bp.
  assert model.receptive_field == 646 + 2 * 212 * 128 == 54_918
  assert residual.dilation_rates(4, 2.0, round_rates=False) == [1, 2, 4, 8]
  assert residual.dilation_rates(3, 1.5, round_rates=False) == [1, 2, 2]


def test_paper_output_shapes_parameter_count_and_axis_names():
  model = models.get_model("basenji", "paper")
  x = jnp.zeros((1, basenji.SEQUENCE_LENGTH, 4))
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
  outputs = jax.eval_shape(model.apply, shapes, x)
  assert outputs["human"].shape == (1, 896, 5313)
  assert outputs["mouse"].shape == (1, 896, 1643)
  assert outputs["human"].dtype == jnp.float32

  plain = nn.meta.unbox(shapes)
  params = plain["params"]
  # The MultiMolecule port of the human model reports 30.09 M parameters.
  assert _count({k: v for k, v in params.items() if k != "head_mouse"}) == (
      30_088_228)
  assert _count(params) == 32_613_519
  assert _count(params["head_mouse"]) == 1536 * 1643 + 1643
  # Running means and variances of 7 + 22 + 1 batch norms.
  assert _count(plain["batch_stats"]) == 35_356
  assert params["stem"]["conv"]["kernel"].shape == (15, 4, 288)
  assert "bias" not in params["stem"]["conv"]  # batch norm follows
  block = params["dilated_residual"]["block_10"]
  assert block["dilated"]["conv"]["kernel"].shape == (3, 768, 384)
  assert block["pointwise"]["conv"]["kernel"].shape == (1, 384, 768)
  assert params["final_pointwise"]["conv"]["kernel"].shape == (1, 768, 1536)

  names = jax.tree_util.tree_map(
      tuple, nn.get_partition_spec(shapes)["params"],
      is_leaf=lambda x: isinstance(x, jax.sharding.PartitionSpec))
  assert names["head_human"]["kernel"] == ("embed", "tracks")
  assert names["tower_0"]["conv"]["kernel"] == ("conv_width", "conv_in",
                                                "conv_out")
  assert names["tower_0"]["norm"]["scale"] == ("norm",)
  name_counts = jax.tree_util.tree_map(
      len, names, is_leaf=lambda x: isinstance(x, tuple))
  assert name_counts == jax.tree_util.tree_map(lambda x: x.ndim, params)


def test_synthetic_preset_fits_synthetic_coverage_geometry():
  model = basenji.basenji2("synthetic")
  assert model.output_length(24_576) == 160
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0),
                          jnp.zeros((1, 24_576, 4)))
  outputs = jax.eval_shape(model.apply, shapes, jnp.zeros((2, 24_576, 4)))
  assert outputs["human"].shape == (2, 160, 6)
  assert outputs["mouse"].shape == (2, 160, 3)


def test_conv_block_matches_numpy():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 9, 3)).astype(np.float32)
  kernel = rng.normal(size=(3, 3, 4)).astype(np.float32)
  scale, bias = rng.uniform(0.5, 2, 4), rng.normal(size=4)
  mean, var = rng.normal(size=4), rng.uniform(0.5, 2, 4)
  block = residual.PreActivationConvBlock(4, 3, dilation=2, pool_size=2)
  variables = {"params": {"conv": {"kernel": kernel},
                          "norm": {"scale": scale, "bias": bias}},
               "batch_stats": {"norm": {"mean": mean, "var": var}}}
  got = block.apply(variables, x)

  act = 1 / (1 + np.exp(-1.702 * x)) * x
  padded = np.pad(act, ((0, 0), (2, 2), (0, 0)))
  conv = sum(padded[:, 2 * k:2 * k + 9] @ kernel[k] for k in range(3))
  normed = (conv - mean) / np.sqrt(var + 1e-3) * scale + bias
  # "same" max-pool: the odd last position is a window of its own.
  pooled = np.concatenate([normed[:, :8].reshape(2, 4, 2, 4).max(axis=2),
                           normed[:, 8:]], axis=1)
  assert got.shape == (2, 5, 4)
  np.testing.assert_allclose(got, pooled, rtol=1e-5, atol=1e-5)


def test_residual_block_starts_as_identity():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 8))
  x = jnp.concatenate([x, x.at[:, 8].add(1.0)])  # and with position 8 bumped
  block = residual.DilatedResidualBlock(4, dilation=3, dropout_rate=0.3)
  variables = block.init(jax.random.PRNGKey(1), x)

  @jax.jit
  def both_modes(variables):
    train_out, _ = block.apply(variables, x, train=True,
                               mutable=["batch_stats"],
                               rngs={"dropout": jax.random.PRNGKey(2)})
    return block.apply(variables, x), train_out

  for out in both_modes(variables):
    np.testing.assert_array_equal(out, x)
  # After a nonzero scale the dilated branch sees 3 positions 3 apart.
  params = jax.tree_util.tree_map(lambda p: p + 0.5,
                                  nn.meta.unbox(variables["params"]))
  out, _ = both_modes({"params": params,
                       "batch_stats": variables["batch_stats"]})
  delta = np.abs(out[2:] - out[:2])
  assert set(np.flatnonzero(delta.sum(axis=(0, 2)) > 1e-6)) == {5, 8, 11}


def test_crop_needs_enough_bins():
  model = basenji.basenji2("tiny")
  with pytest.raises(ValueError, match="cannot lose 8"):
    jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, 512, 4)))


def test_tiny_train_step_poisson_loss_falls():
  model = models.get_model("basenji", "tiny")
  assert model.output_length(2048) == 48 and model.output_stride == 32
  tokens = jax.random.randint(jax.random.PRNGKey(1), (2, 2048), 0, 4)
  x = jax.nn.one_hot(tokens, 4)
  # A learnable target: GC count of each 32-bp output bin (cropped 8 bins).
  gc = ((tokens == 1) | (tokens == 2)).reshape(2, 64, 32).sum(-1)[:, 8:56]
  targets = {"human": jnp.repeat(gc[..., None], 6, -1).astype(jnp.float32),
             "mouse": jnp.repeat(gc[..., None], 3, -1).astype(jnp.float32)}
  variables = jax.jit(model.init)(jax.random.PRNGKey(0), x)
  params = nn.meta.unbox(variables["params"])
  batch_stats = variables["batch_stats"]
  optimizer = optax.adam(1e-2)
  opt_state = optimizer.init(params)

  def loss_fn(params, batch_stats, rng):
    out, updates = model.apply(
        {"params": params, "batch_stats": batch_stats}, x, train=True,
        rngs={"dropout": rng}, mutable=["batch_stats"])
    # Poisson NLL minus its minimum (prediction = target): >= 0, 0 at best.
    loss = sum(jnp.mean(out[k] - targets[k] * jnp.log(out[k] + 1e-7)
                        - targets[k] + jax.scipy.special.xlogy(targets[k],
                                                               targets[k]))
               for k in out)
    return loss, updates["batch_stats"]

  @jax.jit
  def step(params, batch_stats, opt_state, rng):
    (loss, batch_stats), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(params, batch_stats, rng)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(params, updates), batch_stats, opt_state, loss

  losses = []
  for i in range(20):
    params, batch_stats, opt_state, loss = step(
        params, batch_stats, opt_state, jax.random.PRNGKey(10 + i))
    losses.append(float(loss))
  assert np.all(np.isfinite(losses))
  assert np.mean(losses[-3:]) < 0.4 * np.mean(losses[:3]), losses
  assert min(losses) >= 0
  assert not np.allclose(batch_stats["stem"]["norm"]["mean"], 0)

  predict = jax.jit(lambda v: model.apply(v, x, return_embeddings=True))
  outputs, embeddings = predict({"params": params, "batch_stats": batch_stats})
  assert outputs["human"].shape == (2, 48, 6)
  assert outputs["mouse"].shape == (2, 48, 3)
  assert embeddings.shape == (2, 48, 64)
  assert bool(jnp.all(outputs["human"] >= 0))
  # Eval mode is deterministic (running statistics, no dropout).
  again, _ = predict({"params": params, "batch_stats": batch_stats})
  np.testing.assert_array_equal(again["human"], outputs["human"])
