"""Tests for genereg_jax.variants.scoring: windows, alignment, scores, outputs, resume.

A small NumPy "model" stands in for a trained one, so every number can be recomputed
by hand; tests/variants/test_score_variants_cli.py runs a trained deepsea:tiny.
"""

import gzip
import math

import h5py
import numpy as np
import pytest

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.variants import scoring

LENGTH = 40
RESOLUTION = 4
RNG = np.random.default_rng(14)
CHROM = "".join(RNG.choice(list("ACGT"), 300))
SHORT = "".join(RNG.choice(list("ACGT"), 30))


class ToyPredictor:
  """``probs`` [batch, 3] (sigmoids of base counts in the middle) and ``coverage``
  [batch, 10, 2] (A+T and C+G counts per 4-bp bin): scores are easy to check."""

  input_length = LENGTH
  data_devices = 1

  def __call__(self, one_hot):
    x = one_hot.astype(np.float64)
    middle = x[:, 16:24].sum(1)
    probs = 1 / (1 + np.exp(-(middle[:, :3] - 2)))
    bins = x.reshape(len(x), LENGTH // RESOLUTION, RESOLUTION, 4).sum(2)
    coverage = np.stack([bins[..., 0] + bins[..., 3], bins[..., 1] + bins[..., 2]], -1)
    return {"probs": probs.astype(np.float32), "coverage": coverage.astype(np.float32)}

  def output_names(self, name, size):
    return ("AT", "CG") if name == "coverage" else tuple(f"p{i}" for i in range(size))


@pytest.fixture
def genome(tmp_path):
  path = tmp_path / "genome.fa"
  path.write_text(f">chr1\n{CHROM}\n>chr2\n{SHORT}\n")
  with genome_lib.Genome(path) as g:
    yield g


def _vcf(tmp_path, rows, name="in.vcf"):
  lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
  lines += ["\t".join(str(f) for f in row) for row in rows]
  path = tmp_path / name
  path.write_text("\n".join(lines) + "\n")
  return str(path)


def _ref(pos, n=1):
  return CHROM[pos - 1:pos - 1 + n]


def _other(base):
  return "ACGT"[("ACGT".index(base) + 1) % 4]


# ---------------------------------------------------------------------------------------


def test_windows_snv_deletion_insertion(genome):
  pos, half = 150, LENGTH // 2
  start = pos - 1 - half
  ref, (snv, deletion, insertion) = scoring.windows(
      genome, "chr1", pos, _ref(pos, 3),
      [_other(_ref(pos)) + _ref(pos + 1, 2), _ref(pos), _ref(pos, 3) + "GGGGG"], LENGTH)
  assert ref == CHROM[start:start + LENGTH]
  assert snv == ref[:half] + _other(_ref(pos)) + ref[half + 1:]
  # Deletion of 2 bases: the same left flank, the right flank continues in the genome.
  assert deletion == CHROM[start:pos] + CHROM[pos + 2:pos + 2 + LENGTH - half - 1]
  assert len(deletion) == LENGTH
  # Insertion of 5: 2 bases dropped on the left, 3 on the right; variant still at half - 2.
  assert insertion == CHROM[start + 2:pos - 1] + _ref(pos, 3) + "GGGGG" + \
      CHROM[pos + 2:pos + 2 + LENGTH - (half - 2) - 8]
  assert len(insertion) == LENGTH and insertion[half - 2:half + 6] == _ref(pos, 3) + "GGGGG"
  # Off the chromosome ends: the REF window, or a deletion's right fill.
  assert scoring.windows(genome, "chr1", 10, _ref(10), ["A"], LENGTH) is None
  assert scoring.windows(genome, "chr1", 281, _ref(281), [_other(_ref(281))], LENGTH)
  assert scoring.windows(genome, "chr1", 281, _ref(281, 2), [_ref(281)], LENGTH) is None


def test_alignment_rule():
  ref = np.arange(10.0)[:, None] + 100
  alt = np.arange(10.0)[:, None]
  # Deletion of 2 bases at resolution 1: bins 5, 6 deleted, right flank read 2 bins left.
  aligned = scoring.align_to_reference(ref, alt, 3, 1, 1)[:, 0]
  np.testing.assert_array_equal(aligned, [0, 1, 2, 3, 4, 0, 0, 5, 6, 7])
  # Insertion of 3: left flank read 1 bin right, right flank 2 bins right, ends keep REF.
  aligned = scoring.align_to_reference(ref, alt, 1, 4, 1)[:, 0]
  np.testing.assert_array_equal(aligned, [100, 0, 1, 2, 3, 7, 8, 9, 108, 109])
  # An SNV is compared bin by bin.
  assert scoring.align_to_reference(ref, alt, 1, 1, 1) is alt


def test_scores_match_numpy():
  rng = np.random.default_rng(0)
  p, q = rng.uniform(0.01, 0.99, (2, 5, 3))
  np.testing.assert_allclose(scoring.score("diff", p, q), q - p)
  np.testing.assert_allclose(scoring.score("log_odds_diff", p, q),
                             np.log(q / (1 - q)) - np.log(p / (1 - p)))
  a, b = rng.uniform(0, 5, (2, 5, 8, 3))
  np.testing.assert_allclose(scoring.score("SAD", a, b), b.sum(1) - a.sum(1))
  expected = np.log2((b.sum(1) + 1) / (a.sum(1) + 1))
  np.testing.assert_allclose(scoring.score("logSAD", a, b), expected)
  np.testing.assert_allclose(scoring.score("SED", a, b), expected)
  np.testing.assert_allclose(scoring.score("max_abs_diff", a, b), np.abs(b - a).max(1))
  jsd = np.empty((5, 3))
  for i in range(5):
    for t in range(3):
      u, v = a[i, :, t] / a[i, :, t].sum(), b[i, :, t] / b[i, :, t].sum()
      m = (u + v) / 2
      jsd[i, t] = (np.sum(u * np.log(u / m)) + np.sum(v * np.log(v / m))) / 2
  np.testing.assert_allclose(scoring.score("JSD", a, b), jsd)
  assert np.all(scoring.score("JSD", a, a) < 1e-12)
  with pytest.raises(ValueError, match="unknown score"):
    scoring.score("nope", a, b)


def test_scorer_rows_against_direct_predictions(genome):
  predictor = ToyPredictor()
  scorer = scoring.Scorer(predictor, genome, ["diff", "SAD", "logSAD"], batch_size=3)
  pos = 120
  ref_base = _ref(pos)
  alts = (_other(ref_base), _other(_other(ref_base)))
  line = f"chr1\t{pos}\trs1\t{ref_base}\t{','.join(alts)}\t.\t.\t.\n"
  records = [(3, line, scoring.vcf.parse_fields(line))]
  rows, issues = scorer.score_records(records)
  assert issues == [] and [r.ids[-1] for r in rows] == [_other(ref_base),
                                                       _other(_other(ref_base))]
  ref, alts = scoring.windows(genome, "chr1", pos, ref_base,
                              [_other(ref_base), _other(_other(ref_base))], LENGTH)
  direct = predictor(np.stack([encoding.one_hot_dna(s) for s in [ref, *alts]]))
  for k, row in enumerate(rows):
    np.testing.assert_allclose(row.scores[("probs", "diff")],
                               direct["probs"][k + 1] - direct["probs"][0], atol=1e-6)
    cov_ref, cov_alt = direct["coverage"][0].sum(0), direct["coverage"][k + 1].sum(0)
    np.testing.assert_allclose(row.scores[("coverage", "SAD")], cov_alt - cov_ref,
                               atol=1e-5)
    np.testing.assert_allclose(row.scores[("coverage", "logSAD")],
                               np.log2((cov_alt + 1) / (cov_ref + 1)), atol=1e-5)
    assert set(row.scores) == {("probs", "diff"), ("coverage", "SAD"),
                               ("coverage", "logSAD")}
  assert scorer.num_windows == 3  # REF once for both ALTs.


def _bad_and_good_rows():
  p = 100
  return [
      ("1", p, "a", _ref(p), _other(_ref(p)), ".", ".", "."),  # valid, "1" -> chr1
      ("chr1", p + 1, "b", _other(_ref(p + 1)), "A", ".", ".", "."),  # REF mismatch
      ("chr1", p + 2, "c", _ref(p + 2), "<DEL>", ".", ".", "."),  # symbolic
      ("chrUn", 5, "d", "A", "C", ".", ".", "."),  # off-contig
      ("chr2", 25, "e", SHORT[24], _other(SHORT[24]), ".", ".", "."),  # window off end
      ("chr1", "x1", "f", "A", "C", ".", ".", "."),  # malformed POS
      ("chr1", p + 3, "g", _ref(p + 3), "*," + _other(_ref(p + 3)), ".", ".", "."),
      ("chr1", p + 4, "h", _ref(p + 4, 3), _ref(p + 4), ".", ".", "."),  # deletion
      ("chr1", p + 8, "i", _ref(p + 8), _ref(p + 8) + "TT", ".", ".", "."),  # insertion
  ]


def _read(out):
  with open(f"{out}/scores.tsv") as f:
    tsv = f.read()
  with open(f"{out}/issues.tsv") as f:
    issues = f.read()
  with h5py.File(f"{out}/scores.h5") as h5:
    arrays = {k: h5[k][...] for k in ("probs/diff", "coverage/SAD", "pos")}
  return tsv, issues, arrays


def test_issues_every_unscored_record_and_outputs(genome, tmp_path, caplog):
  path = _vcf(tmp_path, _bad_and_good_rows())
  with open(path, "ab") as f:  # Line 12: bytes that are not UTF-8.
    f.write(b"chr1\t120\t\xff\tA\tC\t.\t.\t.\n")
  out = str(tmp_path / "out")
  scorer = scoring.Scorer(ToyPredictor(), genome, ["diff", "SAD"], batch_size=4)
  counts = scoring.score_vcf(scorer, path, out, chunk_records=4)
  assert counts == dict(chunks=3, skipped=0, records=10)
  summary = scoring.merge(out, output_names=ToyPredictor().output_names, vcf_top=2,
                          vcf_path=path)
  assert summary["variants"] == 4 and summary["issues"] == 7
  tsv, issues, arrays = _read(out)
  rows = [line.split("\t") for line in tsv.splitlines()]
  assert rows[0][:6] == list(scoring.ID_COLUMNS)
  assert rows[0][6:] == ["coverage/SAD/max", "coverage/SAD/max_track", "probs/diff/max",
                         "probs/diff/max_track"]
  assert [r[3] for r in rows[1:]] == ["a", "g", "h", "i"]
  reasons = {line.split("\t")[0]: line.split("\t")[-1] for line in issues.splitlines()[1:]}
  assert sorted(reasons) == ["12", "4", "5", "6", "7", "8", "9"]
  assert reasons["12"].startswith("malformed record: not UTF-8")
  assert reasons["4"].startswith("REF mismatch")
  assert reasons["5"].startswith("symbolic ALT <DEL>")
  assert reasons["6"].startswith("off-contig")
  assert "runs off the end of chr2" in reasons["7"]
  assert reasons["8"].startswith("malformed record: POS")
  assert reasons["9"].startswith("symbolic ALT *")
  assert sum("without 'chr'" in r.message for r in caplog.records) == 1
  assert arrays["probs/diff"].dtype == np.float16 and arrays["probs/diff"].shape == (4, 3)
  assert arrays["coverage/SAD"].shape == (4, 2)
  np.testing.assert_array_equal(arrays["pos"], [100, 103, 104, 108])
  with gzip.open(f"{out}/scores.vcf.gz", "rt", errors="surrogateescape") as f:
    annotated = [line for line in f if "VES=" in line]
  assert len(annotated) == 4 and "VES=" + _other(_ref(103)) + "|" in annotated[1]
  # Selected tracks: one column per track.
  scoring.merge(out, output_names=ToyPredictor().output_names, tracks="CG,p0")
  header = open(f"{out}/scores.tsv").readline().rstrip("\n").split("\t")
  assert header[6:] == ["coverage/SAD/CG", "probs/diff/p0"]
  with pytest.raises(ValueError, match="'nope' is neither"):
    scoring.merge(out, output_names=ToyPredictor().output_names, tracks="nope")


def test_resume_after_interruption_gives_identical_outputs(genome, tmp_path):
  path = _vcf(tmp_path, _bad_and_good_rows())
  names = ToyPredictor().output_names
  scorer = scoring.Scorer(ToyPredictor(), genome, batch_size=2)
  whole = str(tmp_path / "whole")
  scoring.score_vcf(scorer, path, whole, chunk_records=2)
  scoring.merge(whole, output_names=names)
  resumed = str(tmp_path / "resumed")
  first = scoring.score_vcf(scorer, path, resumed, chunk_records=2, stop_after=2)
  assert first["chunks"] == 2
  second = scoring.score_vcf(scorer, path, resumed, chunk_records=2)
  assert (second["skipped"], second["chunks"]) == (2, 3)
  scoring.merge(resumed, output_names=names)
  expected, got = _read(whole), _read(resumed)
  assert got[:2] == expected[:2]
  for key in expected[2]:
    np.testing.assert_array_equal(got[2][key], expected[2][key])
  # Parts of a run with other settings are refused, not mixed in.
  with pytest.raises(ValueError, match="other settings"):
    scoring.score_vcf(scorer, path, resumed, chunk_records=3)


def test_processes_split_chunks_and_merge(genome, tmp_path):
  path = _vcf(tmp_path, _bad_and_good_rows())
  scorer = scoring.Scorer(ToyPredictor(), genome, batch_size=2)
  single = str(tmp_path / "single")
  scoring.score_vcf(scorer, path, single, chunk_records=2)
  scoring.merge(single)
  split = str(tmp_path / "split")
  done = [scoring.score_vcf(scorer, path, split, chunk_records=2, process_index=i,
                            process_count=2)["chunks"] for i in (0, 1)]
  assert done == [3, 2]
  scoring.merge(split)
  assert _read(split)[:2] == _read(single)[:2]


def test_default_scores_by_output():
  assert scoring.default_scores("predictions", 1) == ("diff", "log_odds_diff")
  assert scoring.default_scores("coverage", 2) == ("SAD", "logSAD", "max_abs_diff")
  assert scoring.default_scores("profile_probs", 2) == ("JSD",)
  assert scoring.default_scores("profile_log_probs", 2) == ()
  assert scoring.default_scores("log_counts", 1) == ("log_count_diff",)
  assert not math.isnan(scoring.score("log_odds_diff", np.zeros((1, 1)),
                                      np.ones((1, 1)))[0, 0])


def test_indel_windows_are_tangermeme_edits(genome):
  """The VCF windows are the effects functions' edits: a deletion is deletion_effect
  (left=False) on the REF window plus the bases to its right; an insertion is
  insertion_effect (left=False) on the REF window moved right by k // 2."""
  from genereg_jax.variants import effects
  pos, half, identity = 150, LENGTH // 2, lambda x: x
  start = pos - 1 - half
  one_hot = lambda s: encoding.one_hot_dna(s)[None].astype(np.float32)
  _, (deleted,) = scoring.windows(genome, "chr1", pos, _ref(pos, 4), [_ref(pos)], LENGTH)
  _, after = effects.deletion_effect(identity, one_hot(CHROM[start:start + LENGTH + 3]),
                                     [[0, half + 1], [0, half + 2], [0, half + 3]])
  np.testing.assert_array_equal(np.asarray(after), one_hot(deleted))
  inserted = "CAT"
  _, (alt,) = scoring.windows(genome, "chr1", pos, _ref(pos), [_ref(pos) + inserted],
                              LENGTH)
  shift = len(inserted) // 2
  table = [[0, half + 1 - shift, "ACGT".index(b)] for b in reversed(inserted)]
  _, after = effects.insertion_effect(
      identity, one_hot(CHROM[start + shift:start + shift + LENGTH]), table)
  np.testing.assert_array_equal(np.asarray(after), one_hot(alt))
