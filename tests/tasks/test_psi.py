"""The psi task: LMH coding, masked cross-entropy, LMH AUCs against scikit-learn."""

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm
from scipy import stats

from genereg_jax import tasks
from genereg_jax.tasks import psi as psi_task


def test_lmh_classes_and_masked_loss():
  assert psi_task.lmh_class(np.array([0.0, 0.33, 0.34, 0.66, 0.67, 1.0])).tolist() == [
      0, 0, 1, 1, 2, 2]
  task = tasks.get_task("psi", dict(lmh_key=None))
  logits = jnp.log(jnp.array([[[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]]))
  batch = {"psi": jnp.array([[0.1, np.nan]])}  # Second tissue unknown.
  loss, weight = task.loss(logits, batch)
  assert float(weight) == 1 and float(loss) == pytest.approx(-np.log(0.7), rel=1e-5)
  soft = tasks.get_task("psi")
  batch["lmh"] = jnp.array([[[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]])
  loss, _ = soft.loss(logits, batch)
  assert float(loss) == pytest.approx(-(0.5 * np.log(0.7) + 0.5 * np.log(0.2)), rel=1e-5)
  with pytest.raises(ValueError, match="mode"):
    tasks.get_task("psi", dict(mode="bins"))


def test_lmh_metrics_match_sklearn():
  rng = np.random.default_rng(0)
  psi = rng.uniform(size=(300, 2)).astype(np.float32)
  psi[::7, 1] = -1  # Unknown.
  logits = np.stack([-psi * 4, np.zeros_like(psi), psi * 4], -1) + rng.normal(
      size=(300, 2, 3))
  task = tasks.get_task("psi", dict(tissues=("brain", "liver")))
  acc = task.new_metrics()
  probabilities = np.asarray(task.predictions(jnp.asarray(logits)))
  for part in (slice(0, 150), slice(150, 300)):
    acc.update(probabilities[part], {"psi": psi[part]})
  result = acc.compute()
  known = psi[:, 1] >= 0
  classes = psi_task.lmh_class(psi[known, 1])
  assert result["auroc_low_liver"] == pytest.approx(
      skm.roc_auc_score(classes == 0, probabilities[known, 1, 0]))
  assert result["auroc_high_liver"] == pytest.approx(
      skm.roc_auc_score(classes == 2, probabilities[known, 1, 2]))
  expected = probabilities[known, 1] @ psi_task.LMH_CENTRES
  assert result["spearman_liver"] == pytest.approx(
      stats.spearmanr(expected, psi[known, 1])[0])
  assert result["auroc_high"] == pytest.approx(
      (result["auroc_high_brain"] + result["auroc_high_liver"]) / 2)


def test_regression_mode():
  task = tasks.get_task("psi", dict(mode="regression"))
  assert task.target_keys == ("psi",)
  psi = np.array([[0.2, 0.9], [0.5, -1]], np.float32)
  logits = jnp.asarray(np.log(psi.clip(0.01) / (1 - psi.clip(0.01))))
  loss, weight = task.loss(logits, {"psi": psi})
  assert float(weight) == 3
  acc = task.new_metrics()
  acc.update(np.asarray(task.predictions(logits)), {"psi": psi})
  assert acc.compute()["num_exons"] == 2
