"""Per-position splice-site classification, as in SpliceAI (Jaganathan et al., Cell 2019).

Every labelled nucleotide is one of three classes, ``neither`` (0), ``acceptor`` (1) or
``donor`` (2); the model gives ``[batch, length, 3]`` logits. The loss is categorical
cross-entropy averaged over valid positions: a label < 0 (padding beyond the gene end),
a ``label_mask`` of 0 or an ``example_mask`` of 0 (padding rows of an evaluation batch)
excludes a position. The paper's Keras loss averaged over all positions, padding
included (padding rows are all-zero targets there and add nothing but the count); the
mean over valid positions differs from it only by a constant factor per batch.

Metrics are the paper's (STAR Methods, "Model evaluation"), computed by its training
code for acceptors and donors separately over the whole evaluated set:

* top-k accuracy: with k the number of true sites of the class, the fraction of true
  sites among the k positions with the highest predicted probability of that class
  (the threshold at which as many sites are predicted as exist). The training code also
  prints it for k = 0.5, 2 and 4 times that number, dividing by ``min(k, #true)``;
  these are the ``_0.5x``, ``_2x`` and ``_4x`` entries.
* PR-AUC: average precision of the class probability (scikit-learn's
  ``average_precision_score``, which the training code called).

Both need the global ranking of positions, so the accumulator keeps the acceptor and
donor probabilities of every valid position (9 bytes each); accumulators from several
devices or hosts merge by concatenation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics

CLASSES = ("neither", "acceptor", "donor")
SITE_CLASSES = {"acceptor": 1, "donor": 2}
#: Multiples of the true-site count at which SpliceAI's training code reports top-k.
TOP_K_FACTORS = (0.5, 1.0, 2.0, 4.0)


def valid_positions(batch: base.Batch, label_key: str = "label") -> jax.Array:
  """``[batch, length]`` bool: positions that count (label >= 0, not masked or padded)."""
  labels = batch[label_key]
  mask = labels >= 0
  if f"{label_key}_mask" in batch:
    mask = mask & (batch[f"{label_key}_mask"] > 0)
  if "example_mask" in batch:
    mask = mask & (batch["example_mask"][:, None] > 0)
  return mask


def top_k_accuracy(scores: np.ndarray, is_site: np.ndarray, factor: float = 1.0) -> float:
  """SpliceAI's top-k accuracy of one class (Jaganathan et al. 2019).

  Args:
    scores: ``[n]`` predicted probabilities of the class at every evaluated position.
    is_site: ``[n]`` bool, true at the positions annotated as that class.
    factor: k is ``int(factor * number of true sites)``.

  Returns:
    ``|true sites among the k highest scores| / min(k, number of true sites)``; ties in
    score are broken by position order (earlier first). NaN without true sites.
  """
  scores = np.asarray(scores, dtype=np.float64)
  is_site = np.asarray(is_site, dtype=bool)
  num_true = int(is_site.sum())
  k = int(factor * num_true)
  if num_true == 0 or k == 0:
    return float("nan")
  top = np.argsort(-scores, kind="stable")[:k]
  return float(is_site[top].sum() / min(k, num_true))


class SpliceSites(base.Task):
  """Categorical cross-entropy over ``[batch, length, 3]`` logits; top-k accuracy, PR-AUC.

  Attributes:
    label_key: batch key of the ``int[batch, length]`` labels (0 neither, 1 acceptor,
      2 donor, < 0 ignored).
  """

  def __init__(self, label_key: str = "label"):
    self.label_key = label_key
    self.target_keys = (label_key,)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-example model output shape for per-example labels of ``target_shape``."""
    return (*tuple(target_shape), len(CLASSES))

  def loss(self, outputs, batch):
    logits = outputs.astype(jnp.float32)
    labels = batch[self.label_key]
    if logits.shape[:-1] != labels.shape or logits.shape[-1] != len(CLASSES):
      raise ValueError(
          f"splice_sites expects logits [batch, length, {len(CLASSES)}] for labels "
          f"[batch, length]; got logits {logits.shape} and labels {labels.shape}.")
    mask = valid_positions(batch, self.label_key)
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    target = jnp.clip(labels, 0, len(CLASSES) - 1).astype(jnp.int32)
    nll = -jnp.take_along_axis(log_probs, target[..., None], axis=-1)[..., 0]
    weight = mask.sum().astype(jnp.float32)
    return jnp.where(mask, nll, 0.0).sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.softmax(outputs.astype(jnp.float32), axis=-1)

  def new_metrics(self) -> "SpliceSiteMetrics":
    return SpliceSiteMetrics(self.label_key)

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """Reverses the position axis of the labels; acceptor and donor are NOT swapped.

    A label names a nucleotide's role in the annotated transcript, whichever strand the
    sequence is read on: after reverse-complementing, the donor of an exon is the same
    nucleotide, now at the exon's left end and read as the reverse complement of a donor
    motif. Calling it an acceptor would claim a plus-strand exon that does not exist.
    SpliceAI predicts sites of the transcript read 5'->3' along the input, and the
    builders already reverse-complement minus-strand genes, so this augmentation (which
    teaches a second, antisense reading) is normally off.
    """
    example = dict(example)
    for key in (self.label_key, f"{self.label_key}_mask"):
      if key in example:
        example[key] = np.ascontiguousarray(np.asarray(example[key])[::-1])
    return example


@dataclasses.dataclass
class SpliceSiteMetrics:
  """Host accumulator of acceptor/donor probabilities and labels at valid positions."""

  label_key: str = "label"
  _scores: list = dataclasses.field(default_factory=list)
  _labels: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    """Adds ``[batch, length, 3]`` probabilities for ``batch[label_key]`` labels."""
    predictions = np.asarray(predictions, dtype=np.float32)
    host = {k: np.asarray(v) for k, v in batch.items()
            if k in (self.label_key, f"{self.label_key}_mask", "example_mask")}
    valid = np.asarray(valid_positions(host, self.label_key))
    self._scores.append(predictions[valid][:, 1:])
    self._labels.append(host[self.label_key][valid].astype(np.int8))

  def merge(self, other: "SpliceSiteMetrics") -> "SpliceSiteMetrics":
    self._scores += other._scores
    self._labels += other._labels
    return self

  def state(self) -> tuple[np.ndarray, np.ndarray]:
    """``(scores [n, 2] acceptor/donor probabilities, labels [n])``, e.g. to gather."""
    if not self._scores:
      raise ValueError("SpliceSiteMetrics.compute() called before any update()")
    return np.concatenate(self._scores), np.concatenate(self._labels)

  def compute(self) -> dict[str, float]:
    scores, labels = self.state()
    results: dict[str, float] = {"num_positions": float(labels.size)}
    for name, cls in SITE_CLASSES.items():
      is_site = labels == cls
      class_scores = scores[:, cls - 1]
      results[f"num_{name}s"] = float(is_site.sum())
      results[f"auprc_{name}"] = metrics.auprc(class_scores, is_site)
      for factor in TOP_K_FACTORS:
        suffix = "" if factor == 1.0 else f"_{factor:g}x"
        results[f"top_k_accuracy_{name}{suffix}"] = top_k_accuracy(
            class_scores, is_site, factor)
    with np.errstate(all="ignore"):
      for metric in ("auprc", "top_k_accuracy"):
        values = [results[f"{metric}_{name}"] for name in SITE_CLASSES]
        finite = [v for v in values if np.isfinite(v)]
        results[metric] = float(np.mean(finite)) if finite else float("nan")
    return results


Task = SpliceSites
