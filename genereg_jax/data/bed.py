"""BED files (BED3+, ENCODE narrowPeak, label-column BEDs) checked against a genome.

The UCSC BED format: tab- (or whitespace-) separated ``chrom start end ...`` with
0-based starts and exclusive ends; ``#``, ``track`` and ``browser`` lines and blank
lines are skipped. ENCODE narrowPeak files (name ending in ``narrowPeak``) carry the
summit's offset from ``start`` in column 10 (-1: none). A label BED (``label_columns``)
holds numeric labels in its 4th and later columns, named by a header line (``#chrom
start end K562 HepG2`` or ``chrom start end ...``) or ``column_4`` ...

Every problem raises `BedFormatError` naming the file and the 1-based line: too few
columns, coordinates that are not ASCII integers, negative or reversed intervals, a
chromosome the genome lacks, an end past the chromosome, a summit outside its peak,
a label that is not a number, bytes that are not UTF-8, a truncated ``.gz``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping

import numpy as np

from genereg_jax.data import text as text_files
from genereg_jax.files import InputFormatError

MISSING_LABEL = -1.0
_MISSING_TOKENS = frozenset({"na", "nan", "."})
_HEADER_FIRST_FIELDS = frozenset({"chrom", "chr", "chromosome", "seqname"})


class BedFormatError(InputFormatError):
  """A BED line is malformed; ``str(error)`` is ``path:line: problem``."""


@dataclasses.dataclass
class BedFile:
  """The records of one BED file, validated against a genome.

  Attributes:
    path: the file.
    chroms: chromosome of each record.
    starts: ``int64[n]`` 0-based starts.
    ends: ``int64[n]`` exclusive ends.
    centers: ``int64[n]`` summit (narrowPeak column 10, if >= 0) or midpoint.
    labels: ``float32[n, k]`` label columns (columns mode) or None.
    column_names: names of the label columns (columns mode) or None.
  """

  path: str
  chroms: np.ndarray
  starts: np.ndarray
  ends: np.ndarray
  centers: np.ndarray
  labels: np.ndarray | None = None
  column_names: list[str] | None = None

  def on(self, chrom: str) -> np.ndarray:
    """Indices of the records on ``chrom``, in file order."""
    return np.flatnonzero(self.chroms == chrom)


def _split_fields(line: str) -> list[str]:
  return line.split("\t") if "\t" in line else line.split()


def _is_narrowpeak(path: str) -> bool:
  name = path.lower()
  name = name[:-3] if name.endswith(".gz") else name
  return name.endswith("narrowpeak")


def _parse_int(text: str, what: str, path: str, line_number: int) -> int:
  value = text_files.ascii_int(text)
  if value is None:
    raise BedFormatError(path, line_number, f"{what} {text!r} is not an integer")
  return value


def _data_lines(path: str) -> Iterator[tuple[int, str, bool]]:
  """``(1-based line number, text, is_comment)`` for non-blank lines."""
  if not os.path.isfile(path):
    raise BedFormatError(path, None, "BED file not found")
  for line_number, line in text_files.numbered_lines(path, BedFormatError):
    text = line.rstrip("\r\n")
    if not text.strip():
      continue
    comment = text.startswith(("#", "track", "browser"))
    yield line_number, text, comment


def bed_column_names(path: str) -> list[str]:
  """Label-column names of a columns-mode BED (header, else ``column_4``...).

  The header is the last ``#`` line before the first record, or a first
  record line whose first field is ``chrom``/``chr``/... . Raises
  ``BedFormatError`` when the file has no record or no label column.
  """
  comment_header = None
  for line_number, text, comment in _data_lines(path):
    fields = _split_fields(text)
    if comment:
      if text.startswith("#"):
        comment_header = _split_fields(text.lstrip("#").strip())
      continue
    if fields[0].lower() in _HEADER_FIRST_FIELDS:
      header = fields
    else:
      header = comment_header if (comment_header and
                                  len(comment_header) == len(fields)) else None
    if len(fields) < 4:
      raise BedFormatError(
          path, line_number, f"{len(fields)} columns; a label BED needs chrom, start, "
          "end and at least one label column")
    if header is not None:
      return [name.strip() for name in header[3:]]
    return [f"column_{i}" for i in range(4, len(fields) + 1)]
  raise BedFormatError(path, None, "no BED records")


def read_bed(path: str | os.PathLike, sizes: Mapping[str, int], genome_path: str,
             label_columns: bool = False) -> BedFile:
  """Reads and validates a BED file against chromosome ``sizes``.

  Args:
    path: a BED file (optionally gzipped); tab- or whitespace-separated.
    sizes: ``genome.Genome.sizes``.
    genome_path: the FASTA's path, for messages.
    label_columns: columns mode: the 4th and later columns are numeric labels.

  Returns:
    The records as a ``BedFile``.

  Raises:
    BedFormatError: ``path:line: problem`` for the first malformed line.
  """
  path = os.fspath(path)
  narrowpeak = _is_narrowpeak(path) and not label_columns
  column_names = bed_column_names(path) if label_columns else None
  chroms, starts, ends, centers, labels = [], [], [], [], []
  for line_number, text, comment in _data_lines(path):
    if comment:
      continue
    fields = _split_fields(text)
    if label_columns and fields[0].lower() in _HEADER_FIRST_FIELDS:
      continue
    if len(fields) < 3:
      raise BedFormatError(path, line_number, f"{len(fields)} column(s); BED needs at "
                           "least chrom, start, end")
    chrom = fields[0]
    start = _parse_int(fields[1], "start", path, line_number)
    end = _parse_int(fields[2], "end", path, line_number)
    if start < 0:
      raise BedFormatError(path, line_number, f"start {start} is negative")
    if start > end:
      raise BedFormatError(path, line_number, f"start {start} > end {end}")
    if chrom not in sizes:
      known = list(sizes)
      shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
      raise BedFormatError(path, line_number, f"chromosome {chrom!r} is not in the FASTA "
                           f"{genome_path} (it has {shown})")
    if end > sizes[chrom]:
      raise BedFormatError(
          path, line_number, f"end {end} is past the end of {chrom} ({sizes[chrom]} bp "
          f"in {genome_path}); is the BED from another assembly?")
    center = (start + end) // 2
    if narrowpeak:
      if len(fields) < 10:
        raise BedFormatError(path, line_number, f"{len(fields)} columns; narrowPeak has "
                             "10 (summit offset in column 10)")
      summit = _parse_int(fields[9], "summit offset", path, line_number)
      if summit >= end - start:
        raise BedFormatError(path, line_number, f"summit offset {summit} is outside "
                             f"the peak [{start}, {end})")
      if summit >= 0:
        center = start + summit
    if label_columns:
      if len(fields) != 3 + len(column_names):
        raise BedFormatError(
            path, line_number, f"{len(fields)} columns, expected "
            f"{3 + len(column_names)} (chrom, start, end, {len(column_names)} label(s))")
      row = []
      for name, value in zip(column_names, fields[3:]):
        if value.strip().lower() in _MISSING_TOKENS:
          row.append(MISSING_LABEL)
          continue
        try:
          row.append(float(value))
        except ValueError:  # float() also accepts '1_0' and non-ASCII digits: harmless.
          raise BedFormatError(path, line_number, f"label {name!r} value {value!r} is "
                               "not a number") from None
      labels.append(row)
    chroms.append(chrom)
    starts.append(start)
    ends.append(end)
    centers.append(center)
  if not chroms:
    raise BedFormatError(path, None, "no BED records")
  return BedFile(
      path=path, chroms=np.array(chroms), starts=np.array(starts, np.int64),
      ends=np.array(ends, np.int64), centers=np.array(centers, np.int64),
      labels=(np.array(labels, np.float32) if label_columns else None),
      column_names=column_names)
