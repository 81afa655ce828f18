"""pas_usage (DeeReCT-APA) and pairwise / pas_classification: losses against NumPy,
metrics against SciPy / scikit-learn and hand-counted values."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from genereg_jax.tasks import get_task


def test_pas_usage_loss_is_masked_cross_entropy():
  task = get_task("pas_usage")
  logits = np.array([[1.0, 2.0, 0.5, 9.0], [0.0, -1.0, 7.0, 7.0]], np.float32)
  mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], np.float32)
  usage = np.array([[0.2, 0.6, 0.1, -1.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
  loss, weight = task.loss(logits, {"usage": usage, "pas_mask": mask})
  p = np.exp(logits[0, :3]) / np.exp(logits[0, :3]).sum()
  want = -(usage[0, :3] / usage[0, :3].sum() * np.log(p)).sum()
  assert float(weight) == 1.0  # The second gene has no reads: no weight.
  assert float(loss) == pytest.approx(want, rel=1e-5)
  predictions = np.asarray(task.predictions(np.where(mask > 0, logits, -1e9)))
  np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-6)
  assert predictions[0, 3] == 0.0


def test_pas_usage_metrics():
  task = get_task("pas_usage")
  acc = task.new_metrics()
  mask = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1]], np.float32)
  usage = np.array([[0.7, 0.2, 0.1], [0.3, 0.7, 0.0], [0.1, 0.5, 0.4]], np.float32)
  predicted = np.array([[0.5, 0.3, 0.2], [0.6, 0.4, 0.0], [0.2, 0.3, 0.5]], np.float32)
  acc.update(predicted[:2], {"usage": usage[:2], "pas_mask": mask[:2]})
  other = task.new_metrics()
  other.update(predicted[2:], {"usage": usage[2:], "pas_mask": mask[2:]})
  result = acc.merge(other).compute()
  flat_p = np.concatenate([predicted[0], predicted[1, :2], predicted[2]])
  # Measured usage is renormalised per gene over its sites (in float64).
  flat_u = np.concatenate([u / u.sum() for u in (usage[0].astype(np.float64),
                           usage[1, :2].astype(np.float64), usage[2].astype(np.float64))])
  assert result["num_sites"] == 8 and result["num_genes"] == 3
  assert result["usage_pearson"] == pytest.approx(stats.pearsonr(flat_p, flat_u)[0])
  assert result["usage_spearman"] == pytest.approx(stats.spearmanr(flat_p, flat_u)[0])
  assert result["usage_mae"] == pytest.approx(np.abs(flat_p - flat_u).mean())
  # Top site right in gene 0 only; gene 2's top is site 1 (0.5) but predicted site 2.
  assert result["top_pas_accuracy"] == pytest.approx(1 / 3)
  # Pairs differing by > 0.05: gene 0: 3 (all right); gene 1: 1 (wrong); gene 2: 3
  # ((0,1) right, (0,2) right, (1,2) wrong).
  assert result["num_comparisons"] == 7
  assert result["comparison_accuracy"] == pytest.approx(5 / 7)
  want_rank = np.mean([stats.spearmanr(predicted[0], usage[0])[0],
                       stats.spearmanr(predicted[2], usage[2])[0]])
  assert result["ranking_spearman"] == pytest.approx(want_rank)


@pytest.mark.parametrize("name", ["pairwise", "pas_classification"])
def test_binary_decision_loss_and_metrics(name):
  task = get_task(name)
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(40, 1)).astype(np.float32)
  labels = (rng.random(40) < 0.4).astype(np.float32)
  labels[:3] = -1  # Unknown.
  loss, weight = task.loss(logits, {"label": labels})
  z, y = logits[3:, 0].astype(np.float64), labels[3:]
  want = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
  assert float(weight) == 37 and float(loss) == pytest.approx(want, rel=1e-5)
  acc = task.new_metrics()
  acc.update(task.predictions(logits), {"label": labels})
  result = acc.compute()
  assert result["accuracy"] == pytest.approx(np.mean((z > 0) == (y > 0.5)))
  assert result["auroc"] == pytest.approx(skm.roc_auc_score(y, z))
  assert result["auprc"] == pytest.approx(skm.average_precision_score(y, z))
  with pytest.raises(ValueError, match="do not match"):
    task.loss(np.zeros((40, 2), np.float32), {"label": labels})
