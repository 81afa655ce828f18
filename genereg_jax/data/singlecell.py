"""Single-cell matrices in AnnData (``.h5ad``): peaks, binary accessibility, pseudobulk,
gene-pair histograms, and writing results back.

The readers the single-cell builders share (DESIGN.md, "layering rule"):

* scATAC peaks come as an AnnData of cells x peaks (10x Cell Ranger ATAC / ArchR /
  scBasset's ``scbasset_preprocess.py`` input). A peak's coordinates are read from
  ``var`` columns (``chr``/``chrom``/``seqnames`` + ``start`` + ``end``, scBasset's
  layout) or else from the var names ``chr1:100-600`` (also ``chr1-100-600`` and
  ``chr1_100_600``, the 10x and Signac spellings). Coordinates are 0-based half-open
  as in BED.
* Accessibility is binarised (any count > 0 is 1), as scBasset and SCALE do.
* ``expression_histogram`` is CNNC's input (Yuan & Bar-Joseph, PNAS 2019,
  ``get_xy_label_data_cnn_combine_from_database.py``): ``log10(x + 0.01)`` of two
  genes across cells, a 32 x 32 ``histogram2d``, then ``(log10(H / n + 1e-4) + 4) / 4``.
* ``write_obsm`` writes a matrix into an AnnData's ``obsm`` (``X_scbasset``) through a
  temporary file renamed on success, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_path

#: ``var`` column names read as a peak's chromosome, in order of preference.
CHROM_COLUMNS = ("chr", "chrom", "chromosome", "seqnames")
#: ``obs`` columns taken as cell labels when a reader is not told which, in order.
LABEL_COLUMNS = ("cell_type", "celltype", "label", "labels", "cluster", "leiden")
_PEAK_NAME = re.compile(r"^(.+?)[:_-](\d+)[-_](\d+)$")


def read_h5ad(path: str | os.PathLike):
  """The AnnData at ``path``; a missing or unreadable file is an `InputFormatError`."""
  import anndata  # Imported late: only single-cell readers need it.
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise InputFormatError(path, None, "AnnData file not found")
  try:
    return anndata.read_h5ad(path)
  except (OSError, KeyError, ValueError) as e:
    raise InputFormatError(path, None, f"cannot read as .h5ad: {e}") from e


def peak_intervals(adata, path: str = "<anndata>") -> list[tuple[str, int, int]]:
  """``(chrom, start, end)`` of every peak (var), from var columns or var names."""
  var = adata.var
  chrom_column = next((c for c in CHROM_COLUMNS if c in var.columns), None)
  if chrom_column is not None and {"start", "end"} <= set(var.columns):
    return [(str(c), int(s), int(e)) for c, s, e in
            zip(var[chrom_column], var["start"], var["end"])]
  intervals = []
  for index, name in enumerate(adata.var_names):
    match = _PEAK_NAME.match(str(name))
    if match is None:
      raise InputFormatError(
          path, None, f"peak {index} is named {name!r}: expected var columns "
          f"{'/'.join(CHROM_COLUMNS)} + start + end, or names like chr1:100-600")
    intervals.append((match.group(1), int(match.group(2)), int(match.group(3))))
  return intervals


def binary_accessibility(adata, layer: str | None = None) -> sparse.csr_matrix:
  """Cells x peaks ``uint8`` CSR matrix, 1 where the count is > 0."""
  matrix = adata.X if layer is None else adata.layers[layer]
  matrix = sparse.csr_matrix(matrix)
  matrix.data = (matrix.data > 0).astype(np.uint8)
  matrix.eliminate_zeros()
  return matrix.astype(np.uint8)


def label_column(adata, name: str | None = None) -> str | None:
  """``name`` if given (it must exist), else the first of `LABEL_COLUMNS` in ``obs``."""
  if name is not None:
    if name not in adata.obs.columns:
      raise ValueError(f"obs has no column {name!r}; columns: {list(adata.obs.columns)}")
    return name
  return next((c for c in LABEL_COLUMNS if c in adata.obs.columns), None)


def cell_labels(adata, name: str | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
  """``(codes [cells] int32, names)`` of an obs label column; codes -1 without one."""
  column = label_column(adata, name)
  if column is None:
    return np.full(adata.n_obs, -1, np.int32), ()
  values = adata.obs[column].astype(str).to_numpy()
  names = tuple(sorted(set(values)))
  lookup = {n: i for i, n in enumerate(names)}
  return np.array([lookup[v] for v in values], np.int32), names


def centred_window(start: int, end: int, length: int) -> tuple[int, int]:
  """``[s, s + length)`` centred on the peak ``[start, end)`` (scBasset's 1,344 bp)."""
  centre = (start + end) // 2
  return centre - length // 2, centre - length // 2 + length


def pseudobulk(accessibility: sparse.spmatrix, groups: np.ndarray, num_groups: int,
               fold: float = 1.5, min_fraction: float = 0.05
               ) -> tuple[np.ndarray, np.ndarray]:
  """Per-group peak labels from single cells (pseudobulk, as Basset/DeepSEA on scATAC).

  A peak is open in a group when the fraction of the group's cells with a fragment in
  it is at least ``fold`` times the group's mean over peaks (so the call adapts to the
  group's sequencing depth, as a peak caller's enrichment over background does) and at
  least ``min_fraction``.

  Args:
    accessibility: cells x peaks binary matrix.
    groups: ``[cells]`` group code (< 0: not in any group).
    num_groups: number of groups.
    fold: enrichment over the group's mean peak accessibility.
    min_fraction: floor on the fraction of the group's cells.

  Returns:
    ``(labels [peaks, groups] uint8, fractions [peaks, groups] float32)``.
  """
  groups = np.asarray(groups)
  keep = groups >= 0
  membership = sparse.csr_matrix(
      (np.ones(keep.sum(), np.float32), (groups[keep], np.flatnonzero(keep))),
      shape=(num_groups, len(groups)))
  counts = np.asarray((membership @ sparse.csr_matrix(accessibility, dtype=np.float32)).todense())
  sizes = np.maximum(np.asarray(membership.sum(axis=1)).ravel(), 1.0)
  fractions = (counts / sizes[:, None]).T.astype(np.float32)
  threshold = np.maximum(fold * fractions.mean(axis=0), min_fraction)
  return (fractions >= threshold).astype(np.uint8), fractions


def expression_histogram(x: np.ndarray, y: np.ndarray, bins: int = 32) -> np.ndarray:
  """CNNC's normalised 2D histogram of two genes' expression across cells, ``[bins, bins]``.

  ``histogram2d(log10(x + 0.01), log10(y + 0.01), bins)`` (NumPy's bin edges from each
  gene's own range), then ``(log10(H / n + 1e-4) + 4) / 4``: 0 for an empty bin, 1 for
  a bin holding every cell.
  """
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  counts, _, _ = np.histogram2d(np.log10(x + 1e-2), np.log10(y + 1e-2), bins=bins)
  return ((np.log10(counts / len(x) + 1e-4) + 4.0) / 4.0).astype(np.float32)


def gene_pairs(path: str | os.PathLike, genes: Sequence[str]) -> list[tuple[int, int, int]]:
  """``(index_a, index_b, label)`` rows of a CNNC gene-pair table.

  The format of CNNC's ``data/*_gene_pairs_*.txt``: tab- or space-separated
  ``gene_a gene_b label`` (label 0: no interaction; 1: a regulates b; 2: b regulates a,
  the same pair read the other way). Gene names match case-insensitively, as CNNC's
  lower-cased KEGG lists against capitalised expression names.
  """
  path = os.fspath(path)
  lookup = {str(g).lower(): i for i, g in enumerate(genes)}
  rows = []
  with open(path) as f:
    for number, line in enumerate(f, 1):
      fields = line.split()
      if not fields or fields[0].startswith("#"):
        continue
      if len(fields) != 3 or not fields[2].lstrip("-").isdigit():
        if number == 1 and not fields[-1].lstrip("-").isdigit():
          continue  # A header line.
        raise InputFormatError(path, number, f"expected 'gene_a gene_b label', got {line!r}")
      missing = [g for g in fields[:2] if g.lower() not in lookup]
      if missing:
        raise InputFormatError(path, number, f"gene(s) {missing} not in the expression "
                                             "AnnData's var names")
      rows.append((lookup[fields[0].lower()], lookup[fields[1].lower()], int(fields[2])))
  if not rows:
    raise InputFormatError(path, None, "no gene pairs")
  return rows


def write_h5ad(adata, path: str | os.PathLike) -> str:
  """Writes ``adata`` to ``path`` through a temporary name in the same folder, renamed on
  success (a crash never leaves half a file). Returns the path written."""
  path = os.fspath(path)
  with atomic_path(path) as temporary:
    adata.write_h5ad(temporary)
  return path


def write_obsm(path: str | os.PathLike, key: str, values: np.ndarray,
               output: str | os.PathLike | None = None) -> str:
  """Writes ``values [cells, d]`` as ``obsm[key]`` of the AnnData at ``path`` into
  ``output`` (default: ``path`` itself), atomically. Returns the path written."""
  adata = read_h5ad(path)
  values = np.asarray(values)
  if values.shape[0] != adata.n_obs:
    raise ValueError(f"{key}: {values.shape[0]} rows for {adata.n_obs} cells in {path}")
  adata.obsm[key] = values
  return write_h5ad(adata, output or path)
