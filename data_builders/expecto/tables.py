"""ExPecto's gene tables: representative TSSs + tissue expression -> a training table.

Inputs, in the formats the paper shipped (FunctionLab/ExPecto ``resources/``) or GTEx's:

* **TSS table**, one of
  - the paper's BED ``geneanno.pc.sorted.bed``: ``chrom, start, end, strand, gene_id``
    (tab-separated, 1 bp records at the CAGE representative TSS, ``start`` 0-based);
  - BED6 ``chrom, start, end, name, score, strand`` (``name`` = gene id); a longer
    record is read as a gene body, its TSS at ``start`` (+) or ``end - 1`` (-);
  - the paper's ``geneanno.csv``: ``id,symbol,seqnames,strand,TSS,
    CAGE_representative_TSS,type`` (1-based positions; the CAGE TSS is used, as in the
    BED; ``type`` rRNA genes are dropped, the paper's ``--filterStr all``).
* **Expression table**, one of
  - the paper's ``geneanno.exp.csv``: comma-separated, a header of tissue names, one
    row per gene; the first column holds the gene id, or is the row index pandas writes
    (empty header cell), in which case rows follow the TSS table's order, as the
    paper's ``train.py`` requires;
  - GTEx ``gene_median_tpm`` GCT (``#1.2``, a size line, ``Name, Description,
    tissues...``; Ensembl version suffixes ``.5`` are ignored when matching ids);
  - a TSV of ``gene_id`` then one column per tissue.

`training_table` joins the two and takes ``log(value + 0.0001)``; the split is the
paper's: chromosome 8 held out for testing, chrX/chrY left out of training.
A malformed line raises `genereg_jax.files.InputFormatError` naming ``file:line``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Sequence

import numpy as np

from genereg_jax import expecto
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_write

HOLDOUT_CHROMOSOMES = ("chr8",)  # reference train.py: testind = seqnames == 'chr8'
EXCLUDED_CHROMOSOMES = ("chrX", "chrY")  # left out of training, as in train.py


@dataclasses.dataclass
class Genes:
  """Representative TSSs: ``tss`` 0-based, ``strand`` +1/-1, one entry per gene."""
  ids: list[str]
  chroms: list[str]
  tss: np.ndarray
  strand: np.ndarray

  def subset(self, index: np.ndarray) -> "Genes":
    return Genes([self.ids[i] for i in index], [self.chroms[i] for i in index],
                 self.tss[index], self.strand[index])


def _lines(path: str):
  """``(line number, line without newline)`` of the non-blank, non-comment lines."""
  for number, line in text.numbered_lines(path):
    line = line.rstrip("\r\n")
    if line.strip() and not line.startswith(("#", "track", "browser")):
      yield number, line


def _int(field: str, what: str, path: str, number: int) -> int:
  value = text.ascii_int(field)
  if value is None or value < 0:
    raise InputFormatError(path, number, f"{what} {field!r} is not a non-negative integer")
  return value


def _strand(field: str, path: str, number: int) -> int:
  if field not in ("+", "-"):
    raise InputFormatError(path, number, f"strand {field!r} is not '+' or '-'")
  return 1 if field == "+" else -1


def read_tss(path: str | os.PathLike) -> Genes:
  """Reads a TSS table in one of the layouts of the module docstring."""
  path = os.fspath(path)
  if path.endswith((".csv", ".csv.gz")):
    return _read_geneanno_csv(path)
  ids, chroms, tss, strand = [], [], [], []
  for number, line in _lines(path):
    fields = line.split("\t")
    if len(fields) >= 6 and fields[5] in ("+", "-"):
      gene_id, strand_field = fields[3], fields[5]
    elif len(fields) >= 5:
      gene_id, strand_field = fields[4], fields[3]
    else:
      raise InputFormatError(path, number, f"{len(fields)} tab-separated columns; expected "
                             "chrom, start, end, strand, gene_id (ExPecto) or BED6")
    start = _int(fields[1], "start", path, number)
    end = _int(fields[2], "end", path, number)
    if end <= start:
      raise InputFormatError(path, number, f"end {end} is not after start {start}")
    sign = _strand(strand_field, path, number)
    ids.append(gene_id)
    chroms.append(fields[0])
    tss.append(start if sign > 0 else end - 1)
    strand.append(sign)
  return _genes(path, ids, chroms, tss, strand)


def _read_geneanno_csv(path: str) -> Genes:
  rows = _lines(path)
  header_line, header = next(rows, (1, ""))
  columns = header.split(",")
  needed = ("id", "seqnames", "strand", "CAGE_representative_TSS")
  if missing := [c for c in needed if c not in columns]:
    raise InputFormatError(path, header_line, f"geneanno.csv header lacks {missing}; "
                           "expected id,symbol,seqnames,strand,TSS,CAGE_representative_TSS,type")
  at = {c: columns.index(c) for c in columns}
  ids, chroms, tss, strand = [], [], [], []
  for number, line in rows:
    fields = line.split(",")
    if len(fields) != len(columns):
      raise InputFormatError(path, number, f"{len(fields)} columns, the header has "
                             f"{len(columns)}")
    if "type" in at and fields[at["type"]] == "rRNA":
      continue
    position = _int(fields[at["CAGE_representative_TSS"]], "CAGE_representative_TSS",
                    path, number)
    if position < 1:
      raise InputFormatError(path, number, "positions are 1-based; got 0")
    ids.append(fields[at["id"]])
    chroms.append(fields[at["seqnames"]])
    tss.append(position - 1)
    strand.append(_strand(fields[at["strand"]], path, number))
  return _genes(path, ids, chroms, tss, strand)


def _genes(path, ids, chroms, tss, strand) -> Genes:
  if not ids:
    raise InputFormatError(path, None, "no genes")
  return Genes(ids, chroms, np.asarray(tss, np.int64), np.asarray(strand, np.int64))


@dataclasses.dataclass
class Expression:
  """Expression per gene and tissue; ``ids`` None means "rows in TSS-table order"."""
  ids: list[str] | None
  tissues: list[str]
  values: np.ndarray


def _without_version(gene_id: str) -> str:
  """``ENSG00000223972.5`` -> ``ENSG00000223972`` (GTEx ids carry versions)."""
  stem, dot, version = gene_id.partition(".")
  return stem if dot and version.isdigit() else gene_id


def read_expression(path: str | os.PathLike) -> Expression:
  """Reads an expression table in one of the layouts of the module docstring."""
  path = os.fspath(path)
  rows = text.numbered_lines(path)
  first = next(rows, None)
  if first is None:
    raise InputFormatError(path, 1, "empty expression table")
  value_start = 1
  if first[1].startswith("#1."):  # GCT: version line, size line, header.
    next(rows, None)
    first = next(rows, None)
    if first is None:
      raise InputFormatError(path, 3, "GCT file without a header line")
    value_start = 2
  number, header = first
  separator = "\t" if "\t" in header else ","
  names = header.rstrip("\r\n").split(separator)
  if value_start == 2 and names[:2] != ["Name", "Description"]:
    raise InputFormatError(path, number, "GCT header must start with Name, Description")
  tissues = [n.strip('"') for n in names[value_start:]]
  if not tissues:
    raise InputFormatError(path, number, "no tissue columns in the header")
  by_order = names[0].strip('"') == "" and separator == ","
  ids, values = [], []
  for number, line in rows:
    line = line.rstrip("\r\n")
    if not line.strip():
      continue
    fields = line.split(separator)
    if len(fields) != len(names):
      raise InputFormatError(path, number, f"{len(fields)} columns, the header has "
                             f"{len(names)}")
    row = []
    for tissue, field in zip(tissues, fields[value_start:]):
      try:
        value = float(field)
      except ValueError:
        value = math.nan
      if not math.isfinite(value) or value < 0:
        raise InputFormatError(path, number, f"{tissue}: {field!r} is not a non-negative "
                               "number")
      row.append(value)
    ids.append(_without_version(fields[0].strip('"')))
    values.append(row)
  if not values:
    raise InputFormatError(path, None, "no genes")
  return Expression(None if by_order else ids, tissues, np.asarray(values, np.float64))


@dataclasses.dataclass
class TrainingTable:
  """Genes with a TSS and expression: ``targets`` = log(value + pseudocount)."""
  genes: Genes
  tissues: list[str]
  targets: np.ndarray
  split: np.ndarray  # "train", "test" (held-out chromosomes) or "excluded"


def _chromosome_split(chroms: Sequence[str], holdout: Sequence[str],
                      excluded: Sequence[str]) -> np.ndarray:
  def named(names):
    return {genome_lib.without_chr(n) for n in names}
  holdout, excluded = named(holdout), named(excluded)
  return np.array(["test" if genome_lib.without_chr(c) in holdout else
                   "excluded" if genome_lib.without_chr(c) in excluded else "train"
                   for c in chroms])


def training_table(genes: Genes, expression: Expression,
                   pseudocount: float = expecto.PSEUDOCOUNT,
                   holdout: Sequence[str] = HOLDOUT_CHROMOSOMES,
                   excluded: Sequence[str] = EXCLUDED_CHROMOSOMES,
                   expression_path: str | None = None) -> TrainingTable:
  """Joins TSSs and expression (by gene id, or by row order) into log-expression targets."""
  if expression.ids is None:
    if len(expression.values) != len(genes.ids):
      raise InputFormatError(expression_path, None, f"{len(expression.values)} expression "
                             f"rows without gene ids, but {len(genes.ids)} genes in the TSS "
                             "table; rows must follow its order")
    index, values = np.arange(len(genes.ids)), expression.values
  else:
    row_of = {gene_id: row for row, gene_id in enumerate(expression.ids)}
    pairs = [(i, row_of[_without_version(g)]) for i, g in enumerate(genes.ids)
             if _without_version(g) in row_of]
    if not pairs:
      raise InputFormatError(expression_path, None, "no gene id in common with the TSS table")
    index = np.array([i for i, _ in pairs])
    values = expression.values[[row for _, row in pairs]]
  targets = expecto.log_expression(values, pseudocount)
  subset = genes.subset(index)
  return TrainingTable(subset, list(expression.tissues), targets.astype(np.float32),
                       _chromosome_split(subset.chroms, holdout, excluded))


def write_training_table(path: str | os.PathLike, table: TrainingTable) -> None:
  """TSV: gene_id, chrom, tss (0-based), strand, split, then log expression per tissue."""
  with atomic_write(path) as f:
    f.write("\t".join(["gene_id", "chrom", "tss", "strand", "split", *table.tissues]) + "\n")
    genes = table.genes
    for i, gene_id in enumerate(genes.ids):
      values = "\t".join(f"{v:.6g}" for v in table.targets[i])
      f.write(f"{gene_id}\t{genes.chroms[i]}\t{genes.tss[i]}\t"
              f"{'+' if genes.strand[i] > 0 else '-'}\t{table.split[i]}\t{values}\n")
