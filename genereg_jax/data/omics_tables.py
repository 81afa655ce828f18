"""Tabular multi-omics blocks (samples x features) from MuData, AnnData or TSV files.

Three layouts, each giving the same thing: one ``float32[samples, features]`` matrix per
block (expression, methylation, CNV ...), the samples aligned across blocks, and a label
per sample.

* MuData ``.h5mu`` (``mudata``): one modality per block (``mdata.mod[name].X``, dense or
  sparse); labels in a column of the global ``mdata.obs`` (or of a modality's ``obs``,
  read as ``<modality>:<column>`` by MuData). Samples missing from a modality are dropped.
* AnnData ``.h5ad`` files, one per block, named ``<block>.h5ad``; labels in a column of
  the first block's ``obs``.
* TSV: ``<block>.tsv`` (or ``.tsv.gz``) per block with a header line (``sample`` then
  feature names) and one line per sample; labels in ``labels.tsv`` (``sample`` then the
  label column(s), with a header). ``NA`` or empty cells are missing (NaN).

Missing values stay NaN here; `impute_and_scale` fills them with training means and
standardises each feature with training statistics, as omics pipelines do before fusion.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os

import numpy as np

from genereg_jax.data import text
from genereg_jax.files import InputFormatError

MISSING = ("", "NA", "NaN", "nan", "na", ".")


@dataclasses.dataclass
class OmicsBlocks:
  """Aligned blocks: ``samples``, ``{block: float32[samples, features]}``, feature names
  per block, and ``labels float32[samples, label_columns]`` with ``label_names``."""
  samples: list[str]
  blocks: dict[str, np.ndarray]
  features: dict[str, list[str]]
  labels: np.ndarray
  label_names: list[str]


def _dense(matrix) -> np.ndarray:
  return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, np.float32)


def _label_values(values, path: str, column: str) -> np.ndarray:
  try:
    return np.asarray([math.nan if str(v) in MISSING else float(v) for v in values], np.float32)
  except ValueError:
    examples = sorted(set(map(str, values)))[:5]
    raise InputFormatError(path, None, f"label column {column!r} holds non-numeric values "
                           f"({examples}); encode classes as 0/1") from None


def read_table(path: str) -> tuple[list[str], list[str], np.ndarray]:
  """``(samples, columns, float32[samples, columns])`` of a TSV with a header line."""
  header, samples, rows = None, [], []
  with contextlib.closing(text.numbered_lines(path)) as lines:
    for number, line in lines:
      fields = line.rstrip("\r\n").split("\t")
      if not line.strip():
        continue
      if header is None:
        header = fields[1:]
        continue
      if len(fields) != len(header) + 1:
        raise InputFormatError(path, number, f"{len(fields)} columns; the header has "
                               f"{len(header) + 1} (sample, then {len(header)} values)")
      try:
        rows.append([math.nan if v.strip() in MISSING else float(v) for v in fields[1:]])
      except ValueError:
        bad = next(v for v in fields[1:] if v.strip() not in MISSING and not _is_float(v))
        raise InputFormatError(path, number, f"value {bad!r} is not a number (missing: NA "
                               "or empty)") from None
      samples.append(fields[0])
  if header is None:
    raise InputFormatError(path, None, "empty table; expected a header line")
  if len(set(samples)) != len(samples):
    raise InputFormatError(path, None, "a sample appears twice")
  return samples, header, np.asarray(rows, np.float32).reshape(len(samples), len(header))


def _is_float(value: str) -> bool:
  try:
    float(value)
    return True
  except ValueError:
    return False


def _align(per_block: dict[str, tuple[list[str], list[str], np.ndarray]],
           label_samples: list[str], labels: np.ndarray, label_names: list[str]) -> OmicsBlocks:
  """Samples present in every block and labelled, in label-table order."""
  common = [s for s in label_samples
            if all(s in set(samples) for samples, _, _ in per_block.values())]
  if not common:
    raise ValueError("no sample is in every omics block and the label table")
  label_row = {s: i for i, s in enumerate(label_samples)}
  blocks, features = {}, {}
  for name, (samples, columns, matrix) in per_block.items():
    row = {s: i for i, s in enumerate(samples)}
    blocks[name] = matrix[[row[s] for s in common]]
    features[name] = list(columns)
  return OmicsBlocks(common, blocks, features, labels[[label_row[s] for s in common]],
                     label_names)


def read_tsv_blocks(directory: str, block_names: tuple[str, ...],
                    labels_file: str = "labels.tsv") -> OmicsBlocks:
  """``<block>.tsv[.gz]`` per block + ``labels.tsv`` in ``directory``."""
  per_block = {}
  for name in block_names:
    path = next((os.path.join(directory, name + s) for s in (".tsv", ".tsv.gz")
                 if os.path.exists(os.path.join(directory, name + s))), None)
    if path is None:
      raise FileNotFoundError(f"{directory} has no {name}.tsv for omics block {name!r}")
    per_block[name] = read_table(path)
  samples, names, labels = read_table(os.path.join(directory, labels_file))
  return _align(per_block, samples, labels, names)


def read_mudata(path: str, block_names: tuple[str, ...], label_column: str) -> OmicsBlocks:
  """Modalities ``block_names`` and ``obs[label_column]`` of a ``.h5mu`` file."""
  import mudata  # Imported late: only this layout needs it.
  mdata = mudata.read_h5mu(path)
  missing = [b for b in block_names if b not in mdata.mod]
  if missing:
    raise InputFormatError(path, None, f"no modality {missing}; it has {list(mdata.mod)}")
  if label_column not in mdata.obs:
    raise InputFormatError(path, None, f"obs has no label column {label_column!r}; columns: "
                           f"{list(mdata.obs.columns)}")
  per_block = {b: (list(mdata.mod[b].obs_names), list(mdata.mod[b].var_names),
                   _dense(mdata.mod[b].X)) for b in block_names}
  labels = _label_values(mdata.obs[label_column].tolist(), path, label_column)
  return _align(per_block, list(mdata.obs_names), labels[:, None], [label_column])


def read_anndata_blocks(directory: str, block_names: tuple[str, ...],
                        label_column: str) -> OmicsBlocks:
  """``<block>.h5ad`` per block; labels from the first block's ``obs[label_column]``."""
  import anndata  # Imported late: only this layout needs it.
  per_block, labels, label_samples = {}, None, None
  for name in block_names:
    path = os.path.join(directory, f"{name}.h5ad")
    adata = anndata.read_h5ad(path)
    per_block[name] = (list(adata.obs_names), list(adata.var_names), _dense(adata.X))
    if labels is None:
      if label_column not in adata.obs:
        raise InputFormatError(path, None, f"obs has no label column {label_column!r}")
      labels = _label_values(adata.obs[label_column].tolist(), path, label_column)[:, None]
      label_samples = list(adata.obs_names)
  return _align(per_block, label_samples, labels, [label_column])


def read_blocks(path: str, block_names: tuple[str, ...], label_column: str = "label"
                ) -> OmicsBlocks:
  """Whichever layout ``path`` holds: a ``.h5mu`` file, or a directory of ``.h5mu``,
  ``<block>.h5ad`` or ``<block>.tsv`` files."""
  if os.path.isdir(path):
    found = sorted(f for f in os.listdir(path) if f.endswith(".h5mu"))
    if found:
      return read_mudata(os.path.join(path, found[0]), block_names, label_column)
    if all(os.path.exists(os.path.join(path, f"{b}.h5ad")) for b in block_names):
      return read_anndata_blocks(path, block_names, label_column)
    return read_tsv_blocks(path, block_names)
  return read_mudata(path, block_names, label_column)


def impute_and_scale(blocks: dict[str, np.ndarray], train_rows: np.ndarray
                     ) -> dict[str, np.ndarray]:
  """Each feature: NaN -> training mean, then (x - mean) / sd with training statistics
  (sd 1 for constant features)."""
  out = {}
  for name, matrix in blocks.items():
    train = matrix[train_rows]
    with np.errstate(all="ignore"):
      mean = np.nan_to_num(np.nanmean(train, axis=0))
      sd = np.nan_to_num(np.nanstd(train, axis=0))
    sd = np.where(sd > 0, sd, 1.0)
    filled = np.where(np.isnan(matrix), mean, matrix)
    out[name] = ((filled - mean) / sd).astype(np.float32)
  return out
