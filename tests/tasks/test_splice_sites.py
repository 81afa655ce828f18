"""The splice_sites task (SpliceAI, Jaganathan et al. 2019): masked cross-entropy equals a
numpy reference; streaming top-k accuracy and PR-AUC equal a direct numpy/scikit-learn
computation over the whole set; reverse complement keeps acceptor/donor identity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from genereg_jax.tasks import get_task
from genereg_jax.tasks import splice_sites


def _random_batch(rng, batch=4, length=50):
  labels = rng.choice([0, 1, 2], size=(batch, length), p=[0.9, 0.05, 0.05]).astype(np.int8)
  labels[1, 30:] = -1  # Beyond the gene end.
  logits = rng.normal(size=(batch, length, 3)).astype(np.float32)
  logits[..., 1] += 2.0 * (labels == 1)
  logits[..., 2] += 2.0 * (labels == 2)
  return logits, labels


def test_loss_is_masked_mean_cross_entropy():
  rng = np.random.default_rng(0)
  logits, labels = _random_batch(rng)
  label_mask = np.ones(labels.shape, np.float32)
  label_mask[2, :5] = 0
  example_mask = np.array([1, 1, 1, 0], np.float32)
  task = get_task("splice_sites")
  loss, weight = jax.jit(task.loss)(jnp.asarray(logits), {
      "label": labels, "label_mask": label_mask, "example_mask": example_mask})

  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  valid = (labels >= 0) & (label_mask > 0) & (example_mask[:, None] > 0)
  nll = -np.take_along_axis(log_p, np.maximum(labels, 0)[..., None].astype(int), -1)[..., 0]
  assert float(weight) == valid.sum() == 3 * 50 - 20 - 5
  np.testing.assert_allclose(float(loss), nll[valid].mean(), rtol=1e-5)


def test_loss_rejects_missing_class_axis():
  task = get_task("splice_sites")
  with pytest.raises(ValueError, match=r"logits \[batch, length, 3\]"):
    task.loss(jnp.zeros((2, 10)), {"label": np.zeros((2, 10), np.int8)})


def test_top_k_accuracy_definition():
  scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.05])
  is_site = np.array([1, 0, 1, 0, 1, 0], bool)
  # k = 3 highest: positions 0, 1, 2 -> 2 of 3 true sites.
  assert splice_sites.top_k_accuracy(scores, is_site) == pytest.approx(2 / 3)
  # k = int(0.5 * 3) = 1: position 0 is a site.
  assert splice_sites.top_k_accuracy(scores, is_site, 0.5) == 1.0
  # k = 6 > 3 sites: all 3 found, divided by min(k, 3).
  assert splice_sites.top_k_accuracy(scores, is_site, 2.0) == 1.0
  assert np.isnan(splice_sites.top_k_accuracy(scores, np.zeros(6, bool)))


def test_streaming_metrics_match_direct_computation():
  rng = np.random.default_rng(1)
  task = get_task("splice_sites")
  accumulators, all_probs, all_labels = [], [], []
  for part in range(3):
    logits, labels = _random_batch(rng, batch=5, length=200)
    example_mask = np.array([1, 1, 1, 1, part != 2], np.float32)
    probs = np.asarray(task.predictions(jnp.asarray(logits)))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
    accumulator = task.new_metrics()
    accumulator.update(probs, {"label": labels, "example_mask": example_mask})
    accumulators.append(accumulator)
    keep = (labels >= 0) & (example_mask[:, None] > 0)
    all_probs.append(probs[keep])
    all_labels.append(labels[keep])
  result = accumulators[0].merge(accumulators[1]).merge(accumulators[2]).compute()

  probs, labels = np.concatenate(all_probs), np.concatenate(all_labels)
  assert result["num_positions"] == labels.size
  expected = {}
  for name, cls in (("acceptor", 1), ("donor", 2)):
    truth = labels == cls
    assert result[f"num_{name}s"] == truth.sum() > 20
    expected[name] = skm.average_precision_score(truth, probs[:, cls])
    assert result[f"auprc_{name}"] == pytest.approx(expected[name], abs=1e-6)
    # Direct top-k: threshold at the k-th highest probability (no ties here).
    for factor in (0.5, 1, 2, 4):
      k = int(factor * truth.sum())
      threshold = np.sort(probs[:, cls])[-k]
      found = (truth & (probs[:, cls] >= threshold)).sum()
      key = f"top_k_accuracy_{name}" + ("" if factor == 1 else f"_{factor:g}x")
      assert result[key] == pytest.approx(found / min(k, truth.sum()), abs=1e-9)
  assert result["auprc"] == pytest.approx(np.mean(list(expected.values())), abs=1e-6)
  assert 0.3 < result["top_k_accuracy"] < 1.0


def test_reverse_complement_reverses_without_swapping():
  task = get_task("splice_sites")
  example = {"sequence": np.zeros((8, 4), np.uint8),
             "label": np.array([0, 1, 0, 0, 2, 0, -1, -1], np.int8)}
  out = task.reverse_complement_targets(example)
  np.testing.assert_array_equal(out["label"], [-1, -1, 0, 2, 0, 0, 1, 0])
  np.testing.assert_array_equal(example["label"], [0, 1, 0, 0, 2, 0, -1, -1])
  assert task.output_shape((8,)) == (8, 3)
