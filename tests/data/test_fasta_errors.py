"""FASTA and BED errors name the file and line; the index goes where the user is told.

Issue 10 item 4 and issue 11 item 7. Before: a last line longer than the others read
the next header's '>' as a base ("invalid character '>' at position 1001"), a FASTA in
a read-only folder without ``.fai`` raised a raw ``OSError``, pyfaidx wrote ``.fai``
files silently, and non-UTF-8 or truncated ``.gz`` BEDs raised ``UnicodeDecodeError``
/ ``EOFError`` naming no file.
"""

import gzip
import logging
import os

import pytest

from genereg_jax import predict
from genereg_jax.data import bed
from genereg_jax.data import genome
from genereg_jax.files import InputFormatError


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
  return tmp_path / "cache" / "genereg_jax" / "fai"


def test_longer_last_line_is_reported_as_uneven_lines(tmp_path):
  path = tmp_path / "long_last.fa"
  path.write_text(">chr1\n" + "ACGTACGTAC\n" * 3 + "ACGTACGTACGT\n>chr2\nACGT\n")
  with pytest.raises(genome.FastaFormatError) as error:
    genome.Genome(path)
  assert str(error.value).startswith(f"{path}:5: the line lengths of record 'chr1' are "
                                     "uneven: this line has 12 bases, more than the 10")
  assert "'>'" not in str(error.value)
  assert not os.path.exists(f"{path}.fai")


@pytest.mark.parametrize("content, line, problem", [
    (">a\nACGT\nAC\nACGT\n", 3, "uneven"),
    (">a\nACGT\n\nACGT\n", 3, "blank line inside record 'a'"),
    (">a\nACGT\n>a\nACGT\n", 3, "used twice"),
    (">\nACGT\n", 1, "without a sequence name"),
    (">a\nAC>T\n", 2, "invalid character '>' at column 3"),
    (">a\r\nACGT\r\nACGT\nAC\n", 3, "line endings change"),
    ("ACGT\n", 1, "sequence before the first '>'"),
])
def test_malformed_fasta_names_file_and_line(tmp_path, content, line, problem):
  path = tmp_path / "bad.fa"
  path.write_text(content, newline="")
  with pytest.raises(genome.FastaFormatError, match=problem) as error:
    genome.Genome(path)
  assert (error.value.path, error.value.line) == (str(path), line)
  assert isinstance(error.value, InputFormatError)


def test_empty_records_and_blank_lines(tmp_path):
  path = tmp_path / "empty.fa"
  path.write_text(">a\n\n\n>b\nACGT\nAC\n\n\n>c\n")
  fasta = genome.Genome(path)
  assert fasta.sizes == {"a": 0, "b": 6, "c": 0}
  assert fasta.fetch("b", -1, 7) == "NACGTACN"
  with pytest.raises(genome.FastaFormatError, match=r"empty\.fa: record\(s\) \['a', 'c'\] "
                                                    "have no sequence"):
    predict.FastaRecords(path, 8)


def test_index_beside_the_fasta_is_announced(tmp_path, caplog, cache):
  path = tmp_path / "g.fa"
  path.write_text(">chr1\nACGTACGT\nACG\n")
  with caplog.at_level(logging.INFO):
    assert genome.Genome(path).sizes == {"chr1": 11}
  assert os.path.isfile(f"{path}.fai") and not cache.exists()
  assert f"wrote {path}.fai beside it" in caplog.text
  caplog.clear()
  with caplog.at_level(logging.INFO):
    genome.Genome(path)  # Up to date: reused, nothing logged.
  assert "Indexed" not in caplog.text


def test_read_only_folder_indexes_in_the_cache(tmp_path, caplog, cache, monkeypatch):
  folder = tmp_path / "ro"
  folder.mkdir()
  path = folder / "g.fa"
  path.write_text(">chr1\nACGTACGT\nACG\n>chr2\nAC\n")
  folder.chmod(0o555)
  # Root writes into read-only folders anyway; make the folder read-only to this code.
  real_access = os.access
  monkeypatch.setattr(os, "access", lambda p, mode: (
      False if os.fspath(p) == str(folder) and mode == os.W_OK else real_access(p, mode)))
  try:
    with caplog.at_level(logging.INFO):
      fasta = genome.Genome(path)
    assert fasta.sizes == {"chr1": 11, "chr2": 2} and fasta.fetch("chr1", 6, 11) == "GTACG"
    assert os.listdir(folder) == ["g.fa"]
    assert fasta.index.startswith(str(cache)) and os.path.isfile(fasta.index)
    assert "in the cache (the FASTA's folder is read-only)" in caplog.text
  finally:
    folder.chmod(0o755)


def test_stale_index_is_rebuilt(tmp_path):
  path = tmp_path / "g.fa"
  path.write_text(">chr1\nACGT\n")
  genome.Genome(path)
  path.write_text(">chr1\nACGTAC\n>chr2\nA\n")
  os.utime(f"{path}.fai", (0, 0))
  assert genome.Genome(path).sizes == {"chr1": 6, "chr2": 1}


@pytest.mark.parametrize("content, problem", [
    (b"chr1\t1\t5\nchr1\t2\t6\tcaf\xe9\n",
     r"bad\.bed:2: not UTF-8 text: byte 0xe9 at column 13"),
    (b"chr1\t1\t5\nchr1\t\xd9\xa3\t6\n", r"bad\.bed:2: start '\u0663' is not an integer"),
])
def test_bed_bytes_and_digits(tmp_path, content, problem):
  (tmp_path / "bad.bed").write_bytes(content)
  with pytest.raises(bed.BedFormatError, match=problem):
    bed.read_bed(tmp_path / "bad.bed", {"chr1": 100}, "g.fa")


def test_truncated_gzip_bed_names_the_file(tmp_path):
  path = tmp_path / "peaks.bed.gz"
  path.write_bytes(gzip.compress(b"chr1\t1\t5\n" * 5000)[:-100])
  with pytest.raises(bed.BedFormatError, match=r"peaks\.bed\.gz:\d+: the gzip stream is "
                                               "truncated"):
    bed.read_bed(path, {"chr1": 100}, "g.fa")


def test_blank_lines_before_the_sequence(tmp_path):
  # Found by the long fuzz run: the index pointed at the blank line, so 'A' read as ''.
  path = tmp_path / "g.fa"
  path.write_bytes(b">chr1\n\r\n\nAC\nG\n>chr2\n\nTT\n")
  fasta = genome.Genome(path)
  assert fasta.sizes == {"chr1": 3, "chr2": 2}
  assert fasta.sequence("chr1").tobytes() == b"ACG" and fasta.fetch("chr2", 0, 2) == "TT"


def test_index_of_another_version_is_not_trusted(tmp_path):
  path = tmp_path / "g.fa"
  path.write_text(">chr1\nACGTACGT\nACGTACGT\n")
  genome.Genome(path)
  path.write_text(">chr1\nACGT\n")  # Shorter; the old index may still look up to date.
  os.utime(f"{path}.fai", (os.path.getmtime(path) + 10,) * 2)
  assert genome.Genome(path).sizes == {"chr1": 4}
