"""VCF records as text: parsing with line numbers, reading plain/gzip/bgzip, BGZF output.

Shared by the SpliceAI scorer (`spliceai_scoring`) and the generic scorer (`scoring`).
VCF 4.x (the SAM/VCF specification): the first eight tab-separated columns are
CHROM, POS (1-based), ID, REF, ALT (comma-separated), QUAL, FILTER, INFO.

Lines are read as text rather than through htslib (pysam, cyvcf2): htslib stops at
or drops a malformed line without giving its text or line number, and both scorers
report every record they do not score with its line number and the reason, then go
on. A malformed record (too few columns, a POS that is not ASCII digits, a REF that
is not bases, an empty ALT, bytes that are not UTF-8) is such a record, not an error;
a bad header or a truncated ``.gz`` is a `VcfFormatError` naming the file and line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import struct
import zlib
from collections.abc import Iterator
from typing import TextIO

from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_path

_BASES = re.compile(r"^[ACGTNacgtn]+$")


class VcfFormatError(InputFormatError):
  """A VCF whose header or compression cannot be read; names the file and line."""


@dataclasses.dataclass(frozen=True)
class Variant:
  """The fields of one VCF record that scoring reads (``pos`` is 1-based)."""

  chrom: str
  pos: int
  ref: str
  alts: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Issue:
  """Why a record, or one allele/gene of it, got no score.

  Attributes:
    line_number: 1-based line of the record in the input VCF.
    reason: one line of English.
    severity: ``"warning"`` for problems with the input (malformed record, reference
      mismatch, chromosome missing from the FASTA), ``"info"`` for records the method
      does not score (outside genes, symbolic alleles, complex substitutions).
    allele: the ALT concerned, or "" for the whole record.
    gene: the gene concerned, or "".
  """

  line_number: int
  reason: str
  severity: str = "warning"
  allele: str = ""
  gene: str = ""


def parse_fields(line: str) -> Variant | str:
  """CHROM, POS, REF and ALT of a VCF data line, or why the line is malformed."""
  fields = line.rstrip("\r\n").split("\t")
  bad_byte = text.undecodable_column(line)
  if bad_byte is not None:
    return f"malformed record: not UTF-8 text (column {bad_byte})"
  if len(fields) < 8:
    return f"malformed record: {len(fields)} tab-separated columns, VCF needs 8"
  if not (fields[1].isascii() and fields[1].isdigit()) or int(fields[1]) < 1:
    # isascii: str.isdigit() alone accepts '²', which int() then rejects.
    return f"malformed record: POS {fields[1]!r} is not a positive integer"
  if not _BASES.match(fields[3]):
    return f"malformed record: REF {fields[3]!r} is not a sequence of A, C, G, T, N"
  if not fields[4]:
    return "malformed record: empty ALT"
  return Variant(fields[0], int(fields[1]), fields[3], tuple(fields[4].split(",")))


def is_bases(allele: str) -> bool:
  """Whether ``allele`` is a sequence of A, C, G, T, N (either case)."""
  return bool(_BASES.match(allele))


def is_symbolic(allele: str) -> bool:
  """Missing (``.``), deleted (``-``, ``*``), symbolic (``<DEL>``) or breakend ALTs."""
  return allele in (".", "-", "*") or any(c in allele for c in "<>[]")


def vcf_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
  """``(line number, line)`` of a plain or gzip/bgzip VCF; bytes that are not UTF-8 are
  kept as lone surrogates (reported by `parse_fields`, written back unchanged)."""
  return text.numbered_lines(path, VcfFormatError, errors="surrogateescape")


def split_header(lines: Iterator[tuple[int, str]], path: str) -> tuple[list[str], str]:
  """Reads the meta lines and the ``#CHROM`` line (newline-terminated) from ``lines``."""
  meta = []
  for line_number, line in lines:
    if line.startswith("##"):
      meta.append(line.rstrip("\r\n") + "\n")
      continue
    if line.startswith("#CHROM"):
      return meta, line.rstrip("\r\n") + "\n"
    raise VcfFormatError(path, line_number, "expected a ## meta line or the #CHROM header "
                         f"line before the records, got {line[:60]!r}")
  raise VcfFormatError(path, None, "no #CHROM header line; not a VCF")


def count_records(path: str | os.PathLike) -> int:
  """Data lines in a VCF (for a progress bar), after checking its header.

  Reads the whole file, so a bad header or a truncated ``.gz`` is reported before any
  work starts.
  """
  path = os.fspath(path)
  with contextlib.closing(vcf_lines(path)) as lines:
    split_header(lines, path)
    return sum(1 for _, line in lines if line.strip() and not line.startswith("#"))


def records(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str, Variant | str]]:
  """``(line number, line, Variant or problem)`` of the data lines after the header."""
  for line_number, line in lines:
    if line.strip() and not line.startswith("#"):
      yield line_number, line, parse_fields(line)


class BgzfWriter(io.RawIOBase):
  """BGZF (the SAM/VCF specification's blocked gzip) output, so tabix can index it."""

  _BLOCK = 0xff00  # Uncompressed bytes per block, as htslib writes.
  _EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")

  def __init__(self, path: str | os.PathLike):
    self._file = open(path, "wb")
    self._buffer = bytearray()

  def writable(self) -> bool:
    return True

  def write(self, data) -> int:
    self._buffer += data
    while len(self._buffer) >= self._BLOCK:
      self._write_block(bytes(self._buffer[:self._BLOCK]))
      del self._buffer[:self._BLOCK]
    return len(data)

  def _write_block(self, data: bytes) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = compressor.compress(data) + compressor.flush()
    header = struct.pack("<4BI2BH2BHH", 0x1f, 0x8b, 8, 4, 0, 0, 0xff, 6, ord("B"),
                         ord("C"), 2, len(deflated) + 25)
    self._file.write(header + deflated + struct.pack("<2I", zlib.crc32(data),
                                                      len(data)))

  def close(self) -> None:
    if not self.closed:
      if self._buffer:
        self._write_block(bytes(self._buffer))
      self._file.write(self._EOF)
      self._file.close()
    super().close()


@contextlib.contextmanager
def open_output(path: str | os.PathLike) -> Iterator[TextIO]:
  """A VCF for writing: BGZF when the name ends in ``.gz``, plain text otherwise.

  Written under a temporary name beside ``path`` and renamed onto it when the block
  completes; removed when it raises.
  """
  path = os.fspath(path)
  with atomic_path(path) as tmp:
    raw = io.BufferedWriter(BgzfWriter(tmp)) if path.endswith(".gz") else open(tmp, "wb")
    with io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape",
                          newline="") as sink:
      yield sink
