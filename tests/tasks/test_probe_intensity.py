"""``probe_intensity`` task (DeepBind on RNAcompete): masked squared error; Pearson,
Spearman and top-probe AUROC against SciPy / scikit-learn; per-protein column choice."""

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics

from genereg_jax import tasks

PROTEINS = ("PUM2", "QKI", "RBFOX1")


def _data(seed=0, n=200):
  rng = np.random.default_rng(seed)
  targets = rng.standard_normal((n, 3)).astype(np.float32)
  outputs = (targets + rng.standard_normal((n, 3))).astype(np.float32)
  targets[rng.random((n, 3)) < 0.1] = np.nan
  return outputs, targets


def test_loss_is_mean_squared_error_over_measured_pairs():
  outputs, targets = _data()
  task = tasks.get_task("probe_intensity", dict(proteins=PROTEINS))
  loss, weight = task.loss(outputs, {"intensity": targets})
  known = ~np.isnan(targets)
  assert float(weight) == known.sum()
  np.testing.assert_allclose(float(loss), np.mean((outputs - targets)[known] ** 2), rtol=1e-5)


def test_metrics_match_scipy_and_sklearn():
  outputs, targets = _data(1)
  task = tasks.get_task("probe_intensity", dict(proteins=PROTEINS, positive_sd=1.0))
  first, second = task.new_metrics(), task.new_metrics()
  first.update(outputs[:70], {"intensity": targets[:70]})
  second.update(outputs[70:], {"intensity": targets[70:]})
  result = first.merge(second).compute()
  for p, name in enumerate(PROTEINS):
    known = ~np.isnan(targets[:, p])
    x, y = outputs[known, p], targets[known, p]
    assert result[f"num_probes_{name}"] == known.sum()
    assert result[f"pearson_{name}"] == pytest.approx(scipy.stats.pearsonr(x, y)[0], abs=1e-6)
    assert result[f"spearman_{name}"] == pytest.approx(scipy.stats.spearmanr(x, y)[0],
                                                       abs=1e-6)
    assert result[f"auroc_{name}"] == pytest.approx(sklearn.metrics.roc_auc_score(y > 1, x))
  assert result["pearson"] == pytest.approx(np.mean([result[f"pearson_{n}"] for n in PROTEINS]))


def test_one_protein_model_reads_its_column():
  outputs, targets = _data(2)
  task = tasks.get_task("probe_intensity", dict(proteins=("QKI",)))
  task.use_dataset_metadata({"proteins": list(PROTEINS)})
  assert task.output_shape((3,)) == (1,)  # The trainer's start-up shape check.
  loss, weight = task.loss(outputs[:, 1:2], {"intensity": targets})
  known = ~np.isnan(targets[:, 1])
  assert float(weight) == known.sum()
  np.testing.assert_allclose(float(loss), np.mean((outputs[known, 1] - targets[known, 1]) ** 2),
                             rtol=1e-5)
  metrics = task.new_metrics()
  metrics.update(outputs[:, 1:2], {"intensity": targets})
  assert set(k for k in metrics.compute() if k.startswith("pearson_")) == {"pearson_QKI"}
  with pytest.raises(ValueError, match="not columns"):
    tasks.get_task("probe_intensity", dict(proteins=("FUS",))).use_dataset_metadata(
        {"proteins": list(PROTEINS)})
