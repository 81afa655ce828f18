"""Readers of prioritisation inputs on a few records in exactly their formats.

Labelled variants (VCF with a label INFO field, TSV chrom/pos/ref/alt/label), PLINK
.bed/.bim/.fam written by bed-reader's ``to_bed``, phenotype/covariate tables, and
score_variants' scores.h5 / scores.tsv; bad lines are `InputFormatError`s naming file
and line.
"""

import gzip

import numpy as np
import pytest

from data_builders.prioritise import synthetic
from genereg_jax.data import plink
from genereg_jax.data import variant_labels
from genereg_jax.files import InputFormatError
from genereg_jax.variants import prioritise

VCF = """##fileformat=VCFv4.2
##INFO=<ID=LABEL,Number=1,Type=String,Description="pathogenic or benign">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
chr1\t100\trs1\tA\tG\t.\tPASS\tLABEL=pathogenic;AF=0.1
chr1\t200\trs2\tC\tT,A\t.\tPASS\tDP=3;LABEL=benign
2\t300\t.\tG\tGA\t.\t.\tLABEL=1
"""


def test_labelled_vcf_plain_and_gzipped(tmp_path):
  plain = tmp_path / "labels.vcf"
  plain.write_text(VCF)
  packed = tmp_path / "labels.vcf.gz"
  packed.write_bytes(gzip.compress(VCF.encode()))
  for path in (plain, packed):
    got = variant_labels.read_labelled_variants(path)
    assert [(v.chrom, v.pos, v.ref, v.alt, v.label, v.line) for v in got] == [
        ("chr1", 100, "A", "G", 1, 4), ("chr1", 200, "C", "T", 0, 5),
        ("chr1", 200, "C", "A", 0, 5), ("2", 300, "G", "GA", 1, 6)]


@pytest.mark.parametrize("record, message", [
    ("chr1\t100\t.\tA\tG\t.\t.\tAF=0.1", "no LABEL= in INFO"),
    ("chr1\t100\t.\tA\tG\t.\t.\tLABEL=maybe", "label 'maybe' is not one of"),
    ("chr1\tx\t.\tA\tG\t.\t.\tLABEL=1", "malformed record: POS 'x' is not a positive"),
    ("chr1\t100\t.\tA\t<DEL>\t.\t.\tLABEL=1", "ALT '<DEL>' is not a sequence"),
])
def test_labelled_vcf_bad_record_names_line(tmp_path, record, message):
  path = tmp_path / "bad.vcf"
  path.write_text(VCF + record + "\n")
  with pytest.raises(InputFormatError, match=f"^{path}:7: {message}"):
    variant_labels.read_labelled_variants(path)


def test_labelled_tsv_any_column_order_and_errors(tmp_path):
  path = tmp_path / "labels.tsv"
  path.write_text("#label\tchrom\tpos\tref\talt\tnote\ncase\tchr3\t5\tA\tC\tx\n"
                  "Control\t3\t6\tT\tTTA\ty\n\nLikely-Pathogenic\tX\t7\tG\tA\tz\n")
  got = variant_labels.read_labelled_variants(path)
  assert [(v.chrom, v.pos, v.ref, v.alt, v.label, v.line) for v in got] == [
      ("chr3", 5, "A", "C", 1, 2), ("3", 6, "T", "TTA", 0, 3), ("X", 7, "G", "A", 1, 5)]
  for body, line, message in [
      ("chrom\tpos\tref\talt\n", 1, "header lacks label"),
      ("chrom\tpos\tref\talt\tlabel\n1\t0\tA\tC\t1\n", 2, "pos '0' is not a positive"),
      ("chrom\tpos\tref\talt\tlabel\n1\t5\tA\tC\n", 2, "4 tab-separated columns"),
      ("chrom\tpos\tref\talt\tlabel\n1\t5\tA\tZ\t0\n", 2, "alt 'Z' is not a sequence"),
      ("chrom\tpos\tref\talt\tlabel\n1\t5\tA\tC\t1\n1\t6\tA\tC\tvus\n", 3, "label 'vus'"),
  ]:
    path.write_text(body)
    with pytest.raises(InputFormatError, match=f"^{path}:{line}: {message}"):
      variant_labels.read_labelled_variants(path)


def _write_plink(tmp_path, dosage):
  import bed_reader
  n, m = dosage.shape
  bed_reader.to_bed(tmp_path / "g.bed", dosage, properties={
      "fid": [f"f{i}" for i in range(n)], "iid": [f"i{i}" for i in range(n)],
      "chromosome": ["1"] * m, "sid": [f"rs{j}" for j in range(m)],
      "bp_position": [100 * (j + 1) for j in range(m)], "allele_1": ["A"] * m,
      "allele_2": ["G"] * m}, num_threads=1)
  return tmp_path / "g"


def test_plink_round_trip_and_bad_lines(tmp_path):
  rng = np.random.default_rng(0)
  dosage = rng.integers(0, 3, (7, 5)).astype(np.float32)
  dosage[2, 3] = np.nan
  prefix = _write_plink(tmp_path, dosage)
  got = plink.read_plink(prefix)
  np.testing.assert_array_equal(got.dosage, dosage)  # NaN where missing, equal elsewhere.
  assert got.iid == [f"i{i}" for i in range(7)] and got.sid[4] == "rs4"
  assert got.pos.tolist() == [100, 200, 300, 400, 500] and got.allele_1[0] == "A"

  bim = (tmp_path / "g.bim").read_text().splitlines()
  (tmp_path / "g.bim").write_text("\n".join(bim[:2] + ["1\trs2\t0\t300\tA"] + bim[3:]) + "\n")
  with pytest.raises(InputFormatError, match=f"{tmp_path / 'g.bim'}:3: 5 columns"):
    plink.read_plink(prefix)
  (tmp_path / "g.bim").write_text("\n".join(bim[:4]) + "\n")  # One variant short.
  with pytest.raises(InputFormatError, match="g.bed: 13 bytes; 7 samples x 4 variants"):
    plink.read_plink(prefix)


def test_sample_tables_with_and_without_header(tmp_path):
  rng = np.random.default_rng(1)
  prefix = _write_plink(tmp_path, rng.integers(0, 3, (4, 2)).astype(np.float32))
  genotypes = plink.read_plink(prefix)
  pheno = tmp_path / "pheno.tsv"
  pheno.write_text("FID IID bmi case\nf2 i2 21.5 2\nf0\ti0\tNA\t1\nf1 i1 -9 2\n")
  names, table = plink.read_sample_table(pheno)
  assert names == ["bmi", "case"]
  aligned = plink.align_samples(genotypes, table, 2)
  np.testing.assert_array_equal(aligned, [[np.nan, 1], [np.nan, 2], [21.5, 2],
                                          [np.nan, np.nan]])
  pheno.write_text("f0 i0 1.5\nf1 i1 2.5\n")
  assert plink.read_sample_table(pheno)[0] == ["V1"]
  for body, line, message in [("f0 i0 1.5\nf1 i1\n", 2, "2 columns"),
                              ("FID IID x\nf0 i0 tall\n", 2,
                               r"a value of \['tall'\] is not a number"),
                              ("f0 i0 1\nf0 i0 2\n", 2, "sample f0 i0 appears twice")]:
    pheno.write_text(body)
    with pytest.raises(InputFormatError, match=f"^{pheno}:{line}: {message}"):
      plink.read_sample_table(pheno)


def test_effects_from_h5_and_per_track_tsv(tmp_path):
  values = np.array([[0.5, -0.25], [0.125, 1.0]], np.float32)
  h5 = str(tmp_path / "scores.h5")
  synthetic.write_scores_h5(h5, ["chr1", "chr2"], [10, 20], ["A", "C"], ["G", "T"],
                            values, ["DNase", "CTCF"], key="probs/log_odds_diff")
  got = prioritise.read_effects(h5)
  assert got.key == "probs/log_odds_diff" and got.tracks == ["DNase", "CTCF"]
  np.testing.assert_array_equal(got.values, values)
  assert got.index()[("2", 20, "C", "T")] == 1
  with pytest.raises(InputFormatError, match="no scores 'probs/diff'; the file has "
                     "probs/log_odds_diff"):
    prioritise.read_effects(h5, "probs/diff")

  tsv = tmp_path / "scores.tsv"
  tsv.write_text("line\tchrom\tpos\tid\tref\talt\tprobs/diff/DNase\tprobs/diff/CTCF\n"
                 "4\tchr1\t10\t.\tA\tG\t0.5\t-0.25\n5\tchr2\t20\t.\tC\tT\t0.125\t1\n")
  got = prioritise.read_effects(tsv)
  assert got.key == "probs/diff" and got.tracks == ["DNase", "CTCF"]
  np.testing.assert_array_equal(got.values, values)
  tsv.write_text("line\tchrom\tpos\tid\tref\talt\tprobs/diff/max\tprobs/diff/max_track\n")
  with pytest.raises(InputFormatError, match="only the top track"):
    prioritise.read_effects(tsv)


class _Probabilities:
  """A NumPy stand-in for a trained model: 3 sigmoid tracks of base counts."""

  input_length = 40
  data_devices = 1

  def __call__(self, one_hot):
    counts = one_hot.astype(np.float64)[:, 16:24].sum(1)[:, :3]
    return {"probs": (1 / (1 + np.exp(-(counts - 2)))).astype(np.float32)}

  def output_names(self, name, size):
    return tuple(f"p{i}" for i in range(size))


def test_effects_written_by_score_variants(tmp_path):
  """scores.h5 and a --tracks scores.tsv from the real merge read back the same."""
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.variants import scoring
  chrom = "".join(np.random.default_rng(2).choice(list("ACGT"), 200))
  (tmp_path / "genome.fa").write_text(f">chr1\n{chrom}\n")
  other = lambda b: "ACGT"[("ACGT".index(b) + 1) % 4]
  rows = [(p, chrom[p - 1], other(chrom[p - 1])) for p in (60, 80, 81, 100)]
  vcf = tmp_path / "in.vcf"
  vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 + "".join(f"chr1\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for p, r, a in rows))
  out = str(tmp_path / "out")
  with genome_lib.Genome(tmp_path / "genome.fa") as genome:
    scorer = scoring.Scorer(_Probabilities(), genome, ["diff", "log_odds_diff"])
    scoring.score_vcf(scorer, str(vcf), out)
  scoring.merge(out, output_names=_Probabilities().output_names, tracks="p0,p1,p2")
  h5 = prioritise.read_effects(f"{out}/scores.h5")
  tsv = prioritise.read_effects(f"{out}/scores.tsv")
  assert h5.key == tsv.key == "probs/diff" and h5.tracks == tsv.tracks == ["p0", "p1", "p2"]
  assert h5.pos == tsv.pos == [60, 80, 81, 100]
  np.testing.assert_allclose(h5.values, tsv.values, atol=1e-3)  # float16 vs 6 digits.
  assert np.abs(h5.values).max() > 0.05
  labels = tmp_path / "labels.tsv"
  labels.write_text("chrom\tpos\tref\talt\tlabel\n" + "".join(
      f"1\t{p}\t{r}\t{a}\t{i % 2}\n" for i, (p, r, a) in enumerate(rows[::-1]))
      + "1\t7\tA\tC\t1\n")
  found, label = prioritise.match_labels(h5, variant_labels.read_labelled_variants(labels))
  assert found.tolist() == [3, 2, 1, 0] and label.tolist() == [0, 1, 0, 1]


def test_genotyped_snps_match_scores_either_allele_order():
  effects = prioritise.EffectTable(["chr1", "chr1", "chr2"], [10, 20, 10], ["A", "C", "G"],
                                   ["G", "T", "A"], ["t"], np.zeros((3, 1), np.float32))
  # PLINK allele 1 is ALT for rs1, REF for rs2; rs3's alleles and rs4's contig differ.
  got = prioritise.match_snps(effects, ["1", "1", "1", "3"], [10, 20, 10, 10],
                              ["G", "C", "C", "G"], ["A", "T", "A", "A"])
  assert got.tolist() == [0, 1, -1, -1]
