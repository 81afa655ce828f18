"""bfloat16 compute, float32 state: Enformer :tiny through the trainer's own train step.

``--config.compute_dtype=bfloat16`` (``experiments.benchmarks.train_step
--compute_dtype``) runs every layer in bfloat16, while parameters, optimizer state,
batch statistics and the loss stay float32: mixed precision without loss scaling, which
bfloat16's float32 exponent range makes unnecessary. Four Adam steps on one batch give
the float32 run's losses to within BF16_RTOL.
"""

import jax
import jax.numpy as jnp
import numpy as np

from experiments import configs
from genereg_jax.train import partitioning
from genereg_jax.train import trainer

STEPS = 4
BATCH = 4
# Measured: largest relative loss difference over the 4 steps 3.5e-4 (bfloat16 keeps 8
# significand bits, ~0.4% per rounding, mostly averaged out in the loss); bar ~6x that.
BF16_RTOL = 2e-3


def _train(compute_dtype: str, initial=None):
  """``(experiment, state, losses, initial)`` after STEPS steps of
  enformer_human_mouse:tiny from ``initial`` (default: the trainer's init)."""
  config = configs.get_config("enformer_human_mouse:tiny")
  config.compute_dtype = compute_dtype
  config.optimizer.warmup_steps = 0  # So that these few steps move the parameters.
  # Smaller still (one compile is most of the test): 256 bp -> 32 bins of 8 bp, 16 kept,
  # one transformer block; 6 human tracks.
  config.model.update(num_downsamples=3, target_length=16, depth=1)
  experiment = trainer.Experiment(config)
  rng = np.random.default_rng(0)
  batch = {"sequence": np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (BATCH, 256))],
           "target": rng.poisson(2.0, (BATCH, 16, 6)).astype(np.float32)}
  example = {k: v[0] for k, v in batch.items()}
  if initial is None:
    state, shardings, _ = experiment.create_state(example)
    initial = jax.device_get(state)  # A host copy: the step donates its input.
  else:  # The same initial parameters (their dtype is float32 either way), no init.
    state, (_, shardings) = initial, experiment.abstract_state(example)
  step = experiment.jit_train_steps(shardings)["human"]
  batch = partitioning.global_batch(batch, experiment.mesh)
  losses = []
  for _ in range(STEPS):
    state, metrics = step(state, batch)
    losses.append(float(metrics["loss"]))
  return experiment, state, np.array(losses), initial


def test_bfloat16_compute_trains_like_float32_with_float32_state():
  _, _, losses32, initial = _train("float32")
  experiment, state, losses16, _ = _train("bfloat16", initial)
  assert experiment.model.dtype == jnp.bfloat16
  floats = [x for x in jax.tree.leaves((state.params, state.opt_state, state.batch_stats))
            if jnp.issubdtype(x.dtype, jnp.floating)]
  assert floats and {x.dtype for x in floats} == {jnp.dtype(jnp.float32)}
  assert np.all(np.isfinite(losses16))
  assert losses32[-1] < losses32[0] and losses16[-1] < losses16[0], (losses32, losses16)
  np.testing.assert_allclose(losses16, losses32, rtol=BF16_RTOL)
  assert not np.array_equal(losses16, losses32)  # The layers really ran in bfloat16.
