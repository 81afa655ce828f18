"""Variant prioritisation on per-track variant-effect scores: Zhou et al. 2019 and DeepWAS.

Both read the ``[variants, tracks]`` scores that `scoring` writes (``scores.h5``, or
``scores.tsv`` written with per-track columns); both are fitted with scikit-learn.

**Disease impact score** (Zhou et al., Nat. Genet. 2019, "Whole-genome deep-learning
analysis identifies contribution of noncoding mutations to autism risk"). Sources read:
the paper's abstract and the authors' HumanBase pages on the DIS (ASD browser, Beluga,
Seqweaver: "regularized logistic regression classifiers trained with HGMD mutations",
probabilities turned into e-values against gnomAD variants); the methods section itself
was not available here, so the feature scaling and ``C`` below are our choices. What we
follow:

1. Features: the absolute predicted effect of every track (chromatin and RBP profiles in
   the paper), ``|effect| / rms``, where ``rms`` is the track's root-mean-square effect
   over the control variants -- the magnitude of HumanBase's "z-score" (effect divided
   by its RMS over gnomAD variants). Absolute values, so that loss and gain of a
   regulatory signal count alike (HumanBase's feature e-values use ``|p_alt - p_ref|``).
2. Model: L2-regularised logistic regression (scikit-learn ``LogisticRegression``,
   ``C`` = inverse penalty, 1.0 by default: the paper's strength is not in our sources)
   trained to separate disease variants (label 1: HGMD regulatory mutations in the
   paper) from controls (label 0).
3. Evaluation: AUROC of out-of-fold predictions, stratified k-fold (5 by default,
   shuffled with a seed); scales are refitted inside each training fold.
4. Score: the model's probability, turned into an e-value against the controls of the
   training table (HumanBase uses gnomAD variants): ``e = (k + 1) / (n + 1)``, ``k`` of
   the ``n`` controls having a probability at least as high; ``DIS = -log10(e)``.

**DeepWAS** (Arloth et al., PLoS Comput. Biol. 2020; reference code
github.com/cellmapslab/DeepWAS). What we follow:

1. Functional SNPs per chromatin feature: a SNP enters feature ``t``'s test when its
   feature e-value -- the fraction of background variants whose ``|effect|`` on ``t`` is
   at least as large (DeepSEA's e-value; the background is 1000 Genomes SNPs there, here
   the scored variants themselves or a given background table) -- is below ``5e-5``,
   the reference code's cutoff. ``min_abs_effect`` selects by ``|effect|`` instead, for
   tables too small for e-values of that size.
2. Multi-locus test per feature: LASSO stability selection (Meinshausen & Buhlmann 2010;
   R ``stabs::stabsel`` with ``glmnet.lasso`` in the reference code) on the dosages of
   the feature's functional SNPs plus the covariates (penalised too, as there; they are
   never reported), ``cutoff`` 0.7 and ``PFER`` 1 as in the reference notebook. Each of
   ``pairs`` complementary pairs of half-samples (Shah & Samworth 2013; 50 pairs, stabs'
   default) is fitted as the reference's two ``fitfun``s: a quantitative phenotype by
   ``q`` steps of LARS-lasso, keeping the variables active at the last step
   (``stabs::lars.lasso``); a binary one along the L1-logistic path (25 penalties from
   the smallest that selects anything, scikit-learn's liblinear), keeping the variables
   of the last point where at most ``q`` variables have entered (``glmnet.lasso``,
   family binomial, ``pmax = q``; glmnet's path, our grid). A
   variable is stable when selected in at least ``cutoff`` of the ``2 * pairs`` fits.
3. ``q`` from the error bound: ``E[V] <= q^2 / ((2 cutoff - 1) p)`` (Meinshausen &
   Buhlmann's bound, valid for complementary pairs without further assumptions), so
   ``q = floor(sqrt(PFER (2 cutoff - 1) p))``. Where we differ: stabs' default for
   complementary pairs is Shah & Samworth's sharper "unimodal" bound, which allows a
   slightly larger ``q``; we keep the assumption-free bound.
4. Report: every tested SNP-feature pair with its selection probability (the statistic)
   and, for the stable ones, a p-value from refitting the phenotype on that feature's
   stable SNPs and the covariates (OLS t-test, or logistic Wald test) and BH q-values
   over all stable pairs. The reference code reports the stable set only; these
   p-values are added for ranking and are optimistic (same data as the selection):
   the error control of the method is the PFER bound, reported beside them. The
   reference notebook also drops hits in the MHC (chr6:27-35 Mb); we report them.
   Missing dosages are set to the SNP's mean (the reference used imputed best-guess
   genotypes); samples without the phenotype or a covariate are left out.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Sequence

import numpy as np

from genereg_jax.data.variant_labels import variant_key
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_path

PREFERRED_SCORES = ("diff", "log_odds_diff", "log_count_diff", "SAD", "logSAD")


# ---------------------------------------------------------------------------------------
# Per-track effects from score_variants.


@dataclasses.dataclass
class EffectTable:
  """Per-track effects of variants: ``values`` is ``float32[variants, tracks]``."""

  chrom: list[str]
  pos: list[int]
  ref: list[str]
  alt: list[str]
  tracks: list[str]
  values: np.ndarray
  key: str = ""

  def index(self) -> dict[tuple, int]:
    """``{variant_key: row}`` (chr-prefix-insensitive; first row wins)."""
    out = {}
    for i, k in enumerate(zip(self.chrom, self.pos, self.ref, self.alt)):
      out.setdefault(variant_key(*k), i)
    return out

  def rows(self, index: Sequence[int]) -> "EffectTable":
    take = lambda xs: [xs[i] for i in index]
    return EffectTable(take(self.chrom), take(self.pos), take(self.ref), take(self.alt),
                       self.tracks, self.values[np.asarray(index, int)], self.key)


def _pick_key(keys: Sequence[str], key: str | None, path: str) -> str:
  if key is not None:
    if key not in keys:
      raise InputFormatError(path, None, f"no scores {key!r}; the file has "
                             f"{', '.join(keys) or 'none'}")
    return key
  for score in PREFERRED_SCORES:
    for k in keys:
      if k.endswith("/" + score):
        return k
  if not keys:
    raise InputFormatError(path, None, "no per-track scores found")
  return keys[0]


def _read_h5(path: str, key: str | None) -> EffectTable:
  import h5py
  with h5py.File(path, "r") as h5:
    keys = []
    h5.visititems(lambda name, obj: keys.append(name) if (
        isinstance(obj, h5py.Dataset) and obj.ndim == 2 and "tracks" in obj.attrs) else None)
    key = _pick_key(sorted(keys), key, path)
    strings = lambda name: [v.decode() if isinstance(v, bytes) else str(v)
                            for v in h5[name][:]]
    data = h5[key]
    return EffectTable(strings("chrom"), [int(p) for p in h5["pos"][:]], strings("ref"),
                       strings("alt"), [str(t) for t in data.attrs["tracks"]],
                       np.asarray(data[:], np.float32), key)


def _read_tsv(path: str, key: str | None) -> EffectTable:
  with open(path, encoding="utf-8") as f:
    header = f.readline().rstrip("\r\n").split("\t")
    lines = f.read().splitlines()
  need = ("chrom", "pos", "ref", "alt")
  if any(c not in header for c in need):
    raise InputFormatError(path, 1, f"header lacks one of {', '.join(need)}; not a "
                           "score_variants scores.tsv")
  track_columns = [c for c in header[6:] if c.count("/") >= 2
                   and not c.endswith(("/max", "/max_track"))]
  keys = sorted({c.rsplit("/", 1)[0] for c in track_columns})
  if not keys:
    raise InputFormatError(path, 1, "only the top track of each score is in this "
                           "scores.tsv; use scores.h5, or score_variants --tracks=...")
  key = _pick_key(keys, key, path)
  columns = [j for j, c in enumerate(header) if c.rsplit("/", 1)[0] == key and j >= 6]
  where = {c: header.index(c) for c in need}
  chrom, pos, ref, alt, values = [], [], [], [], []
  for number, line in enumerate(lines, start=2):
    fields = line.split("\t")
    if not line.strip():
      continue
    if len(fields) != len(header):
      raise InputFormatError(path, number, f"{len(fields)} columns, header has "
                             f"{len(header)}")
    try:
      values.append([float(fields[j]) for j in columns])
      pos.append(int(fields[where["pos"]]))
    except ValueError:
      raise InputFormatError(path, number, "a position or score is not a number") from None
    chrom.append(fields[where["chrom"]])
    ref.append(fields[where["ref"]])
    alt.append(fields[where["alt"]])
  return EffectTable(chrom, pos, ref, alt, [header[j].rsplit("/", 1)[1] for j in columns],
                     np.asarray(values, np.float32).reshape(-1, len(columns)), key)


def read_effects(path: str | os.PathLike, key: str | None = None) -> EffectTable:
  """Per-track scores ``output/score`` (default: ``diff``, then ``log_odds_diff`` ...) from
  score_variants' ``scores.h5``, or its ``scores.tsv`` written with ``--tracks``."""
  path = os.fspath(path)
  with open(path, "rb") as f:
    is_h5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
  return _read_h5(path, key) if is_h5 else _read_tsv(path, key)


# ---------------------------------------------------------------------------------------
# Zhou et al. 2019: disease impact score.


def _rms(values: np.ndarray) -> np.ndarray:
  rms = np.sqrt(np.mean(np.square(values, dtype=np.float64), axis=0))
  return np.where(rms > 0, rms, 1.0)


@dataclasses.dataclass
class DiseaseImpactModel:
  """A fitted DIS model: features ``|effect| / scale``, logistic ``coef`` / ``intercept``,
  and the sorted probabilities of the training controls (the e-value background)."""

  tracks: list[str]
  scale: np.ndarray
  coef: np.ndarray
  intercept: float
  C: float
  background: np.ndarray
  key: str = ""

  def probability(self, effects: np.ndarray) -> np.ndarray:
    z = np.abs(effects) / self.scale @ self.coef + self.intercept
    return 1.0 / (1.0 + np.exp(-z))

  def evalue(self, probability: np.ndarray) -> np.ndarray:
    n = len(self.background)
    at_least = n - np.searchsorted(self.background, probability, side="left")
    return (at_least + 1.0) / (n + 1.0)

  def score(self, effects: np.ndarray) -> dict[str, np.ndarray]:
    """Probability, e-value and DIS (``-log10 e``) of each variant."""
    p = self.probability(np.asarray(effects, np.float64))
    e = self.evalue(p)
    return {"probability": p, "evalue": e, "dis": -np.log10(e)}

  def save(self, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
      np.savez(f, tracks=np.array(self.tracks), scale=self.scale, coef=self.coef,
               intercept=self.intercept, C=self.C, background=self.background,
               key=self.key)

  @classmethod
  def load(cls, path: str | os.PathLike) -> "DiseaseImpactModel":
    with np.load(path) as z:
      return cls([str(t) for t in z["tracks"]], z["scale"], z["coef"], float(z["intercept"]),
                 float(z["C"]), z["background"], str(z["key"]))


def fit_disease_impact(effects: np.ndarray, labels: np.ndarray, C: float = 1.0,
                       tracks: Sequence[str] | None = None, key: str = ""
                       ) -> DiseaseImpactModel:
  """L2 logistic regression of ``labels`` (1 disease, 0 control) on ``|effects| / rms``."""
  from sklearn.linear_model import LogisticRegression
  effects, labels = np.asarray(effects, np.float64), np.asarray(labels, int)
  if len(set(labels.tolist())) != 2:
    raise ValueError("the disease impact model needs both disease (1) and control (0) "
                     "variants")
  scale = _rms(effects[labels == 0])
  fit = LogisticRegression(C=C, max_iter=5000).fit(np.abs(effects) / scale, labels)
  model = DiseaseImpactModel(list(tracks) if tracks is not None else
                             [str(i) for i in range(effects.shape[1])], scale,
                             fit.coef_[0], float(fit.intercept_[0]), C, np.zeros(0), key)
  model.background = np.sort(model.probability(effects[labels == 0]))
  return model


def cross_validate(effects: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0,
                   C: float = 1.0) -> dict:
  """Stratified ``folds``-fold AUROC (shuffled with ``seed``): per fold, their mean, and
  the AUROC of the pooled out-of-fold probabilities (``out_of_fold``)."""
  from sklearn.metrics import roc_auc_score
  from sklearn.model_selection import StratifiedKFold
  labels = np.asarray(labels, int)
  if min(np.bincount(labels, minlength=2)) < folds:
    raise ValueError(f"{folds}-fold cross-validation needs at least {folds} variants of "
                     f"each class; got {np.bincount(labels, minlength=2).tolist()}")
  out_of_fold = np.zeros(len(labels))
  per_fold = []
  splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
  for train, test in splitter.split(effects, labels):
    model = fit_disease_impact(effects[train], labels[train], C)
    out_of_fold[test] = model.probability(np.asarray(effects[test], np.float64))
    per_fold.append(float(roc_auc_score(labels[test], out_of_fold[test])))
  return {"fold_auroc": per_fold, "mean_auroc": float(np.mean(per_fold)),
          "pooled_auroc": float(roc_auc_score(labels, out_of_fold)), "folds": folds,
          "seed": seed, "C": C, "out_of_fold": out_of_fold}


# ---------------------------------------------------------------------------------------
# DeepWAS: functional SNPs per feature, then LASSO stability selection.


def feature_evalues(effects: np.ndarray, background: np.ndarray | None = None
                    ) -> np.ndarray:
  """Per variant and track, the fraction of ``background`` (default ``effects``) rows
  whose ``|effect|`` on that track is at least as large."""
  effects = np.abs(np.asarray(effects, np.float64))
  background = effects if background is None else np.abs(np.asarray(background,
                                                                     np.float64))
  out = np.empty_like(effects)
  n = len(background)
  for t in range(effects.shape[1]):
    ranked = np.sort(background[:, t])
    out[:, t] = (n - np.searchsorted(ranked, effects[:, t], side="left")) / n
  return out


def functional_snps(effects: np.ndarray, evalue_threshold: float = 5e-5,
                    background: np.ndarray | None = None,
                    min_abs_effect: float | None = None) -> np.ndarray:
  """``bool[variants, tracks]``: e-value below the threshold (DeepWAS), or ``|effect|``
  at least ``min_abs_effect`` when that is given."""
  if min_abs_effect is not None:
    return np.abs(effects) >= min_abs_effect
  return feature_evalues(effects, background) < evalue_threshold


def _standardise(x: np.ndarray) -> np.ndarray:
  sd = x.std(axis=0)
  return (x - x.mean(axis=0)) / np.where(sd > 0, sd, np.inf)  # Constant columns -> 0.


def _path_selection(x: np.ndarray, y: np.ndarray, q: int, binary: bool) -> np.ndarray:
  """Variables the LASSO selects with about ``q`` variables (see the module docstring)."""
  x = _standardise(x)
  if not binary:
    # stabs' lars.lasso (the reference notebook's choice for a quantitative trait): q
    # steps of LARS with the lasso modification, the variables active at the last one.
    from sklearn.linear_model import lars_path
    _, _, coefs = lars_path(x, y - y.mean(), method="lasso", max_iter=q)
    return coefs[:, -1] != 0
  from sklearn.linear_model import LogisticRegression
  from sklearn.svm import l1_min_c
  selected = np.zeros(x.shape[1], bool)
  entered = np.zeros(x.shape[1], bool)
  # scikit-learn 1.8 replaced penalty="l1" by l1_ratio=1 (and warns about the former).
  l1 = ({"l1_ratio": 1.0} if inspect.signature(LogisticRegression).parameters[
      "penalty"].default == "deprecated" else {"penalty": "l1"})
  for c in l1_min_c(x, y, loss="log") * np.logspace(0, 2.5, 25):
    fit = LogisticRegression(C=c, solver="liblinear", max_iter=1000,
                             intercept_scaling=100.0, **l1).fit(x, y)
    nonzero = fit.coef_[0] != 0
    if (entered | nonzero).sum() > q:
      break
    entered |= nonzero
    selected = nonzero
  return selected


def selection_size(p: int, cutoff: float, pfer: float) -> int:
  """``q = floor(sqrt(PFER (2 cutoff - 1) p))`` (at least 1): the error bound solved."""
  if not 0.5 < cutoff <= 1:
    raise ValueError(f"stability cutoff {cutoff} must be in (0.5, 1]")
  return max(1, int(np.floor(np.sqrt(pfer * (2 * cutoff - 1) * p))))


def stability_selection(x: np.ndarray, y: np.ndarray, *, cutoff: float = 0.7,
                        pfer: float = 1.0, pairs: int = 50, seed: int = 0,
                        binary: bool = False) -> dict:
  """Selection probabilities of the columns of ``x`` over ``2 * pairs`` half-samples."""
  n, p = x.shape
  q = selection_size(p, cutoff, pfer)
  rng = np.random.default_rng(seed)
  counts = np.zeros(p)
  for _ in range(pairs):
    order = rng.permutation(n)
    for half in (order[:n // 2], order[n // 2:2 * (n // 2)]):
      counts += _path_selection(x[half], y[half], q, binary)
  probability = counts / (2 * pairs)
  return {"probability": probability, "stable": probability >= cutoff, "q": q,
          "pfer_bound": q * q / ((2 * cutoff - 1) * p)}


def refit_pvalues(x: np.ndarray, y: np.ndarray, binary: bool = False) -> np.ndarray:
  """Two-sided p-values of the columns of ``x`` (intercept added): OLS t-test, or the
  Wald test of a logistic regression fitted by Newton's method."""
  from scipy import stats
  design = np.column_stack([np.ones(len(y)), x])
  k = design.shape[1]
  if not binary:
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = max(len(y) - k, 1)
    sigma2 = np.sum((y - design @ beta) ** 2) / dof
    se = np.sqrt(np.diag(sigma2 * np.linalg.pinv(design.T @ design)))
    return (2 * stats.t.sf(np.abs(beta / se), dof))[1:]
  beta = np.zeros(k)
  for _ in range(50):
    mu = 1.0 / (1.0 + np.exp(-design @ beta))
    fisher = design.T @ (design * (mu * (1 - mu))[:, None])
    step = np.linalg.pinv(fisher) @ (design.T @ (y - mu))
    beta += step
    if np.max(np.abs(step)) < 1e-8:
      break
  mu = 1.0 / (1.0 + np.exp(-design @ beta))
  se = np.sqrt(np.diag(np.linalg.pinv(design.T @ (design * (mu * (1 - mu))[:, None]))))
  return (2 * stats.norm.sf(np.abs(beta / se)))[1:]


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
  """BH q-values."""
  p = np.asarray(p, np.float64)
  if not len(p):
    return p
  order = np.argsort(p)
  ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
  q = np.minimum.accumulate(ranked[::-1])[::-1]
  out = np.empty_like(p)
  out[order] = np.minimum(q, 1.0)
  return out


def _complete(dosage: np.ndarray, phenotype: np.ndarray, covariates: np.ndarray | None):
  """Samples with a phenotype and every covariate; missing dosages -> the SNP's mean."""
  keep = ~np.isnan(phenotype)
  if covariates is not None:
    keep &= ~np.isnan(covariates).any(axis=1)
  dosage = np.array(dosage[keep], np.float64)
  means = np.nanmean(np.where(np.isnan(dosage).all(axis=0), 0.0, dosage), axis=0)
  dosage = np.where(np.isnan(dosage), means, dosage)
  covariates = (np.zeros((int(keep.sum()), 0)) if covariates is None
                else np.asarray(covariates[keep], np.float64))
  return dosage, phenotype[keep], covariates


def deepwas(dosage: np.ndarray, phenotype: np.ndarray, functional: np.ndarray, *,
            covariates: np.ndarray | None = None, tracks: Sequence[str] | None = None,
            cutoff: float = 0.7, pfer: float = 1.0, pairs: int = 50, seed: int = 0,
            binary: bool | None = None) -> list[dict]:
  """The DeepWAS test of every track with functional SNPs.

  Args:
    dosage: ``float[samples, snps]`` allele dosages (NaN missing).
    phenotype: ``float[samples]`` (NaN missing); binary when it takes two values.
    functional: ``bool[snps, tracks]`` (`functional_snps`).
    covariates: ``float[samples, covariates]`` or None.

  Returns:
    One dict per tested SNP-track pair: ``track``, ``snp`` (column of ``dosage``),
    ``selection_probability``, ``stable``, ``p_value`` / ``q_value`` (NaN unless stable),
    ``snps_tested``, ``q``, ``pfer_bound``.
  """
  dosage, y, covariates = _complete(dosage, np.asarray(phenotype, np.float64), covariates)
  values = np.unique(y)
  if binary is None:
    binary = len(values) == 2
  if binary:
    if len(values) != 2:
      raise ValueError(f"a binary phenotype needs two values, got {len(values)}")
    y = (y == values[1]).astype(np.float64)  # PLINK's 1/2 (control/case) -> 0/1.
  tracks = list(tracks) if tracks is not None else [str(t) for t in
                                                    range(functional.shape[1])]
  rows = []
  for t, track in enumerate(tracks):
    snps = np.flatnonzero(functional[:, t])
    if not len(snps):
      continue
    x = np.column_stack([dosage[:, snps], covariates])
    result = stability_selection(x, y, cutoff=cutoff, pfer=pfer, pairs=pairs,
                                 seed=seed + t, binary=binary)
    stable = result["stable"][:len(snps)]
    pvalues = np.full(len(snps), np.nan)
    if stable.any():
      pvalues[stable] = refit_pvalues(
          np.column_stack([dosage[:, snps[stable]], covariates]), y, binary)[:stable.sum()]
    for j, snp in enumerate(snps):
      rows.append({"track": track, "snp": int(snp),
                   "selection_probability": float(result["probability"][j]),
                   "stable": bool(stable[j]), "p_value": float(pvalues[j]),
                   "q_value": float("nan"), "snps_tested": len(snps), "q": result["q"],
                   "pfer_bound": float(result["pfer_bound"])})
  stable_rows = [r for r in rows if r["stable"]]
  for row, q in zip(stable_rows, benjamini_hochberg([r["p_value"] for r in stable_rows])):
    row["q_value"] = float(q)
  return rows


def match_snps(effects: EffectTable, chrom: Sequence[str], pos: Sequence[int],
               allele_1: Sequence[str], allele_2: Sequence[str]) -> np.ndarray:
  """For each genotyped SNP, its row in ``effects`` (-1 if unscored): same position and
  the same two alleles, either way round (PLINK's allele 1 is not always ALT)."""
  index = effects.index()
  out = np.full(len(pos), -1)
  for i, (c, p, a1, a2) in enumerate(zip(chrom, pos, allele_1, allele_2)):
    row = index.get(variant_key(c, p, a2, a1), index.get(variant_key(c, p, a1, a2)))
    if row is not None:
      out[i] = row
  return out


def match_labels(effects: EffectTable, variants: Sequence) -> tuple[np.ndarray, np.ndarray]:
  """Rows of ``effects`` for labelled variants (``variant_labels.LabelledVariant``) and
  their labels; variants without a score are left out."""
  index = effects.index()
  rows, labels = [], []
  for v in variants:
    row = index.get(variant_key(v.chrom, v.pos, v.ref, v.alt))
    if row is not None:
      rows.append(row)
      labels.append(v.label)
  return np.asarray(rows, int), np.asarray(labels, int)


def top_coefficients(model: DiseaseImpactModel, count: int = 10) -> list[tuple[str, float]]:
  """The ``count`` tracks with the largest |coefficient|."""
  order = np.argsort(-np.abs(model.coef))[:count]
  return [(model.tracks[i], float(model.coef[i])) for i in order]
