"""scBasset: the published size, shapes of the tiny preset, the per-cell layer as
embeddings, denoised accessibility, motif-insertion TF activity, the pooled metrics and
Leiden agreement, and that the cell embeddings learn the planted cell types."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import metrics as sk

import train_check
from data_builders.synthetic_singlecell import synthetic_singlecell
from genereg_jax import cell_embeddings
from genereg_jax.data import encoding
from genereg_jax.models import get_model
from genereg_jax.models import scbasset
from genereg_jax.tasks import get_task


def _num_params(model, shape):
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros(shape)))
  return sum(x.size for x in jax.tree.leaves(flax.linen.meta.unbox(variables["params"])))


def test_paper_size_is_the_published_architecture():
  # scbasset/utils.py make_model: conv 288x17 (+BN), 6 x conv k=5 over round(288 * 1.122^i)
  # filters (+BN), conv 256x1 (+BN), dense 7*256 -> 32 without bias (+BN), dense cells.
  widths = [288, 323, 363, 407, 456, 512]
  expected = 17 * 4 * 288 + 2 * 288
  for width_in, width in zip([288] + widths[:-1], widths):
    expected += 5 * width_in * width + 2 * width
  expected += 512 * 256 + 2 * 256 + 7 * 256 * 32 + 2 * 32
  assert expected == 4_513_960
  for num_cells in (100, 2034):
    model = get_model("scbasset", "paper", dict(num_cells=num_cells))
    assert _num_params(model, (1, 1344, 4)) == expected + 33 * num_cells


def test_tiny_forward_bottleneck_and_cell_layer():
  model = get_model("scbasset", "tiny", dict(num_cells=7))
  x = jax.nn.one_hot(jax.random.randint(jax.random.key(1), (3, 344), 0, 4), 4)
  variables = flax.linen.meta.unbox(jax.jit(model.init)(jax.random.key(0), x))
  logits, bottleneck = jax.jit(lambda v, x: (
      model.apply(v, x), model.apply(v, x, bottleneck_only=True)))(variables, x)
  assert logits.shape == (3, 7) and bottleneck.shape == (3, 32)
  params = variables["params"]
  embeddings = scbasset.cell_embeddings(params)
  assert embeddings.shape == (7, 32)
  np.testing.assert_allclose(logits, bottleneck @ embeddings.T
                             + scbasset.cell_intercepts(params), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(scbasset.denoised_accessibility(bottleneck, params),
                             jax.nn.sigmoid(bottleneck @ embeddings.T), rtol=1e-5)


def test_motif_activity_is_highest_in_the_cells_that_read_the_motif():
  # A stand-in bottleneck: the base counts in the central 8 bp. Cell 0 reads A, cell 1 C.
  def bottleneck_fn(x):
    centre = x.shape[1] // 2
    return np.asarray(x[:, centre - 4:centre + 4].sum(axis=1), np.float32)
  kernel = np.zeros((4, 5), np.float32)
  kernel[0, 0], kernel[1, 1] = 1.0, 1.0
  params = {"cells": {"kernel": kernel, "bias": np.zeros(5, np.float32)}}
  rng = np.random.default_rng(0)
  backgrounds = np.eye(4, dtype=np.uint8)[rng.choice(4, (20, 40))]
  poly_a = np.eye(4, dtype=np.uint8)[[0] * 6]
  inserted = scbasset.insert_motif(backgrounds, poly_a)
  np.testing.assert_array_equal(inserted[:, 17:23], np.broadcast_to(poly_a, (20, 6, 4)))
  activity = scbasset.motif_activity(bottleneck_fn, params, backgrounds, poly_a)
  assert np.argmax(activity) == 0 and activity[1] < 0
  np.testing.assert_allclose([activity.mean(), activity.std()], [0, 1], atol=1e-6)


def test_cell_accessibility_metrics_are_pooled_over_peaks_and_cells():
  task = get_task("cell_accessibility")
  rng = np.random.default_rng(2)
  labels = rng.integers(0, 2, (30, 6))
  scores = np.clip(labels * 0.3 + rng.random((30, 6)), 0, 1)
  accumulator = task.new_metrics()
  accumulator.update(scores[:10], {"label": labels[:10]})
  accumulator.merge(_updated(task, scores[10:], labels[10:]))
  results = accumulator.compute()
  assert results["auroc"] == pytest.approx(sk.roc_auc_score(labels.ravel(), scores.ravel()))
  assert results["auroc_per_peak"] == pytest.approx(np.mean(
      [sk.roc_auc_score(l, s) for l, s in zip(labels, scores) if 0 < l.sum() < 6]))


def _updated(task, scores, labels):
  accumulator = task.new_metrics()
  accumulator.update(scores, {"label": labels})
  return accumulator


def test_leiden_agreement_recovers_separated_types_and_not_noise():
  rng = np.random.default_rng(3)
  labels = np.repeat(np.arange(3), 30)
  separated = rng.normal(size=(90, 8)) + 4 * np.eye(8)[labels]
  # The Gaussian kernel: the same graph search without umap's numba compile (~20 s).
  result = cell_embeddings.leiden_agreement(separated, labels, method="gauss")
  assert result["ari"] > 0.9 and result["num_clusters"] == 3
  noise = cell_embeddings.leiden_agreement(rng.normal(size=(90, 8)), labels, method="gauss")
  assert noise["ari"] < 0.2


def test_cell_embeddings_learn_the_planted_cell_types():
  # 3 planted types x 20 cells over 120 peaks of 344 bp; one tower block keeps the compile
  # short. 40 full-batch steps: the train loss 0.76 -> 0.27 and Leiden on the per-cell
  # layer recovers the types exactly (ARI 1.0); with each cell's peaks shuffled it is 0.00.
  num_cells, num_peaks, length = 60, 120, 344
  adata, genome = synthetic_singlecell.simulate_atac(
      num_types=3, num_cells=num_cells, num_peaks=num_peaks, seq_len=length)
  x = encoding.one_hot_dna(genome[synthetic_singlecell.CONTIG], np.float32)
  x = x.reshape(num_peaks, length, 4)
  y = np.asarray(adata.X.todense(), np.float32).T  # [peaks, cells]
  model = get_model("scbasset", "tiny", dict(num_cells=num_cells, num_tower_blocks=1))
  variables = flax.linen.meta.unbox(jax.jit(model.init)(train_check.key(), x[:2]))

  def loss_fn(params, state, key):
    logits, state = model.apply({"params": params, **state}, x, train=True,
                                mutable=["batch_stats"], rngs={"dropout": key})
    return optax.sigmoid_binary_cross_entropy(logits, y).mean(), state

  params, _, losses = train_check.fit(loss_fn, variables["params"], steps=40,
                                      learning_rate=1e-2,
                                      state={"batch_stats": variables["batch_stats"]})
  result = cell_embeddings.leiden_agreement(scbasset.cell_embeddings(params),
                                            adata.obs["cell_type"].to_numpy(),
                                            method="gauss")
  assert losses[-1] < 0.5 * losses[0] and result["ari"] > 0.7, (losses[::10], result["ari"])
