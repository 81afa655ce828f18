"""The ``expression`` (MSE, Pearson/r^2 per target) and ``isoform_cleavage`` (APARENT's
0.5/0.5 KL) tasks against direct numpy formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import tasks


def test_expression_masks_nan_and_scores_r2():
  task = tasks.get_task("expression")
  task.use_dataset_metadata({"targets": ["growth_rate"]})
  outputs = jnp.array([[1.0], [2.0], [5.0]])
  batch = {"expression": jnp.array([1.5, np.nan, 4.0])}
  loss, weight = task.loss(outputs, batch)
  assert float(weight) == 2 and float(loss) == pytest.approx((0.25 + 1.0) / 2)
  metrics = task.new_metrics()
  metrics.update(np.array([[1.0], [2.0], [5.0], [3.0]]),
                 {"expression": np.array([1.0, np.nan, 4.0, 2.0])})
  result = metrics.compute()
  r = np.corrcoef([1, 5, 3], [1, 4, 2])[0, 1]
  assert result["pearson_growth_rate"] == pytest.approx(r)
  assert result["r2"] == pytest.approx(r * r)


def test_isoform_cleavage_loss_is_the_references():
  task = tasks.get_task("isoform_cleavage")
  rng = np.random.default_rng(0)
  iso_logit = rng.normal(size=(4, 1)).astype(np.float32)
  cut_logit = rng.normal(size=(4, 6)).astype(np.float32)
  iso = np.array([0.2, 0.9, 0.5, -1.0], np.float32)  # The last row is unmeasured.
  cut = rng.dirichlet(np.ones(6), 4).astype(np.float32)
  loss, weight = task.loss({"isoform": jnp.asarray(iso_logit), "cleavage": jnp.asarray(cut_logit)},
                           {"isoform": jnp.asarray(iso), "cleavage": jnp.asarray(cut)})
  eps = 1e-7
  p = np.clip(1 / (1 + np.exp(-iso_logit[:3, 0])), eps, 1 - eps)
  t = np.clip(iso[:3], eps, 1 - eps)
  kl_iso = t * np.log(t / p) + (1 - t) * np.log((1 - t) / (1 - p))
  q = np.clip(np.asarray(jax.nn.softmax(cut_logit[:3])), eps, 1 - eps)
  c = np.clip(cut[:3], eps, 1 - eps)
  kl_cut = (c * np.log(c / q)).sum(-1)
  assert float(weight) == 3
  assert float(loss) == pytest.approx(np.mean(0.5 * kl_iso + 0.5 * kl_cut), rel=1e-5)
  predictions = task.predictions({"isoform": jnp.asarray(iso_logit),
                                  "cleavage": jnp.asarray(cut_logit)})
  metrics = task.new_metrics()
  metrics.update(jax.tree_util.tree_map(np.asarray, predictions),
                 {"isoform": iso, "cleavage": cut})
  result = metrics.compute()
  assert result["pearson"] == pytest.approx(np.corrcoef(predictions["isoform"][:3, 0],
                                                        iso[:3])[0, 1], rel=1e-5)
  assert result["cleavage_kl"] > 0
