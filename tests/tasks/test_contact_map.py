"""Tests for the ``contact_map`` task: masked MSE, RC flip, metrics against SciPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from genereg_jax.tasks import contact_map as cm
from genereg_jax.tasks import get_task

N_BINS, OFFSET, TARGETS = 24, 2, 3


def _triangle(full, offset=OFFSET):
  rows, cols = np.triu_indices(full.shape[0], offset)
  return full[rows, cols]


def _maps(rng, batch):
  """Symmetric random maps with distance decay and a block, as ``[B, pairs, T]``."""
  n = N_BINS
  distance = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
  out = []
  for _ in range(batch):
    per_target = []
    for _ in range(TARGETS):
      noise = rng.normal(size=(n, n))
      full = -0.1 * distance + (noise + noise.T) / 2
      per_target.append(_triangle(full))
    out.append(np.stack(per_target, -1))
  return np.stack(out).astype(np.float32)


def test_geometry_and_triangle_round_trip():
  pairs = np.triu_indices(448, 2)[0].size
  assert pairs == 99_681  # Akita's statistics.json target_length
  assert cm.bins_from_pairs(pairs, 2) == 448
  with pytest.raises(ValueError, match="upper triangle"):
    cm.bins_from_pairs(pairs + 1, 2)
  rng = np.random.default_rng(0)
  values = rng.normal(size=(2, np.triu_indices(N_BINS, OFFSET)[0].size, TARGETS))
  full = cm.from_upper_triangle(values, N_BINS, OFFSET)
  assert full.shape == (2, N_BINS, N_BINS, TARGETS)
  np.testing.assert_array_equal(full, np.swapaxes(full, 1, 2))
  assert np.isnan(full[:, 3, 4]).all() and np.isfinite(full[:, 3, 5]).all()
  rows, cols = np.triu_indices(N_BINS, OFFSET)
  np.testing.assert_array_equal(full[:, rows, cols], values)
  single = cm.from_upper_triangle(values[0, :, 0], N_BINS, OFFSET)
  np.testing.assert_array_equal(single, full[0, ..., 0])


def test_reverse_complement_flips_the_map():
  rng = np.random.default_rng(1)
  full = rng.normal(size=(N_BINS, N_BINS, TARGETS))
  full = full + np.swapaxes(full, 0, 1)
  rows, cols = np.triu_indices(N_BINS, OFFSET)
  task = cm.ContactMap(diagonal_offset=OFFSET)
  example = {"target": full[rows, cols], "sequence": np.zeros((8, 4))}
  flipped = task.reverse_complement_targets(example)
  np.testing.assert_array_equal(flipped["target"], full[::-1, ::-1][rows, cols])
  again = task.reverse_complement_targets(flipped)
  np.testing.assert_array_equal(again["target"], example["target"])
  assert flipped["sequence"] is example["sequence"]
  with pytest.raises(ValueError, match="n_bins=30"):
    cm.ContactMap(diagonal_offset=OFFSET, n_bins=30).reverse_complement_targets(example)


def test_masked_mse_ignores_nan_targets_and_padding_rows():
  rng = np.random.default_rng(2)
  targets = _maps(rng, 3)
  predictions = targets + rng.normal(size=targets.shape).astype(np.float32)
  targets[0, :5, 1] = np.nan
  mask = np.array([1.0, 1.0, 0.0], np.float32)
  targets[2] = np.nan  # a padding row may hold anything
  task = get_task("contact_map")
  batch = {"target": jnp.asarray(targets), "example_mask": jnp.asarray(mask)}
  loss, weight = task.loss(jnp.asarray(predictions), batch)
  valid = np.isfinite(targets) & (mask[:, None, None] > 0)
  expected = np.mean((predictions[valid] - targets[valid])**2)
  np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
  assert float(weight) == valid.sum()
  grad = jax.grad(lambda p: task.loss(p, batch)[0])(jnp.asarray(predictions))
  assert np.isfinite(np.asarray(grad)).all()
  assert not np.asarray(grad)[0, :5, 1].any() and not np.asarray(grad)[2].any()
  heads = cm.ContactMap(head="human")
  assert float(heads.loss({"human": jnp.asarray(predictions)}, batch)[0]) == float(loss)


def _naive_insulation(full, window):
  n = full.shape[0]
  out = []
  for k in range(window, n - window + 1):
    square = full[k - window:k, k:k + window]
    out.append(np.nanmean(square) if np.isfinite(square).any() else np.nan)
  return np.array(out)


def test_insulation_profile_matches_the_sliding_square():
  rng = np.random.default_rng(3)
  values = _maps(rng, 1)[0, :, 0].astype(np.float64)
  full = cm.from_upper_triangle(values, N_BINS, OFFSET)
  full[5, :] = full[:, 5] = np.nan
  for window in (2, 5):
    np.testing.assert_allclose(cm.insulation_profile(full, window),
                               _naive_insulation(full, window), rtol=1e-12)


def test_metrics_match_scipy_and_merge():
  rng = np.random.default_rng(4)
  targets = _maps(rng, 5)
  predictions = 0.7 * targets + rng.normal(size=targets.shape).astype(np.float32)
  targets[1, 10:20, 0] = np.nan
  predictions[2, :3, 2] = predictions[2, 3, 2]  # ties for the rank correlations
  task = cm.ContactMap()
  task.use_dataset_metadata({"diagonal_offset": OFFSET, "n_bins": N_BINS,
                             "target_names": ["a", "b", "c"]})
  whole = task.new_metrics()
  whole.update(predictions, {"target": targets})
  first, second = task.new_metrics(), task.new_metrics()
  first.update(predictions[:2], {"target": targets[:2]})
  second.update(np.concatenate([predictions[2:], predictions[:1]]),
                {"target": np.concatenate([targets[2:], targets[:1]]),
                 "example_mask": np.array([1, 1, 1, 0])})
  merged = first.merge(second).compute()
  results = whole.compute()
  for key, value in results.items():
    np.testing.assert_allclose(merged[key], value, rtol=1e-9, atol=1e-12, err_msg=key)

  valid = np.isfinite(targets)
  rows, cols = np.triu_indices(N_BINS, OFFSET)
  distance = cols - rows
  for t in range(TARGETS):
    keep = valid[..., t]
    pooled = stats.pearsonr(predictions[..., t][keep], targets[..., t][keep])[0]
    np.testing.assert_allclose(results["pearsonr_per_target"][t], pooled, rtol=1e-6)
    per_map = [(stats.pearsonr(predictions[b, keep[b], t], targets[b, keep[b], t])[0],
                stats.spearmanr(predictions[b, keep[b], t], targets[b, keep[b], t])[0])
               for b in range(len(targets))]
    np.testing.assert_allclose(results["map_pearsonr_per_target"][t],
                               np.mean([p for p, _ in per_map]), rtol=1e-6)
    np.testing.assert_allclose(results["map_spearmanr_per_target"][t],
                               np.mean([s for _, s in per_map]), rtol=1e-6)
    for d in (OFFSET, 7, N_BINS - 3):
      on = keep & (distance == d)[None]
      np.testing.assert_allclose(
          results["pearsonr_per_diagonal"][d - OFFSET, t],
          stats.pearsonr(predictions[..., t][on], targets[..., t][on])[0], rtol=1e-6)
      spearman = [stats.spearmanr(predictions[b, on[b], t], targets[b, on[b], t])[0]
                  for b in range(len(targets))]
      np.testing.assert_allclose(results["spearmanr_per_diagonal"][d - OFFSET, t],
                                 np.mean(spearman), rtol=1e-6)
    insulation = []
    for b in range(len(targets)):
      profiles = [_naive_insulation(cm.from_upper_triangle(
          np.where(keep[b], x[b, :, t], np.nan), N_BINS, OFFSET), cm.INSULATION_WINDOW)
          for x in (predictions, targets)]
      insulation.append(stats.pearsonr(*profiles)[0])
    np.testing.assert_allclose(results["insulation_pearsonr_per_target"][t],
                               np.mean(insulation), rtol=1e-6)
  assert results["pearsonr_per_diagonal"].shape == (N_BINS - OFFSET, TARGETS)
  np.testing.assert_array_equal(results["diagonal_distances"], np.arange(OFFSET, N_BINS))
  # The last diagonal holds one pair per map: Spearman within it is undefined.
  assert np.isnan(results["spearmanr_per_diagonal"][-1]).all()
  assert 0.3 < results["map_pearsonr"] < 1


def test_perfect_predictions_score_one():
  targets = _maps(np.random.default_rng(5), 2)
  metrics = cm.ContactMap(diagonal_offset=OFFSET).new_metrics()
  metrics.update(targets, {"target": targets})
  results = metrics.compute()
  for key in ("pearsonr", "r2", "map_pearsonr", "map_spearmanr", "insulation_pearsonr"):
    np.testing.assert_allclose(results[key], 1.0, rtol=1e-9, err_msg=key)
  with pytest.raises(ValueError, match="before any update"):
    cm.ContactMap().new_metrics().compute()
