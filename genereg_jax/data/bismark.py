"""Per-cell CpG methylation calls in Bismark's coverage format, and DeepCpG's neighbour
features.

A Bismark coverage file (``bismark2bedGraph`` / ``bismark_methylation_extractor
--bedGraph``; ``.cov`` or ``.cov.gz``) has one tab-separated line per cytosine:
``chromosome, start, end, methylation percentage, count methylated, count
unmethylated``, positions 1-based and ``start == end``. Without ``--merge_CpG`` the two
cytosines of a CpG are reported separately (the ``C`` on the plus strand, the ``C``
opposite the ``G``, i.e. the ``G`` position, on the minus strand); `merge_strands` folds
the second onto the first, as DeepCpG's inputs hold one call per CpG and cell.

`neighbour_features` is DeepCpG's ``KnnCpgFeatureExtractor``
(``deepcpg/data/feature_extractor.py``) followed by its ``_prepro_cpg``: for each target
CpG and cell, the states and distances of the ``k`` nearest *observed* CpGs on each
side (the target itself excluded), nearest first on the right and nearest last on the
left; a neighbour that does not exist gets state 0.5 and distance ``max_dist``, and
distances become ``min(d, max_dist) / max_dist``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os

import numpy as np

from genereg_jax.data import text
from genereg_jax.files import InputFormatError

#: DeepCpG's ``cpg_max_dist``: distances are clipped to it, then divided by it.
MAX_DIST = 25000


@dataclasses.dataclass
class CpgCalls:
  """One cell's calls on one chromosome: sorted 1-based positions and read counts."""
  position: np.ndarray
  methylated: np.ndarray
  unmethylated: np.ndarray

  @property
  def state(self) -> np.ndarray:
    """Binary state per CpG: methylated fraction >= 0.5 (DeepCpG's binarisation)."""
    total = self.methylated + self.unmethylated
    return (self.methylated >= 0.5 * total).astype(np.float32)


def read_coverage(path: str | os.PathLike) -> dict[str, CpgCalls]:
  """``{chromosome: CpgCalls}`` of a Bismark ``.cov``/``.cov.gz`` file.

  Raises:
    InputFormatError: a line without six columns, a non-integer position or count,
      ``start != end``, or a position given twice.
  """
  path = os.fspath(path)
  rows: dict[str, list[tuple[int, int, int]]] = {}
  with contextlib.closing(text.numbered_lines(path)) as lines:
    for number, line in lines:
      fields = line.split("\t")
      if not line.strip() or line.startswith(("track", "#")):
        continue
      if len(fields) != 6:
        raise InputFormatError(path, number, f"{len(fields)} tab-separated columns; a "
                               "Bismark coverage line has 6 (chromosome, start, end, "
                               "methylation %, count methylated, count unmethylated)")
      chrom, start, end, _, meth, unmeth = (f.strip() for f in fields)
      values = [text.ascii_int(v) for v in (start, end, meth, unmeth)]
      if any(v is None or v < 0 for v in values):
        raise InputFormatError(path, number, "start, end and the two counts must be "
                               f"non-negative integers, got {start}, {end}, {meth}, {unmeth}")
      if values[0] != values[1]:
        raise InputFormatError(path, number, f"start {start} != end {end}: a coverage "
                               "file has one line per cytosine")
      rows.setdefault(chrom, []).append((values[0], values[2], values[3]))
  calls = {}
  for chrom, items in rows.items():
    array = np.asarray(items, np.int64)
    array = array[np.argsort(array[:, 0], kind="stable")]
    if np.any(np.diff(array[:, 0]) == 0):
      duplicate = array[1:, 0][np.diff(array[:, 0]) == 0][0]
      raise InputFormatError(path, None, f"{chrom}:{duplicate} appears twice")
    calls[chrom] = CpgCalls(array[:, 0], array[:, 1], array[:, 2])
  return calls


def cpg_positions(sequence: np.ndarray) -> np.ndarray:
  """1-based positions of the ``C`` of every ``CG`` in a chromosome (uint8 ASCII)."""
  upper = np.asarray(sequence, np.uint8) & 0xDF  # ASCII upper case (soft-masked repeats).
  return np.flatnonzero((upper[:-1] == ord("C")) & (upper[1:] == ord("G"))) + 1


def merge_strands(calls: CpgCalls, cpgs: np.ndarray) -> CpgCalls:
  """Calls on the CpGs ``cpgs`` (1-based ``C`` positions) with both strands summed.

  A call at a CpG's ``C`` counts for it, as does a call at its ``G`` (the minus strand);
  calls elsewhere (non-CpG context, or a genome that does not match) are dropped.
  """
  index = np.searchsorted(cpgs, calls.position)
  on_c = (index < len(cpgs)) & (cpgs[np.minimum(index, len(cpgs) - 1)] == calls.position)
  index_g = np.searchsorted(cpgs, calls.position - 1)
  on_g = ~on_c & (index_g < len(cpgs)) & (
      cpgs[np.minimum(index_g, len(cpgs) - 1)] == calls.position - 1)
  target = np.where(on_c, index, index_g)[on_c | on_g]
  keep = on_c | on_g
  methylated = np.zeros(len(cpgs), np.int64)
  unmethylated = np.zeros(len(cpgs), np.int64)
  np.add.at(methylated, target, calls.methylated[keep])
  np.add.at(unmethylated, target, calls.unmethylated[keep])
  covered = np.flatnonzero((methylated + unmethylated) > 0)
  return CpgCalls(cpgs[covered], methylated[covered], unmethylated[covered])


def neighbour_features(targets: np.ndarray, calls: CpgCalls, k: int,
                       max_dist: int = MAX_DIST) -> tuple[np.ndarray, np.ndarray]:
  """States and scaled distances ``float32[targets, 2k]`` of each target's neighbours.

  Columns ``0..k-1`` are the ``k`` observed CpGs left of the target (farthest first),
  ``k..2k-1`` those right of it (nearest first), as DeepCpG orders them; the target's
  own call is never a feature.
  """
  state = np.full((len(targets), 2 * k), 0.5, np.float32)
  dist = np.full((len(targets), 2 * k), float(max_dist), np.float32)
  positions, states = calls.position, calls.state
  left_end = np.searchsorted(positions, targets, side="left")  # Calls < target.
  right_start = np.searchsorted(positions, targets, side="right")  # Calls > target.
  for offset in range(k):
    left = left_end - 1 - offset
    ok = left >= 0
    column = k - 1 - offset
    state[ok, column] = states[left[ok]]
    dist[ok, column] = targets[ok] - positions[left[ok]]
    right = right_start + offset
    ok = right < len(positions)
    state[ok, k + offset] = states[right[ok]]
    dist[ok, k + offset] = positions[right[ok]] - targets[ok]
  return state, np.minimum(dist, max_dist) / max_dist
