"""Per-residue PTM site prediction, binary or multi-label over PTM types, with masks.

One example is a window centred on a candidate residue (MusiteDeep, DeepPhos, DeepUbi);
``label [n_types]`` says which modifications it carries and ``label_mask [n_types]``
which types are defined for that residue (phospho-S/T only on S and T ...); masked,
missing (< 0) and padding entries are ignored by the loss and the metrics.

Losses, per model output:
- ``"bce"``: logits ``[batch, n_types]``, sigmoid cross-entropy (a two-unit softmax
  head's ``z_pos - z_neg`` gives the same loss);
- ``"margin"``: capsule lengths, ``[batch, n_types]`` (one capsule per type) or
  ``[batch, n_types, 2]`` (MusiteDeep's negative and positive capsule per type),
  Sabour et al.'s margin loss (m+ 0.9, m- 0.1, lambda 0.5), summed over a type's
  capsules; the probability is the positive capsule's length.
A model returning a dict is an ensemble: each member (``member_losses`` names its
loss) adds its own loss, so each learns as if alone, and the prediction is the mean of
the members' probabilities (MusiteDeep's CNN + capsule average). A ``reconstruction``
member, if any, adds ``reconstruction_weight`` x the summed squared error against the
input window (Sabour et al.'s regulariser).

Metrics, per type and averaged over types, as PTM papers report them: AUROC, AUPRC,
and MCC, F1, precision and recall at the threshold that maximises F1.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.nn import capsules
from genereg_jax.tasks import base
from genereg_jax.tasks import metrics
from genereg_jax.tasks.multilabel_binary import valid_mask

LOSSES = ("bce", "margin")


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
  """The threshold (predict positive when score >= it) with the highest F1, and the MCC,
  F1, precision and recall there; NaN without both classes."""
  scores = np.asarray(scores, np.float64)
  labels = np.asarray(labels, np.float64)
  nan = dict(threshold=float("nan"), f1=float("nan"), mcc=float("nan"),
             precision=float("nan"), recall=float("nan"))
  if labels.size == 0 or labels.min() == labels.max():
    return nan
  order = np.argsort(-scores, kind="mergesort")
  sorted_scores, sorted_labels = scores[order], labels[order]
  ends = np.r_[np.nonzero(np.diff(sorted_scores))[0], labels.size - 1]
  tp = np.cumsum(sorted_labels)[ends]
  fp = 1 + ends - tp
  positives = labels.sum()
  fn = positives - tp
  tn = labels.size - positives - fp
  f1 = 2 * tp / (2 * tp + fp + fn)
  best = int(np.argmax(f1))
  tp, fp, fn, tn = tp[best], fp[best], fn[best], tn[best]
  denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
  return dict(threshold=float(sorted_scores[ends[best]]), f1=float(f1[best]),
              mcc=float((tp * tn - fp * fn) / denominator) if denominator > 0 else 0.0,
              precision=float(tp / (tp + fp)), recall=float(tp / positives))


class PTMSites(base.Task):
  """Masked binary / multi-label site prediction; see the module docstring.

  Args:
    loss: loss of a single (non-dict) model output: ``"bce"`` or ``"margin"``.
    member_losses: loss of each member of a dict output (an ensemble).
    ptm_types: type names (default: the dataset's ``ptm_types`` metadata).
    label_key: batch key of the labels (``<label_key>_mask`` is the mask).
    m_plus, m_minus, down_weight: margin-loss constants.
    reconstruction_weight: weight of a ``reconstruction`` member's squared error.
    input_key: batch key the reconstruction is compared with.
    use_mask: read ``<label_key>_mask`` from the data (the PTM builders write it).
  """

  def __init__(self, loss: str = "bce",
               member_losses: Mapping[str, str] | None = None,
               ptm_types: Sequence[str] = (), label_key: str = "label",
               m_plus: float = 0.9, m_minus: float = 0.1, down_weight: float = 0.5,
               reconstruction_weight: float = 0.0005, input_key: str = "sequence",
               use_mask: bool = True):
    self.member_losses = dict(member_losses or {"cnn": "bce", "capsule": "margin"})
    for name in (loss, *self.member_losses.values()):
      if name not in LOSSES:
        raise ValueError(f"unknown PTM site loss {name!r}; valid: {list(LOSSES)}")
    self.loss_name = loss
    self.ptm_types = tuple(ptm_types)
    self.label_key = label_key
    self.target_keys = (label_key, f"{label_key}_mask") if use_mask else (label_key,)
    self.margin = dict(m_plus=m_plus, m_minus=m_minus, down_weight=down_weight)
    self.reconstruction_weight = reconstruction_weight
    self.input_key = input_key

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """PTM type names from the dataset unless the config names them."""
    if not self.ptm_types and metadata.get("ptm_types"):
      self.ptm_types = tuple(metadata["ptm_types"])

  def output_shape(self, target_shape):
    # MusiteDeep's capsule network has a negative and a positive capsule per type.
    if self.loss_name == "margin":
      return (*target_shape, 2)
    return tuple(target_shape)

  def _members(self, outputs) -> dict[str, tuple[str, Any]]:
    if not isinstance(outputs, Mapping):
      return {"": (self.loss_name, outputs)}
    unknown = sorted(set(outputs) - set(self.member_losses) - {"reconstruction"})
    if unknown:
      raise ValueError(f"model outputs {unknown} have no loss; set task.member_losses "
                       f"(now {self.member_losses})")
    return {k: (self.member_losses[k], v) for k, v in outputs.items() if k != "reconstruction"}

  def _per_label_loss(self, kind: str, output, targets):
    output = output.astype(jnp.float32)
    if kind == "bce":
      return optax.sigmoid_binary_cross_entropy(output, targets)
    if output.ndim == targets.ndim + 1:  # [negative, positive] capsule per type.
      return capsules.margin_loss(output, jnp.stack([1.0 - targets, targets], -1),
                                  **self.margin).sum(-1)
    return capsules.margin_loss(output, targets, **self.margin)

  def loss(self, outputs, batch):
    labels = batch[self.label_key].astype(jnp.float32)
    mask = valid_mask(batch, self.label_key)
    targets = jnp.clip(jnp.nan_to_num(labels), 0.0, 1.0)
    weight = mask.sum().astype(jnp.float32)
    total = 0.0
    for kind, output in self._members(outputs).values():
      per_label = jnp.where(mask, self._per_label_loss(kind, output, targets), 0.0)
      total = total + per_label.sum() / jnp.maximum(weight, 1.0)
    if isinstance(outputs, Mapping) and "reconstruction" in outputs:
      error = capsules.reconstruction_loss(outputs["reconstruction"], batch[self.input_key])
      rows = mask.any(axis=-1)
      total = total + self.reconstruction_weight * (
          jnp.where(rows, error, 0.0).sum() / jnp.maximum(rows.sum(), 1))
    return total, weight

  @staticmethod
  def _probability(kind: str, output):
    output = output.astype(jnp.float32)
    if kind == "bce":
      return jax.nn.sigmoid(output)
    return output[..., 1] if output.shape[-1] == 2 and output.ndim == 3 else output

  def predictions(self, outputs):
    members = [self._probability(kind, out) for kind, out in self._members(outputs).values()]
    return sum(members) / len(members)

  def new_metrics(self) -> "PTMSiteMetrics":
    return PTMSiteMetrics(self.label_key, self.ptm_types)


class PTMSiteMetrics:
  """AUROC, AUPRC and best-F1 MCC/F1/precision/recall per PTM type and their means."""

  def __init__(self, label_key: str, ptm_types: Sequence[str] = ()):
    self.label_key = label_key
    self.ranking = metrics.MultilabelRanking(tuple(ptm_types))

  def update(self, predictions: Any, batch: base.Batch) -> None:
    mask = np.asarray(batch.get(f"{self.label_key}_mask", np.ones_like(batch[self.label_key])))
    if "example_mask" in batch:
      mask = mask * (np.asarray(batch["example_mask"])[:, None] > 0)
    self.ranking.update(predictions, batch[self.label_key], mask)

  def merge(self, other: "PTMSiteMetrics") -> "PTMSiteMetrics":
    self.ranking.merge(other.ranking)
    return self

  def compute(self) -> dict[str, Any]:
    result = self.ranking.compute()
    scores, labels, valid = self.ranking.state()
    per_type = [best_f1_threshold(scores[valid[:, i], i], labels[valid[:, i], i])
                for i in range(scores.shape[1])]
    for key in ("mcc", "f1", "precision", "recall", "threshold"):
      values = np.array([row[key] for row in per_type])
      result[f"{key}_per_label"] = values
      if key != "threshold":
        with np.errstate(all="ignore"):
          result[key] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    return result


Task = PTMSites
