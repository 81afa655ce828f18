"""Cassette-exon features: PWM strengths, k-mer counts, layout of the vector."""

import numpy as np
import pytest

from genereg_jax.splicing import features as cis


def test_consensus_sites_score_highest_and_mismatches_cost():
  donor = cis.donor_strength("CAG", "GTAAGT")
  assert donor == pytest.approx(max(cis.DONOR_LOG_ODDS.max(1).sum(), donor))
  assert cis.donor_strength("CAG", "CTAAGT") < donor - 7  # GT core broken: ~ -8 bits.
  acceptor = cis.acceptor_strength("TTTTTTTTTTTTTTTTTCAG", "GTT")
  weak = cis.acceptor_strength("AAAAAAAAAAAAAAAAACAG", "GTT")
  assert acceptor > weak + 10  # A polypyrimidine tract adds strength.
  # Short flanks are N-padded (score 0 there), not an error; U reads as T.
  assert cis.donor_strength("G", "GUAAGU") == pytest.approx(
      cis.pwm_score("NNGGTAAGT", cis.DONOR_LOG_ODDS))


def test_kmer_counts_match_a_naive_count():
  rng = np.random.default_rng(0)
  seq = "".join(rng.choice(list("ACGT"), 200)) + "NNACGT"
  counts = cis.kmer_counts(seq, 3)
  names = cis.kmer_names(3)
  for kmer in ("ACG", "TTT", "GCA"):
    naive = sum(seq[i:i + 3] == kmer for i in range(len(seq) - 2))
    assert counts[names.index(kmer)] == naive
  assert counts.sum() == len(seq) - 2 - 4  # Windows touching N are skipped.


def test_feature_vector_layout():
  rng = np.random.default_rng(1)
  parts = ["".join(rng.choice(list("ACGT"), n)) for n in (100, 800, 120, 700, 100)]
  x = cis.cassette_features(*parts, conservation=[0.5, 2.0, 0.1])
  names = cis.feature_names()
  assert x.shape == (len(names),) == (3 * 256 + 3 * 9 + 4 + 6 + 3 + 4,)
  value = dict(zip(names, x))
  assert value["log10_length_A"] == pytest.approx(np.log10(120))
  assert value["A_length_multiple_of_3"] == 1.0
  assert value["conservation_A"] == 2.0 and value["conservation_given"] == 1.0
  assert value["strength_A_acceptor"] == pytest.approx(cis.acceptor_strength(parts[1], parts[2]))
  with_motif = list(parts)
  with_motif[2] = parts[2][:50] + "TGCATGCATG" + parts[2][60:]
  motif = dict(zip(names, cis.cassette_features(*with_motif)))["motif_A_RBFOX"]
  assert motif == value["motif_A_RBFOX"] + 2  # Overlapping copies count.
  # k-mers per kb of the 300 nt proximal intron.
  kmers_i1 = x[:256]
  assert kmers_i1.sum() == pytest.approx(297 * 1000 / 300, rel=1e-5)
