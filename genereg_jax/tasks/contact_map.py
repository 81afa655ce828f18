"""Contact maps as upper triangles: Akita's masked MSE and map, distance and insulation metrics.

Akita (Fudenberg, Kelley & Pollard, Nat. Methods 2020) predicts the log observed/expected
Hi-C / Micro-C map of a 1-Mb window as the upper triangle of its cropped ``n x n`` bin
matrix above a diagonal offset (``np.triu_indices(n, diagonal_offset)`` in row-major
order, the layout of basenji's ``akita_data_read.py`` and of
``data_builders/hic_maps`` and ``data_builders/synthetic_contacts`` here). Outputs and
targets are ``[batch, n_pairs, n_targets]`` (or a dict of such keyed by head, from
which ``head`` picks one); non-finite targets (bins filtered by balancing, blacklisted
or padded) are masked.

Loss: mean squared error over the valid entries (Akita trains with Keras' ``mse``;
its targets have no NaN after ``interp_nan``, where masking changes nothing), weighted by
``batch["example_mask"]`` for the padding rows of a partial evaluation batch.

Metrics, streamed on the host in float64 and mergeable across devices/hosts:

* ``pearsonr`` / ``r2`` per target over every valid entry of every map (as Akita's
  ``akita_test.py`` and basenji's ``PearsonR``/``R2``), ``pearsonr_per_target`` and
  ``r2_per_target`` the per-target values.
* ``map_pearsonr`` / ``map_spearmanr``: the correlation of each predicted map with its
  target map (the per-map scores Akita's paper reports), averaged over maps; per target
  in ``map_*_per_target``.
* Distance-stratified: ``pearsonr_per_diagonal`` ``[n_diagonals, n_targets]`` pools
  every map's entries on diagonal ``d`` (``diagonal_distances`` bins apart), and
  ``spearmanr_per_diagonal`` averages each map's within-diagonal rank correlation;
  ``diagonal_pearsonr`` / ``diagonal_spearmanr`` are their means (so close-range decay,
  which dominates the pooled Pearson, is taken out).
* ``insulation_pearsonr``: Pearson of predicted and observed insulation profiles per
  map, averaged over maps (Crane et al., Nature 2015: the mean contact in a
  ``window x window`` square sliding along the diagonal, assigned to the boundary it
  straddles; on log observed/expected maps the log-ratio to the profile's mean is a
  shift that correlation ignores). Entries below the diagonal offset are not part of the
  square (they are not predicted).

``reverse_complement_targets`` reorders the triangle as the map of the
reverse-complemented sequence: bin ``i`` becomes ``n - 1 - i``, so pair ``(i, j)``
becomes ``(n - 1 - j, n - 1 - i)`` (basenji's ``SwitchReverseTriu``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from genereg_jax.nn.conv2d import from_upper_triangle
from genereg_jax.tasks import base
from genereg_jax.tasks import coverage

# Akita's diagonal offset (basenji akita_data.py -d 2; statistics.json).
AKITA_DIAGONAL_OFFSET = 2
# Insulation square side in bins (Crane et al. 2015 slide a square along the diagonal;
# 10 bins is about 20 kb at Akita's 2,048-bp bins).
INSULATION_WINDOW = 10


def bins_from_pairs(n_pairs: int, diagonal_offset: int) -> int:
  """``n`` such that ``np.triu_indices(n, diagonal_offset)`` has ``n_pairs`` entries."""
  m = int(round((np.sqrt(8 * n_pairs + 1) - 1) / 2))
  if m * (m + 1) // 2 != n_pairs:
    raise ValueError(f"{n_pairs} is not the size of an upper triangle (n_bins - "
                     f"diagonal_offset = m gives m (m + 1) / 2 pairs)")
  return m + diagonal_offset


@functools.lru_cache(maxsize=16)
def triangle_indices(n_bins: int, diagonal_offset: int) -> tuple[np.ndarray, np.ndarray]:
  """``np.triu_indices(n_bins, diagonal_offset)``, cached (read-only arrays)."""
  rows, cols = np.triu_indices(n_bins, diagonal_offset)
  rows.flags.writeable = cols.flags.writeable = False
  return rows, cols


@functools.lru_cache(maxsize=16)
def reverse_complement_order(n_bins: int, diagonal_offset: int) -> np.ndarray:
  """Permutation ``p`` with ``triangle[p]`` the triangle of the flipped map."""
  rows, cols = triangle_indices(n_bins, diagonal_offset)
  index = np.zeros((n_bins, n_bins), np.int64)
  index[rows, cols] = np.arange(rows.size)
  order = index[n_bins - 1 - cols, n_bins - 1 - rows]
  order.flags.writeable = False
  return order


def insulation_profile(contact_map: np.ndarray, window: int = INSULATION_WINDOW
                       ) -> np.ndarray:
  """Crane et al.'s insulation: mean of ``map[k - w:k, k:k + w]`` for ``k = w..n-w``.

  ``contact_map`` is ``[n, n]`` (NaN = missing, ignored); the result has ``n - 2w + 1``
  values, NaN where a square holds no finite entry. Square sums come from integral
  images, so a profile costs O(n^2).
  """
  contact_map = np.asarray(contact_map, np.float64)
  n = contact_map.shape[0]
  if n < 2 * window:
    raise ValueError(f"a map of {n} bins has no insulation square of {window} bins")
  finite = np.isfinite(contact_map)
  sums = np.zeros((n + 1, n + 1))
  counts = np.zeros((n + 1, n + 1))
  sums[1:, 1:] = np.where(finite, contact_map, 0.0).cumsum(0).cumsum(1)
  counts[1:, 1:] = finite.cumsum(0).cumsum(1)
  k = np.arange(window, n - window + 1)

  def square(table):
    # rows [k - w, k), columns [k, k + w)
    return (table[k, k + window] - table[k - window, k + window]
            - table[k, k] + table[k - window, k])

  total, count = square(sums), square(counts)
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(count > 0, total / count, np.nan)


def _average_ranks(sorted_key: np.ndarray, order: np.ndarray,
                   group_start: np.ndarray | int = 0) -> np.ndarray:
  """Average ranks (1-based, from each group's start) given a stable sort of a key."""
  new_run = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
  run_id = np.cumsum(new_run) - 1
  run_first = np.flatnonzero(new_run)
  run_last = np.r_[run_first[1:], sorted_key.size] - 1
  ranks = np.empty(sorted_key.size)
  ranks[order] = (run_first[run_id] + run_last[run_id]) / 2 - group_start + 1
  return ranks


def _ranks(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Average ranks of ``values`` over all of them and within each group (ties share
  their mean rank, as ``scipy.stats.rankdata``).

  One float sort gives both the overall ranks and dense value ranks; the groups then
  sort on the integer key ``group x n + dense rank`` (a radix sort), two sorts in all.
  """
  n = values.size
  order = np.argsort(values, kind="stable")
  sorted_values = values[order]
  overall = _average_ranks(sorted_values, order)
  dense = np.empty(n, np.int64)
  dense[order] = np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1
  key = groups.astype(np.int64) * n + dense
  order = np.argsort(key, kind="stable")
  sorted_key = key[order]
  sorted_groups = sorted_key // n
  new_group = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
  group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
  return overall, _average_ranks(sorted_key, order, group_start)


def _grouped_pearson(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                     n_groups: int) -> np.ndarray:
  """Pearson R of ``x`` and ``y`` within each group; NaN for < 2 points or constants."""
  count = np.bincount(groups, minlength=n_groups).astype(np.float64)
  with np.errstate(invalid="ignore", divide="ignore"):
    mean_x = np.bincount(groups, x, n_groups) / count
    mean_y = np.bincount(groups, y, n_groups) / count
    dx, dy = x - mean_x[groups], y - mean_y[groups]
    sxx = np.bincount(groups, dx * dx, n_groups)
    syy = np.bincount(groups, dy * dy, n_groups)
    sxy = np.bincount(groups, dx * dy, n_groups)
    r = sxy / np.sqrt(sxx * syy)
  return np.where((count > 1) & (sxx > 0) & (syy > 0), r, np.nan)


@dataclasses.dataclass
class GroupMoments(coverage.TrackMoments):
  """Count, means and centred (co)moments of (prediction, target) pairs per group.

  ``coverage.TrackMoments`` (its Pearson R and R²) with a count per group (a target, or
  a diagonal x target), since masked entries are left out; groups merge with Chan et
  al.'s pairwise update, exact in float64.
  """
  count: np.ndarray
  mean_pred: np.ndarray
  mean_true: np.ndarray
  m2_pred: np.ndarray
  m2_true: np.ndarray
  comoment: np.ndarray
  squared_error: np.ndarray

  @classmethod
  def zeros(cls, n_groups: int) -> "GroupMoments":
    return cls(*(np.zeros(n_groups) for _ in range(7)))

  @classmethod
  def of(cls, pred: np.ndarray, true: np.ndarray, groups: np.ndarray,
         n_groups: int) -> "GroupMoments":
    """Moments of flat float64 ``pred``/``true`` whose entries belong to ``groups``."""
    count = np.bincount(groups, minlength=n_groups).astype(np.float64)
    safe = np.maximum(count, 1)
    mean_pred = np.bincount(groups, pred, n_groups) / safe
    mean_true = np.bincount(groups, true, n_groups) / safe
    d_pred, d_true = pred - mean_pred[groups], true - mean_true[groups]
    return cls(count, mean_pred, mean_true,
               np.bincount(groups, d_pred * d_pred, n_groups),
               np.bincount(groups, d_true * d_true, n_groups),
               np.bincount(groups, d_pred * d_true, n_groups),
               np.bincount(groups, (true - pred)**2, n_groups))

  def merge(self, other: "GroupMoments") -> "GroupMoments":
    """Adds ``other``'s pairs to these, in place."""
    if other.count.shape != self.count.shape:
      raise ValueError(f"cannot merge {other.count.size} groups into {self.count.size}")
    n_a, n_b = self.count, other.count
    n = n_a + n_b
    safe = np.maximum(n, 1)
    delta_pred = other.mean_pred - self.mean_pred
    delta_true = other.mean_true - self.mean_true
    scale = n_a * n_b / safe
    self.m2_pred = self.m2_pred + other.m2_pred + delta_pred**2 * scale
    self.m2_true = self.m2_true + other.m2_true + delta_true**2 * scale
    self.comoment = self.comoment + other.comoment + delta_pred * delta_true * scale
    self.mean_pred = self.mean_pred + delta_pred * n_b / safe
    self.mean_true = self.mean_true + delta_true * n_b / safe
    self.squared_error = self.squared_error + other.squared_error
    self.count = n
    return self


def _nanmean(values: np.ndarray, axis=None):
  values = np.asarray(values, np.float64)
  finite = np.isfinite(values)
  total = np.where(finite, values, 0.0).sum(axis=axis)
  count = finite.sum(axis=axis)
  with np.errstate(invalid="ignore", divide="ignore"):
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
  return float(mean) if np.ndim(mean) == 0 else mean


class ContactMapMetrics:
  """Host accumulator of the module docstring's metrics over ``[batch, n_pairs, targets]``."""

  def __init__(self, n_bins: int, diagonal_offset: int, n_targets: int,
               target_key: str = "target", target_names: Sequence[str] = (),
               insulation_window: int = INSULATION_WINDOW):
    self.n_bins, self.diagonal_offset = int(n_bins), int(diagonal_offset)
    self.n_targets, self.target_key = int(n_targets), target_key
    self.target_names = tuple(target_names)
    self.insulation_window = int(insulation_window)
    self.n_diagonals = self.n_bins - self.diagonal_offset
    rows, cols = triangle_indices(self.n_bins, self.diagonal_offset)
    self._diagonal = (cols - rows - self.diagonal_offset).astype(np.int64)
    self.pooled = GroupMoments.zeros(self.n_targets)
    self.diagonals = GroupMoments.zeros(self.n_diagonals * self.n_targets)
    # Per-map scores [maps, targets] and per-diagonal Spearman sums over maps.
    self.map_pearson: list[np.ndarray] = []
    self.map_spearman: list[np.ndarray] = []
    self.insulation: list[np.ndarray] = []
    self.diagonal_spearman_sum = np.zeros((self.n_diagonals, self.n_targets))
    self.diagonal_spearman_count = np.zeros((self.n_diagonals, self.n_targets))

  def update(self, predictions: Any, batch: base.Batch) -> None:
    """Adds a batch; rows with ``batch["example_mask"] == 0`` are skipped."""
    pred = np.asarray(predictions, np.float64)
    true = np.asarray(batch[self.target_key], np.float64)
    if pred.shape != true.shape:
      raise ValueError(f"predictions {pred.shape} and {self.target_key!r} {true.shape} "
                       "differ in shape")
    if pred.ndim != 3 or pred.shape[1] != self._diagonal.size or \
        pred.shape[2] != self.n_targets:
      raise ValueError(f"expected [batch, {self._diagonal.size}, {self.n_targets}] "
                       f"(triangle of {self.n_bins} bins, offset {self.diagonal_offset}); "
                       f"got {pred.shape}")
    if "example_mask" in batch:
      keep = np.asarray(batch["example_mask"]).reshape(-1) > 0
      pred, true = pred[keep], true[keep]
    valid = np.isfinite(true) & np.isfinite(pred)
    target_of = np.broadcast_to(np.arange(self.n_targets), pred.shape)
    diagonal_of = np.broadcast_to(self._diagonal[None, :, None], pred.shape)
    p, t = pred[valid], true[valid]
    self.pooled.merge(GroupMoments.of(p, t, target_of[valid], self.n_targets))
    self.diagonals.merge(GroupMoments.of(
        p, t, (diagonal_of * self.n_targets + target_of)[valid],
        self.n_diagonals * self.n_targets))
    for b in range(pred.shape[0]):
      self._update_map(pred[b], true[b], valid[b])

  def _update_map(self, pred: np.ndarray, true: np.ndarray, valid: np.ndarray) -> None:
    """Per-map correlations and insulation of one example's ``[n_pairs, targets]``."""
    pearson = np.full(self.n_targets, np.nan)
    spearman = np.full(self.n_targets, np.nan)
    insulation = np.full(self.n_targets, np.nan)
    for t in range(self.n_targets):
      keep = valid[:, t]
      p, y, diagonal = pred[keep, t], true[keep, t], self._diagonal[keep]
      if p.size < 2:
        continue
      whole = np.zeros(p.size, np.int64)
      pearson[t] = _grouped_pearson(p, y, whole, 1)[0]
      (p_rank, p_diagonal_rank), (y_rank, y_diagonal_rank) = (_ranks(p, diagonal),
                                                              _ranks(y, diagonal))
      spearman[t] = _grouped_pearson(p_rank, y_rank, whole, 1)[0]
      per_diagonal = _grouped_pearson(p_diagonal_rank, y_diagonal_rank, diagonal,
                                      self.n_diagonals)
      finite = np.isfinite(per_diagonal)
      self.diagonal_spearman_sum[finite, t] += per_diagonal[finite]
      self.diagonal_spearman_count[finite, t] += 1
      if self.n_bins >= 2 * self.insulation_window:
        masked_pred = np.where(keep, pred[:, t], np.nan)
        masked_true = np.where(keep, true[:, t], np.nan)
        profiles = [insulation_profile(from_upper_triangle(v, self.n_bins,
                                                           self.diagonal_offset),
                                       self.insulation_window)
                    for v in (masked_pred, masked_true)]
        both = np.isfinite(profiles[0]) & np.isfinite(profiles[1])
        insulation[t] = _grouped_pearson(profiles[0][both], profiles[1][both],
                                         np.zeros(both.sum(), np.int64), 1)[0] \
            if both.sum() > 1 else np.nan
    self.map_pearson.append(pearson)
    self.map_spearman.append(spearman)
    self.insulation.append(insulation)

  def merge(self, other: "ContactMapMetrics") -> "ContactMapMetrics":
    self.pooled.merge(other.pooled)
    self.diagonals.merge(other.diagonals)
    self.map_pearson += other.map_pearson
    self.map_spearman += other.map_spearman
    self.insulation += other.insulation
    self.diagonal_spearman_sum = self.diagonal_spearman_sum + other.diagonal_spearman_sum
    self.diagonal_spearman_count = (self.diagonal_spearman_count
                                    + other.diagonal_spearman_count)
    return self

  def compute(self) -> dict[str, float | np.ndarray]:
    if not self.map_pearson:
      raise ValueError("ContactMapMetrics.compute() called before any update()")
    pearson, r2 = self.pooled.pearson_r(), self.pooled.r2()
    map_pearson = _nanmean(np.stack(self.map_pearson), axis=0)
    map_spearman = _nanmean(np.stack(self.map_spearman), axis=0)
    insulation = _nanmean(np.stack(self.insulation), axis=0)
    diagonal_pearson = self.diagonals.pearson_r().reshape(self.n_diagonals,
                                                          self.n_targets)
    with np.errstate(invalid="ignore", divide="ignore"):
      diagonal_spearman = np.where(self.diagonal_spearman_count > 0,
                                   self.diagonal_spearman_sum
                                   / np.maximum(self.diagonal_spearman_count, 1), np.nan)
    return {
        "pearsonr": _nanmean(pearson), "r2": _nanmean(r2),
        "pearsonr_per_target": pearson, "r2_per_target": r2,
        "map_pearsonr": _nanmean(map_pearson), "map_spearmanr": _nanmean(map_spearman),
        "map_pearsonr_per_target": map_pearson, "map_spearmanr_per_target": map_spearman,
        "diagonal_pearsonr": _nanmean(diagonal_pearson),
        "diagonal_spearmanr": _nanmean(diagonal_spearman),
        "pearsonr_per_diagonal": diagonal_pearson,
        "spearmanr_per_diagonal": diagonal_spearman,
        "diagonal_distances": np.arange(self.diagonal_offset, self.n_bins),
        "insulation_pearsonr": _nanmean(insulation),
        "insulation_pearsonr_per_target": insulation,
    }


class ContactMap(base.Task):
  """Masked MSE over upper-triangle contact maps ``[batch, n_pairs, targets]``.

  Args:
    head: key of the model's output dict to score; ignored for a single array.
    target_key: batch key of the targets.
    diagonal_offset: diagonals left out of the triangle; None takes the dataset's
      ``diagonal_offset`` metadata, else Akita's 2.
    n_bins: bins per side of the cropped map; None takes the dataset's ``n_bins``,
      else it is inferred from the number of pairs.
    target_names: names of the targets (cell types), for reports; None takes the
      dataset's ``target_names``.
    insulation_window: side of Crane et al.'s insulation square, in bins.
  """

  def __init__(self, head: str | None = None, target_key: str = "target",
               diagonal_offset: int | None = None, n_bins: int | None = None,
               target_names: Sequence[str] | None = None,
               insulation_window: int = INSULATION_WINDOW):
    self.head = head
    self.target_key = target_key
    self.target_keys = (target_key,)
    self.diagonal_offset = None if diagonal_offset is None else int(diagonal_offset)
    self.n_bins = None if n_bins is None else int(n_bins)
    self.target_names = None if target_names is None else tuple(target_names)
    self.insulation_window = int(insulation_window)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if self.diagonal_offset is None and metadata.get("diagonal_offset") is not None:
      self.diagonal_offset = int(metadata["diagonal_offset"])
    if self.n_bins is None and metadata.get("n_bins") is not None:
      self.n_bins = int(metadata["n_bins"])
    if self.target_names is None and metadata.get("target_names"):
      self.target_names = tuple(metadata["target_names"])

  @property
  def offset(self) -> int:
    return AKITA_DIAGONAL_OFFSET if self.diagonal_offset is None else self.diagonal_offset

  def geometry(self, n_pairs: int) -> int:
    """Bins per side for ``n_pairs`` entries, checked against a configured ``n_bins``."""
    n_bins = bins_from_pairs(n_pairs, self.offset)
    if self.n_bins is not None and self.n_bins != n_bins:
      raise ValueError(f"{n_pairs} pairs at diagonal offset {self.offset} make a "
                       f"{n_bins}-bin map, but the task has n_bins={self.n_bins}")
    return n_bins

  def select(self, outputs: Any) -> Any:
    """The scored array: ``outputs[head]`` for a dict of heads, else ``outputs``."""
    if isinstance(outputs, Mapping):
      if self.head is None or self.head not in outputs:
        raise ValueError(f"set the contact_map task's head to one of {sorted(outputs)} "
                         f"(got {self.head!r})")
      return outputs[self.head]
    return outputs

  def loss(self, outputs, batch):
    predictions = self.select(outputs).astype(jnp.float32)
    targets = batch[self.target_key].astype(jnp.float32)
    if predictions.shape != targets.shape:
      raise ValueError(f"predictions {tuple(predictions.shape)} and {self.target_key!r} "
                       f"{tuple(targets.shape)} differ in shape")
    batch_size = predictions.shape[0]
    valid = jnp.isfinite(targets)
    if "example_mask" in batch:
      example = batch["example_mask"].astype(jnp.float32).reshape(
          (batch_size,) + (1,) * (targets.ndim - 1))
      valid = valid & (example > 0)
    # where() before squaring keeps NaN targets (and padding rows) out of the gradient.
    error = jnp.where(valid, predictions - jnp.where(valid, targets, 0.0), 0.0)
    count = valid.sum().astype(jnp.float32)
    return jnp.sum(error * error) / jnp.maximum(count, 1.0), count

  def predictions(self, outputs):
    return self.select(outputs).astype(jnp.float32)

  def new_metrics(self) -> "_LazyMetrics":
    return _LazyMetrics(self)

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """The triangle of the flipped map: pair ``(i, j)`` -> ``(n-1-j, n-1-i)``."""
    target = np.asarray(example[self.target_key])
    order = reverse_complement_order(self.geometry(target.shape[0]), self.offset)
    example = dict(example)
    example[self.target_key] = np.ascontiguousarray(target[order])
    return example


class _LazyMetrics:
  """``ContactMapMetrics`` sized from the first batch (n_pairs and targets)."""

  def __init__(self, task: ContactMap):
    self.task = task
    self.inner: ContactMapMetrics | None = None

  def update(self, predictions: Any, batch: base.Batch) -> None:
    if self.inner is None:
      shape = np.shape(predictions)
      task = self.task
      self.inner = ContactMapMetrics(task.geometry(shape[1]), task.offset, shape[2],
                                     task.target_key, task.target_names or (),
                                     task.insulation_window)
    self.inner.update(predictions, batch)

  def merge(self, other: "_LazyMetrics") -> "_LazyMetrics":
    if other.inner is not None:
      self.inner = other.inner if self.inner is None else self.inner.merge(other.inner)
    return self

  def compute(self) -> dict[str, float | np.ndarray]:
    if self.inner is None:
      raise ValueError("contact map metrics: compute() called before any update()")
    return self.inner.compute()


Task = ContactMap
