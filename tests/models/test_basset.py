"""Basset and CpGenie: published sizes, tiny shapes, overlapping pooling, a train step."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.linen import meta

from genereg_jax import nn as gnn
from genereg_jax.models import get_model


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_basset_paper_parameter_count():
  model = get_model("basset", "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 600, 4))))
  # Convs without bias (batch norm follows) + batch-norm scale and offset:
  #   19·4·300 + 2·300 + 11·300·200 + 2·200 + 7·200·200 + 2·200        =   964,200
  # 600 -> 582 -> pool 3 -> 194 -> 184 -> pool 4 -> 46 -> 40 -> pool 4 -> 10; 10·200 = 2,000:
  #   2000·1000 + 2·1000 + 1000·1000 + 2·1000 + 1000·164 + 164          = 3,168,164
  # The Torch model adds 300+200+200+1000+1000 = 2,700 redundant biases: 4,135,064.
  assert _count(meta.unbox(variables["params"])) == 4_132_364
  # Running means and variances: 2·(300+200+200+1000+1000).
  assert _count(variables["batch_stats"]) == 5_400
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((2, 600, 4))), variables)
  assert out.shape == (2, 164)


def test_cpgenie_parameter_count():
  model = get_model("basset", "cpgenie")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 1001, 4))))
  # 'same' convs, pool 5 stride 3: 1001 -> 333 -> 110 -> 36 positions; 36·512 = 18,432.
  # 5·4·128+128 + 5·128·256+256 + 5·256·512+512 + 18432·64+64 + 64·64+64 + 64·2+2.
  assert _count(meta.unbox(variables)) == 2_006_658
  assert "batch_stats" not in variables
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((2, 1001, 4))), variables)
  assert out.shape == (2, 2)


def test_conv_block_overlapping_pool_matches_numpy():
  block = gnn.ConvBlock(3, 5, pool_size=5, pool_stride=3, padding="SAME")
  x = jax.random.normal(jax.random.key(0), (2, 20, 4))
  variables = block.init(jax.random.key(1), x, train=False)
  got = block.apply(variables, x, train=False)
  conv = np.maximum(np.asarray(gnn.conv(3, 5, padding="SAME").apply(
      {"params": variables["params"]["Conv_0"]}, x)), 0.0)
  expected = np.stack([conv[:, s:s + 5].max(axis=1) for s in range(0, 16, 3)], axis=1)
  chex.assert_shape(got, (2, 6, 3))
  np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
  # Default stride = window, as DeepSEA relies on.
  default = gnn.ConvBlock(3, 5, pool_size=5, padding="SAME")
  chex.assert_shape(default.apply(variables, x, train=False), (2, 4, 3))


def test_tiny_forward_and_jitted_train_step_with_batch_norm():
  model = get_model("basset", "tiny")
  x = jax.random.bernoulli(jax.random.key(1), 0.25, (8, 200, 4)).astype(jnp.float32)
  y = (jax.random.uniform(jax.random.key(2), (8, 12)) > 0.5).astype(jnp.float32)
  variables = meta.unbox(model.init(jax.random.key(0), x))
  params, batch_stats = variables["params"], variables["batch_stats"]
  chex.assert_shape(model.apply(variables, x), (8, 12))
  tx = optax.adam(1e-2)

  @jax.jit
  def step(params, batch_stats, opt_state):
    def loss_fn(p):
      logits, mutated = model.apply({"params": p, "batch_stats": batch_stats}, x, train=True,
                                    rngs={"dropout": jax.random.key(3)},
                                    mutable=["batch_stats"])
      return optax.sigmoid_binary_cross_entropy(logits, y).mean(), mutated["batch_stats"]
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), batch_stats, opt_state, loss

  opt_state = tx.init(params)
  before = jax.tree.map(np.asarray, batch_stats)
  losses = []
  for _ in range(5):
    params, batch_stats, opt_state, loss = step(params, batch_stats, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < losses[0]
  # Batch norm's running statistics moved (momentum 0.9).
  moved = jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - b).max()), batch_stats, before)
  assert min(jax.tree.leaves(moved)) > 0


def test_cpgenie_reduced_forward():
  model = get_model("basset", "cpgenie", {"conv_features": (8, 8, 8), "dense_features": (8, 8)})
  x = jax.random.bernoulli(jax.random.key(1), 0.25, (2, 1001, 4)).astype(jnp.uint8)
  variables = meta.unbox(model.init(jax.random.key(0), x))
  # 36 pooled positions × 8 kernels feed the first dense layer.
  assert variables["params"]["hidden_0"]["Dense_0"]["kernel"].shape == (288, 8)
  chex.assert_shape(model.apply(variables, x), (2, 2))
