"""DeeReCT-TSS: the release's sizes (two branches of 64 detectors and 128 units), the
coverage transforms, and a jitted train step on the synthetic TSS grammar's records."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from data_builders.synthetic_tss import synthetic_tss
from genereg_jax.models import get_model
from genereg_jax.tasks import get_task


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_paper_size_matches_the_release():
  model = get_model("deerect_tss", "paper")
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 1001, 4)),
                          jnp.zeros((1, 1001)))
  # Per branch: conv 10 x in x 64 + 64, dense (99 * 64) x 128 + 128; merge 256 + 1.
  branch = lambda channels: 10 * channels * 64 + 64 + 99 * 64 * 128 + 128
  assert _count(shapes["params"]) == branch(4) + branch(1) + 256 + 1 == 1_625_857


def test_coverage_transforms():
  coverage = jnp.array([[0.0, 3.0, 1.0, 7.0]])
  model = get_model("deerect_tss", "tiny", dict(coverage_transform="minmax"))
  np.testing.assert_allclose(model._coverage(coverage)[0, :, 0], [0, 3 / 7, 1 / 7, 1])
  flat = model._coverage(jnp.full((1, 4), 5.0))
  assert (flat == 0).all()
  log = get_model("deerect_tss", "tiny", dict(coverage_transform="log1p"))
  np.testing.assert_allclose(log._coverage(coverage)[0, :, 0], np.log1p([0, 3, 1, 7]),
                             rtol=1e-6)
  with pytest.raises(ValueError, match="coverage_transform"):
    get_model("deerect_tss", "tiny", dict(coverage_transform="sqrt"))._coverage(coverage)


def test_train_step_lowers_the_loss_on_synthetic_records():
  weights = synthetic_tss.cell_type_weights(2, 0)
  records = [synthetic_tss.tss_example(np.random.default_rng(i), i % 2, weights, 161)
             for i in range(16)]
  batch = {k: jnp.asarray(np.stack([r[k] for r in records]))
           for k in ("sequence", "coverage", "label")}
  model = get_model("deerect_tss", "tiny", dict(coverage_transform="log1p"))
  task = get_task("tss_usage")
  params = model.init(jax.random.key(0), batch["sequence"], batch["coverage"])["params"]
  tx = optax.adam(1e-2)

  @jax.jit
  def step(params, opt_state):
    loss_fn = lambda p: task.loss(model.apply({"params": p}, batch["sequence"],
                                              batch["coverage"], train=True), batch)[0]
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for _ in range(5):
    params, opt_state, loss = step(params, opt_state)
    losses.append(float(loss))
  assert losses[-1] < losses[0]
