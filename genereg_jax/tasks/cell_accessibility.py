"""Peak accessibility in every single cell (scBasset, Yuan & Kelley, Nat. Methods 2022).

The loss is `multilabel_binary`'s binary cross-entropy over ``[peaks, num_cells]``
logits (every (peak, cell) pair a label), as scBasset's Keras
``BinaryCrossentropy``. The metrics differ: with thousands of cells a per-cell AUROC
is thousands of sorts per evaluation, so AUROC and AUPRC are pooled over every (peak,
cell) pair (one sort; Keras' ``AUC`` metric that scBasset monitors is pooled too), with
the mean per-peak AUROC across cells beside them (how well a peak's cells are ranked).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics
from genereg_jax.tasks.multilabel_binary import MultilabelBinary


class CellAccessibility(MultilabelBinary):
  """BCE over ``[batch, num_cells]`` logits; pooled AUROC/AUPRC, mean per-peak AUROC."""

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Nothing: the dataset's ``label_names`` name cell types, not the per-cell outputs."""

  def new_metrics(self) -> "PooledRanking":
    return PooledRanking(self.label_key)


class PooledRanking:
  """Host accumulator of (probability, label) pairs, ranked once over all of them."""

  def __init__(self, label_key: str):
    self.label_key = label_key
    self._scores: list[np.ndarray] = []
    self._labels: list[np.ndarray] = []

  def update(self, predictions: Any, batch: base.Batch) -> None:
    self._scores.append(np.asarray(predictions, np.float32))
    self._labels.append(np.asarray(batch[self.label_key]).astype(np.int8))

  def merge(self, other: "PooledRanking") -> "PooledRanking":
    self._scores += other._scores
    self._labels += other._labels
    return self

  def compute(self) -> dict[str, float]:
    scores, labels = np.concatenate(self._scores), np.concatenate(self._labels)
    valid = labels >= 0
    per_peak = [metrics.auroc(s[v], l[v]) for s, l, v in zip(scores, labels, valid)]
    with np.errstate(all="ignore"):
      return {"auroc": metrics.auroc(scores[valid], labels[valid]),
              "auprc": metrics.auprc(scores[valid], labels[valid]),
              "auroc_per_peak": float(np.nanmean(per_peak)) if np.isfinite(per_peak).any()
                                else float("nan")}


Task = CellAccessibility
