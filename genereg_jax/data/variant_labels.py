"""Labelled variants (case vs control, pathogenic vs benign) from a VCF or a TSV.

The training tables of variant prioritisation (Zhou et al., Nat. Genet. 2019: HGMD
regulatory mutations against population variants; ClinVar pathogenic against benign):

* VCF 4.x with the label in an INFO field (``LABEL=1``; the field name is a parameter).
  Records are read with `genereg_jax.variants.vcf` (its line numbers and malformed-record
  rules); multi-ALT records give one labelled variant per ALT.
* TSV with a header naming (any order, case-insensitive, an optional leading ``#``)
  ``chrom``, ``pos`` (1-based), ``ref``, ``alt`` and ``label``; other columns are ignored.

Labels: ``1``/``0``, ``case``/``control``, ``pathogenic``/``benign`` (also ``likely_``),
``disease``/``neutral``, ``positive``/``negative``, ``true``/``false``. A line with a
missing column, a POS that is not a positive integer, REF/ALT that are not bases or a
label outside that list is an `InputFormatError` naming file and line: a training table
with a wrong row is better stopped than silently shrunk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.variants import vcf

POSITIVE = ("1", "case", "pathogenic", "likely_pathogenic", "disease", "positive", "true")
NEGATIVE = ("0", "control", "benign", "likely_benign", "neutral", "negative", "false")
TSV_COLUMNS = ("chrom", "pos", "ref", "alt", "label")


@dataclasses.dataclass(frozen=True)
class LabelledVariant:
  """One variant x ALT with its class (1 = disease/case, 0 = control/benign)."""

  chrom: str
  pos: int
  ref: str
  alt: str
  label: int
  line: int


def parse_label(value: str) -> int | None:
  """1, 0, or None when ``value`` is not a known label word."""
  value = value.strip().lower().replace("-", "_").replace(" ", "_")
  return 1 if value in POSITIVE else 0 if value in NEGATIVE else None


def variant_key(chrom: str, pos: int, ref: str, alt: str) -> tuple[str, int, str, str]:
  """A key that matches ``chr1`` with ``1`` (the scorer maps contig names the same way)."""
  chrom = chrom[3:] if chrom.lower().startswith("chr") else chrom
  return chrom, int(pos), ref.upper(), alt.upper()


def _label_or_error(path: str, line: int, value: str) -> int:
  label = parse_label(value)
  if label is None:
    raise InputFormatError(path, line, f"label {value!r} is not one of "
                           f"{', '.join(POSITIVE)} (disease) or {', '.join(NEGATIVE)} "
                           "(control)")
  return label


def _read_vcf(path: str, field: str) -> list[LabelledVariant]:
  out = []
  with contextlib.closing(vcf.vcf_lines(path)) as lines:
    vcf.split_header(lines, path)
    for number, line, parsed in vcf.records(lines):
      if isinstance(parsed, str):
        raise InputFormatError(path, number, parsed)
      info = dict(item.split("=", 1) if "=" in item else (item, "")
                  for item in line.rstrip("\r\n").split("\t")[7].split(";"))
      if field not in info:
        raise InputFormatError(path, number, f"no {field}= in INFO (the label field)")
      label = _label_or_error(path, number, info[field])
      for alt in parsed.alts:
        if not vcf.is_bases(alt):
          raise InputFormatError(path, number, f"ALT {alt!r} is not a sequence of bases")
        out.append(LabelledVariant(parsed.chrom, parsed.pos, parsed.ref, alt, label, number))
  return out


def _read_tsv(path: str) -> list[LabelledVariant]:
  out, columns = [], None
  with contextlib.closing(text.numbered_lines(path)) as lines:
    for number, line in lines:
      fields = line.rstrip("\r\n").split("\t")
      if not line.strip():
        continue
      if columns is None:
        names = [f.strip().lstrip("#").strip().lower() for f in fields]
        missing = [c for c in TSV_COLUMNS if c not in names]
        if missing:
          raise InputFormatError(path, number, f"header lacks {', '.join(missing)}; a "
                                 f"labelled-variant TSV needs {', '.join(TSV_COLUMNS)}")
        columns = {c: names.index(c) for c in TSV_COLUMNS}
        continue
      if len(fields) < len(names):
        raise InputFormatError(path, number, f"{len(fields)} tab-separated columns, the "
                               f"header has {len(names)}")
      chrom, pos, ref, alt, label = (fields[columns[c]].strip() for c in TSV_COLUMNS)
      if not (pos.isascii() and pos.isdigit() and int(pos) > 0):
        raise InputFormatError(path, number, f"pos {pos!r} is not a positive integer")
      for name, allele in (("ref", ref), ("alt", alt)):
        if not vcf.is_bases(allele):
          raise InputFormatError(path, number, f"{name} {allele!r} is not a sequence of "
                                 "A, C, G, T, N")
      out.append(LabelledVariant(chrom, int(pos), ref, alt,
                                 _label_or_error(path, number, label), number))
  if columns is None:
    raise InputFormatError(path, None, "empty file; expected a header "
                           f"({', '.join(TSV_COLUMNS)})")
  return out


def read_labelled_variants(path: str | os.PathLike,
                           label_field: str = "LABEL") -> list[LabelledVariant]:
  """The labelled variants of a VCF (``.vcf``, ``.vcf.gz``, ``.bcf`` is not read) or TSV.

  A file is read as VCF when its first line starts with ``##fileformat=VCF`` (so a
  gzipped table works whatever its name), else as TSV.
  """
  path = os.fspath(path)
  with contextlib.closing(text.numbered_lines(path, errors="surrogateescape")) as lines:
    first = next(lines, (0, ""))[1]
  if first.startswith("##fileformat=VCF"):
    return _read_vcf(path, label_field)
  return _read_tsv(path)
