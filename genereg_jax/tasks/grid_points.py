"""Multiclass classification of protein-surface grid points (NucleicNet, Lam et al. 2019).

Each example is one grid point with an integer ``label`` (0..K-1 in the dataset's
``classes`` order, e.g. base A/C/G/U, ribose, phosphate, non-binding; < 0 unknown);
the model gives ``[batch, K]`` logits. Loss: categorical cross-entropy, optionally
class-weighted because non-binding points dominate; with weights it is
``sum_i w[y_i] CE_i / sum_i w[y_i]``, as PyTorch's ``CrossEntropyLoss(weight=...)``,
which the released NucleicNet code trains with. Padding rows (``example_mask`` 0) and
unknown labels are left out.

Metrics over the whole evaluated set (accumulators merge across devices by addition
and concatenation):

* ``accuracy`` (top-1) and ``balanced_accuracy`` (mean per-class recall);
* ``mcc_per_class``: each class against the rest, from the argmax predictions'
  confusion matrix, and ``mcc`` their mean (macro MCC; 0 where a class is undefined);
* ``auroc_per_class`` / ``auprc_per_class``: one-vs-rest ranking of each class's
  probability (the paper's ROC curves per class), and their means ``auroc`` / ``auprc``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


class GridPoints(base.Task):
  """Weighted softmax cross-entropy over ``[batch, K]`` logits; accuracy, MCC, AUROC."""

  def __init__(self, classes: Sequence[str] = (), class_weights: Sequence[float] | None = None,
               label_key: str = "label"):
    self.classes = tuple(classes)
    self.class_weights = None if class_weights is None else np.asarray(class_weights,
                                                                         np.float32)
    self.label_key = label_key
    self.target_keys = (label_key,)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Class names from the dataset unless the config names them."""
    if not self.classes and metadata.get("classes"):
      self.classes = tuple(metadata["classes"])

  @property
  def num_classes(self) -> int:
    if not self.classes:
      raise ValueError("grid_points: no classes; name them in the config (task.classes) "
                       "or use a dataset whose metadata lists them")
    if self.class_weights is not None and len(self.class_weights) != len(self.classes):
      raise ValueError(f"grid_points: {len(self.class_weights)} class_weights for "
                       f"{len(self.classes)} classes {self.classes}")
    return len(self.classes)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*target_shape, self.num_classes)

  def _valid(self, batch: base.Batch) -> jax.Array:
    valid = batch[self.label_key] >= 0
    if "example_mask" in batch:  # Padding rows of a partial evaluation batch.
      valid = valid & (batch["example_mask"] > 0)
    return valid

  def loss(self, outputs, batch):
    labels = jnp.maximum(batch[self.label_key], 0).astype(jnp.int32)
    valid = self._valid(batch).astype(jnp.float32)
    per_point = optax.softmax_cross_entropy_with_integer_labels(
        outputs.astype(jnp.float32), labels)
    weights = valid if self.class_weights is None else valid * jnp.asarray(
        self.class_weights)[labels]
    loss = (per_point * weights).sum() / jnp.maximum(weights.sum(), 1e-12)
    return loss, valid.sum()

  def predictions(self, outputs):
    return jax.nn.softmax(outputs.astype(jnp.float32), axis=-1)

  def new_metrics(self) -> "GridPointMetrics":
    return GridPointMetrics(self.classes, self.label_key)


class GridPointMetrics:
  """Host accumulator: the confusion matrix and every valid point's probabilities."""

  def __init__(self, classes: Sequence[str], label_key: str = "label"):
    self.classes = tuple(classes)
    self.label_key = label_key
    self.confusion = np.zeros((len(self.classes),) * 2, np.int64)
    self.ranking = metrics.MultilabelRanking(self.classes)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    probabilities = np.asarray(predictions, np.float32)
    labels = np.asarray(batch[self.label_key]).reshape(-1)
    valid = labels >= 0
    if "example_mask" in batch:
      valid &= np.asarray(batch["example_mask"]).reshape(-1) > 0
    probabilities = probabilities.reshape(-1, len(self.classes))[valid]
    labels = labels[valid]
    np.add.at(self.confusion, (labels, probabilities.argmax(-1)), 1)
    self.ranking.update(probabilities, np.eye(len(self.classes), dtype=np.int8)[labels])

  def merge(self, other: "GridPointMetrics") -> "GridPointMetrics":
    self.confusion += other.confusion
    self.ranking.merge(other.ranking)
    return self

  def compute(self) -> dict[str, Any]:
    total = self.confusion.sum()
    true_counts = self.confusion.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
      recall = np.diag(self.confusion) / true_counts
    mcc = metrics.one_vs_rest_mcc(self.confusion)
    ranking = self.ranking.compute()
    return {
        "accuracy": float(np.trace(self.confusion) / total) if total else float("nan"),
        "balanced_accuracy": float(np.nanmean(recall)) if (true_counts > 0).any()
                             else float("nan"),
        "mcc": float(mcc.mean()),
        "mcc_per_class": mcc,
        "auroc": ranking["auroc"],
        "auroc_per_class": ranking["auroc_per_label"],
        "auprc": ranking["auprc"],
        "auprc_per_class": ranking["auprc_per_label"],
        "confusion": self.confusion.copy(),
    }


Task = GridPoints
