"""``synthetic_promoters``: the planted grammar is the whole truth (the oracle separates
promoters from background and decoys, position matters), the genome's TSS table matches
its FASTA on both strands, and a small build is deterministic and fits the models."""

import numpy as np
import tensorflow_datasets as tfds

from data_builders import synthetic_promoters as sp
from data_builders.synthetic_promoters import synthetic_promoters as module
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib


def _strengths(kind, prokaryote=False, n=60):
  length, tss = (81, 60) if prokaryote else (251, 200)
  return np.array([sp.window(np.random.default_rng(i), length, tss, kind, prokaryote)[1]
                   for i in range(n)])


def test_oracle_separates_promoters_from_background_and_decoys():
  for kind in ("tata", "cpg"):
    assert (_strengths(kind) >= sp.PROMOTER_THRESHOLD).mean() > 0.95
  for kind in ("background",) + sp.EUKARYOTE_DECOYS:
    assert (_strengths(kind) < sp.PROMOTER_THRESHOLD).mean() > 0.95
  assert (_strengths("sigma70", True) >= 1).all()
  for kind in ("background", "decoy_35", "decoy_10", "decoy_spacer"):
    assert (_strengths(kind, True) < 1).all()


def test_oracle_is_position_dependent():
  text, strength = sp.window(np.random.default_rng(3), 251, 200, "tata")
  assert strength >= 1
  # The same sequence read with its TSS 10 nt away loses both the TATA and the Inr term.
  assert sp.eukaryote_strength(text, 190) < 0.5 < strength
  # Moving the Inr by one base (its A no longer on +1) costs most of its weight.
  assert sp.eukaryote_strength(text, 201) < strength - 0.3


def test_genome_tss_table_matches_the_fasta(tmp_path):
  fasta, bed = sp.write_genome(str(tmp_path), seed=1, num_chromosomes=1, length=30_000,
                               promoters=6, decoys=6)
  genome = genome_lib.Genome(fasta)
  text = genome.fetch("chr1", 0, genome.sizes["chr1"])
  rows = [line.split("\t") for line in open(bed).read().splitlines()]
  assert len(rows) == 6 and {r[5] for r in rows} == {"+", "-"}
  for chrom, start, end, kind, score, strand in rows:
    window = sp.stranded_window(text, int(start), strand, 600, 200)
    # BED scores stop at 1000.
    assert abs(min(1000, sp.eukaryote_strength(window, 200) * 1000) - int(score)) <= 1
    assert int(score) >= 1000 * 0.95 and kind in ("tata", "cpg")
  # Decoys are planted too: 12 elements, only 6 of them TSSs.
  assert text.count("TATAAA") + sum(text.count(m) for m in module.INITIATORS) >= 6


def test_small_build_is_deterministic_and_labelled(tmp_path):
  def build(name):
    config = sp.SyntheticPromotersConfig(name="t", organism="prokaryote", window=81,
                                         tss_index=60, num_train=40, num_valid=8, num_test=8)
    builder = sp.SyntheticPromoters(config=config, data_dir=str(tmp_path / name))
    builder.download_and_prepare(file_format="array_record")
    return list(builder.as_data_source(split="train"))
  first, second = build("a"), build("b")
  assert len(first) == 40
  for a, b in zip(first, second):
    np.testing.assert_array_equal(a["sequence"], b["sequence"])
  labels = np.array([r["label"] for r in first])
  assert labels.mean() == 0.5 and first[0]["sequence"].shape == (81, 4)
  for record in first:
    text = encoding.decode_dna(record["sequence"])
    assert (sp.prokaryote_strength(text, 60) >= 1) == bool(record["label"])


def test_registered_configs():
  assert tfds.builder("synthetic_promoters/promid", data_dir="/nonexistent").builder_config.window == 600
  assert tfds.builder("synthetic_promoters/prokaryote",
                      data_dir="/nonexistent").builder_config.tss_index == 60
