"""DARTS-BHT on a grid: agrees with direct numerical integration, behaves as a test,
and its credible intervals cover the truth on counts simulated from its own model."""

import numpy as np
import pytest
from scipy import integrate
from scipy import stats

from genereg_jax.splicing import bht


def _bayes_factor_by_quadrature(i1, s1, i2, s2, tau1=0.28, tau0=0.02):
  def z(tau):
    mass = stats.norm.cdf(1, 0, tau) - stats.norm.cdf(-1, 0, tau)
    def f(delta, mu):
      p1, p2 = bht._read_fraction(mu, 2.0, 1.0), bht._read_fraction(mu + delta, 2.0, 1.0)
      return (p1 ** i1 * (1 - p1) ** s1 * p2 ** i2 * (1 - p2) ** s2
              * stats.norm.pdf(delta, 0, tau) / mass)
    return integrate.dblquad(f, 0, 1, lambda mu: -mu, lambda mu: 1 - mu, epsabs=1e-14)[0]
  return z(tau1) / z(tau0)


def test_bayes_factor_matches_quadrature():
  result = bht.bayes_test([5, 20], [5, 3], [9, 4], [1, 16], grid=(400, 801))
  for k, counts in enumerate([(5, 5, 9, 1), (20, 3, 4, 16)]):
    expected = np.clip(_bayes_factor_by_quadrature(*counts), *bht.BF_BOUNDS)
    assert result.bayes_factor[k] == pytest.approx(expected, rel=0.03)


def test_posterior_follows_evidence_and_prior():
  same = bht.bayes_test(50, 50, 50, 50)
  different = bht.bayes_test(90, 10, 10, 90)
  assert same.posterior < 0.2 and different.posterior > 0.99
  assert abs(same.delta_mean) < 0.02 and different.delta_mean < -0.5
  assert different.delta_low < different.delta_mean < different.delta_high
  # Little data: the prior decides.
  weak = [bht.bayes_test(2, 1, 1, 2, prior=p).posterior for p in (0.1, 0.5, 0.9)]
  assert weak[0] < weak[1] < weak[2]


def test_counts_and_lmh_helpers():
  assert bht.psi_from_counts(20, 10).tolist() == pytest.approx(0.5)
  assert bht.psi_from_counts(2, 3).tolist() == -1.0  # Under 10 reads.
  lmh = bht.lmh_posterior(np.array([0, 200]), np.array([200, 0]))
  assert lmh.sum(-1) == pytest.approx([1, 1])
  assert lmh[0, 0] > 0.99 and lmh[1, 2] > 0.99


def test_credible_intervals_cover_simulated_truth():
  rows = bht.calibration_table(depths=(30,), n=300, seed=1)
  # 95% intervals on 300 events: binomial sd ~1.3%; measured 0.95.
  assert 0.90 <= rows[0]["coverage"] <= 0.99, rows
  assert rows[0]["auroc"] > 0.7
  assert abs(rows[0]["mean_posterior"] - rows[0]["frequency"]) < 0.08
