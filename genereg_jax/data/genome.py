"""Reference genome FASTA files: checked once, indexed like ``samtools faidx``, read by pyfaidx.

A FASTA is read through its ``.fai`` index (the samtools format: name, length, offset of
the first base, bases per line, bytes per line), so a base's byte offset is computed,
not searched. That arithmetic is only right when every line of a record but the last
holds the same number of bases and the last holds no more; pyfaidx does not check the
last line, and a longer last line then reads the next header's ``>`` as a base. So the
index is built here, by one pass over the file that checks exactly those rules and
names the file, the line and what is wrong: uneven line lengths, blank lines inside a
record, sequence before the first header, a header without a name, duplicated names,
letters outside the IUPAC nucleotide codes, non-UTF-8 headers, mixed line endings.

Where the index goes: an up-to-date ``<fasta>.fai`` (from samtools or an earlier run) is
used as is. Otherwise the index is written beside the FASTA when its folder is writable,
else in ``$XDG_CACHE_HOME/genereg_jax/fai/`` (``~/.cache`` by default); either way one
log line says where, so nothing appears next to a user's file unannounced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable

import numpy as np
from absl import logging

from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_write

# IUPAC nucleotide codes (plus U) are valid FASTA letters; all but ACGT read as N.
IUPAC = "ACGTUNRYSWKMBDHV"
_VALID_BYTES = np.zeros(256, dtype=bool)
for _letter in IUPAC:
  _VALID_BYTES[ord(_letter)] = _VALID_BYTES[ord(_letter.lower())] = True
_VALID_LETTERS = bytes(IUPAC + IUPAC.lower(), "ascii")


class FastaFormatError(InputFormatError):
  """The FASTA is missing or malformed; the message names the file and, if known, the line."""


@dataclasses.dataclass(frozen=True)
class FaiEntry:
  """One line of a ``.fai`` index (samtools faidx)."""

  name: str
  length: int
  offset: int
  line_bases: int
  line_width: int

  def line(self) -> str:
    """The tab-separated line, with its newline."""
    return (f"{self.name}\t{self.length}\t{self.offset}\t{self.line_bases}\t"
            f"{self.line_width}\n")


class _Record:
  """State of the record being scanned."""

  def __init__(self, name: str, header_line: int, offset: int):
    self.name, self.header_line, self.offset = name, header_line, offset
    self.length = 0
    self.line_bases = self.line_width = 0
    self.first_line = None  # Line of the first sequence line.
    self.short_line = None  # (line, bases) of a line shorter than the first.
    self.blank_line = None  # A blank line after some sequence.

  def entry(self) -> FaiEntry:
    return FaiEntry(self.name, self.length, self.offset, self.line_bases, self.line_width)


def without_chr(name: str) -> str:
  """``chr1`` -> ``1``; other names unchanged."""
  return name[3:] if name.startswith("chr") else name


def match_chromosome(name: str, available: Iterable[str]) -> str | None:
  """``name`` as spelled in ``available`` (adding or removing ``chr``), or None."""
  available = set(available)
  if name in available:
    return name
  for candidate in (without_chr(name), "chr" + name):
    if candidate in available:
      return candidate
  return None


def scan_fasta(path: str | os.PathLike) -> list[FaiEntry]:
  """Checks a FASTA line by line and returns its index entries, in file order.

  Raises:
    FastaFormatError: naming the file and the first offending line.
  """
  path = os.fspath(path)

  def fail(line, message):
    raise FastaFormatError(path, line, message)

  if text.is_gzipped(path):
    fail(None, "the FASTA is gzip-compressed; decompress it (gunzip) first")
  entries: list[FaiEntry] = []
  seen: dict[str, int] = {}
  record = None
  offset = 0
  with open(path, "rb") as f:
    for number, raw in enumerate(f, start=1):
      line_start, offset = offset, offset + len(raw)
      if raw.startswith(b">"):
        if record is not None:
          entries.append(record.entry())
        try:
          header = raw[1:].decode("utf-8")
        except UnicodeDecodeError as e:
          fail(number, f"header is not UTF-8 text (byte 0x{raw[1 + e.start]:02x})")
        name = header.split(None, 1)[0] if header.strip() else ""
        if not name:
          fail(number, "header line '>' without a sequence name")
        if name in seen:
          fail(number, f"sequence name {name!r} is used twice (first at line {seen[name]})")
        seen[name] = number
        record = _Record(name, number, offset)
        continue
      bases = raw.rstrip(b"\r\n")
      if not bases.strip():
        if record is not None and record.first_line is not None:
          record.blank_line = record.blank_line or number
        continue
      if record is None:
        fail(number, "sequence before the first '>' header line; not a FASTA file")
      if record.blank_line is not None:
        fail(record.blank_line, f"blank line inside record {record.name!r} (its sequence "
                                f"continues at line {number}); remove the blank line")
      bad = bases.translate(None, _VALID_LETTERS)
      if bad:
        column = bases.index(bad[:1]) + 1
        fail(number, f"invalid character {chr(bad[0])!r} at column {column} of record "
                     f"{record.name!r}; expected IUPAC nucleotide letters {IUPAC}")
      width = len(raw)
      if record.first_line is None:
        # Blank lines may sit between the header and the sequence: the index points at
        # the first base, not at the line after the header.
        record.offset = line_start
        record.first_line, record.line_bases, record.line_width = number, len(bases), width
      else:
        if record.short_line is not None:
          line, count = record.short_line
          fail(line, f"the line lengths of record {record.name!r} are uneven: this line "
                     f"has {count} bases, its first line (line {record.first_line}) "
                     f"{record.line_bases}, and more sequence follows; every line but a "
                     "record's last must have the same length (rewrap the FASTA, e.g. "
                     "`seqkit seq -w 60`)")
        if len(bases) > record.line_bases:
          fail(number, f"the line lengths of record {record.name!r} are uneven: this line "
                       f"has {len(bases)} bases, more than the {record.line_bases} of its "
                       f"first line (line {record.first_line}); every line must have the "
                       "same length, the last may be shorter (rewrap the FASTA, e.g. "
                       "`seqkit seq -w 60`)")
        # A missing terminator is only possible on the file's last line.
        terminator = width - len(bases)
        if terminator and terminator != record.line_width - record.line_bases:
          fail(number, f"line endings change inside record {record.name!r} (\\n and \\r\\n "
                       "mixed)")
        if len(bases) < record.line_bases:
          record.short_line = (number, len(bases))
      record.length += len(bases)
  if record is not None:
    entries.append(record.entry())
  if not entries:
    fail(None, "no '>' header line: no sequences in the FASTA")
  return entries


def index_cache_dir() -> str:
  """``$XDG_CACHE_HOME/genereg_jax/fai`` (``~/.cache/...`` by default)."""
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "genereg_jax", "fai")


def _is_fresh(index: str, fasta: str) -> bool:
  """Newer than the FASTA, and every record it lists ends inside the file.

  The second check is cheap and catches an index of another version of the FASTA
  written within the same clock tick, or copied along with the wrong file.
  """
  if not os.path.isfile(index) or os.path.getmtime(index) < os.path.getmtime(fasta):
    return False
  size = os.path.getsize(fasta)
  try:
    with open(index) as f:
      for line in f:
        _, length, offset, bases, width = (line.split("\t") + [""] * 5)[:5]
        length, offset, bases, width = int(length), int(offset), int(bases), int(width)
        if length and (bases <= 0 or offset + (length - 1) // bases * width
                       + (length - 1) % bases >= size):
          return False
  except (OSError, ValueError, UnicodeDecodeError):
    return False
  return True


def find_or_build_index(path: str | os.PathLike) -> str:
  """The ``.fai`` of a FASTA: an up-to-date one beside it or in the cache, else a new one.

  A new index goes beside the FASTA (as ``samtools faidx`` would put it) when its folder
  is writable, else into `index_cache_dir`; one log line says which.
  """
  path = os.path.abspath(os.fspath(path))
  beside = path + ".fai"
  key = hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
  cached = os.path.join(index_cache_dir(), f"{key}-{os.path.basename(path)}.fai")
  for candidate in (beside, cached):
    if _is_fresh(candidate, path):
      return candidate
  entries = scan_fasta(path)
  if os.access(os.path.dirname(path), os.W_OK):
    target, where = beside, "beside it"
  else:
    target, where = cached, "in the cache (the FASTA's folder is read-only)"
  try:
    with atomic_write(target) as f:
      f.writelines(entry.line() for entry in entries)
  except OSError as e:
    if target == cached:
      raise OSError(f"cannot write the index of {path} to {cached}: {e}; set "
                    "XDG_CACHE_HOME to a writable folder or run `samtools faidx` on "
                    "the FASTA") from e
    target, where = cached, f"in the cache ({beside} could not be written: {e})"
    with atomic_write(target) as f:
      f.writelines(entry.line() for entry in entries)
  logging.info("Indexed %s (%d sequences): wrote %s %s", path, len(entries), target, where)
  return target


class Genome:
  """A reference FASTA: chromosome sizes, checked sequences, and windows with N padding.

  Attributes:
    path: the FASTA file.
    sizes: ``{chromosome: length}`` in FASTA order.
    index: the ``.fai`` used (see the module docstring for where it comes from).
  """

  def __init__(self, path: str | os.PathLike):
    import pyfaidx  # Imported late: only genome readers need it.
    self.path = os.fspath(path)
    if not os.path.isfile(self.path):
      raise FastaFormatError(self.path, None, "FASTA file not found")
    self.index = find_or_build_index(self.path)
    try:
      self._fasta = pyfaidx.Fasta(self.path, indexname=self.index, as_raw=True,
                                  rebuild=False, build_index=False)
    except (pyfaidx.FastaIndexingError, ValueError, RuntimeError) as e:
      raise FastaFormatError(self.path, None, f"cannot read the FASTA with its index "
                                              f"{self.index} ({e}); delete the index to "
                                              "rebuild it") from e
    self.sizes = {name: len(record) for name, record in self._fasta.records.items()}

  def chromosome(self, name: str) -> str | None:
    """The FASTA's spelling of chromosome ``name`` (with or without ``chr``), or None."""
    return match_chromosome(name, self.sizes)

  def fetch(self, chrom: str, start: int, end: int) -> str:
    """Bases ``[start, end)`` (0-based) of ``chrom`` as in the FASTA; N off the ends."""
    length = self.sizes[chrom]
    inside_start, inside_end = min(max(start, 0), length), max(min(end, length), 0)
    inside = self._fasta[chrom][inside_start:inside_end] if inside_end > inside_start else ""
    return ("N" * (min(end, 0) - start if start < 0 else 0) + inside
            + "N" * (end - max(start, length) if end > length else 0))

  def sequence(self, chrom: str) -> np.ndarray:
    """The whole chromosome as ``uint8`` ASCII codes, checked letter by letter.

    The index build checks the letters too; this check covers an index made elsewhere.
    """
    try:
      codes = np.frombuffer(self._fasta[chrom][:].encode("ascii"), dtype=np.uint8)
    except (UnicodeError, ValueError) as e:  # Only with an index made elsewhere.
      raise FastaFormatError(self.path, None, f"cannot read sequence {chrom}: {e}") from e
    invalid = np.flatnonzero(~_VALID_BYTES[codes])
    if invalid.size:
      position = int(invalid[0])
      raise FastaFormatError(
          self.path, None, f"sequence {chrom} has invalid character "
          f"{chr(codes[position])!r} at position {position + 1} (1-based); expected "
          f"IUPAC nucleotide letters {IUPAC}")
    return codes

  def close(self) -> None:
    """Closes the file handle."""
    self._fasta.close()

  def __enter__(self) -> "Genome":
    return self

  def __exit__(self, *exc) -> None:
    self.close()
