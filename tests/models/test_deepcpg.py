"""DeepCpG (Angermueller et al. 2017): module sizes as released, per-cell outputs, the
GRU beside the LSTM, a jitted train step, the neighbour-average baseline, and imputation
learnt from bismark_cpg's synthetic truth."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import metrics as sk

import train_check
from data_builders.bismark_cpg import bismark_cpg
from genereg_jax import models
from genereg_jax.models import deepcpg
from genereg_jax.nn import recurrent


def _count(tree):
  return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(tree))


def test_paper_module_sizes_match_the_released_models():
  model = models.get_model("deepcpg", "paper", dict(num_cells=16))
  inputs = dict(sequence=jnp.zeros((1, 1001, 4)), cpg_state=jnp.zeros((1, 16, 50)),
                cpg_dist=jnp.zeros((1, 16, 50)))
  out, variables = jax.eval_shape(lambda: model.init_with_output(jax.random.key(0), **inputs))
  params = jax.tree.map(lambda p: getattr(p, "value", p), variables["params"],
                        is_leaf=lambda p: hasattr(p, "value"))
  assert out.shape == (1, 16)
  # The docstrings of CnnL2h128 ("4,100,000") and RnnL1 ("810,000").
  assert _count(params["dna"]) == pytest.approx(4.1e6, rel=0.02)
  assert _count(params["cpg"]) == pytest.approx(8.1e5, rel=0.02)
  # Conv 128@11, pool 4, conv 256@3, pool 2 on 1,001 bp: 122 positions x 256 -> dense 128.
  assert params["dna"]["hidden"]["Dense_0"]["kernel"].shape == (122 * 256, 128)


def test_bigru_final_states_read_both_ends():
  gru = recurrent.BiGRU(3, return_sequences=False)
  x = jax.random.normal(jax.random.key(1), (2, 5, 4))

  @jax.jit
  def both(x):
    variables = gru.init(jax.random.key(0), x)
    return gru.apply(variables, x), recurrent.BiGRU(3).apply(variables, x)

  final, sequence = both(x)
  assert final.shape == (2, 6) and sequence.shape == (2, 5, 6)
  # Forward state after the last step, backward state after the first.
  np.testing.assert_allclose(final[:, :3], sequence[:, -1, :3], atol=1e-6)
  np.testing.assert_allclose(final[:, 3:], sequence[:, 0, 3:], atol=1e-6)


def test_modules_can_be_dropped():
  # Both modules train in test_tiny_learns_to_impute_the_synthetic_methylation.
  rng = np.random.default_rng(0)
  x = dict(cpg_state=jnp.asarray(rng.integers(0, 2, (8, 3, 4)), jnp.float32),
           cpg_dist=jnp.asarray(rng.random((8, 3, 4)), jnp.float32))
  cpg_only = models.get_model("deepcpg", "tiny", dict(num_cells=3, use_dna=False))
  out = jax.eval_shape(lambda: cpg_only.init_with_output(jax.random.key(0), **x)[0])
  assert out.shape == (8, 3)
  with pytest.raises(ValueError, match="num_cells"):
    cpg_only.init(jax.random.key(0), cpg_state=x["cpg_state"][:, :2],
                  cpg_dist=x["cpg_dist"][:, :2])


def test_neighbour_average_ignores_missing_neighbours():
  state = np.array([[[1, 0, 0.5, 1], [0.5, 0.5, 0.5, 0.5]]])
  dist = np.array([[[0.1, 0.2, 1.0, 0.3], [1.0, 1.0, 1.0, 1.0]]])
  np.testing.assert_allclose(deepcpg.neighbour_average(state, dist), [[2 / 3, 0.5]])


def test_tiny_learns_to_impute_the_synthetic_methylation(tmp_path):
  # bismark_cpg's synthetic truth (methylation domains per cell type with cell flips, CRE
  # motifs unmethylated) through its own files and reader: 4 cells, 101-bp windows, 4
  # neighbours a side; DeepCpG's odd/even chromosome split (~600 CpGs each). 30 steps:
  # loss 0.70 -> 0.32, held-out AUROC 0.86 (neighbour average 0.80; shuffled labels: loss
  # 0.70 -> 0.49, AUROC 0.54). More steps overfit.
  config = bismark_cpg.BismarkCpgConfig(name="learning", synthetic=True, num_cells=4, k=4,
                                        chrom_length=40_000, window=101)
  truths = bismark_cpg.write_synthetic(str(tmp_path), config)
  records = list(bismark_cpg.cpg_records(
      str(tmp_path / "genome.fa"), sorted(str(p) for p in tmp_path.glob("*.cov.gz")),
      config, bismark_cpg.split_of, truths))

  def arrays(test):
    chosen = [r for _, split, r in records if (split == "test") == test]
    return [np.stack([r[k] for r in chosen]).astype(np.float32)
            for k in ("sequence", "cpg_state", "cpg_dist", "label")]

  (*inputs, y), (*test_inputs, test_y) = arrays(False), arrays(True)
  model = models.get_model("deepcpg", "tiny", dict(num_cells=4))
  params = flax.linen.meta.unbox(jax.jit(model.init)(train_check.key(), *inputs))["params"]
  observed = y >= 0

  def loss_fn(params, state, key):
    losses = optax.sigmoid_binary_cross_entropy(model.apply({"params": params}, *inputs), y)
    return (losses * observed).sum() / observed.sum(), state

  params, _, losses = train_check.fit(loss_fn, params, steps=30, learning_rate=1e-2)
  scores = np.asarray(model.apply({"params": params}, *test_inputs))
  auroc = sk.roc_auc_score(test_y[test_y >= 0], scores[test_y >= 0])
  assert losses[-1] < 0.55 * losses[0] and auroc > 0.7, (losses[::10], auroc)
