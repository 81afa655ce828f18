"""Streaming, mergeable metrics computed on the host.

Ranking metrics (AUROC, AUPRC) keep every valid (score, label) pair so that they equal
scikit-learn's ``roc_auc_score`` and ``average_precision_score`` exactly, ties included;
accumulators from several devices or hosts merge by concatenation.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def _ranked_counts(scores: np.ndarray, labels: np.ndarray):
  """Cumulative true/false positives at each distinct threshold, highest score first."""
  order = np.argsort(-scores, kind="mergesort")
  scores, labels = scores[order], labels[order]
  distinct = np.nonzero(np.diff(scores))[0]
  threshold_ends = np.r_[distinct, labels.size - 1]
  true_positives = np.cumsum(labels)[threshold_ends]
  false_positives = 1 + threshold_ends - true_positives
  return true_positives, false_positives


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
  """Area under the ROC curve (trapezoidal over distinct thresholds); NaN if one class."""
  labels = np.asarray(labels, dtype=np.float64)
  if labels.size == 0 or labels.min() == labels.max():
    return float("nan")
  tps, fps = _ranked_counts(np.asarray(scores, dtype=np.float64), labels)
  tpr = np.r_[0.0, tps / tps[-1]]
  fpr = np.r_[0.0, fps / fps[-1]]
  return float(np.trapezoid(tpr, fpr))


def auprc(scores: np.ndarray, labels: np.ndarray) -> float:
  """Average precision, ``sum_n (R_n - R_{n-1}) P_n``; NaN if there are no positives."""
  labels = np.asarray(labels, dtype=np.float64)
  if labels.size == 0 or labels.max() <= 0:
    return float("nan")
  tps, fps = _ranked_counts(np.asarray(scores, dtype=np.float64), labels)
  precision = tps / (tps + fps)
  recall = tps / tps[-1]
  return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
  """Pearson correlation of two 1-D arrays; NaN with < 2 points or a constant array."""
  x = np.asarray(x, dtype=np.float64)
  y = np.asarray(y, dtype=np.float64)
  if x.size < 2:
    return float("nan")
  x, y = x - x.mean(), y - y.mean()
  denominator = np.sqrt((x * x).sum() * (y * y).sum())
  return float((x * y).sum() / denominator) if denominator > 0 else float("nan")


def average_ranks(x: np.ndarray) -> np.ndarray:
  """1-based ranks of ``x``, ties sharing their mean rank (``scipy.stats.rankdata``)."""
  x = np.asarray(x)
  order = np.argsort(x, kind="mergesort")
  sorted_x = x[order]
  starts = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
  group = np.cumsum(starts) - 1
  first = np.flatnonzero(starts)
  last = np.r_[first[1:], x.size] - 1
  ranks = np.empty(x.size, dtype=np.float64)
  ranks[order] = (first[group] + last[group]) / 2 + 1
  return ranks


def spearman_r(x: np.ndarray, y: np.ndarray) -> float:
  """Spearman rank correlation (Pearson of average ranks, as ``scipy.stats.spearmanr``)."""
  x = np.asarray(x)
  y = np.asarray(y)
  if x.size < 2:
    return float("nan")
  return pearson_r(average_ranks(x), average_ranks(y))


def one_vs_rest_mcc(confusion: np.ndarray) -> np.ndarray:
  """``[K]`` Matthews correlation of each class against the rest from a ``[K, K]``
  confusion matrix (rows true, columns predicted); 0 where undefined, as scikit-learn."""
  confusion = np.asarray(confusion, dtype=np.float64)
  tp = np.diag(confusion)
  fp = confusion.sum(0) - tp
  fn = confusion.sum(1) - tp
  tn = confusion.sum() - tp - fp - fn
  denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(denominator > 0, (tp * tn - fp * fn) / denominator, 0.0)


def gorodkin_mcc(confusion: np.ndarray) -> float:
  """Gorodkin's :math:`R_K` (multiclass MCC) of a ``[K, K]`` confusion matrix (rows
  true); 0 when a marginal is constant (as scikit-learn's ``matthews_corrcoef``)."""
  confusion = np.asarray(confusion, dtype=np.float64)
  total = confusion.sum()
  correct = np.trace(confusion)
  true_counts, predicted_counts = confusion.sum(1), confusion.sum(0)
  numerator = correct * total - predicted_counts @ true_counts
  denominator = np.sqrt((total ** 2 - predicted_counts @ predicted_counts)
                        * (total ** 2 - true_counts @ true_counts))
  return float(numerator / denominator) if denominator > 0 else 0.0


@dataclasses.dataclass
class MultilabelRanking:
  """AUROC and AUPRC per label and their means (over labels with both classes).

  ``update(scores, labels, mask)`` takes ``[batch, num_labels]`` arrays; masked-out
  entries (mask 0) are ignored, as are labels < 0 (missing).
  """
  label_names: tuple[str, ...] = ()
  _scores: list = dataclasses.field(default_factory=list)
  _labels: list = dataclasses.field(default_factory=list)
  _masks: list = dataclasses.field(default_factory=list)

  def update(self, scores, labels, mask=None) -> None:
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels)
    valid = labels >= 0 if mask is None else (np.asarray(mask) > 0) & (labels >= 0)
    self._scores.append(scores.reshape(-1, scores.shape[-1]))
    self._labels.append(labels.reshape(-1, labels.shape[-1]).astype(np.int8))
    self._masks.append(valid.reshape(-1, valid.shape[-1]))

  def merge(self, other: "MultilabelRanking") -> "MultilabelRanking":
    self._scores += other._scores
    self._labels += other._labels
    self._masks += other._masks
    return self

  def state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenated ``(scores, labels, valid)`` arrays, e.g. to gather across hosts."""
    if not self._scores:
      raise ValueError("MultilabelRanking.compute() called before any update()")
    return (np.concatenate(self._scores), np.concatenate(self._labels),
            np.concatenate(self._masks))

  def compute(self) -> dict[str, float | np.ndarray]:
    scores, labels, valid = self.state()
    per_label_auroc = np.array([auroc(scores[valid[:, i], i], labels[valid[:, i], i])
                                for i in range(scores.shape[1])])
    per_label_auprc = np.array([auprc(scores[valid[:, i], i], labels[valid[:, i], i])
                                for i in range(scores.shape[1])])
    with np.errstate(all="ignore"):
      return {
          "auroc": float(np.nanmean(per_label_auroc)) if np.isfinite(per_label_auroc).any()
                   else float("nan"),
          "auprc": float(np.nanmean(per_label_auprc)) if np.isfinite(per_label_auprc).any()
                   else float("nan"),
          "auroc_per_label": per_label_auroc,
          "auprc_per_label": per_label_auprc,
      }


@dataclasses.dataclass
class Mean:
  """Weighted running mean of a scalar (e.g. the evaluation loss)."""
  total: float = 0.0
  weight: float = 0.0

  def update(self, value, weight=1.0) -> None:
    self.total += float(value) * float(weight)
    self.weight += float(weight)

  def merge(self, other: "Mean") -> "Mean":
    self.total += other.total
    self.weight += other.weight
    return self

  def compute(self) -> float:
    return self.total / self.weight if self.weight else float("nan")
