"""The BPNet profile task: loss against SciPy's multinomial, metrics against SciPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage
from scipy import special
from scipy import stats
from scipy.spatial import distance

from genereg_jax.tasks import get_task
from genereg_jax.tasks import profile


def _softmax(x):
  return special.softmax(np.asarray(x, np.float64))


def _data(seed, batch=5, length=12, tracks=4, n_counts=1):
  rng = np.random.default_rng(seed)
  logits = rng.normal(size=(batch, length, tracks)).astype(np.float32)
  log_counts = rng.normal(2.0, 1.0, size=(batch, n_counts)).astype(np.float32)
  counts = rng.poisson(1.5, size=(batch, length, tracks)).astype(np.float32)
  return logits, log_counts, counts


def _reference_loss(logits, log_counts, counts, weight, tracks_per_task):
  """The loss written out per example with scipy.stats.multinomial."""
  n_tracks, n_counts = counts.shape[-1], log_counts.shape[-1]
  k = n_tracks // n_counts
  counts_per_task = max(1, n_counts // (n_tracks // tracks_per_task))
  per_example = []
  for b in range(counts.shape[0]):
    total = 0.0
    for g in range(n_counts):
      c = counts[b, :, g * k:(g + 1) * k].reshape(-1)  # positions x tracks
      p = _softmax(logits[b, :, g * k:(g + 1) * k].reshape(-1))
      total -= stats.multinomial.logpmf(c, c.sum(), p)
      squared = (log_counts[b, g] - np.log1p(c.sum())) ** 2
      total += weight * squared / counts_per_task
    per_example.append(total)
  return np.array(per_example)


@pytest.mark.parametrize("n_counts", [4, 2, 1])  # Paper, per task, bpnet-lite.
def test_loss_matches_scipy_multinomial(n_counts):
  logits, log_counts, counts = _data(0, n_counts=n_counts)
  task = get_task("profile", {"count_weight": 10.0})
  loss, weight = task.loss({"profile_logits": jnp.asarray(logits),
                            "log_counts": jnp.asarray(log_counts)},
                           {"profile": counts})
  expected = _reference_loss(logits, log_counts, counts, 10.0, 2)
  assert float(weight) == 5
  np.testing.assert_allclose(float(loss), expected.mean(), rtol=2e-5)


def test_paper_grouping_is_per_strand_sum_and_per_task_mean():
  # One count per track, two tasks: loss = sum of 4 per-strand MNLLs +
  # lambda * (mean over task 1's strands + mean over task 2's strands).
  logits, log_counts, counts = _data(1, batch=2, tracks=4, n_counts=4)
  task = profile.ProfileTask(count_weight=3.0)
  loss, _ = task.loss({"profile_logits": logits, "log_counts": log_counts},
                      {"profile": counts})
  mnll = sum(-stats.multinomial.logpmf(counts[:, :, t][b], counts[b, :, t].sum(),
                                       _softmax(logits[b, :, t]))
             for b in range(2) for t in range(4)) / 2
  squared = (log_counts - np.log1p(counts.sum(axis=1))) ** 2
  counts_term = 3.0 * (squared[:, :2].mean(1) + squared[:, 2:].mean(1)).mean()
  np.testing.assert_allclose(float(loss), mnll + counts_term, rtol=2e-5)


def test_example_mask_drops_padding_rows_even_if_nan():
  logits, log_counts, counts = _data(2, batch=6, n_counts=1)
  counts[4:] = np.nan  # Padding rows may hold anything.
  mask = np.array([1, 1, 1, 1, 0, 0], np.float32)
  task = get_task("profile", {"count_weight": 2.0})
  loss, weight = task.loss({"profile_logits": logits, "log_counts": log_counts},
                           {"profile": counts, "example_mask": mask})
  expected = _reference_loss(logits[:4], log_counts[:4], counts[:4], 2.0, 2)
  assert float(weight) == 4
  np.testing.assert_allclose(float(loss), expected.mean(), rtol=2e-5)


def test_gradients_are_finite_with_zero_counts_and_extreme_logits():
  logits, log_counts, counts = _data(3, n_counts=1)
  counts[0] = 0.0
  logits[1, 0, 0] = 200.0  # Other positions' probabilities underflow.
  task = profile.ProfileTask()

  def loss_fn(logits):
    return task.loss({"profile_logits": logits, "log_counts": log_counts},
                     {"profile": counts})[0]

  grads = jax.grad(loss_fn)(jnp.asarray(logits))
  assert bool(jnp.all(jnp.isfinite(grads)))
  # Zero-count example: softmax gradient of N=0 is 0.
  np.testing.assert_allclose(np.asarray(grads[0]), 0.0, atol=1e-7)


def test_predictions_normalise_within_each_count_group():
  logits, log_counts, _ = _data(4, tracks=4, n_counts=2)
  out = profile.ProfileTask().predictions(
      {"profile_logits": logits, "log_counts": log_counts})
  probs = np.asarray(out["profile_probs"])
  np.testing.assert_allclose(probs[..., :2].sum(axis=(1, 2)), 1.0, rtol=1e-5)
  np.testing.assert_allclose(probs[..., 2:].sum(axis=(1, 2)), 1.0, rtol=1e-5)
  np.testing.assert_allclose(np.exp(out["profile_log_probs"]), probs, rtol=1e-5)
  expected = _softmax(logits[0, :, :2].reshape(-1)).reshape(-1, 2)
  np.testing.assert_allclose(probs[0, :, :2], expected, rtol=1e-5)


def test_shape_errors_are_explicit():
  logits, log_counts, counts = _data(5, tracks=4, n_counts=3)
  task = profile.ProfileTask()
  with pytest.raises(ValueError, match="cannot be split evenly among 3"):
    task.loss({"profile_logits": logits, "log_counts": log_counts},
              {"profile": counts})
  with pytest.raises(ValueError, match="profile_logits have shape"):
    task.loss({"profile_logits": logits[:, :10], "log_counts": log_counts[:, :1]},
              {"profile": counts})


def _metric_batches(seed, n=90, length=30, tracks=4, n_counts=2):
  rng = np.random.default_rng(seed)
  counts = rng.poisson(rng.gamma(1.0, 2.0, size=(n, 1, tracks)),
                       size=(n, length, tracks)).astype(np.float32)
  counts[3, :, 1] = 0  # A track without reads has no distribution.
  counts[7] = 0
  logits = rng.normal(size=(n, length, tracks)).astype(np.float32)
  true_log = np.log1p(counts.reshape(n, length, n_counts, -1).sum(axis=(1, 3)))
  # Rounded predictions give ties for Spearman.
  log_counts = np.round(true_log + rng.normal(0, 0.7, true_log.shape), 1)
  return counts, logits, log_counts.astype(np.float32)


@pytest.mark.parametrize("smoothing", [None, (3.0, 11)])
def test_streaming_metrics_match_scipy(smoothing):
  counts, logits, log_counts = _metric_batches(6)
  task = profile.ProfileTask(jsd_smoothing=smoothing)
  parts = [task.new_metrics() for _ in range(3)]
  for part, rows in zip(parts, np.array_split(np.arange(len(counts)), 3)):
    predictions = jax.tree.map(np.asarray, task.predictions(
        {"profile_logits": logits[rows], "log_counts": log_counts[rows]}))
    part.update(predictions, {"profile": counts[rows]})
  result = parts[0].merge(parts[1]).merge(parts[2]).compute()

  n, length, tracks = counts.shape
  true_log = np.log1p(counts.reshape(n, length, 2, 2).sum(axis=(1, 3)))
  pearson = [stats.pearsonr(log_counts[:, i], true_log[:, i])[0] for i in range(2)]
  spearman = [stats.spearmanr(log_counts[:, i], true_log[:, i])[0] for i in range(2)]
  np.testing.assert_allclose(result["count_pearson_per_output"], pearson, atol=1e-6)
  np.testing.assert_allclose(result["count_spearman_per_output"], spearman, atol=1e-6)
  assert abs(result["count_pearson"] - np.mean(pearson)) < 1e-6
  assert abs(result["count_mse"] - np.mean((log_counts - true_log) ** 2)) < 1e-6

  nll, jsd = [], np.full((n, tracks), np.nan)
  for b in range(n):
    total = 0.0
    for g in range(2):
      c = counts[b, :, 2 * g:2 * g + 2].reshape(-1)
      p = _softmax(logits[b, :, 2 * g:2 * g + 2].reshape(-1))
      total -= stats.multinomial.logpmf(c, c.sum(), p)
      for t in (2 * g, 2 * g + 1):
        observed = counts[b, :, t].astype(np.float64)
        if observed.sum() < 1:
          continue
        if smoothing:
          sigma, width = smoothing
          observed = ndimage.gaussian_filter1d(
              observed, sigma, truncate=((width - 1) // 2) / sigma)
        predicted = _softmax(logits[b, :, 2 * g:2 * g + 2].reshape(-1))
        predicted = predicted.reshape(length, 2)[:, t - 2 * g]
        jsd[b, t] = distance.jensenshannon(observed, predicted)
    nll.append(total)
  np.testing.assert_allclose(result["profile_nll"], np.mean(nll), rtol=1e-5)
  assert np.isnan(jsd[3, 1]) and np.isnan(jsd[7]).all()
  np.testing.assert_allclose(result["profile_jsd"], np.nanmean(jsd), rtol=1e-5)
  np.testing.assert_allclose(result["profile_jsd_per_track"],
                             np.nanmean(jsd, axis=0), rtol=1e-5)


def test_gaussian_smooth_matches_scipy_even_beyond_the_profile():
  x = np.random.default_rng(7).poisson(2.0, size=(3, 25, 2)).astype(np.float64)
  for sigma, width in ((7.0, 81), (1.5, 5)):
    expected = ndimage.gaussian_filter1d(x, sigma, axis=1,
                                         truncate=((width - 1) // 2) / sigma)
    np.testing.assert_allclose(profile.gaussian_smooth(x, sigma, width), expected,
                               atol=1e-12)


def test_metrics_honour_example_mask():
  counts, logits, log_counts = _metric_batches(8, n=20)
  task = profile.ProfileTask()
  mask = np.arange(20) < 12
  predictions = jax.tree.map(np.asarray, task.predictions(
      {"profile_logits": logits, "log_counts": log_counts}))
  masked = task.new_metrics()
  masked.update(predictions, {"profile": counts, "example_mask": mask})
  plain = task.new_metrics()
  plain.update(jax.tree.map(lambda x: x[:12], predictions), {"profile": counts[:12]})
  a, b = masked.compute(), plain.compute()
  for key in ("count_pearson", "count_spearman", "profile_nll", "profile_jsd"):
    assert a[key] == b[key], key


def test_reverse_complement_reverses_positions_and_swaps_strands():
  rng = np.random.default_rng(9)
  example = {"sequence": rng.random((10, 4)), "profile": rng.random((6, 4)),
             "control": rng.random((10, 2))}
  task = profile.ProfileTask()
  out = task.reverse_complement_targets(example)
  np.testing.assert_array_equal(out["profile"], example["profile"][::-1][:, [1, 0, 3, 2]])
  np.testing.assert_array_equal(out["control"], example["control"][::-1][:, [1, 0]])
  assert out["sequence"] is example["sequence"]  # The pipeline flips the sequence.
  twice = task.reverse_complement_targets(out)
  np.testing.assert_array_equal(twice["profile"], example["profile"])
  # An unstranded track and a stranded pair, in a custom order.
  custom = profile.ProfileTask(strand_pair=[2, 1, 0], control_strand_pair=[0])
  out = custom.reverse_complement_targets(
      {"profile": example["profile"][:, :3], "control": example["control"][:, :1]})
  np.testing.assert_array_equal(out["profile"], example["profile"][::-1][:, [2, 1, 0]])
  np.testing.assert_array_equal(out["control"], example["control"][::-1][:, :1])
  with pytest.raises(ValueError, match="not symmetric"):
    profile.ProfileTask(strand_pair=[1, 2, 0]).reverse_complement_targets(
        {"profile": example["profile"][:, :3]})
  with pytest.raises(ValueError, match="explicit strand_pair"):
    task.reverse_complement_targets({"profile": example["profile"][:, :3]})
