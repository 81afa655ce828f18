"""One class of ``K`` per example: softmax cross-entropy, accuracy, one-vs-rest AUROC.

For classifiers with mutually exclusive classes, e.g. CNNC's gene-pair classes (Yuan &
Bar-Joseph, PNAS 2019: 0 no interaction, 1 a regulates b, 2 b regulates a), trained with
Keras' ``categorical_crossentropy`` on a softmax. Labels < 0 are missing and ignored.
Metrics: accuracy, the mean one-vs-rest AUROC over classes (CNNC's ROC curves),
Gorodkin's multiclass MCC and the confusion matrix (rows true, columns predicted).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


class Multiclass(base.Task):
  """Softmax cross-entropy over ``[batch, num_classes]`` logits of integer labels."""

  def __init__(self, label_key: str = "label", class_names: Sequence[str] = ()):
    self.label_key = label_key
    self.target_keys = (label_key,)
    self.class_names = tuple(class_names)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if not self.class_names and metadata.get("class_names"):
      self.class_names = tuple(metadata["class_names"])

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """A class axis of ``len(class_names)`` (names from the config or the dataset)."""
    if not self.class_names:
      raise ValueError("multiclass task: name the classes (task.class_names or the "
                       "dataset's class_names metadata)")
    return (*target_shape, len(self.class_names))

  def loss(self, outputs, batch):
    labels = batch[self.label_key].astype(jnp.int32)
    mask = (labels >= 0).astype(jnp.float32)
    if "example_mask" in batch:
      mask = mask * batch["example_mask"]
    per_example = optax.softmax_cross_entropy_with_integer_labels(
        outputs.astype(jnp.float32), jnp.maximum(labels, 0))
    weight = mask.sum()
    return jnp.sum(per_example * mask) / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.softmax(outputs.astype(jnp.float32), axis=-1)

  def new_metrics(self) -> "MulticlassMetrics":
    return MulticlassMetrics(self.label_key)


class MulticlassMetrics:
  """Host accumulator of class probabilities and labels."""

  def __init__(self, label_key: str):
    self.label_key = label_key
    self._probabilities: list[np.ndarray] = []
    self._labels: list[np.ndarray] = []

  def update(self, predictions: Any, batch: base.Batch) -> None:
    self._probabilities.append(np.asarray(predictions, np.float32))
    self._labels.append(np.asarray(batch[self.label_key]).reshape(-1))

  def merge(self, other: "MulticlassMetrics") -> "MulticlassMetrics":
    self._probabilities += other._probabilities
    self._labels += other._labels
    return self

  def compute(self) -> dict[str, Any]:
    probabilities = np.concatenate(self._probabilities)
    labels = np.concatenate(self._labels)
    keep = labels >= 0
    probabilities, labels = probabilities[keep], labels[keep]
    num_classes = probabilities.shape[-1]
    predicted = probabilities.argmax(axis=-1)
    confusion = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = np.array([metrics.auroc(probabilities[:, k], labels == k)
                          for k in range(num_classes)])
    with np.errstate(all="ignore"):
      return {"accuracy": float((predicted == labels).mean()),
              "auroc": float(np.nanmean(per_class)) if np.isfinite(per_class).any()
                       else float("nan"),
              "auroc_per_class": per_class, "mcc": metrics.gorodkin_mcc(confusion),
              "confusion": confusion}


Task = Multiclass
