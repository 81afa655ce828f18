"""Hard-negative rounds (DeeReCT-PromID): windows on both strands, the PromID tool's soft
non-maximum suppression, TSS-call precision/recall within +-500 bp, mining of the
top-scoring false positives, and resumable rounds -- on a tiny synthetic genome with a
CpG-loving stand-in for a trained model (no training: seconds)."""

import json
import os

import numpy as np
import pytest

from data_builders.synthetic_promoters import synthetic_promoters as sp
from experiments.configs import promid
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.train import hard_negatives as hn


def _settings(**overrides):
  config = promid.get_config("tiny")
  config.hard_negatives.update(mining_chromosomes=("chr1",), evaluation_chromosomes=("chr2",),
                               per_round=5, rounds=2, scan_step=25, **overrides)
  return config


def cpg_predictor(x):
  """Fires on CpG-rich windows around the TSS (promoters *and* orphan-island decoys)."""
  region = x[:, 200 - 150:200 + 50].astype(np.float32)
  cg = (region[:, :-1, 1] * region[:, 1:, 2]).sum(axis=1)
  return np.clip(cg / 20.0, 0, 1)


@pytest.fixture(scope="module")
def tiny_genome(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp("genome"))
  fasta, bed = sp.write_genome(folder, seed=3, num_chromosomes=2, length=24_000,
                               promoters=5, decoys=5)
  return fasta, hn.read_tss_bed(bed)


def test_windows_read_each_strand_five_to_three():
  text = "ACGTTGCAAC" * 10
  one_hot = encoding.one_hot_dna(text)
  plus = hn.windows(one_hot, [30], "+", 12, 4)[0]
  assert encoding.decode_dna(plus) == text[26:38]
  minus = hn.windows(one_hot, [30], "-", 12, 4)[0]
  assert encoding.decode_dna(minus) == sp.reverse_complement(text[23:35])
  assert encoding.decode_dna(minus)[4] == sp.reverse_complement(text[30])
  assert encoding.decode_dna(hn.windows(one_hot, [2], "+", 6, 4)[0]) == "NN" + text[:4]


def test_soft_nms_is_the_promid_tools_pick():
  # 0.9 kept; 0.8 at 250 bp is scaled by 250/500 -> 0.4 < 0.5, dropped; 0.7 at 600 kept;
  # 0.6 at 400 bp from 0.9 and 200 from 0.7 -> 0.6 * 200/500 dropped.
  calls = hn.soft_nms([1000, 1250, 1600, 1400], [0.9, 0.8, 0.7, 0.6], 0.5, 500)
  assert calls == [(1000, 0.9), (1600, 0.7)]


def test_score_calls_counts_within_500_bp_same_strand():
  sites = [hn.Tss("chr1", 1000, "+"), hn.Tss("chr1", 5000, "-")]
  calls = [("chr1", "+", 1400, 0.9), ("chr1", "-", 1000, 0.8), ("chr1", "-", 5600, 0.7),
           ("chr1", "-", 4600, 0.3)]
  scored = hn.score_calls(calls, sites, 500, 0.5)
  assert (scored["precision"], scored["recall"]) == (1 / 3, 0.5)
  assert hn.score_calls(calls, sites, 500, 0.2)["recall"] == 1.0
  assert hn.precision_at_recall(calls, sites, 500, 1.0) == 0.5


def test_mined_negatives_are_the_top_scoring_false_positives(tiny_genome):
  fasta, sites = tiny_genome
  settings = _settings().hard_negatives
  genome = genome_lib.Genome(fasta)
  mined, wrong = hn.mine(cpg_predictor, genome, sites, settings)
  assert 0 < len(wrong) <= settings.per_round and mined.shape == (len(wrong), 600, 4)
  scores = [c[3] for c in wrong]
  assert scores == sorted(scores, reverse=True)
  true = {(s.strand, s.position) for s in sites if s.chrom == "chr1"}
  for chrom, strand, position, score in wrong:
    assert chrom == "chr1"
    assert all(abs(position - p) > 500 for st, p in true if st == strand)
  # Every false positive left out scores no higher than the lowest one kept.
  all_calls = hn.scan_genome(cpg_predictor, genome, ["chr1"], settings,
                             threshold=settings.scan_threshold)
  others = [c[3] for c in all_calls if c not in wrong
            and all(abs(c[2] - p) > 500 for st, p in true if st == c[1])]
  assert not others or max(others) <= min(scores)
  # The windows are the calls' windows, scored as the scan scored them.
  np.testing.assert_allclose(cpg_predictor(mined), scores, atol=1e-6)


def test_rounds_add_negatives_and_resume_skips_finished_rounds(tiny_genome, tmp_path):
  fasta, sites = tiny_genome
  config = _settings()
  trained = []

  def train(round_config, model_dir):
    trained.append((model_dir, round_config.dataset.get("extra_examples")))
    return {"valid": {"auroc": 0.5}}

  reports = hn.run(config, str(tmp_path), fasta, sites, train=train,
                   predictor=lambda c, d, b: cpg_predictor)
  assert [r["round"] for r in reports] == [0, 1]
  assert trained[0][1] is None and trained[1][1].endswith("round_1/extra_train.npz")
  mined = np.load(tmp_path / "round_0" / "hard_negatives.npz")["sequence"]
  extra = np.load(trained[1][1])
  np.testing.assert_array_equal(extra["sequence"], mined)
  assert (extra["label"] == 0).all() and reports[1]["hard_negatives_used"] == len(mined)
  assert not (tmp_path / "round_1" / "hard_negatives.npz").exists()  # Last round.
  report = json.loads((tmp_path / "round_0" / "report.json").read_text())
  assert 0 <= report["tss_precision"] <= 1 and report["tss_tss"] == sum(
      s.chrom == "chr2" for s in sites)
  saved = np.load(tmp_path / "round_0" / "calls.npz")  # Every call over scan_threshold.
  assert set(saved["chrom"]) == {"chr2"} and (saved["score"] >= 0.1).all()
  assert (saved["score"] >= 0.5).sum() == report["tss_calls"] < len(saved["score"])
  # Relaunched: both rounds are finished and nothing is trained again.
  again = hn.run(config, str(tmp_path), fasta, sites, train=train,
                 predictor=lambda c, d, b: cpg_predictor)
  assert len(trained) == 2 and again == reports
  # An unfinished round (no report) is run again; earlier ones are not.
  os.remove(tmp_path / "round_1" / "report.json")
  hn.run(config, str(tmp_path), fasta, sites, train=train,
         predictor=lambda c, d, b: cpg_predictor)
  assert [os.path.basename(os.path.dirname(d)) for d, _ in trained] == [
      "round_0", "round_1", "round_1"]


def test_bad_tss_bed_names_the_line(tmp_path):
  path = tmp_path / "tss.bed"
  path.write_text("chr1\t10\t11\tx\t0\t+\nchr1\t10\t11\tx\t0\t*\n")
  with pytest.raises(hn.files.InputFormatError, match=":2:"):
    hn.read_tss_bed(str(path))
