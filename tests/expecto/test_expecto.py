"""genereg_jax.expecto: ExPecto's spatial transform, ridge models and variant effects."""

import jax
import numpy as np
import pytest
from flax.linen import meta

from genereg_jax import expecto
from genereg_jax.data import encoding
from genereg_jax.models import get_model


def test_basis_weights_are_the_published_decays():
  w = expecto.basis_weights([0, -200, -399, 400, -20000])
  assert w.shape == (5, 10)
  np.testing.assert_allclose(w[0], 1.0)  # the TSS window counts upstream and downstream
  decays = np.array([0.01, 0.02, 0.05, 0.1, 0.2])
  np.testing.assert_allclose(w[1], np.r_[np.exp(-decays), np.zeros(5)])
  np.testing.assert_allclose(w[2], np.r_[np.exp(-decays), np.zeros(5)])  # floor(399/200) = 1
  np.testing.assert_allclose(w[3], np.r_[np.zeros(5), np.exp(-2 * decays)])
  np.testing.assert_allclose(w[4], np.r_[np.exp(-100 * decays), np.zeros(5)])


def test_spatial_features_layout_and_strand():
  layout = expecto.Layout()
  assert len(layout.offsets) == 200 and layout.offsets[0] == -20000 and layout.offsets[-1] == 19800
  rng = np.random.default_rng(0)
  preds = rng.random((2, 200, 3)).astype(np.float32)
  x = expecto.spatial_features(preds, ["+", "-"])
  assert x.shape == (2, 30)
  # Basis-major columns: column k*F + f sums feature f under basis k.
  weights = expecto.basis_weights(layout.offsets)
  np.testing.assert_allclose(x[0, 2 * 3 + 1], weights[:, 2] @ preds[0, :, 1], rtol=1e-5)
  # Default windows are strand-oriented, so a '-' gene reads its windows the same way.
  np.testing.assert_allclose(x[1], expecto.spatial_features(preds[1:], ["+"])[0], rtol=1e-6)
  # Given genomic distances, '-' flips them: upstream of a '-' gene is at higher coordinates.
  genomic = -layout.offsets
  np.testing.assert_allclose(expecto.spatial_features(preds[1:], [-1], genomic), x[1:],
                             rtol=1e-6)
  # Windows at genomic offsets +offsets on '-' are the mirror image: different features.
  assert not np.allclose(expecto.spatial_features(preds[1:], [-1], layout.offsets), x[1:])
  starts = expecto.gene_window_starts(np.array([100_000, 100_000]), np.array([1, -1]))
  assert starts[0, 100] == 100_000 - 999 and starts[1, 101] == 100_000 - 200 - 999


@pytest.mark.parametrize("genes,dims", [(60, 12), (15, 40)])  # primal and dual solves
def test_ridge_matches_scikit_learn(genes, dims):
  from sklearn.linear_model import Ridge
  rng = np.random.default_rng(1)
  x = rng.normal(size=(genes, dims)) * rng.uniform(0.5, 3, dims) + 1.0
  y = x @ rng.normal(size=(dims, 3)) + rng.normal(size=(genes, 3)) + 2.0
  model = expecto.fit_expression_model(x, y, ["a", "b", "c"], l2=3.0)
  reference = Ridge(alpha=3.0).fit(x, y)  # alpha |w|^2 + |residual|^2: the same minimiser
  np.testing.assert_allclose(model.weights, reference.coef_.T, rtol=2e-3, atol=2e-3)
  np.testing.assert_allclose(model.predict(x), reference.predict(x), rtol=1e-3, atol=2e-3)


def test_l2_grid_picks_per_tissue_and_model_round_trips(tmp_path):
  rng = np.random.default_rng(2)
  x = rng.normal(size=(80, 30))
  w = rng.normal(size=(30, 2))
  w[5:, 1] = 0  # tissue 1 depends on few features: a large lambda should not win there
  y = x @ w + rng.normal(size=(80, 2)) * np.array([3.0, 0.1])
  with pytest.raises(ValueError, match="validation"):
    expecto.fit_expression_model(x[:60], y[:60], ["a", "b"], l2=[0.1, 100.0])
  model = expecto.fit_expression_model(x[:60], y[:60], ["a", "b"], l2=[0.01, 1e4],
                                       validation=(x[60:], y[60:]))
  assert model.l2[1] == 0.01
  # The grid's eigendecomposition and the single-lambda Cholesky solve agree.
  single = expecto.fit_expression_model(x[:60], y[:60], ["a", "b"], l2=0.01)
  np.testing.assert_allclose(model.weights[:, 1], single.weights[:, 1], rtol=1e-3, atol=1e-4)
  model.save(tmp_path / "model.npz")
  loaded = expecto.ExpressionModel.load(tmp_path / "model.npz")
  assert loaded.tissues == ("a", "b") and loaded.layout == expecto.Layout()
  np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
  with pytest.raises(ValueError, match="finite"):
    expecto.fit_expression_model(np.full((3, 2), np.nan), np.zeros((3, 1)), ["a"])


class _Genome:
  """In-memory stand-in for genereg_jax.data.genome.Genome (fetch with N padding)."""

  def __init__(self, sequences):
    self.sequences, self.sizes = sequences, {k: len(v) for k, v in sequences.items()}

  def fetch(self, chrom, start, end):
    s = self.sequences[chrom]
    return "N" * max(-start, 0) + s[max(start, 0):max(min(end, len(s)), 0)] + "N" * max(end - len(s), 0)


def _tiny_beluga_fn():
  model = get_model("beluga", "tiny")
  params = meta.unbox(model.init(jax.random.key(0), np.zeros((1, 200, 4))))["params"]
  return expecto.probability_fn(model, params)


def test_gene_grid_variant_effect_is_the_change_of_the_prediction():
  layout = expecto.Layout(window=200, step=20, span=2000)
  rng = np.random.default_rng(3)
  reference = "".join(rng.choice(list("ACGT"), 8000))
  tss, strand = 4000, -1
  predict = _tiny_beluga_fn()
  model = expecto.ExpressionModel(rng.normal(size=(10 * 12, 2)).astype(np.float32),
                                  np.zeros(2, np.float32), ("t0", "t1"), np.ones(2), layout)

  def predicted(sequence):
    preds = expecto.gene_window_predictions(predict, _Genome({"c": sequence}), ["c"], [tss],
                                            [strand], layout, batch_size=50)
    return model.predict(expecto.spatial_features(preds, [strand], layout=layout))[0]

  pos = tss + 357  # upstream of a '-' gene
  alt = "A" if reference[pos] != "A" else "C"
  mutated = reference[:pos] + alt + reference[pos + 1:]
  starts, distances = expecto.variant_window_starts(pos, tss, strand, layout)
  assert len(starts) == 10 and np.all((starts <= pos) & (pos < starts + 200))
  effect = expecto.variant_effects(model, predict, _Genome({"c": reference}),
                                   [("c", pos, reference[pos], alt, tss, strand)],
                                   batch_size=50)
  expected = predicted(mutated) - predicted(reference)
  assert np.abs(expected).max() > 1e-3
  np.testing.assert_allclose(effect[0], expected, rtol=1e-3, atol=1e-4)
  # A deletion and an insertion run through the same windows; far variants score 0.
  indels = expecto.variant_effects(
      model, predict, _Genome({"c": reference}),
      [("c", pos, reference[pos:pos + 3], reference[pos], tss, strand),
       ("c", pos, reference[pos], reference[pos] + "GGT", tss, strand),
       ("c", tss + 2500, reference[tss + 2500], alt, tss, strand)], batch_size=50)
  assert np.isfinite(indels).all() and np.abs(indels[:2]).max() > 0 and not indels[2].any()


def test_variant_shift_windows_and_alternative_windows():
  starts, distances = expecto.variant_window_starts(10_000, 9_000, "+", windows="variant_shifts")
  np.testing.assert_array_equal(distances, 1000 + np.array(expecto.VARIANT_SHIFTS))
  np.testing.assert_array_equal(starts, 10_000 + np.array(expecto.VARIANT_SHIFTS) - 999)
  with pytest.raises(ValueError, match="gene_grid"):
    expecto.variant_window_starts(0, 0, "+", windows="nearest")
  assert expecto.alternative_window("ACGTACGT", 2, "GT", "G", right_flank="TT") == "ACGACGTT"
  assert expecto.alternative_window("ACGTACGT", 2, "G", "GAA") == "ACGAATAC"
  one_hot = encoding.one_hot_dna("ACGT", np.float32)[None]
  doubled = expecto.predict_windows(lambda x: x.sum(1)[:, :2] * np.arange(1, 3), one_hot,
                                    batch_size=4)
  np.testing.assert_allclose(doubled, [[1.0, 2.0]])  # fwd + RC averaged, padding dropped
