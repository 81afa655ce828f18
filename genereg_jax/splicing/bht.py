"""DARTS's Bayesian hypothesis test of differential splicing (Zhang et al., Nat. Methods 2019).

DARTS-BHT (``Xinglab/DARTS``, ``Darts_BHT/Darts/R/darts.r``) tests one exon-skipping event
between two conditions from its rMATS junction counts: inclusion ``I`` and skipping
``S`` reads in each condition, with the effective lengths of the two isoforms
(rMATS ``IncFormLen``/``SkipFormLen``). Step by step:

1. Parameters: ``psi1 = mu`` in condition 1 and ``psi2 = mu + delta`` in condition 2,
   both in [0, 1]; ``mu`` uniform.
2. Likelihood: ``I ~ Binomial(I + S, p)`` with ``p = l_I psi / (l_I psi + l_S (1 - psi))``
   (the isoforms' effective lengths turn PSI into the fraction of reads), ``psi``
   clipped to [0.01, 0.99] as in the reference.
3. Two hypotheses on ``delta``: H1 (differential) ``delta ~ N(0, tau1 = 0.28)`` and H0
   ``delta ~ N(0, tau0 = 0.02)``, each divided by its mass on [-1, 1] (the reference's
   ``prior_norm_const``), zero where ``psi2`` leaves [0, 1].
4. Bayes factor ``BF = Z1 / Z0`` of the two marginal likelihoods, bounded to
   [1e-3, 1e3] as in the reference; with the prior probability ``rho`` of H1 (0.5 for
   "DARTS-BHT flat", the DNN's prediction for "DARTS-BHT info"), P(H1 | data) =
   ``rho BF / (rho BF + 1 - rho)``.
5. The reported posterior is ``P(|delta| > c | data)``, ``c = 0.05``, under the mixture
   posterior (each hypothesis's posterior weighted by its probability).

Where we differ: the reference approximates ``Z`` by Laplace's method and samples the
posterior by MCMC; we integrate on a grid (``mu`` x ``delta``, exact to grid error,
deterministic), which also gives the credible interval of ``delta``. Replicates are
pooled (counts summed per condition); the reference's replicate model (per-replicate
``psi`` around ``mu`` with spread ``sigma``) is not implemented.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special
from scipy import stats

TAU_DIFFERENTIAL = 0.28  # tau1 in darts.r.
TAU_NULL = 0.02  # tau2 in darts.r.
CUTOFF = 0.05  # c: |delta PSI| that counts as differential (the paper's default).
PSI_CLIP = 0.01  # darts.r clips psi to [eps, 1 - eps] in the likelihood.
BF_BOUNDS = (1e-3, 1e3)


@dataclasses.dataclass
class BhtResult:
  """Per-event results (arrays of the events' shape).

  Attributes:
    posterior: P(|delta| > c | data) under the prior probability ``rho``.
    bayes_factor: Z(H1) / Z(H0), bounded as in the reference.
    delta_mean: posterior mean of delta = psi2 - psi1.
    delta_low, delta_high: the equal-tailed credible interval of delta.
  """
  posterior: np.ndarray
  bayes_factor: np.ndarray
  delta_mean: np.ndarray
  delta_low: np.ndarray
  delta_high: np.ndarray


def _read_fraction(psi, inc_len, skip_len):
  psi = np.clip(psi, PSI_CLIP, 1 - PSI_CLIP)
  return inc_len * psi / (inc_len * psi + skip_len * (1 - psi))


def bayes_test(i1, s1, i2, s2, inc_len=2.0, skip_len=1.0, prior=0.5, *, cutoff=CUTOFF,
               tau1=TAU_DIFFERENTIAL, tau0=TAU_NULL, credible=0.95, grid=(200, 401),
               chunk=64) -> BhtResult:
  """DARTS-BHT for events given as arrays (broadcast together, any shape).

  Args:
    i1, s1, i2, s2: inclusion and skipping junction reads per condition (replicates
      already summed).
    inc_len, skip_len: effective lengths (rMATS ``IncFormLen``, ``SkipFormLen``).
    prior: P(H1) per event: 0.5 (flat) or the DARTS DNN's prediction.
    cutoff: ``c`` of P(|delta| > c).
    tau1, tau0: prior standard deviations of delta under H1 and H0.
    credible: mass of the reported credible interval of delta.
    grid: points on ``mu`` (midpoints of [0, 1]) and on ``delta`` ([-1, 1]).
    chunk: events integrated at once (memory: chunk x grid floats).
  """
  arrays = np.broadcast_arrays(*(np.asarray(x, np.float64) for x in
                                 (i1, s1, i2, s2, inc_len, skip_len, prior)))
  shape = arrays[0].shape
  i1, s1, i2, s2, inc_len, skip_len, prior = (a.reshape(-1) for a in arrays)
  mu = (np.arange(grid[0]) + 0.5) / grid[0]
  delta = np.linspace(-1.0, 1.0, grid[1])
  psi2 = mu[:, None] + delta[None, :]
  valid = (psi2 >= 0) & (psi2 <= 1)
  log_priors = []
  for tau in (tau1, tau0):
    mass = stats.norm.cdf(1, 0, tau) - stats.norm.cdf(-1, 0, tau)
    log_priors.append(np.where(valid, stats.norm.logpdf(delta, 0, tau)[None, :] - np.log(mass),
                               -np.inf))
  cell = np.log(1.0 / grid[0]) + np.log(delta[1] - delta[0])
  outside = (np.abs(delta) > cutoff)
  results = {k: np.empty(i1.shape) for k in ("posterior", "bf", "mean", "low", "high")}
  tail = (1 - credible) / 2
  for start in range(0, len(i1), chunk):
    part = slice(start, start + chunk)
    p1 = _read_fraction(mu, inc_len[part, None], skip_len[part, None])  # [n, mu]
    p2 = _read_fraction(psi2[None], inc_len[part, None, None], skip_len[part, None, None])
    log_lik = (i1[part, None] * np.log(p1) + s1[part, None] * np.log1p(-p1))[:, :, None] + (
        i2[part, None, None] * np.log(p2) + s2[part, None, None] * np.log1p(-p2))
    log_post = [log_lik + lp[None] + cell for lp in log_priors]  # Unnormalised, per H.
    log_z = [special.logsumexp(lp, axis=(1, 2)) for lp in log_post]
    bf = np.clip(np.exp(log_z[0] - log_z[1]), *BF_BOUNDS)
    odds = prior[part] / (1 - prior[part]) * bf
    weight_h1 = odds / (1 + odds)
    # Marginal posterior of delta per hypothesis, then the mixture.
    marginal = [np.exp(special.logsumexp(lp, axis=1) - z[:, None])
                for lp, z in zip(log_post, log_z)]
    mixture = weight_h1[:, None] * marginal[0] + (1 - weight_h1[:, None]) * marginal[1]
    results["posterior"][part] = (mixture * outside).sum(1)
    results["bf"][part] = bf
    results["mean"][part] = mixture @ delta
    cdf = np.cumsum(mixture, 1)
    results["low"][part] = delta[np.argmax(cdf >= tail, axis=1)]
    results["high"][part] = delta[np.argmax(cdf >= 1 - tail, axis=1)]
  return BhtResult(*(results[k].reshape(shape) for k in ("posterior", "bf", "mean", "low",
                                                         "high")))


def psi_from_counts(inclusion, skipping, inc_len=2.0, skip_len=1.0, min_reads=10):
  """Length-normalised PSI, ``(I / l_I) / (I / l_I + S / l_S)`` (rMATS); -1 below
  ``min_reads`` junction reads."""
  inclusion, skipping = np.asarray(inclusion, np.float64), np.asarray(skipping, np.float64)
  with np.errstate(invalid="ignore", divide="ignore"):
    psi = (inclusion / inc_len) / (inclusion / inc_len + skipping / skip_len)
  return np.where(inclusion + skipping >= min_reads, psi, -1.0).astype(np.float32)


def lmh_posterior(inclusion, skipping, inc_len=2.0, skip_len=1.0, points=400) -> np.ndarray:
  """Posterior mass of PSI in low [0, 1/3), medium, high [2/3, 1] given junction reads
  (uniform prior on PSI, the likelihood above): ``float32[..., 3]``, the splicing code's
  soft LMH targets."""
  grid = (np.arange(points) + 0.5) / points
  p = _read_fraction(grid, inc_len, skip_len)
  log_lik = (np.asarray(inclusion, np.float64)[..., None] * np.log(p)
             + np.asarray(skipping, np.float64)[..., None] * np.log1p(-p))
  w = np.exp(log_lik - log_lik.max(-1, keepdims=True))
  w /= w.sum(-1, keepdims=True)
  bins = np.digitize(grid, [1 / 3, 2 / 3])
  return np.stack([w[..., bins == b].sum(-1) for b in range(3)], -1).astype(np.float32)


def simulate_events(rng: np.random.Generator, n: int, depth: float, *, prior: float = 0.5,
                    tau1: float = TAU_DIFFERENTIAL, tau0: float = TAU_NULL,
                    inc_len: float = 2.0, skip_len: float = 1.0):
  """Events drawn from the test's own generative model, for calibration.

  ``mu ~ U(0, 1)``; H1 with probability ``prior``; ``delta ~ N(0, tau)`` of that
  hypothesis; both redrawn until ``psi2`` is in [0, 1] (the joint prior restricted to
  the valid region, as the test assumes); junction reads ``~ Poisson(depth)`` per condition,
  inclusion reads binomial with the length-weighted fraction.

  Returns:
    ``dict`` of ``i1, s1, i2, s2, delta, differential`` arrays.
  """
  mu = rng.uniform(size=n)
  differential = rng.uniform(size=n) < prior
  delta = np.empty(n)
  todo = np.ones(n, bool)
  while todo.any():
    tau = np.where(differential[todo], tau1, tau0)
    mu[todo] = rng.uniform(size=todo.sum())
    delta[todo] = rng.normal(0, tau)
    todo = (mu + delta < 0) | (mu + delta > 1)
  out = {"delta": delta, "differential": differential}
  for name, psi in (("1", mu), ("2", mu + delta)):
    reads = rng.poisson(depth, size=n)
    inc = rng.binomial(reads, _read_fraction(psi, inc_len, skip_len))
    out["i" + name], out["s" + name] = inc, reads - inc
  return out


def calibration_table(depths=(10, 30, 100, 300), n: int = 2000, seed: int = 0,
                      credible: float = 0.95, prior: float = 0.5) -> list[dict]:
  """Coverage of ``credible`` intervals and of the posterior on simulated counts.

  One row per read depth: ``coverage`` (fraction of true deltas inside their credible
  interval; ``credible`` if calibrated), ``mean_width``, ``brier`` and
  ``mean_posterior``/``frequency`` of |delta| > c (equal if calibrated), ``auroc`` of
  the posterior for |delta| > c.
  """
  from genereg_jax.tasks import metrics
  rows = []
  for depth in depths:
    rng = np.random.default_rng([seed, depth])
    sim = simulate_events(rng, n, depth, prior=prior)
    result = bayes_test(sim["i1"], sim["s1"], sim["i2"], sim["s2"], prior=prior,
                        credible=credible)
    truth = np.abs(sim["delta"]) > CUTOFF
    inside = (sim["delta"] >= result.delta_low) & (sim["delta"] <= result.delta_high)
    rows.append(dict(
        depth=depth, n=n, coverage=float(inside.mean()),
        mean_width=float((result.delta_high - result.delta_low).mean()),
        mean_posterior=float(result.posterior.mean()), frequency=float(truth.mean()),
        brier=float(((result.posterior - truth) ** 2).mean()),
        auroc=metrics.auroc(result.posterior, truth)))
  return rows
