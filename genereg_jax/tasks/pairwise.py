"""Binary decisions scored by ranking and accuracy: pairwise PAS preference (Leung et
al., Bioinformatics 2018) and PAS / non-PAS classification (DeeReCT-PolyA, Xia et al.
2019; `genereg_jax.tasks.pas_classification`).

The model gives one logit per example (``[batch]`` or ``[batch, 1]``) or one per output
(``[batch, outputs]``, e.g. per tissue, with ``label [batch, outputs]``). ``label`` is 1
when the first site of the pair is used more (Leung) or the window holds a true PAS
(DeeReCT-PolyA), 0 otherwise, < 0 unknown. The loss is the binary cross-entropy on the
logit, which for Leung's comparator ``s(first) - s(second) + b`` is the Bradley-Terry /
RankNet pairwise loss. Metrics pooled over outputs: ``accuracy`` (logit > 0 vs label; the
papers' headline number), ``auroc`` and ``auprc`` (scikit-learn's definitions), the
positives' fraction (``positive_rate``: the accuracy of always saying the majority
class is max(r, 1 - r)).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def _align(logits, labels):
  """Logits shaped like the labels (a trailing output axis of 1 dropped)."""
  if logits.ndim == labels.ndim + 1 and logits.shape[-1] == 1:
    logits = logits[..., 0]
  if logits.shape != labels.shape:
    raise ValueError(f"pairwise: logits {logits.shape} do not match labels {labels.shape}")
  return logits


class BinaryDecision(base.Task):
  """Binary cross-entropy on one logit per decision; accuracy, AUROC, AUPRC."""

  def __init__(self, label_key: str = "label"):
    self.label_key = label_key
    self.target_keys = (label_key,)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One logit per scalar label (``[batch, 1]`` models), else one per label."""
    return (1,) if tuple(target_shape) == () else tuple(target_shape)

  def _valid(self, batch, labels):
    valid = labels >= 0
    if "example_mask" in batch:
      mask = batch["example_mask"]
      valid = valid & (mask.reshape(mask.shape + (1,) * (labels.ndim - 1)) > 0)
    return valid

  def loss(self, outputs, batch):
    labels = jnp.asarray(batch[self.label_key], jnp.float32)
    logits = _align(jnp.asarray(outputs, jnp.float32), labels)
    valid = self._valid(batch, labels)
    per = optax.sigmoid_binary_cross_entropy(logits, jnp.clip(labels, 0.0, 1.0))
    weight = valid.sum().astype(jnp.float32)
    return jnp.where(valid, per, 0.0).sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.sigmoid(jnp.asarray(outputs, jnp.float32))

  def new_metrics(self) -> "BinaryDecisionMetrics":
    return BinaryDecisionMetrics(self.label_key, self)


@dataclasses.dataclass
class BinaryDecisionMetrics:
  """Host accumulator of (probability, label) pairs."""

  label_key: str
  task: BinaryDecision
  _scores: list = dataclasses.field(default_factory=list)
  _labels: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    labels = np.asarray(batch[self.label_key], np.float64)
    scores = np.asarray(_align(np.asarray(predictions, np.float64), labels))
    host = {"example_mask": np.asarray(batch["example_mask"])} if "example_mask" in batch else {}
    valid = np.asarray(self.task._valid(host, labels))
    self._scores.append(scores[valid])
    self._labels.append(labels[valid])

  def merge(self, other: "BinaryDecisionMetrics") -> "BinaryDecisionMetrics":
    self._scores += other._scores
    self._labels += other._labels
    return self

  def compute(self) -> dict[str, float]:
    if not self._scores:
      raise ValueError("BinaryDecisionMetrics.compute() called before any update()")
    scores, labels = np.concatenate(self._scores), np.concatenate(self._labels) > 0.5
    return {"num_examples": float(len(labels)),
            "positive_rate": float(labels.mean()) if len(labels) else float("nan"),
            "accuracy": float(((scores > 0.5) == labels).mean()) if len(labels) else float("nan"),
            "auroc": metrics.auroc(scores, labels),
            "auprc": metrics.auprc(scores, labels)}


Task = BinaryDecision
