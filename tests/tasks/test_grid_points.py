"""The grid_points task (NucleicNet grid-point classes): weighted cross-entropy equals
PyTorch's CrossEntropyLoss(weight) definition in numpy; streamed, merged metrics equal
scikit-learn on the whole set; padding and unknown labels are left out."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from genereg_jax.tasks import get_task
from genereg_jax.tasks import metrics

CLASSES = ("A", "C", "G", "U", "ribose", "phosphate", "nonsite")


def _batch(rng, n=300):
  labels = rng.choice(7, size=n, p=[0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5]).astype(np.int32)
  logits = rng.normal(size=(n, 7)).astype(np.float32)
  logits[np.arange(n), labels] += 1.5
  labels[:7] = -1  # Unknown.
  return logits, labels


def test_weighted_loss_matches_definition():
  rng = np.random.default_rng(0)
  logits, labels = _batch(rng, 40)
  example_mask = np.ones(40, np.float32)
  example_mask[-5:] = 0
  weights = np.array([3, 3, 3, 3, 2, 1, 0.2], np.float32)
  task = get_task("grid_points", dict(classes=CLASSES, class_weights=weights))
  loss, count = jax.jit(task.loss)(jnp.asarray(logits),
                                   {"label": labels, "example_mask": example_mask})
  valid = (labels >= 0) & (example_mask > 0)
  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  nll = -log_p[np.arange(40), np.maximum(labels, 0)]
  w = weights[np.maximum(labels, 0)] * valid
  assert float(count) == valid.sum() == 40 - 7 - 5
  np.testing.assert_allclose(float(loss), (w * nll).sum() / w.sum(), rtol=1e-5)
  unweighted, _ = get_task("grid_points", dict(classes=CLASSES)).loss(
      jnp.asarray(logits), {"label": labels, "example_mask": example_mask})
  np.testing.assert_allclose(float(unweighted), nll[valid].mean(), rtol=1e-5)


def test_streaming_metrics_match_sklearn():
  rng = np.random.default_rng(1)
  task = get_task("grid_points")
  task.use_dataset_metadata({"classes": list(CLASSES)})
  assert task.output_shape(()) == (7,)
  parts, all_p, all_y = [], [], []
  for _ in range(3):
    logits, labels = _batch(rng)
    probabilities = np.asarray(task.predictions(jnp.asarray(logits)))
    accumulator = task.new_metrics()
    accumulator.update(probabilities, {"label": labels, "example_mask": np.ones(len(labels))})
    parts.append(accumulator)
    all_p.append(probabilities[labels >= 0])
    all_y.append(labels[labels >= 0])
  merged = parts[0].merge(parts[1]).merge(parts[2])
  got = merged.compute()
  p, y = np.concatenate(all_p), np.concatenate(all_y)
  predicted = p.argmax(-1)
  assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
  assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, predicted))
  for k in range(7):
    assert got["auroc_per_class"][k] == pytest.approx(skm.roc_auc_score(y == k, p[:, k]))
    assert got["auprc_per_class"][k] == pytest.approx(
        skm.average_precision_score(y == k, p[:, k]))
    assert got["mcc_per_class"][k] == pytest.approx(
        skm.matthews_corrcoef(y == k, predicted == k))
  assert got["mcc"] == pytest.approx(got["mcc_per_class"].mean())
  np.testing.assert_array_equal(got["confusion"], skm.confusion_matrix(y, predicted))


def test_padding_rows_ignored_and_undefined_mcc_is_zero():
  task = get_task("grid_points", dict(classes=("a", "b", "c")))
  accumulator = task.new_metrics()
  probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], np.float32)
  accumulator.update(probabilities, {"label": np.array([0, 1, 1]),
                                     "example_mask": np.array([1, 1, 0])})
  got = accumulator.compute()
  assert got["accuracy"] == 1.0 and got["confusion"].sum() == 2
  np.testing.assert_allclose(got["mcc_per_class"], [1.0, 1.0, 0.0])
  np.testing.assert_allclose(metrics.one_vs_rest_mcc(np.zeros((2, 2))), [0.0, 0.0])


def test_configuration_errors():
  with pytest.raises(ValueError, match="no classes"):
    get_task("grid_points").output_shape(())
  with pytest.raises(ValueError, match="2 class_weights for 3"):
    get_task("grid_points", dict(classes="abc", class_weights=[1, 2])).output_shape(())
