"""score_vcf never destroys its input or leaves an output that looks finished (issue 10).

A stand-in model (zeros) keeps these fast: what is tested is the file handling. Before
the fix, ``--out`` equal to ``--vcf`` or a VCF without ``#CHROM`` truncated the file to 0
bytes, an aborted run left a BGZF prefix ending in a valid EOF block, ``POS=²`` raised
``ValueError`` from ``int()``, a non-UTF-8 byte aborted the run with a message naming no
file, and a truncated ``.gz`` raised a bare ``EOFError``.
"""

import gzip
import os

import numpy as np
import pytest

from genereg_jax.data import gene_annotation
from genereg_jax.variants import spliceai_scoring as ss

CONTEXT = 10
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
GENES = [gene_annotation.Transcript("G", "G", "G", "chr1", "+", 10, 190,
                                    ((10, 60), (100, 190)))]


def _zeros(batch):
  return np.zeros((batch.shape[0], batch.shape[1] - CONTEXT, 3), np.float32)


def _failing_after(calls):
  count = [0]

  def predict(batch):
    count[0] += 1
    if count[0] > calls:
      raise RuntimeError("model failed")
    return _zeros(batch)
  return predict


@pytest.fixture()
def genome(tmp_path):
  path = tmp_path / "g.fa"
  rng = np.random.default_rng(0)
  sequence = "".join(rng.choice(list("ACGT"), 200))
  path.write_text(">chr1\n" + sequence + "\n")
  return gene_annotation.Genome(path), sequence


def _scorer(genome, predict=_zeros):
  return ss.SpliceAIScorer(predict, CONTEXT, genome, ss.GeneIndex(GENES), distance=2,
                           batch_size=2)


def _record(sequence, pos, alt="A"):
  ref = sequence[pos - 1]
  alt = "C" if ref == alt else alt
  return f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n"


def _leftovers(directory):
  return [name for name in os.listdir(directory) if name.endswith(".partial")]


def test_output_equal_to_input_is_refused(tmp_path, genome):
  vcf = tmp_path / "in.vcf"
  vcf.write_text(HEADER + _record(genome[1], 50))
  before = vcf.read_bytes()
  with pytest.raises(ValueError, match="is the input"):
    ss.score_vcf(_scorer(genome[0]), vcf, vcf)
  assert vcf.read_bytes() == before


def test_bad_header_leaves_existing_output_untouched(tmp_path, genome):
  vcf, out = tmp_path / "in.vcf", tmp_path / "out.vcf"
  vcf.write_text("chr1\t50\t.\tA\tC\t.\t.\t.\n")
  out.write_text("previous results\n")
  with pytest.raises(ss.VcfFormatError, match=r"in\.vcf:1: expected a ## meta line"):
    ss.score_vcf(_scorer(genome[0]), vcf, out)
  assert out.read_text() == "previous results\n"
  assert _leftovers(tmp_path) == []
  with pytest.raises(ss.VcfFormatError, match=r"in\.vcf:1: expected"):
    ss.count_records(vcf)  # The command's check before loading the model.


@pytest.mark.parametrize("name", ["out.vcf", "out.vcf.gz"])
def test_failed_run_leaves_no_output(tmp_path, genome, name):
  vcf, out = tmp_path / "in.vcf", tmp_path / name
  vcf.write_text(HEADER + "".join(_record(genome[1], p) for p in range(20, 180, 10)))
  with pytest.raises(RuntimeError, match="model failed"):
    ss.score_vcf(_scorer(genome[0], _failing_after(1)), vcf, out, chunk_records=2)
  assert not out.exists() and _leftovers(tmp_path) == []
  out.write_bytes(b"old")
  with pytest.raises(RuntimeError, match="model failed"):
    ss.score_vcf(_scorer(genome[0], _failing_after(1)), vcf, out, chunk_records=2)
  assert out.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_malformed_records_are_reported_and_skipped(tmp_path, genome):
  sequence = genome[1]
  vcf, out = tmp_path / "in.vcf", tmp_path / "out.vcf.gz"
  lines = [_record(sequence, 50).encode(),
           "chr1\t\u00b2\t.\tA\tC\t.\t.\t.\n".encode(),   # POS '²': isdigit() but no int.
           b"chr1\t60\t.\tA\tC\t.\t.\tNOTE=caf\xe9\n",       # Latin-1, not UTF-8.
           "chr1\t\u0663\t.\tA\tC\t.\t.\t.\n".encode(),    # Arabic-Indic 3: int() takes it.
           _record(sequence, 120).encode()]
  vcf.write_bytes(HEADER.encode() + b"".join(lines))
  issues = []
  counts = ss.score_vcf(_scorer(genome[0]), vcf, out,
                        on_issue=lambda issue, record: issues.append(issue))
  warnings = {i.line_number: i.reason for i in issues if i.severity == "warning"}
  assert sorted(warnings) == [4, 5, 6]
  assert "POS '²' is not a positive integer" in warnings[4]
  assert "not UTF-8 text (column 27)" in warnings[5]
  assert counts["records"] == 5 and counts["scored"] == 2
  written = gzip.decompress(out.read_bytes()).split(b"\n")[3:]  # After the header.
  assert written[1:4] == [line.rstrip(b"\n") for line in lines[1:4]]  # Byte for byte.
  assert b"SpliceAI=" in written[0] and b"SpliceAI=" in written[4]


def test_truncated_gzip_names_the_file(tmp_path, genome):
  vcf, out = tmp_path / "in.vcf.gz", tmp_path / "out.vcf"
  body = HEADER + "".join(_record(genome[1], p) for p in range(20, 180)) * 20
  vcf.write_bytes(gzip.compress(body.encode())[:-200])
  with pytest.raises(ss.VcfFormatError, match=r"in\.vcf\.gz:\d+: the gzip stream is "
                                              r"truncated or corrupt after line \d+"):
    ss.count_records(vcf)
  with pytest.raises(ss.VcfFormatError, match="truncated"):
    ss.score_vcf(_scorer(genome[0]), vcf, out)
  assert not out.exists() and _leftovers(tmp_path) == []
