"""Zhou et al. 2019 disease impact score and DeepWAS on synthetic sets with known truth.

Measured here (seed 0): the DIS model's 5-fold AUROC is 0.80 on the planted set (three
of 40 tracks carry the label) and its three largest coefficients are the planted tracks;
DeepWAS recovers the 4 causal SNP-feature pairs of 600 SNPs / 10 features with no false
pair (precision 1, recall 1) on a quantitative trait, and nothing on a permuted one.
"""

import numpy as np
import pytest
from scipy import stats

from data_builders.prioritise import synthetic
from genereg_jax.variants import prioritise


@pytest.fixture(scope="module")
def labelled():
  return synthetic.labelled_effects(seed=0)


def test_disease_impact_recovers_planted_tracks(labelled, tmp_path):
  effects, labels = labelled["effects"], labelled["labels"]
  cv = prioritise.cross_validate(effects, labels, folds=5, seed=0)
  assert len(cv["fold_auroc"]) == 5
  assert cv["mean_auroc"] > 0.75 and cv["pooled_auroc"] > 0.75
  assert prioritise.cross_validate(effects, labels, folds=5, seed=0)["fold_auroc"] == \
      cv["fold_auroc"]  # Seeded folds.
  model = prioritise.fit_disease_impact(effects, labels, tracks=labelled["track_names"])
  top = {t for t, _ in prioritise.top_coefficients(model, 3)}
  assert top == {labelled["track_names"][t] for t in labelled["planted"]}
  assert all(c > 0 for _, c in prioritise.top_coefficients(model, 3))

  path = tmp_path / "model.npz"
  model.save(path)
  loaded = prioritise.DiseaseImpactModel.load(path)
  assert loaded.tracks == model.tracks
  score = loaded.score(effects)
  np.testing.assert_allclose(score["probability"], model.probability(effects))
  # Higher probability -> e-value no larger; controls give e-values in (0, 1].
  order = np.argsort(score["probability"])
  assert np.all(np.diff(score["evalue"][order]) <= 0)
  assert score["evalue"].min() >= 1 / (len(model.background) + 1)
  assert score["dis"][labels == 1].mean() > score["dis"][labels == 0].mean()


def test_disease_impact_shuffled_labels_is_near_chance(labelled):
  shuffled = np.random.default_rng(1).permutation(labelled["labels"])
  cv = prioritise.cross_validate(labelled["effects"], shuffled, folds=5, seed=0)
  assert 0.35 < cv["pooled_auroc"] < 0.65


def test_disease_impact_needs_both_classes(labelled):
  with pytest.raises(ValueError, match="needs at least 5 variants of each class"):
    prioritise.cross_validate(labelled["effects"][:10], np.r_[np.ones(8), 0, 0].astype(int))


def test_evalues_selection_size_and_bh():
  background = np.arange(1, 101, dtype=float)[:, None]
  np.testing.assert_allclose(prioritise.feature_evalues(np.array([[-100.0], [50.5], [0.0]]),
                                                        background)[:, 0], [0.01, 0.5, 1.0])
  assert prioritise.selection_size(50, 0.7, 1.0) == 4  # floor(sqrt(1 * 0.4 * 50))
  assert prioritise.selection_size(2, 0.9, 0.1) == 1
  with pytest.raises(ValueError, match="cutoff 0.4"):
    prioritise.selection_size(10, 0.4, 1.0)
  p = np.random.default_rng(0).random(30) ** 3
  np.testing.assert_allclose(prioritise.benjamini_hochberg(p), stats.false_discovery_control(p))


def test_refit_pvalues_match_ols_and_logistic_theory():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(400, 2))
  y = 0.3 * x[:, 0] + rng.normal(size=400)
  p = prioritise.refit_pvalues(x, y)
  fit = stats.linregress(x[:, 1], y - 0.3 * x[:, 0])  # Nearly orthogonal columns.
  assert p[0] < 1e-6 and abs(p[1] - fit.pvalue) < 0.1
  yb = (rng.random(400) < 1 / (1 + np.exp(-x[:, 0]))).astype(float)
  pb = prioritise.refit_pvalues(x, yb, binary=True)
  assert pb[0] < 1e-6 and pb[1] > 0.01


@pytest.fixture(scope="module")
def gwas():
  data = synthetic.gwas(seed=0)
  data["functional"] = prioritise.functional_snps(data["effects"], 5e-5,
                                                  data["background"])
  return data


def _pairs(rows):
  return {(int(r["track"]), r["snp"]) for r in rows if r["stable"]}


def test_deepwas_recovers_causal_snp_feature_pairs(gwas):
  assert gwas["functional"].sum(axis=1).max() == 1  # Each SNP on at most one feature.
  rows = prioritise.deepwas(gwas["dosage"], gwas["phenotype"], gwas["functional"],
                            covariates=gwas["covariates"], pairs=50, seed=0)
  found, truth = _pairs(rows), {tuple(t) for t in gwas["truth"]}
  precision, recall = len(found & truth) / max(len(found), 1), len(found & truth) / len(truth)
  assert precision >= 0.75 and recall >= 0.75, (found, truth)
  stable = [r for r in rows if r["stable"]]
  assert all(r["selection_probability"] >= 0.7 and r["q_value"] < 1e-3 for r in stable)
  assert all(np.isnan(r["p_value"]) for r in rows if not r["stable"])
  assert {r["q"] for r in rows} <= {3, 4} and max(r["pfer_bound"] for r in rows) <= 1.0


def test_deepwas_permuted_phenotype_finds_nothing(gwas):
  permuted = np.random.default_rng(3).permutation(gwas["phenotype"])
  rows = prioritise.deepwas(gwas["dosage"], permuted, gwas["functional"], pairs=25, seed=0)
  assert len(_pairs(rows)) <= 2  # Seed 3: one pair at 0.8; the bound allows ~1 per feature.


def test_deepwas_binary_phenotype_with_missing_values(gwas):
  case = (gwas["phenotype"] > np.median(gwas["phenotype"])).astype(float) + 1  # PLINK 1/2.
  case[:20] = np.nan
  planted = np.zeros_like(gwas["functional"])
  planted[:, [2, 7]] = gwas["functional"][:, [2, 7]]  # The planted features only: fast.
  dosage = gwas["dosage"].copy()
  dosage[25, :5] = np.nan  # Mean-imputed.
  rows = prioritise.deepwas(dosage, case, planted, covariates=gwas["covariates"],
                            pairs=10, seed=0)
  truth = {tuple(t) for t in gwas["truth"]}
  assert len(_pairs(rows) & truth) >= 2 and len(_pairs(rows) - truth) <= 1
