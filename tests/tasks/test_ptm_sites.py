"""``ptm_sites`` task: masked BCE and margin losses against NumPy, the ensemble's
per-member losses and averaged probabilities, metrics against scikit-learn."""

import jax
import numpy as np
import pytest
import sklearn.metrics

from genereg_jax import tasks
from genereg_jax.tasks import ptm_sites


def _batch(seed=0, n=64, types=3):
  rng = np.random.default_rng(seed)
  labels = (rng.random((n, types)) < 0.3).astype(np.float32)
  mask = (rng.random((n, types)) < 0.7).astype(np.float32)
  return {"label": labels, "label_mask": mask}


def _margin(lengths, targets):
  return (targets * np.maximum(0, 0.9 - lengths) ** 2
          + 0.5 * (1 - targets) * np.maximum(0, lengths - 0.1) ** 2)


def test_bce_loss_ignores_masked_types():
  batch = _batch()
  logits = np.random.default_rng(1).normal(size=batch["label"].shape).astype(np.float32)
  loss, weight = tasks.get_task("ptm_sites").loss(logits, batch)
  p = 1 / (1 + np.exp(-logits.astype(np.float64)))
  y, m = batch["label"], batch["label_mask"] > 0
  want = -(y * np.log(p) + (1 - y) * np.log(1 - p))[m].mean()
  assert float(weight) == m.sum()
  np.testing.assert_allclose(float(loss), want, rtol=1e-5)


def test_margin_loss_on_capsule_pairs_and_single_capsules():
  batch = _batch(2)
  y, m = batch["label"], batch["label_mask"] > 0
  rng = np.random.default_rng(3)
  pairs = rng.random((*y.shape, 2)).astype(np.float32)
  task = tasks.get_task("ptm_sites", dict(loss="margin"))
  assert task.output_shape((3,)) == (3, 2)
  loss, _ = task.loss(pairs, batch)
  # MusiteDeep: the negative capsule's target is 1 - y, the positive one's y.
  per_type = _margin(pairs[..., 0], 1 - y) + _margin(pairs[..., 1], y)
  np.testing.assert_allclose(float(loss), per_type[m].mean(), rtol=1e-5)
  np.testing.assert_allclose(task.predictions(pairs), pairs[..., 1])
  single = pairs[..., 1]
  loss, _ = task.loss(single, batch)
  np.testing.assert_allclose(float(loss), _margin(single, y)[m].mean(), rtol=1e-5)


def test_ensemble_sums_member_losses_and_averages_probabilities():
  batch = _batch(4)
  rng = np.random.default_rng(5)
  outputs = {"cnn": rng.normal(size=(64, 3)).astype(np.float32),
             "capsule": rng.random((64, 3, 2)).astype(np.float32)}
  task = tasks.get_task("ptm_sites")
  loss, weight = task.loss(outputs, batch)
  bce, _ = tasks.get_task("ptm_sites").loss(outputs["cnn"], batch)
  margin, _ = tasks.get_task("ptm_sites", dict(loss="margin")).loss(outputs["capsule"], batch)
  np.testing.assert_allclose(float(loss), float(bce) + float(margin), rtol=1e-6)
  # Each member's gradient is its own loss's gradient.
  grads = jax.grad(lambda o: task.loss(o, batch)[0])(outputs)
  own = jax.grad(lambda c: tasks.get_task("ptm_sites").loss(c, batch)[0])(outputs["cnn"])
  np.testing.assert_allclose(grads["cnn"], own, rtol=1e-6)
  want = (1 / (1 + np.exp(-outputs["cnn"])) + outputs["capsule"][..., 1]) / 2
  np.testing.assert_allclose(task.predictions(outputs), want, rtol=1e-6)
  with pytest.raises(ValueError, match="member_losses"):
    task.loss({"lstm": outputs["cnn"]}, batch)
  with pytest.raises(ValueError, match="unknown PTM site loss"):
    tasks.get_task("ptm_sites", dict(loss="focal"))


def test_reconstruction_member_adds_weighted_squared_error():
  batch = _batch(6, n=8, types=1)
  batch["label_mask"][:] = 1
  rng = np.random.default_rng(7)
  batch["sequence"] = rng.random((8, 33, 21)).astype(np.float32)
  outputs = {"capsule": rng.random((8, 1, 2)).astype(np.float32),
             "reconstruction": rng.random((8, 33, 21)).astype(np.float32)}
  task = tasks.get_task("ptm_sites", dict(reconstruction_weight=0.01))
  loss, _ = task.loss(outputs, batch)
  margin, _ = task.loss({"capsule": outputs["capsule"]}, batch)
  error = ((outputs["reconstruction"] - batch["sequence"]) ** 2).reshape(8, -1).sum(1).mean()
  np.testing.assert_allclose(float(loss), float(margin) + 0.01 * error, rtol=1e-5)


def test_best_f1_threshold_matches_sklearn():
  rng = np.random.default_rng(8)
  labels = (rng.random(300) < 0.2).astype(int)
  scores = np.round(rng.random(300) * 0.6 + 0.4 * labels, 2)  # Ties included.
  got = ptm_sites.best_f1_threshold(scores, labels)
  precision, recall, thresholds = sklearn.metrics.precision_recall_curve(labels, scores)
  f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
  best = int(np.argmax(f1[:-1]))
  assert got["threshold"] == pytest.approx(thresholds[best])
  assert got["f1"] == pytest.approx(f1[best])
  predicted = scores >= got["threshold"]
  assert got["mcc"] == pytest.approx(sklearn.metrics.matthews_corrcoef(labels, predicted))
  assert got["precision"] == pytest.approx(sklearn.metrics.precision_score(labels, predicted))
  assert got["recall"] == pytest.approx(sklearn.metrics.recall_score(labels, predicted))
  assert np.isnan(ptm_sites.best_f1_threshold(scores, np.zeros(300))["mcc"])


def test_metrics_merge_and_match_sklearn_per_type():
  batch = _batch(9, n=200)
  rng = np.random.default_rng(10)
  scores = np.clip(batch["label"] * 0.3 + rng.random(batch["label"].shape) * 0.7, 0, 1)
  scores = scores.astype(np.float32)  # What the accumulator keeps.
  task = tasks.get_task("ptm_sites", dict(ptm_types=("Phospho-ST", "Phospho-Y", "Ubi-K")))
  first, second = task.new_metrics(), task.new_metrics()
  first.update(scores[:90], {k: v[:90] for k, v in batch.items()})
  second.update(scores[90:], {k: v[90:] for k, v in batch.items()})
  result = first.merge(second).compute()
  for t in range(3):
    keep = batch["label_mask"][:, t] > 0
    y, s = batch["label"][keep, t], scores[keep, t]
    assert result["auroc_per_label"][t] == pytest.approx(sklearn.metrics.roc_auc_score(y, s))
    assert result["auprc_per_label"][t] == pytest.approx(
        sklearn.metrics.average_precision_score(y, s))
    assert result["mcc_per_label"][t] == pytest.approx(
        sklearn.metrics.matthews_corrcoef(y, s >= result["threshold_per_label"][t]))
  assert result["mcc"] == pytest.approx(np.mean(result["mcc_per_label"]))
  assert 0.3 < result["auroc"] < 1.0
