"""Genotypes from PLINK 1 binary filesets (.bed/.bim/.fam) and phenotype/covariate tables.

The input of a GWAS-style test such as DeepWAS (Arloth et al., PLoS Comput. Biol. 2020).

* ``.bim`` (one line per variant): chromosome, variant id, cM position, bp position,
  allele 1, allele 2 -- whitespace-separated, six columns.
* ``.fam`` (one line per sample): family id, individual id, father, mother, sex,
  phenotype -- six columns.
* ``.bed``: the genotype matrix, read with ``bed-reader`` as dosages of allele 1 (0, 1,
  2; NaN where missing), the PLINK convention.
* Phenotype / covariate tables (PLINK's ``--pheno`` / ``--covar`` format): ``FID IID``
  then one or more value columns, whitespace-separated, with an optional header line
  (``FID IID name ...``); ``-9`` and ``NA`` are missing.

The ``.bim``/``.fam`` text is parsed here, line by line, so that a bad line is an
`InputFormatError` naming file and line (bed-reader reports only a parse failure).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os

import numpy as np

from genereg_jax.data import text
from genereg_jax.files import InputFormatError

MISSING = ("-9", "NA", "na", "nan", "NaN", ".")


@dataclasses.dataclass
class Genotypes:
  """Dosages ``float32[samples, variants]`` (NaN missing) with sample and variant ids."""

  fid: list[str]
  iid: list[str]
  sid: list[str]
  chrom: list[str]
  pos: np.ndarray
  allele_1: list[str]
  allele_2: list[str]
  dosage: np.ndarray


def _columns(path: str, count: int, what: str):
  """``(line, fields)`` of a whitespace-separated table with exactly ``count`` columns."""
  with contextlib.closing(text.numbered_lines(path)) as lines:
    for number, line in lines:
      fields = line.split()
      if not fields:
        continue
      if len(fields) != count:
        raise InputFormatError(path, number, f"{len(fields)} columns; a {what} line has "
                               f"{count}")
      yield number, fields


def read_bim(path: str | os.PathLike) -> dict[str, list]:
  """chrom, sid, bp position, allele 1 and allele 2 of each line of a ``.bim``."""
  path = os.fspath(path)
  out = {k: [] for k in ("chrom", "sid", "pos", "allele_1", "allele_2")}
  for number, (chrom, sid, _, pos, a1, a2) in _columns(path, 6, ".bim"):
    if not (pos.lstrip("-").isdigit()):
      raise InputFormatError(path, number, f"bp position {pos!r} is not an integer")
    for key, value in zip(out, (chrom, sid, int(pos), a1, a2)):
      out[key].append(value)
  return out


def read_fam(path: str | os.PathLike) -> tuple[list[str], list[str]]:
  """Family and individual ids of each line of a ``.fam``."""
  path = os.fspath(path)
  fid, iid = [], []
  for _, fields in _columns(path, 6, ".fam"):
    fid.append(fields[0])
    iid.append(fields[1])
  return fid, iid


def read_plink(prefix: str | os.PathLike) -> Genotypes:
  """``prefix.bed/.bim/.fam`` as `Genotypes` (dosage of allele 1, as PLINK counts)."""
  import bed_reader
  prefix = os.fspath(prefix)
  prefix = prefix[:-4] if prefix.endswith((".bed", ".bim", ".fam")) else prefix
  bim = read_bim(prefix + ".bim")
  fid, iid = read_fam(prefix + ".fam")
  with open(prefix + ".bed", "rb") as f:
    head = f.read(3)
  if head[:2] != b"\x6c\x1b":
    raise InputFormatError(prefix + ".bed", None, "not a PLINK .bed (bad magic number)")
  if head[2:3] != b"\x01":
    raise InputFormatError(prefix + ".bed", None, "individual-major .bed; convert it "
                           "with plink --make-bed (SNP-major)")
  expected = 3 + len(bim["sid"]) * math.ceil(len(fid) / 4)
  size = os.path.getsize(prefix + ".bed")
  if size != expected:
    raise InputFormatError(prefix + ".bed", None, f"{size} bytes; {len(fid)} samples x "
                           f"{len(bim['sid'])} variants (.fam/.bim) need {expected}")
  # Passing the parsed properties keeps bed-reader from parsing the text files again.
  with bed_reader.open_bed(prefix + ".bed", iid_count=len(fid), sid_count=len(bim["sid"]),
                           num_threads=1) as bed:
    dosage = bed.read(dtype="float32")
  return Genotypes(fid, iid, bim["sid"], bim["chrom"], np.asarray(bim["pos"], np.int64),
                   bim["allele_1"], bim["allele_2"], dosage)


def read_sample_table(path: str | os.PathLike) -> tuple[list[str], dict[tuple[str, str],
                                                                           np.ndarray]]:
  """Column names and ``{(FID, IID): float64[columns]}`` of a phenotype/covariate table.

  Without a header the columns are named ``V1, V2, ...``. Missing values are NaN.
  """
  path = os.fspath(path)
  names, rows, width = None, {}, None
  with contextlib.closing(text.numbered_lines(path)) as lines:
    for number, line in lines:
      fields = line.split()
      if not fields:
        continue
      if names is None and [f.upper() for f in fields[:2]] == ["FID", "IID"]:
        names = fields[2:]
        width = len(fields)
        continue
      if width is None:
        width = len(fields)
        names = [f"V{i + 1}" for i in range(width - 2)]
      if len(fields) != width or width < 3:
        raise InputFormatError(path, number, f"{len(fields)} columns; expected FID IID "
                               f"and {max(width - 2, 1)} value column(s)")
      try:
        values = [math.nan if v in MISSING else float(v) for v in fields[2:]]
      except ValueError:
        raise InputFormatError(path, number, f"a value of {fields[2:]} is not a number "
                               "(missing values are -9 or NA)") from None
      key = (fields[0], fields[1])
      if key in rows:
        raise InputFormatError(path, number, f"sample {key[0]} {key[1]} appears twice")
      rows[key] = np.asarray(values, np.float64)
  if names is None:
    raise InputFormatError(path, None, "empty table; expected lines of FID IID value")
  return names, rows


def align_samples(genotypes: Genotypes, table: dict[tuple[str, str], np.ndarray],
                  width: int) -> np.ndarray:
  """The table's rows in the ``.fam`` order; NaN for samples the table lacks."""
  out = np.full((len(genotypes.iid), width), np.nan)
  for i, key in enumerate(zip(genotypes.fid, genotypes.iid)):
    if key in table:
      out[i] = table[key]
  return out
