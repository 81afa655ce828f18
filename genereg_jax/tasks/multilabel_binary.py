"""Multi-label binary classification (DeepSEA, Basset, DanQ ...).

Binary cross-entropy on logits, averaged over valid labels, with optional per-label
positive weights; labels < 0 or a ``label_mask`` of 0 are missing and ignored. Metrics:
streaming AUROC and AUPRC per label and their means.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def valid_mask(batch: base.Batch, label_key: str) -> jax.Array:
  """Labels that count: not missing (< 0), not masked, not padding."""
  labels = batch[label_key]
  mask = labels >= 0  # Also false for NaN.
  if f"{label_key}_mask" in batch:
    mask = mask & (batch[f"{label_key}_mask"] > 0)
  if "example_mask" in batch:  # Padding rows of a partial evaluation batch.
    mask = mask & (batch["example_mask"][:, None] > 0)
  return mask


class MultilabelBinary(base.Task):
  """BCE over ``[batch, num_labels]`` logits; AUROC/AUPRC per label."""

  def __init__(self, label_key: str = "label", pos_weight: Sequence[float] | float | None = None,
               label_names: Sequence[str] = ()):
    self.label_key = label_key
    self.target_keys = (label_key,)
    self.pos_weight = None if pos_weight is None else np.asarray(pos_weight, np.float32)
    self.label_names = tuple(label_names)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Label names from the dataset (DeepSEA's 919, one per BED) unless the config
    names them."""
    if not self.label_names and metadata.get("label_names"):
      self.label_names = tuple(metadata["label_names"])

  def loss(self, outputs, batch):
    logits = outputs.astype(jnp.float32)
    labels = batch[self.label_key].astype(jnp.float32)
    mask = valid_mask(batch, self.label_key).astype(jnp.float32)
    targets = jnp.clip(labels, 0.0, 1.0)
    if self.pos_weight is None:
      per_label = optax.sigmoid_binary_cross_entropy(logits, targets)
    else:
      log_p, log_not_p = jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits)
      per_label = -(self.pos_weight * targets * log_p + (1.0 - targets) * log_not_p)
    weight = mask.sum()
    per_label = jnp.where(mask > 0, per_label, 0.0)  # Missing labels may hold NaN.
    return per_label.sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.sigmoid(outputs.astype(jnp.float32))

  def new_metrics(self) -> "MultilabelMetrics":
    return MultilabelMetrics(self.label_key, self.label_names)


class MultilabelMetrics:
  """Host accumulator: ranking metrics over (probability, label) pairs."""

  def __init__(self, label_key: str, label_names: Sequence[str] = ()):
    self.label_key = label_key
    self.ranking = metrics.MultilabelRanking(tuple(label_names))

  def update(self, predictions: Any, batch: base.Batch) -> None:
    mask = batch.get(f"{self.label_key}_mask")
    self.ranking.update(predictions, batch[self.label_key], mask)

  def merge(self, other: "MultilabelMetrics") -> "MultilabelMetrics":
    self.ranking.merge(other.ranking)
    return self

  def compute(self) -> dict[str, Any]:
    return self.ranking.compute()


Task = MultilabelBinary
