"""``synthetic_motifs.genome``: the grammar pretraining genome is ``synthetic_motifs``
elements end to end (drawn as the builder draws its examples, under seeds no builder
split uses), with the N runs the window sampler skips."""

import numpy as np
import pyfaidx

from data_builders.synthetic_motifs import genome
from data_builders.synthetic_motifs import synthetic_motifs


def test_chromosomes_are_synthetic_motifs_elements(tmp_path):
  path = genome.grammar_genome(str(tmp_path / "g.fa"), num_chromosomes=2, length=2000)
  fasta = pyfaidx.Fasta(path, as_raw=True)
  assert list(fasta.keys()) == ["chr1", "chr2"]
  config = genome.builder_config("tiny")
  motifs = synthetic_motifs.load_motifs()
  chromosome = str(fasta["chr2"][:])
  assert len(chromosome) == 2000
  assert set(chromosome[:200]) == {"N"} and set(chromosome[666:766]) == {"N"}
  gcs = []
  for i in (2, 5, 9):  # Elements clear of the N runs.
    rng = np.random.default_rng([0, genome.GENOME_STREAM, 1, i])
    drawn = synthetic_motifs.sample_example(
        rng, motifs, 200, config.gc_range, planting_window=config.planting_window,
        min_score_fraction=config.min_score_fraction)
    element = chromosome[200 * i:200 * (i + 1)]
    assert element == "".join("ACGT"[b] for b in drawn["sequence"].argmax(-1))
    gcs.append(drawn["gc"])
  assert np.ptp(gcs) > 0.01  # GC is drawn per element, as per example.
  # The builder's own example 2 of the train split is not in the genome.
  example = synthetic_motifs.sample_example(
      synthetic_motifs.example_rng(0, "train", 2), motifs, 200, config.gc_range,
      min_score_fraction=config.min_score_fraction)
  assert "".join("ACGT"[b] for b in example["sequence"].argmax(-1)) not in chromosome


def test_elements_mark_the_planted_sites(tmp_path):
  bases, in_motif = genome.elements(1, 2000)
  fasta = pyfaidx.Fasta(genome.grammar_genome(str(tmp_path / "g.fa"), num_chromosomes=2,
                                              length=2000), as_raw=True)
  chromosome = str(fasta["chr2"][:])
  assert "".join("ACGT"[b] for b in bases[1000:2000]) == chromosome[1000:2000]
  motifs = synthetic_motifs.load_motifs()
  config = genome.builder_config("tiny")
  drawn = synthetic_motifs.sample_example(
      np.random.default_rng([0, genome.GENOME_STREAM, 1, 3]), motifs, 200, config.gc_range,
      planting_window=config.planting_window, min_score_fraction=config.min_score_fraction)
  expected = np.zeros(200, bool)
  for name, start in zip(drawn["motif_name"], drawn["motif_start"]):
    expected[start:start + motifs[name].width] = True
  assert expected.any()
  np.testing.assert_array_equal(in_motif[600:800], expected)
