"""Coverage task: losses against SciPy's Poisson/multinomial log-pmfs, streaming
Pearson R / R² against SciPy and scikit-learn, strand-aware reverse complement."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special
from scipy import stats
from sklearn import metrics as skm

from genereg_jax.tasks import coverage
from genereg_jax.tasks import get_task


def _counts(rng, shape, rate=3.0):
  return rng.poisson(rate, shape).astype(np.float32)


def test_poisson_loss_is_scipy_nll_minus_log_gamma_and_honours_example_mask():
  rng = np.random.default_rng(0)
  targets = _counts(rng, (5, 8, 3))
  rates = rng.gamma(2.0, 1.5, (5, 8, 3)).astype(np.float32)
  mask = np.array([1, 1, 0, 1, 0], np.float32)
  padded = rates.copy()
  padded[2] = np.nan  # Padding rows may hold garbage.
  task = get_task("coverage")
  loss, weight = jax.jit(task.loss)(jnp.asarray(padded),
                                    {"target": targets, "example_mask": mask})
  keep = mask > 0
  nll = -stats.poisson.logpmf(targets[keep], rates[keep].astype(np.float64))
  expected = np.mean(nll - special.gammaln(targets[keep] + 1.0))
  assert abs(float(loss) - expected) < 1e-5
  assert float(weight) == 3 * 8 * 3
  unmasked, weight = task.loss(jnp.asarray(rates), {"target": targets})
  expected = np.mean(rates - targets * np.log(rates + 1e-7))
  assert abs(float(unmasked) - expected) < 1e-5 and float(weight) == 5 * 8 * 3


def test_poisson_multinomial_is_borzoi_decomposition_of_scipy_nlls():
  rng = np.random.default_rng(1)
  bins, tracks = 16, 4
  targets = _counts(rng, (3, bins, tracks))
  rates = rng.gamma(2.0, 1.0, (3, bins, tracks)).astype(np.float32)
  task = get_task("coverage", {"objective": "poisson_multinomial", "epsilon": 1e-12})
  loss, weight = task.loss(jnp.asarray(rates), {"target": targets})
  assert task.total_weight == 0.2 and float(weight) == 3 * bins * tracks
  expected = []
  for b in range(3):
    for t in range(tracks):
      y, r = targets[b, :, t].astype(np.float64), rates[b, :, t].astype(np.float64)
      n, total = y.sum(), r.sum()
      log_coefficient = special.gammaln(n + 1) - special.gammaln(y + 1).sum()
      multinomial = -stats.multinomial.logpmf(y, n=n, p=r / total) + log_coefficient
      poisson = -stats.poisson.logpmf(n, total) - special.gammaln(n + 1)
      expected.append((multinomial + 0.2 * poisson) / bins)
  assert abs(float(loss) - np.mean(expected)) < 1e-5


def test_poisson_multinomial_with_default_epsilon_matches_reference_formula():
  rng = np.random.default_rng(2)
  targets = _counts(rng, (2, 6, 3), rate=0.5)  # Many zero bins.
  rates = rng.gamma(1.0, 0.2, (2, 6, 3)).astype(np.float32)
  mask = np.array([0, 1], np.float32)
  task = coverage.Coverage(objective="poisson_multinomial", total_weight=0.5)
  loss, weight = task.loss(jnp.asarray(rates), {"target": targets, "example_mask": mask})
  y, r, eps = targets[1].astype(np.float64), rates[1].astype(np.float64), 1e-7
  total = r.sum(axis=0)
  poisson = (total - y.sum(axis=0) * np.log(total + eps)) / 6
  log_p = np.log(r + eps) - np.log(total + 6 * eps)
  multinomial = -np.sum((y + eps) * log_p, axis=0) / 6
  assert abs(float(loss) - np.mean(multinomial + 0.5 * poisson)) < 1e-5
  assert float(weight) == 6 * 3


def test_heads_are_selected_by_name():
  rng = np.random.default_rng(3)
  outputs = {"human": jnp.asarray(rng.gamma(1.0, 1.0, (2, 4, 3)), jnp.float32),
             "mouse": jnp.asarray(rng.gamma(1.0, 1.0, (2, 4, 2)), jnp.float32)}
  batch = {"target": _counts(rng, (2, 4, 2))}
  task = get_task("coverage", {"head": "mouse"})
  loss, _ = task.loss(outputs, batch)
  direct, _ = get_task("coverage").loss(outputs["mouse"], batch)
  assert float(loss) == float(direct)
  np.testing.assert_array_equal(task.predictions(outputs), outputs["mouse"])
  with pytest.raises(ValueError, match=r"returns heads \['human', 'mouse'\]; set"):
    get_task("coverage").loss(outputs, batch)
  with pytest.raises(ValueError, match="no head 'rat'"):
    get_task("coverage", {"head": "rat"}).predictions(outputs)
  with pytest.raises(ValueError, match="differ in shape"):
    get_task("coverage", {"head": "human"}).loss(outputs, batch)
  with pytest.raises(ValueError, match="unknown coverage objective 'mse'"):
    get_task("coverage", {"objective": "mse"})


def _split_updates(task, predictions, targets, sizes, pad_rows=0, seed=0):
  """Feeds ``task``'s metrics in chunks over two accumulators, then merges them."""
  rng = np.random.default_rng(seed)
  accumulators = [task.new_metrics(), task.new_metrics()]
  start = 0
  for i, size in enumerate(sizes):
    preds, targs = predictions[start:start + size], targets[start:start + size]
    mask = np.ones(size, np.float32)
    if pad_rows:  # Padding rows with garbage that must not count.
      preds = np.concatenate([preds, rng.normal(size=(pad_rows, *preds.shape[1:])) * 1e6])
      targs = np.concatenate([targs, rng.normal(size=(pad_rows, *targs.shape[1:]))])
      mask = np.concatenate([mask, np.zeros(pad_rows, np.float32)])
    accumulators[i % 2].update(preds, {"target": targs, "example_mask": mask})
    start += size
  assert start == len(predictions)
  return accumulators[0].merge(accumulators[1]).compute()


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_streaming_pearson_and_r2_match_scipy_and_sklearn(offset):
  rng = np.random.default_rng(4)
  n, bins, tracks = 13, 9, 6
  targets = rng.gamma(1.5, 2.0, (n, bins, tracks)) + offset
  # Rates are non-negative, as log1p needs; float32 as a model returns them.
  predictions = np.abs(0.7 * targets + rng.normal(0, 1.0, targets.shape) + 0.3 * offset)
  predictions = predictions.astype(np.float32) if offset == 0 else predictions
  task = get_task("coverage", {"log_pearson": offset == 0})
  result = _split_updates(task, predictions, targets, sizes=[1, 4, 0, 5, 3], pad_rows=2)
  flat_pred = predictions.reshape(-1, tracks).astype(np.float64)
  flat_true = targets.reshape(-1, tracks)
  expected_r = [stats.pearsonr(flat_pred[:, j], flat_true[:, j])[0] for j in range(tracks)]
  expected_r2 = skm.r2_score(flat_true, flat_pred, multioutput="raw_values")
  np.testing.assert_allclose(result["pearsonr_per_track"], expected_r, atol=1e-6)
  np.testing.assert_allclose(result["r2_per_track"], expected_r2, atol=1e-6)
  assert abs(result["pearsonr"] - np.mean(expected_r)) < 1e-6
  assert abs(result["r2"] - np.mean(expected_r2)) < 1e-6
  if offset == 0:
    expected_log = [stats.pearsonr(np.log1p(flat_pred[:, j]), np.log1p(flat_true[:, j]))[0]
                    for j in range(tracks)]
    np.testing.assert_allclose(result["pearsonr_log1p_per_track"], expected_log, atol=1e-6)
    assert abs(result["pearsonr_log1p"] - np.mean(expected_log)) < 1e-6
  else:
    assert "pearsonr_log1p" not in result


def test_metrics_edge_cases():
  task = get_task("coverage")
  with pytest.raises(ValueError, match="before any update"):
    task.new_metrics().compute()
  metrics = task.new_metrics()
  targets = np.zeros((2, 3, 2))
  targets[:, :, 1] = np.arange(6).reshape(2, 3)
  predictions = np.ones((2, 3, 2))
  predictions[:, :, 1] = 2 * np.arange(6).reshape(2, 3) + 1
  metrics.update(predictions, {"target": targets})
  result = metrics.compute()
  # Track 0 has constant targets: undefined, left out of the means.
  assert np.isnan(result["pearsonr_per_track"][0]) and np.isnan(result["r2_per_track"][0])
  assert result["pearsonr"] == pytest.approx(1.0)
  expected_r2 = skm.r2_score(targets[:, :, 1].ravel(), predictions[:, :, 1].ravel())
  assert result["r2"] == pytest.approx(expected_r2)
  other = task.new_metrics()
  other.update(np.ones((1, 3, 5)), {"target": np.ones((1, 3, 5))})
  with pytest.raises(ValueError, match="over 5 tracks into metrics over 2"):
    metrics.merge(other)
  with pytest.raises(ValueError, match="differ in shape"):
    metrics.update(np.ones((1, 3, 2)), {"target": np.ones((1, 4, 2))})


def test_reverse_complement_reverses_bins_and_swaps_strand_pairs():
  target = np.arange(12, dtype=np.float16).reshape(4, 3)  # Bins x [+, -, unstranded].
  task = get_task("coverage", {"strand_pair": [1, 0, 2]})
  example = {"sequence": np.zeros((8, 4), np.uint8), "target": target}
  flipped = task.reverse_complement_targets(example)
  expected = np.array([[10, 9, 11], [7, 6, 8], [4, 3, 5], [1, 0, 2]], np.float16)
  np.testing.assert_array_equal(flipped["target"], expected)
  assert flipped["target"].dtype == np.float16 and flipped["target"].flags.c_contiguous
  assert flipped["sequence"] is example["sequence"]
  np.testing.assert_array_equal(example["target"], target)  # Input left untouched.
  twice = task.reverse_complement_targets(flipped)
  np.testing.assert_array_equal(twice["target"], target)
  identity = get_task("coverage").reverse_complement_targets(example)
  np.testing.assert_array_equal(identity["target"], target[::-1])

  with pytest.raises(ValueError, match="permutation of 0..2"):
    get_task("coverage", {"strand_pair": [0, 0, 2]})
  with pytest.raises(ValueError, match="track 0 -> 1 but track 1 -> 2"):
    get_task("coverage", {"strand_pair": [1, 2, 0]})
  with pytest.raises(ValueError, match="has 3 tracks but strand_pair has 2"):
    get_task("coverage", {"strand_pair": [1, 0]}).reverse_complement_targets(example)
