"""Localisation task: Gorodkin's MCC, per-class MCC and accuracy against scikit-learn,
merged accumulators, and the masked membrane loss."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import metrics as skm

from genereg_jax import tasks
from genereg_jax.tasks import metrics


def _batch(rng, n, k=10):
  location = rng.integers(0, k, n)
  location[:3] = -1  # Unknown.
  membrane = rng.integers(-1, 2, n)
  logits = rng.normal(size=(n, k)).astype(np.float32)
  # Some signal so the MCCs are not ~0.
  logits[np.arange(n), np.maximum(location, 0)] += rng.normal(1.0, 1.0, n)
  return {"location": location, "membrane": membrane,
          "logits": logits, "membrane_logit": rng.normal(size=n).astype(np.float32)}


def test_metrics_match_sklearn_and_merge():
  rng = np.random.default_rng(0)
  task = tasks.get_task("localization")
  parts = [_batch(rng, n) for n in (57, 40)]
  accumulators = []
  for part in parts:
    m = task.new_metrics()
    predictions = task.predictions({"location": jnp.asarray(part["logits"]),
                                    "membrane": jnp.asarray(part["membrane_logit"])})
    m.update(predictions, {"location": part["location"], "membrane": part["membrane"]})
    accumulators.append(m)
  results = accumulators[0].merge(accumulators[1]).compute()

  location = np.concatenate([p["location"] for p in parts])
  predicted = np.concatenate([p["logits"] for p in parts]).argmax(-1)
  known = location >= 0
  y, p = location[known], predicted[known]
  assert results["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
  # scikit-learn's multiclass MCC is Gorodkin's R_K.
  assert results["gorodkin_mcc"] == pytest.approx(skm.matthews_corrcoef(y, p), abs=1e-12)
  assert 0.2 < results["gorodkin_mcc"] < 0.9
  for k in range(10):
    assert results["mcc_per_class"][k] == pytest.approx(
        skm.matthews_corrcoef(y == k, p == k), abs=1e-12)

  membrane = np.concatenate([p["membrane"] for p in parts])
  score = 1 / (1 + np.exp(-np.concatenate([p["membrane_logit"] for p in parts])))
  known = membrane >= 0
  assert results["membrane_auroc"] == pytest.approx(
      skm.roc_auc_score(membrane[known], score[known]), abs=1e-6)
  assert results["membrane_mcc"] == pytest.approx(
      skm.matthews_corrcoef(membrane[known], score[known] > 0.5), abs=1e-6)


def test_gorodkin_reduces_to_binary_mcc_and_handles_constant():
  confusion = np.array([[5, 2], [1, 7]])
  y = np.repeat([0, 0, 1, 1], [5, 2, 1, 7])
  p = np.repeat([0, 1, 0, 1], [5, 2, 1, 7])
  assert metrics.gorodkin_mcc(confusion) == pytest.approx(skm.matthews_corrcoef(y, p))
  assert metrics.gorodkin_mcc(np.diag([4, 0, 0])) == 0.0


def test_loss_masks_unknown_targets():
  rng = np.random.default_rng(1)
  task = tasks.get_task("localization", {"membrane_weight": 0.5})
  b = _batch(rng, 12)
  outputs = {"location": jnp.asarray(b["logits"]), "membrane": jnp.asarray(b["membrane_logit"])}
  loss, weight = task.loss(outputs, {"location": b["location"], "membrane": b["membrane"]})
  known = b["location"] >= 0
  expected = optax.softmax_cross_entropy_with_integer_labels(
      b["logits"][known], b["location"][known]).mean()
  m = b["membrane"] >= 0
  expected += 0.5 * optax.sigmoid_binary_cross_entropy(
      b["membrane_logit"][m], b["membrane"][m].astype(np.float32)).mean()
  assert float(weight) == known.sum()
  assert float(loss) == pytest.approx(float(expected), rel=1e-5)
  # Padding rows of an evaluation batch count for nothing.
  padded = {"location": b["location"], "membrane": b["membrane"],
            "example_mask": (np.arange(12) < 6).astype(np.int32)}
  assert float(task.loss(outputs, padded)[1]) == known[:6].sum()
  task.use_dataset_metadata({"locations": ["a", "b", "c"]})
  assert task.locations == ("a", "b", "c") and task.new_metrics().confusion.shape == (3, 3)
