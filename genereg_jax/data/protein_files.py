"""Protein files read with line numbers: FASTA and UniProtKB/Swiss-Prot flat files.

`swissprot_records` cuts a ``.dat`` / ``.dat.gz`` flat file (UniProt user manual:
``ID`` ... ``//`` records) into records and parses each with Biopython's
``Bio.SwissProt``, so a bad record is reported as ``path:line`` of its offending line
(Biopython's own errors name neither). `read_protein_fasta` reads protein FASTA (any
header; sequences over A-Z, a trailing ``*`` stop dropped).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator

from genereg_jax.data import text
from genereg_jax.files import InputFormatError

_RESIDUES = re.compile(r"[A-Za-z]*\*?\Z")


class ProteinFormatError(InputFormatError):
  """A protein FASTA or Swiss-Prot line that does not parse."""


def read_protein_fasta(path: str | os.PathLike,
                       error: type[InputFormatError] = ProteinFormatError, marks: str = ""
                       ) -> Iterator[tuple[int, str, str]]:
  """``(header line number, header without '>', upper-case sequence)`` per record.

  ``marks``: characters allowed among the residues and kept (MusiteDeep's annotated
  FASTA puts "#" after each positive site).
  """
  path = os.fspath(path)
  header, number, parts = None, 0, []

  def record():
    if not parts:
      raise error(path, number, f"FASTA record {header!r} has no sequence")
    return number, header, "".join(parts).upper().rstrip("*")

  for line_number, line in text.numbered_lines(path, error):
    line = line.strip()
    if line.startswith(">"):
      if header is not None:
        yield record()
      header, number, parts = line[1:].strip(), line_number, []
      if not header:
        raise error(path, line_number, "a FASTA header without a name")
    elif line:
      if header is None:
        raise error(path, line_number, "sequence before the first '>' header")
      if not _RESIDUES.match(line.translate({ord(m): None for m in marks})):
        bad = next(c for c in line if not c.isalpha() and c not in "*" + marks)
        raise error(path, line_number, f"{bad!r} is not an amino-acid letter")
      parts.append(line)
  if header is not None:
    yield record()


def swissprot_records(path: str | os.PathLike,
                      error: type[InputFormatError] = ProteinFormatError
                      ) -> Iterator[tuple[int, object]]:
  """``(line number of its ID line, Bio.SwissProt.Record)`` per record of a flat file."""
  from Bio import SwissProt  # Biopython only where flat files are read.
  path = os.fspath(path)
  lines, start = [], None
  for number, line in text.numbered_lines(path, error):
    if start is None:
      if not line.strip():
        continue
      start = number
    lines.append(line)
    if line.startswith("//"):
      yield start, _parse_record(SwissProt, path, start, lines, error)
      lines, start = [], None
  if start is not None:
    raise error(path, start, "the last record has no '//' terminator; the file is incomplete")


def _parse_record(swissprot, path: str, start: int, lines: list[str], error):
  try:
    record = swissprot.read(io.StringIO("".join(lines)))
  except Exception as e:  # Biopython raises ValueError / SwissProtParserError / others.
    # The offending line: Biopython's ``e.line`` when it gives one, else the first line
    # holding a token the message quotes (``invalid literal for int(): 'x5'``).
    offending = getattr(e, "line", None)
    tokens = re.findall(r"'([^']+)'", str(e))
    offset = next((i for i, line in enumerate(lines)
                   if (offending and line.rstrip("\n") == offending.rstrip("\n"))
                   or any(token in line for token in tokens)), 0)
    raise error(path, start + offset, f"Swiss-Prot record does not parse: {e}") from None
  if record.seqinfo and record.seqinfo[0] != len(record.sequence):
    sq = next(i for i, line in enumerate(lines) if line.startswith("SQ"))
    raise error(path, start + sq, f"SQ line says {record.seqinfo[0]} residues, the sequence "
                                  f"has {len(record.sequence)}")
  return record
