"""``config.model.remat`` of the conv trunks (Basenji2, Akita, Enformer's tower): same
numbers, less memory.

Rematerialised blocks keep only their inputs for the backward pass and recompute the
rest, so loss, gradients, dropout and batch statistics must not change (Enformer's
numbers with remat: test_enformer.py).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import configs
from genereg_jax.nn import conv2d
from genereg_jax.nn import residual
from genereg_jax.train import trainer


def _remat_count(function, *args) -> int:
  """Rematerialised calls in ``function``'s jaxpr (jax.checkpoint's primitive is
  ``remat2``); traced on shapes, nothing compiled."""
  return str(jax.make_jaxpr(function)(*args)).count("remat2[")


def _train_pass(module):
  """``(params, batch_stats, x) -> (loss, batch_stats)``: train mode, with dropout."""

  def loss_fn(params, batch_stats, x):
    y, updates = module.apply({"params": params, "batch_stats": batch_stats}, x,
                              train=True, rngs={"dropout": jax.random.PRNGKey(1)},
                              mutable=["batch_stats"])
    loss = sum(jnp.mean(jnp.square(o - 0.5)) for o in jax.tree.leaves(y))
    return loss, updates["batch_stats"]

  return loss_fn


@pytest.mark.parametrize("tower,shape", [
    (residual.DilatedResidualTower(6, 2, dropout_rate=0.3), (2, 32, 8)),
    (conv2d.DilatedResidual2D(6, 2, dropout_rate=0.1), (2, 12, 12, 8))])
def test_remat_keeps_loss_gradients_and_batch_stats(tower, shape):
  x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
  variables = tower.init(jax.random.PRNGKey(0), x)
  # Shifted off the zero-initialised batch-norm scales of the residual branches, so
  # that every parameter gets a gradient.
  params = jax.tree.map(lambda p: p + 0.05, variables["params"])
  args = (params, variables["batch_stats"], x)
  loss_fn, remat_fn = _train_pass(tower), _train_pass(tower.clone(remat=True))
  assert _remat_count(remat_fn, *args) == 2 and _remat_count(loss_fn, *args) == 0

  gradient = lambda f: jax.jit(jax.value_and_grad(f, has_aux=True))(*args)
  (loss, stats), grads = gradient(loss_fn)
  (loss_r, stats_r), grads_r = gradient(remat_fn)
  assert all(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(grads))
  np.testing.assert_allclose(float(loss_r), float(loss), rtol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
               grads_r, grads)
  jax.tree.map(np.testing.assert_array_equal, stats_r, stats)


# Basenji2 tiny: 3 dilated residual blocks; Akita tiny (8,192 bp): 2 1-D and 2 2-D;
# Enformer tiny: 4 conv tower and 2 transformer blocks.
@pytest.mark.parametrize("config_name,length,blocks", [
    ("basenji2_human:tiny", 2048, 3), ("akita:tiny", 8192, 4),
    ("enformer_human_mouse:tiny", 2048, 6)])
def test_config_switch_remats_every_residual_block(config_name, length, blocks):
  config = configs.get_config(config_name)
  assert config.model.remat is False  # A config field, off by default.
  sequence = jax.ShapeDtypeStruct((2, length, 4), jnp.float32)
  counts = []
  for remat in (False, True):
    config.model.remat = remat
    model = trainer.build_model(config)
    variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), sequence)
    counts.append(_remat_count(_train_pass(model), variables["params"],
                               variables["batch_stats"], sequence))
  assert counts == [0, blocks]
