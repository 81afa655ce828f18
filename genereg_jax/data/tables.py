"""Header tables (CSV/TSV, plain or gzipped) as rows keyed by column name, with line numbers.

The published expression and MPRA tables (Xpresso's gene table, Cuperus et al.'s UTR
CSV, APARENT's library CSV, cisTopic region-topic tables) are pandas ``to_csv`` output:
a header, then one row per record, often with the index as an unnamed first column (the
header is then one field shorter than the rows, or starts with an empty name). The
delimiter is a tab when the header holds one, else a comma.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence

from genereg_jax.data import text
from genereg_jax.files import InputFormatError

INDEX = "index"


def rows(path: str | os.PathLike, required: Sequence[str] = ()
         ) -> Iterator[tuple[int, dict[str, str]]]:
  """``(line number, {column: field})`` per data row; the index column is ``"index"``.

  Raises:
    InputFormatError: a required column is missing, or a row has the wrong field count.
  """
  path = os.fspath(path)
  header, delimiter = None, ","
  for number, line in text.numbered_lines(path):
    line = line.rstrip("\r\n")
    if not line.strip():
      continue
    if header is None:
      delimiter = "\t" if "\t" in line else ","
      header = [h.strip() for h in next(csv.reader([line], delimiter=delimiter))]
      if header and not header[0]:
        header[0] = INDEX
      missing = [c for c in required if c not in header]
      if missing:
        raise InputFormatError(path, number, f"the header needs columns {list(required)}; "
                                             f"missing {missing}; got {header}")
      continue
    fields = next(csv.reader([line], delimiter=delimiter))
    names = header
    if len(fields) == len(header) + 1:  # pandas: the index has no header field.
      names = [INDEX, *header]
    if len(fields) != len(names):
      raise InputFormatError(path, number, f"{len(fields)} fields, the header has "
                                           f"{len(header)}")
    yield number, dict(zip(names, (f.strip() for f in fields)))
  if header is None:
    raise InputFormatError(path, 1, "empty table")


def number(path: str | os.PathLike, line: int, row: dict[str, str], column: str) -> float:
  """``float(row[column])`` (``NA``/``nan``/empty: NaN), or a path:line error."""
  value = row[column]
  if value in ("", "NA", "NaN", "nan"):
    return float("nan")
  try:
    return float(value)
  except ValueError:
    raise InputFormatError(path, line, f"{column} must be a number, got {value!r}") from None
