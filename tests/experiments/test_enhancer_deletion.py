"""Issue 22: paired enhancers in ``synthetic_coverage`` (``*_distal``, version 1.1.0),
``experiments.enhancer_deletion``'s truth and bookkeeping, and the long-range path:
a TSS bin of ``enformer_human_mouse:tiny`` reads an enhancer beyond its conv tower's
window only through the transformer (``test_enformer_configs`` checks the same geometry
for ``:synthetic`` and ``:synthetic_local`` by gradients).

Only a few examples are sampled (no build); the models are untrained.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_builders.synthetic_coverage import synthetic_coverage as sc
from experiments import configs
from experiments import enhancer_deletion as ed
from experiments.configs import enformer_human_mouse
from genereg_jax.train import trainer


def _config(name):
  return next(c for c in sc.BUILDER_CONFIGS if c.name == name)


@pytest.fixture(scope="module")
def distal(motifs):
  """Six test examples of human_distal, as the build writes them."""
  config = _config("human_distal")
  return config, [sc.sample_example(sc.example_rng(0, "human", "test", i), motifs, config)
                  for i in range(6)]


def test_version_1_0_0_records_are_unchanged(motifs, tmp_path):
  # Pairing draws nothing when off: the 1.0.0 configs (and Borzoi's 32-bp ones) keep
  # their records. Digest of "human" train example 0 written by the code before pairing.
  config = _config("human")
  record = sc.sample_example(sc.example_rng(0, "human", "train", 0), motifs, config)
  assert "element_partner" not in record
  digest = hashlib.sha256(record["sequence"].tobytes() + record["target"].tobytes())
  assert digest.hexdigest()[:16] == "a698b5655ca1fb27"
  builders = {name: sc.SyntheticCoverage(config=name, data_dir=str(tmp_path))
              for name in ("human", "human_distal")}
  assert str(builders["human"].version) == "1.0.0"
  assert "element_partner" not in builders["human"].info.features
  assert str(builders["human_distal"].version) == "1.1.0"
  assert "element_partner" in builders["human_distal"].info.features
  assert builders["human_distal"].info.metadata["generative_model"][
      "paired_distance_bp"] == [10_000, 20_000]


def test_each_paired_enhancer_lies_10_to_20_kb_from_its_tss(distal, widths):
  config, records = distal
  pairs = 0
  for record in records:
    elements = sc.elements_from_record(record, widths)
    partners = record["element_partner"]
    assert len(partners) == len(elements)
    assert len(set(p for p in partners if p >= 0)) == sum(p >= 0 for p in partners)
    for element, partner in zip(elements, partners):
      if partner < 0:
        continue
      assert element.kind == "promoter"
      enhancer = elements[partner]
      assert enhancer.kind == "enhancer"
      assert 10_000 - 1 <= abs(enhancer.centre - element.anchor) <= 20_000 + 1
      pairs += 1
  assert pairs >= 6  # ~0.8 of ~2 promoters per example, where they fit.


def test_truth_of_paired_genes(distal, widths):
  config, records = distal
  genes = [g for i, r in enumerate(records) for g in ed.genes_of(r, i, config, widths)]
  paired = [g for g in genes if g.partner >= 0]
  assert 0 < len(paired) <= len(genes)
  for gene in genes:
    if gene.partner < 0:
      assert gene.without == gene.expected
      continue
    # Removing the enhancer leaves the basal output (plus any other enhancer's share).
    assert all(w <= e for w, e in zip(gene.without, gene.expected))
  # The enhancer sets most of a paired gene's CAGE in its strongest cell type.
  drop = [max(np.subtract(g.expected, g.without) / np.maximum(g.expected, 1e-9))
          for g in paired]
  assert np.median(drop) > 0.5
  rows = ed.truth_summary(genes, ["CAGE:liver", "CAGE:esc"])
  assert rows["CAGE:liver"]["genes"] == len(genes)
  assert rows["CAGE:liver"]["mean_with"] > rows["CAGE:liver"]["mean_without"]


def _oracle(records, config, widths):
  """A "model" that reads which planted elements a sequence still holds and returns
  their expected coverage: its deletion effects are the truth."""
  def predict(x):
    out = []
    for sequence in np.asarray(x):
      record = min(records, key=lambda r: np.abs(r["sequence"] - sequence).sum())
      kept = [e for e in sc.elements_from_record(record, widths)
              if all(np.array_equal(sequence[m.start:m.start + m.width],
                                    record["sequence"][m.start:m.start + m.width])
                     for m in e.motifs)]
      expected = sc.expected_coverage(kept, config)
      out.append(expected[config.crop_bins:config.crop_bins + config.target_length])
    return np.stack(out)
  return predict


def test_deletion_of_an_oracle_recovers_the_true_effects(distal, widths):
  config, records = distal
  genes, predicted, deleted = ed.predict_genes(_oracle(records, config, widths), records,
                                               config, widths, None, batch_size=4, seed=0)
  paired = np.array([g.partner >= 0 for g in genes])
  assert np.isnan(deleted[~paired]).all() and not np.isnan(deleted[paired]).any()
  np.testing.assert_allclose(predicted, [g.expected for g in genes], rtol=1e-6)
  np.testing.assert_allclose(deleted[paired], [g.without for g in genes if g.partner >= 0],
                             rtol=1e-6)
  rows = ed.model_summary(genes, predicted, deleted, ["CAGE:liver", "CAGE:esc"])
  for row in rows.values():
    assert row["deletion_r"] == pytest.approx(1.0)
    assert row["effect_pred"] == pytest.approx(row["effect_true"])
    assert row["effect_true"] > 0


def _perturbed(model, x):
  """Untrained variables with every parameter nudged: Enformer's attention output
  projections start at zero, which would cut the transformer's path."""
  variables = model.init(jax.random.key(0), x)
  leaves, tree = jax.tree.flatten(variables["params"])
  keys = jax.random.split(jax.random.key(2), len(leaves))
  return {**variables, "params": jax.tree.unflatten(tree, [
      leaf + 0.1 * jax.random.normal(k, leaf.shape) for leaf, k in zip(leaves, keys)])}


@pytest.mark.parametrize("depth", [2, 0])
def test_tss_bin_reads_a_distal_enhancer_only_through_attention(motifs, widths, depth):
  # enformer_human_mouse:tiny (2,048 bp, 32-bp bins) with its 2 transformer blocks, and
  # the same conv tower alone (depth 0, as :synthetic_local), whose bins see 166 bp.
  config = _config("tiny_human")
  for index in range(20):
    record = sc.sample_example(sc.example_rng(0, "human", "test", index), motifs, config)
    elements = sc.elements_from_record(record, widths)
    pairs = [(p, e) for p in elements if p.kind == "promoter"
             for e in elements if e.kind == "enhancer" and abs(e.centre - p.anchor) > 600
             and 0 <= p.anchor // 32 - config.crop_bins < config.target_length]
    if pairs:
      break
  promoter, enhancer = pairs[0]
  x = np.asarray(record["sequence"], np.float32)
  deleted = ed.delete_element(x, enhancer.start, enhancer.end, float(record["gc"]),
                              np.random.default_rng(0))
  assert (deleted != x).any()
  model = trainer.build_model(configs.get_config("enformer_human_mouse:tiny"))
  model = model.clone(depth=depth)
  assert enformer_human_mouse.conv_receptive_field_bp(model.num_downsamples) == 166

  @jax.jit
  def with_and_without(batch):
    return model.apply(_perturbed(model, batch[:1]), batch)["human"]

  out = np.asarray(with_and_without(jnp.asarray(np.stack([x, deleted]))))
  tss = out[:, promoter.anchor // 32 - config.crop_bins]
  change = np.abs(tss[0] - tss[1]).max() / np.abs(tss[0]).max()
  if depth:
    assert change > 1e-5  # float32 round-off alone is ~1e-7
  else:  # 166 bp of context: an enhancer > 600 bp away cannot reach the TSS bin.
    assert change < 1e-7
