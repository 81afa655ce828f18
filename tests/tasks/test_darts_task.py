"""The darts task: masked BCE, prior AUROC, and DARTS-BHT info vs flat on counts."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import metrics as skm

from genereg_jax import tasks
from genereg_jax.splicing import bht


def test_loss_ignores_unlabeled_events():
  task = tasks.get_task("darts")
  logits = jnp.array([2.0, -1.0, 5.0])
  loss, weight = task.loss(logits, {"label": jnp.array([1, 0, -1])})
  expected = optax.sigmoid_binary_cross_entropy(logits[:2], jnp.array([1.0, 0.0])).mean()
  assert float(weight) == 2 and float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_metrics_score_prior_and_bht_posteriors():
  rng = np.random.default_rng(0)
  sim = bht.simulate_events(rng, 120, depth=8)
  truth = np.abs(sim["delta"]) > bht.CUTOFF
  # An informative prior (noisy truth) must help the test at shallow depth.
  prior = np.clip(0.5 + 0.4 * (truth - 0.5) * 2 + rng.normal(0, 0.05, 120), 0.01, 0.99)
  labels = np.where(rng.uniform(size=120) < 0.2, -1, truth.astype(int))
  task = tasks.get_task("darts", dict(counts_key="counts", lengths_key="lengths",
                                      truth_key="delta_psi"))
  assert task.target_keys == ("label", "counts", "lengths", "delta_psi")
  batch = {"label": labels, "delta_psi": sim["delta"],
           "counts": np.stack([sim["i1"], sim["s1"], sim["i2"], sim["s2"]], 1),
           "lengths": np.tile([2.0, 1.0], (120, 1))}
  acc = task.new_metrics()
  acc.update(prior[:60], {k: v[:60] for k, v in batch.items()})
  other = task.new_metrics()
  other.update(prior[60:], {k: v[60:] for k, v in batch.items()})
  result = acc.merge(other).compute()
  known = labels >= 0
  assert result["auroc"] == pytest.approx(skm.roc_auc_score(labels[known], prior[known]))
  assert result["auroc_bht_info"] > result["auroc_bht_flat"] + 0.05, result
