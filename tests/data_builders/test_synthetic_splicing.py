"""The ``synthetic_splicing`` builder: the planted grammar is the whole truth, records
follow ``spliceai_gencode`` (blocks, N context, -1 padding) and builds are deterministic."""

import re

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import synthetic_splicing as ss
from genereg_jax.data import encoding

SMALL = ss.SyntheticSplicingConfig(
    name="small", block_length=200, context=80, num_train=12, num_valid=3, num_test=3,
    num_exons=(2, 5), intron_length=(80, 400), log_uniform_introns=False, seed=3)


def _starts(pattern, text):
  return {m.start() for m in re.finditer(f"(?=({pattern}))", text)}


@pytest.fixture(scope="module")
def genes():
  return [ss.sample_gene(ss.example_rng(SMALL.seed, "train", i), SMALL) for i in range(150)]


def test_grammar_holds_and_background_is_scrubbed(genes):
  totals = {"acceptors": 0, "donors": 0, "decoy_acceptors": 0, "decoy_donors": 0}
  for gene in genes:
    text = "".join("ACGT"[b] for b in gene.bases)
    acceptors = np.flatnonzero(gene.labels == 1)
    donors = np.flatnonzero(gene.labels == 2)
    decoy_acceptors = np.flatnonzero(gene.decoys == 1)
    decoy_donors = np.flatnonzero(gene.decoys == 2)
    assert len(acceptors) == len(donors) == len(gene.exons) - 1
    assert acceptors.tolist() == [s for s, _ in gene.exons[1:]]
    assert donors.tolist() == [e - 1 for _, e in gene.exons[:-1]]
    assert not (gene.labels.astype(bool) & gene.decoys.astype(bool)).any()
    branch_points = _starts("[CT]T[AG]AC", text)
    for site in acceptors:
      assert text[site - 2:site] == "AG"
      upstream = [site - bp for bp in branch_points if 22 <= site - bp <= 41]
      assert len(upstream) == 1
      # AG exclusion zone: the only AG between branch point and site is the last.
      assert text[site - upstream[0]:site - 2].find("AG") == -1
    for site in decoy_acceptors:
      assert text[site - 2:site + 1] == "AGG"
      assert not any(0 < site - bp <= 45 for bp in branch_points)
    for site in list(donors) + list(decoy_donors):
      assert text[site + 1:site + 3] == "GT"
    silencers = _starts("TAGGG[AT]", text)
    for site in decoy_donors:
      assert any(8 <= s - site <= 11 for s in silencers)
    # Every donor-core, branch point and silencer in the gene is a planted one.
    assert _starts("GT[AG]AG", text) == {int(d) + 1 for d in list(donors) + list(decoy_donors)}
    assert len(branch_points) == len(acceptors)
    assert len(silencers) == len(decoy_donors)
    totals["acceptors"] += len(acceptors)
    totals["donors"] += len(donors)
    totals["decoy_acceptors"] += len(decoy_acceptors)
    totals["decoy_donors"] += len(decoy_donors)
  assert totals["acceptors"] > 300 and totals["decoy_acceptors"] > 50
  assert totals["decoy_donors"] > 50


def test_exon_and_intron_lengths(genes):
  exons = np.array([e - s for g in genes for s, e in g.exons])
  introns = np.array([b[0] - a[1] for g in genes for a, b in zip(g.exons, g.exons[1:])])
  assert exons.min() >= 50 and exons.max() <= 250
  assert introns.min() >= 80 and introns.max() <= 400
  assert 120 < exons.mean() < 180


def _build(config, data_dir):
  builder = ss.SyntheticSplicing(config=config, data_dir=str(data_dir),
                                 file_format="array_record")
  builder.download_and_prepare()
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))] for split in source}


def test_records_blocks_and_determinism(tmp_path):
  first = _build(SMALL, tmp_path / "a")
  second = _build(SMALL, tmp_path / "b")
  for split in ss.SPLITS:
    assert len(first[split]) == len(second[split]) > 0
    for a, b in zip(first[split], second[split]):
      np.testing.assert_array_equal(a["sequence"], b["sequence"])
      np.testing.assert_array_equal(a["label"], b["label"])

  gene = ss.sample_gene(ss.example_rng(SMALL.seed, "valid", 1), SMALL)
  rows = [r for r in first["valid"] if r["gene_id"] == b"synthetic_valid_1"]
  assert len(rows) == -(-len(gene.bases) // 200)
  labels = np.concatenate([r["label"] for r in rows])
  np.testing.assert_array_equal(labels[:len(gene.bases)], gene.labels)
  assert (labels[len(gene.bases):] == -1).all()
  np.testing.assert_array_equal(np.concatenate([r["decoy"] for r in rows])[:len(gene.bases)],
                                gene.decoys)
  text = "".join("ACGT"[b] for b in gene.bases)
  padded = "N" * 40 + text + "N" * (len(rows) * 200 + 40 - len(text))
  for i, row in enumerate(rows):
    assert row["sequence"].shape == (280, 4) and int(row["block_index"]) == i
    assert encoding.decode_dna(row["sequence"]) == padded[i * 200:i * 200 + 280]
    assert int(row["start"]) == i * 200


def test_tiny_config_geometry():
  config = ss.SyntheticSplicing.builder_configs["tiny"]
  assert (config.block_length, config.context) == (200, 80)
  with pytest.raises(ValueError, match="even context"):
    ss.SyntheticSplicingConfig(name="bad", context=81)
  info = ss.SyntheticSplicing(config="tiny", data_dir="/nonexistent").info
  assert info.features["sequence"].shape == (280, 4)
  assert isinstance(info.features["label"], tfds.features.Tensor)
