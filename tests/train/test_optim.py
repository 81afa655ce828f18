"""Every optimizer and schedule named in the config builds and steps."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from genereg_jax.train import optim


def _config(**kw):
  base = dict(name="adam", learning_rate=0.1, schedule="constant", warmup_steps=0)
  return ml_collections.ConfigDict({**base, **kw})


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "nadam", "adamw", "radam"])
def test_optimizers_reduce_a_quadratic(name):
  tx, _ = optim.make_optimizer(_config(name=name, momentum=0.9, clip_norm=1.0), 100)
  params = {"w": jnp.array([3.0, -2.0])}
  state = tx.init(params)
  for _ in range(50):
    grads = {"w": 2 * params["w"]}
    updates, state = tx.update(grads, state, params)
    params = optax.apply_updates(params, updates)
  assert float(jnp.sum(params["w"] ** 2)) < 13.0 * 0.5


def test_warmup_then_cosine_and_linear():
  schedule = optim.learning_rate_schedule(_config(schedule="cosine", warmup_steps=10), 110)
  np.testing.assert_allclose([schedule(0), schedule(5), schedule(10), schedule(110)],
                             [0.0, 0.05, 0.1, 0.0], atol=1e-6)
  linear = optim.learning_rate_schedule(_config(schedule="linear", warmup_steps=0), 100)
  np.testing.assert_allclose(linear(50), 0.05, atol=1e-6)


def test_cosine_warm_restarts_follow_pytorch_sgdr():
  # PyTorch CosineAnnealingWarmRestarts(T_0=10, T_mult=2): cycles of 10, 20, 40 steps.
  config = _config(schedule="cosine_restarts", restart_steps=10, restart_multiplier=2)
  schedule = optim.learning_rate_schedule(config, 70)
  steps = np.arange(70)
  start = np.where(steps < 10, 0, np.where(steps < 30, 10, 30))
  period = np.where(steps < 10, 10, np.where(steps < 30, 20, 40))
  expected = 0.1 * (1 + np.cos(np.pi * (steps - start) / period)) / 2
  np.testing.assert_allclose([schedule(s) for s in steps], expected, atol=1e-6)
  assert float(schedule(10)) == pytest.approx(0.1) and float(schedule(30)) == pytest.approx(0.1)
  with pytest.raises(ValueError, match="restart_steps"):
    optim.learning_rate_schedule(_config(schedule="cosine_restarts", restart_steps=0), 10)


def test_unknown_names_list_valid_ones():
  with pytest.raises(ValueError, match="radam"):
    optim.make_optimizer(_config(name="adamm"), 10)
  with pytest.raises(ValueError, match="cosine"):
    optim.make_optimizer(_config(schedule="exp"), 10)


def test_frozen_subtrees_do_not_move():
  tx, _ = optim.make_optimizer(_config(frozen=("bias",)), 10)
  params = {"bias": {"w": jnp.ones(3)}, "accessibility": {"w": jnp.ones(3)},
            "bias_like": {"w": jnp.ones(2)}}
  state = tx.init(params)
  grads = jax.tree.map(jnp.ones_like, params)
  updates, _ = tx.update(grads, state, params)
  new = optax.apply_updates(params, updates)
  np.testing.assert_array_equal(new["bias"]["w"], params["bias"]["w"])
  assert float(new["accessibility"]["w"][0]) < 1.0
  assert float(new["bias_like"]["w"][0]) < 1.0
