"""MiRTDL, the splicing-code MLP and the DARTS DNN: shapes, the released DARTS sizes,
train/eval modes, and a jitted gradient step that lowers the loss."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax import models


def _params(variables):
  return sum(x.size for x in jax.tree.leaves(variables["params"]))


def test_mirtdl_shapes():
  model = models.get_model("mirtdl", "tiny")
  x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 20)), jnp.float32)
  variables = model.init(jax.random.key(0), x)
  assert model.apply(variables, x).shape == (4, 1)
  paper = models.get_model("mirtdl", "paper")
  assert jax.eval_shape(lambda: paper.init_with_output(jax.random.key(0), x)[0]).shape == (4, 1)


def test_splicing_code_lmh_and_regression_heads():
  x = jnp.ones((3, 785))
  model = models.get_model("splicing_code", "tiny", dict(num_tissues=5))
  variables = model.init(jax.random.key(0), x)
  assert model.apply(variables, x).shape == (3, 5, 3)
  regression = models.get_model("splicing_code", "tiny", dict(num_tissues=2, num_classes=1))
  assert regression.apply(regression.init(jax.random.key(0), x), x).shape == (3, 2)


def test_darts_dnn_has_the_released_architecture():
  model = models.get_model("darts", "paper")
  cis, trans = jnp.ones((2, 2926)), jnp.ones((2, 2, 1498))  # 5,922 inputs as released.
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), cis, trans))
  kernels = [x.shape for x in jax.tree.leaves(variables["params"]) if len(x.shape) == 2]
  assert kernels == [(5922, 1200), (1200, 500), (500, 300), (300, 200), (200, 1)]
  with pytest.raises(ValueError, match="dropout rates"):
    models.get_model("darts", "paper", dict(dropout_rates=(0.1,))).init(
        jax.random.key(0), cis, trans)


def test_darts_dropout_only_in_training_and_a_step_learns():
  rng = np.random.default_rng(0)
  cis = jnp.asarray(rng.normal(size=(64, 30)), jnp.float32)
  trans = jnp.asarray(rng.normal(size=(64, 2, 4)), jnp.float32)
  labels = (trans[:, 1, 0] - trans[:, 0, 0] > 0).astype(jnp.float32)  # Learnable rule.
  model = models.get_model("darts", "tiny")
  variables = model.init(jax.random.key(0), cis, trans)
  params, stats = variables["params"], variables["batch_stats"]
  eval_a = model.apply(variables, cis, trans)
  assert np.allclose(eval_a, model.apply(variables, cis, trans))
  tx = optax.adam(1e-2)
  opt = tx.init(params)

  @jax.jit
  def step(params, stats, opt, key):
    def loss_fn(p):
      out, mutated = model.apply({"params": p, "batch_stats": stats}, cis, trans, train=True,
                                 rngs={"dropout": key}, mutable=["batch_stats"])
      return optax.sigmoid_binary_cross_entropy(out, labels).mean(), mutated["batch_stats"]
    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt = tx.update(grads, opt)
    return optax.apply_updates(params, updates), stats, opt, loss

  losses = []
  for i in range(60):
    params, stats, opt, loss = step(params, stats, opt, jax.random.key(i))
    losses.append(float(loss))
  assert np.mean(losses[-5:]) < 0.6 * losses[0], losses
