"""``fractions`` task (RNATracker): KL loss and metrics against SciPy, unknown rows ignored."""

import jax
import numpy as np
import pytest
import scipy.special
import scipy.stats

from genereg_jax import tasks


def _data(seed=0, n=20, c=4):
  rng = np.random.default_rng(seed)
  targets = rng.dirichlet(np.ones(c), n).astype(np.float32)
  targets[0] = [1, 0, 0, 0]  # Zero fractions contribute 0 (0 log 0).
  logits = rng.normal(size=(n, c)).astype(np.float32)
  return targets, logits


def test_loss_is_keras_kld_over_known_rows():
  targets, logits = _data()
  task = tasks.get_task("fractions", dict(compartments=("a", "b", "c", "d")))
  probs = scipy.special.softmax(logits, axis=-1)
  expected = scipy.special.rel_entr(targets, probs).sum(-1)
  loss, weight = task.loss(logits, {"fractions": targets})
  assert float(weight) == len(targets)
  np.testing.assert_allclose(float(loss), expected.mean(), rtol=1e-5)
  # An unknown row (NaN) and a padding row are ignored, and no NaN reaches the gradient.
  unknown = targets.copy()
  unknown[1] = np.nan
  mask = np.ones(len(targets), np.float32)
  mask[2] = 0
  batch = {"fractions": unknown, "example_mask": mask}
  loss, weight = task.loss(logits, batch)
  keep = np.r_[0, 3:len(targets)]
  np.testing.assert_allclose(float(loss), expected[keep].mean(), rtol=1e-5)
  assert float(weight) == len(keep)
  grads = jax.grad(lambda x: task.loss(x, batch)[0])(logits)
  assert np.isfinite(np.asarray(grads)).all() and not np.asarray(grads)[1].any()


def test_metrics_match_scipy_and_merge():
  targets, logits = _data(1, n=30)
  task = tasks.get_task("fractions", dict(compartments=("a", "b", "c", "d")))
  predictions = np.asarray(task.predictions(logits))
  first, second = task.new_metrics(), task.new_metrics()
  first.update(predictions[:10], {"fractions": targets[:10]})
  second.update(predictions[10:], {"fractions": targets[10:]})
  result = first.merge(second).compute()
  assert result["num_transcripts"] == 30
  for c, name in enumerate("abcd"):
    assert result[f"pearson_{name}"] == pytest.approx(
        scipy.stats.pearsonr(predictions[:, c], targets[:, c])[0], abs=1e-6)
  assert result["kl"] == pytest.approx(
      scipy.special.rel_entr(targets, predictions).sum(-1).mean(), rel=1e-5)
  assert result["accuracy"] == pytest.approx(
      np.mean(predictions.argmax(-1) == targets.argmax(-1)))


def test_compartments_from_and_checked_against_the_dataset():
  task = tasks.get_task("fractions")
  task.use_dataset_metadata({"compartments": ["cytosol", "nuclear"]})
  assert task.label_names == ("cytosol", "nuclear")
  task = tasks.get_task("fractions", dict(compartments=("nuclear", "cytosol")))
  with pytest.raises(ValueError, match="dataset's columns"):
    task.use_dataset_metadata({"compartments": ["cytosol", "nuclear"]})
  with pytest.raises(ValueError, match="do not match"):
    task.loss(np.zeros((2, 3)), {"fractions": np.full((2, 4), 0.25)})
