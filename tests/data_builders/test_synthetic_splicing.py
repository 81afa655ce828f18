"""The ``synthetic_splicing`` builder: the planted grammar is the whole truth, records
follow ``spliceai_gencode`` (blocks, N context, -1 padding), builds are deterministic, and
the ``usage`` configs add synthetic per-tissue usage by their documented rules."""

import dataclasses
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


def test_synthetic_usage_follows_its_rules(genes):
  tissues = ("heart", "liver", "brain", "testis")
  strengths, usages = [], []
  for gene in genes:
    usage = ss.synthetic_usage(gene, tissues)
    assert usage.shape == (len(gene.bases), 4)
    assert (usage[gene.labels == 0] == 0).all()  # Decoys and background: unused.
    strength = ss.site_strength(gene)
    assert sorted(strength) == np.flatnonzero(gene.labels > 0).tolist()
    for site, value in strength.items():
      strengths.append(value)
      usages.append(usage[site])
  strengths, usages = np.array(strengths), np.array(usages)
  assert 0 <= strengths.min() < 0.3 and strengths.max() == pytest.approx(1.0)
  assert ((usages == 0) | ((usages >= 0.1) & (usages <= 1))).all()
  # Heart and liver ignore GC: usage rises with strength, liver's threshold is higher.
  order = np.argsort(strengths, kind="stable")
  for t in (0, 1):
    assert (np.diff(usages[order, t]) >= -1e-6).all()
  assert (usages[:, 1] <= usages[:, 0] + 1e-6).all()
  # Tissue-specific sites: unused in liver, used in testis.
  assert 0.03 < ((usages[:, 1] == 0) & (usages[:, 3] > 0)).mean() < 0.3
  assert np.corrcoef(usages[:, 2], usages[:, 0])[0, 1] < 0.99  # Brain also reads GC.


def test_donor_strength_is_one_for_the_consensus():
  consensus = "CAGGTAAGT"  # The most frequent base at each of the 9 positions.
  bases = np.array(["ACGT".index(b) for b in "A" * 20 + consensus + "A" * 20], np.uint8)
  labels = np.zeros(len(bases), np.int8)
  labels[22] = ss.synthetic_splicing.DONOR  # Last exonic base of the 9-mer.
  gene = ss.SyntheticGene(bases, labels, np.zeros_like(labels), [(0, 23), (30, 49)], 0.4)
  assert ss.site_strength(gene) == {22: pytest.approx(1.0)}


def test_usage_records_add_usage_to_the_same_genes(tmp_path):
  with_usage = dataclasses.replace(SMALL, name="small_usage",
                                   tissues=("heart", "liver", "brain", "testis"))
  plain, records = _build(SMALL, tmp_path / "a"), _build(with_usage, tmp_path / "b")
  for split in ss.SPLITS:
    assert len(records[split]) == len(plain[split])
    for a, b in zip(records[split], plain[split]):
      np.testing.assert_array_equal(a["sequence"], b["sequence"])
      np.testing.assert_array_equal(a["label"], b["label"])
      assert "usage" in a and "usage" not in b
  gene = ss.sample_gene(ss.example_rng(SMALL.seed, "valid", 1), SMALL)
  rows = [r for r in records["valid"] if r["gene_id"] == b"synthetic_valid_1"]
  usage = np.concatenate([r["usage"] for r in rows])
  np.testing.assert_array_equal(usage[:len(gene.bases)],
                                ss.synthetic_usage(gene, with_usage.tissues))
  assert (usage[len(gene.bases):] == -1).all()
  for name, base in (("usage", "default"), ("tiny_usage", "tiny")):
    fields = [{k: v for k, v in dataclasses.asdict(ss.SyntheticSplicing.builder_configs[n])
               .items() if k not in ("name", "description", "tissues")} for n in (name, base)]
    assert fields[0] == fields[1]  # Same genes.
  info = ss.SyntheticSplicing(config="tiny_usage", data_dir="/nonexistent").info
  assert info.features["usage"].shape == (200, 4)
  assert info.metadata["tissues"] == ["heart", "liver", "brain", "testis"]
  with pytest.raises(ValueError, match="no synthetic usage rule"):
    ss.SyntheticSplicingConfig(name="bad", tissues=("kidney",))
