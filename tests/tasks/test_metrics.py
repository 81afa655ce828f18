"""Streaming AUROC/AUPRC equal scikit-learn's; the BCE loss equals a numpy reference."""

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from genereg_jax.tasks import get_task
from genereg_jax.tasks import metrics


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_auprc_match_sklearn_with_ties(seed):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 2, 500)
  scores = np.round(rng.random(500) + 0.3 * labels, 1)  # Rounding makes many ties.
  assert abs(metrics.auroc(scores, labels) - skm.roc_auc_score(labels, scores)) < 1e-6
  assert abs(metrics.auprc(scores, labels) -
             skm.average_precision_score(labels, scores)) < 1e-6


def test_single_class_gives_nan():
  assert np.isnan(metrics.auroc(np.array([0.1, 0.2]), np.array([1, 1])))
  assert np.isnan(metrics.auprc(np.array([0.1, 0.2]), np.array([0, 0])))


def test_multilabel_streaming_with_masks_matches_sklearn():
  rng = np.random.default_rng(3)
  n, k = 300, 5
  labels = rng.integers(0, 2, (n, k))
  labels[rng.random((n, k)) < 0.1] = -1  # Missing labels.
  mask = (rng.random((n, k)) > 0.2).astype(np.float32)
  scores = np.round(rng.random((n, k)) + 0.5 * (labels == 1), 2).astype(np.float32)
  task = get_task("multilabel_binary")
  accumulators = [task.new_metrics() for _ in range(3)]
  for part, rows in zip(accumulators, np.array_split(np.arange(n), 3)):
    part.update(scores[rows], {"label": labels[rows], "label_mask": mask[rows]})
  merged = accumulators[0].merge(accumulators[1]).merge(accumulators[2])
  result = merged.compute()
  expected_roc, expected_pr = [], []
  for j in range(k):
    keep = (mask[:, j] > 0) & (labels[:, j] >= 0)
    expected_roc.append(skm.roc_auc_score(labels[keep, j], scores[keep, j]))
    expected_pr.append(skm.average_precision_score(labels[keep, j], scores[keep, j]))
  np.testing.assert_allclose(result["auroc_per_label"], expected_roc, atol=1e-6)
  np.testing.assert_allclose(result["auprc_per_label"], expected_pr, atol=1e-6)
  assert abs(result["auroc"] - np.mean(expected_roc)) < 1e-6


def test_bce_loss_with_positive_weights_and_masks():
  rng = np.random.default_rng(4)
  logits = rng.normal(size=(6, 3)).astype(np.float32)
  labels = rng.integers(0, 2, (6, 3)).astype(np.float32)
  labels[0, 1] = -1
  mask = np.ones((6, 3), np.float32)
  mask[2] = 0
  pos_weight = np.array([1.0, 2.0, 0.5], np.float32)
  task = get_task("multilabel_binary", {"pos_weight": pos_weight})
  loss, weight = task.loss(jnp.asarray(logits), {"label": labels, "label_mask": mask})
  p = 1 / (1 + np.exp(-logits))
  y = np.clip(labels, 0, 1)
  per = -(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))
  valid = (labels >= 0) & (mask > 0)
  assert float(weight) == valid.sum()
  np.testing.assert_allclose(float(loss), per[valid].mean(), rtol=1e-5)


def test_label_names_come_from_the_dataset_unless_configured():
  task = get_task("multilabel_binary")
  task.use_dataset_metadata({"label_names": ["K562", "HepG2"]})
  assert task.label_names == ("K562", "HepG2")
  named = get_task("multilabel_binary", {"label_names": ("a", "b")})
  named.use_dataset_metadata({"label_names": ["K562", "HepG2"]})
  assert named.label_names == ("a", "b")
  get_task("multilabel_binary").use_dataset_metadata({})  # No names: nothing to take.


def test_unknown_task_lists_valid_ones():
  with pytest.raises(ValueError, match="multilabel_binary"):
    get_task("multilabel_binery")
