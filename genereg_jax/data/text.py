"""Users' text files (BED, VCF, GTF, gene tables) read line by line, plain or gzipped.

Every reader of a user file goes through `numbered_lines`, so the two failures that are
not about the format itself still name the file and the line: bytes that are not UTF-8
(the first such byte and its column), and a gzip stream that is truncated or corrupt
(``gzip`` raises a bare ``EOFError`` / ``BadGzipFile`` that names neither).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterator
from typing import IO

from genereg_jax.files import InputFormatError

GZIP_MAGIC = b"\x1f\x8b"


def is_gzipped(path: str | os.PathLike) -> bool:
  """Whether the file starts with the gzip magic (gzip and bgzip alike)."""
  with open(path, "rb") as f:
    return f.read(2) == GZIP_MAGIC


def open_binary(path: str | os.PathLike) -> IO[bytes]:
  """The file's bytes, gunzipped when it starts with the gzip magic."""
  return gzip.open(path, "rb") if is_gzipped(path) else open(path, "rb")


def numbered_lines(path: str | os.PathLike, error: type[InputFormatError] = InputFormatError,
                   errors: str = "strict") -> Iterator[tuple[int, str]]:
  """``(1-based line number, line with its terminator)`` of a plain or gzipped file.

  Args:
    path: the file.
    error: the format error to raise (an `InputFormatError` subclass).
    errors: ``"strict"`` raises ``error`` at the first line that is not UTF-8;
      ``"surrogateescape"`` hands such lines on (bytes as lone surrogates, written back
      unchanged by a stream opened with the same ``errors``) for the caller to report.

  Raises:
    error: a line is not UTF-8 (strict), or the gzip stream ends early or is corrupt.
  """
  path = os.fspath(path)
  number = 0
  with open_binary(path) as f:
    try:
      for number, raw in enumerate(f, start=1):
        try:
          yield number, raw.decode("utf-8", errors)
        except UnicodeDecodeError as e:
          raise error(path, number, f"not UTF-8 text: byte 0x{raw[e.start]:02x} at "
                                    f"column {e.start + 1}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
      raise error(path, number + 1, f"the gzip stream is truncated or corrupt after line "
                                    f"{number} ({e}); the file is incomplete") from None


def undecodable_column(line: str) -> int | None:
  """1-based column of the first byte a ``surrogateescape`` decode could not read."""
  for column, char in enumerate(line, start=1):
    if "\udc80" <= char <= "\udcff":
      return column
  return None


_ASCII_INT = re.compile(r"[+-]?[0-9]+\Z")


def ascii_int(field: str) -> int | None:
  """``int(field)`` for ASCII digits with an optional sign, else None.

  ``int()`` alone also takes spaces, ``1_000`` and other scripts' digits (``'٣'``), and
  ``str.isdigit()`` takes ``'²'``, which ``int()`` then rejects.
  """
  return int(field) if _ASCII_INT.match(field) else None
