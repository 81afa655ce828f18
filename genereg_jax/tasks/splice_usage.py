"""Per-tissue splice-site probability and usage, as Pangolin (Zeng & Li, Genome Biol 2022).

Targets are ``usage`` ``float[batch, length, tissues]`` (``spliceai_gencode/gencode_usage``,
``synthetic_splicing/usage``): the fraction of transcripts spliced at each position in
each tissue, in [0, 1] where quantified (0 at positions that are not sites), negative or
NaN where unknown (padding, genes without quantification, ``NA``). In tissue ``t`` a
position is a splice site iff its usage there is > 0, as in Pangolin's training data.

The model gives ``{"splice": [batch, length, tissues, 2] logits, "usage": [batch,
length, tissues] logits}`` (`genereg_jax.models.pangolin.Pangolin` with
``output="logits"``). The loss is the released training code's (``tkzeng/Pangolin_train``,
``train/train_multiple.py``): summed over tissues, the 2-class cross-entropy of P(splice)
against site / no site plus the binary cross-entropy of the sigmoid usage against the
usage, each averaged over that tissue's known positions. (The official cross-entropy
divides by all positions, unknown ones adding 0; that differs by a constant factor per
batch, as in ``splice_sites``.)

Metrics, per tissue (suffix ``_<tissue>``) and as the mean over tissues (no suffix):

* ``top_k_accuracy`` and ``auprc`` of P(splice) for site vs. no site over the known
  positions: SpliceAI's definitions (`splice_sites.top_k_accuracy`, average precision),
  which Pangolin reports per tissue (Figure 1b; ``Pangolin_train/evaluate``);
* ``usage_spearman`` and ``usage_pearson`` between predicted and measured usage at the
  quantified sites: positions with known usage that are a site (usage > 0) in at least
  one tissue, so a site unused in one tissue but used in another counts there with 0.

Site scores keep 4 bytes per tissue and position (plus 1 for the label); accumulators
from several devices or hosts merge by concatenation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics
from genereg_jax.tasks import splice_sites


def known_usage(batch: base.Batch, usage_key: str = "usage"):
  """``[batch, length, tissues]`` bool: usage measured (>= 0, not NaN, not padding rows)."""
  usage = batch[usage_key]
  known = usage >= 0
  if "example_mask" in batch:
    known = known & (batch["example_mask"][:, None, None] > 0)
  return known


class SpliceUsage(base.Task):
  """Pangolin's per-tissue loss: site cross-entropy + usage BCE; top-k, PR-AUC, Spearman.

  Attributes:
    tissues: names of the usage columns; taken from the dataset's ``tissues`` metadata
      when not given, and checked against it when given.
    usage_key: batch key of the ``float[batch, length, tissues]`` usage.
  """

  def __init__(self, tissues: Sequence[str] = (), usage_key: str = "usage"):
    self.tissues = tuple(tissues)
    self.usage_key = usage_key
    self.target_keys = (usage_key,)

  @property
  def label_names(self) -> tuple[str, ...]:
    """Names along the predictions' last axis (the tissues), e.g. for ``predict``."""
    return self.tissues

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Takes the tissue names from the dataset; a configured order that differs from
    the dataset's is an error (heads would learn the wrong tissue)."""
    names = tuple(metadata.get("tissues") or ())
    if not self.tissues:
      self.tissues = names
    elif names and names != self.tissues:
      raise ValueError(f"splice_usage is configured for tissues {self.tissues} but the "
                       f"dataset's usage columns are {names}; set the model's and task's "
                       "tissues to the dataset's, in its order.")

  def _check(self, outputs, usage) -> None:
    if not isinstance(outputs, Mapping) or set(outputs) != {"splice", "usage"}:
      raise ValueError('splice_usage expects model outputs {"splice": [batch, length, '
                       'tissues, 2], "usage": [batch, length, tissues]} (Pangolin); got '
                       f"{jax.tree.map(jnp.shape, outputs)}.")
    splice, predicted = outputs["splice"], outputs["usage"]
    if (splice.shape != (*usage.shape, 2) or predicted.shape != usage.shape
        or (self.tissues and usage.shape[-1] != len(self.tissues))):
      raise ValueError(
          f"splice_usage: outputs splice {splice.shape} and usage {predicted.shape} do not "
          f"match usage targets {usage.shape} [batch, length, tissues] (tissues "
          f"{self.tissues or 'from the dataset'}).")

  def loss(self, outputs, batch):
    usage = jnp.asarray(batch[self.usage_key], jnp.float32)
    self._check(outputs, usage)
    known = known_usage({**batch, self.usage_key: usage}, self.usage_key)
    count = jnp.maximum(known.sum((0, 1)), 1).astype(jnp.float32)
    # Zero targets where unknown: a NaN target would leak into the gradient.
    target = jnp.where(known, usage, 0.0)
    log_probs = jax.nn.log_softmax(outputs["splice"].astype(jnp.float32), axis=-1)
    site = (target > 0).astype(jnp.int32)
    cross_entropy = -jnp.take_along_axis(log_probs, site[..., None], axis=-1)[..., 0]
    bce = optax.sigmoid_binary_cross_entropy(outputs["usage"].astype(jnp.float32), target)
    per_tissue = (jnp.where(known, cross_entropy + bce, 0.0).sum((0, 1))) / count
    weight = known.any(-1).sum().astype(jnp.float32)
    return per_tissue.sum(), weight

  def predictions(self, outputs):
    """``{"splice": P(splice) [batch, length, tissues], "usage": [..., tissues]}``."""
    return {"splice": jax.nn.softmax(outputs["splice"].astype(jnp.float32), axis=-1)[..., 1],
            "usage": jax.nn.sigmoid(outputs["usage"].astype(jnp.float32))}

  def new_metrics(self) -> "SpliceUsageMetrics":
    return SpliceUsageMetrics(self.tissues, self.usage_key)

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """Reverses the position axis of the usage (see `splice_sites` on why RC
    augmentation of transcript-oriented splice data is normally off)."""
    example = dict(example)
    if self.usage_key in example:
      example[self.usage_key] = np.ascontiguousarray(np.asarray(example[self.usage_key])[::-1])
    return example


@dataclasses.dataclass
class SpliceUsageMetrics:
  """Host accumulator of P(splice) at known positions and usage at quantified sites."""

  tissues: tuple[str, ...] = ()
  usage_key: str = "usage"
  _site_scores: list = dataclasses.field(default_factory=list)
  _sites: list = dataclasses.field(default_factory=list)
  _usage_predicted: list = dataclasses.field(default_factory=list)
  _usage_measured: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Mapping[str, Any], batch: base.Batch) -> None:
    """Adds `SpliceUsage.predictions` for ``batch[usage_key]``."""
    usage = np.asarray(batch[self.usage_key], dtype=np.float32)
    host = {self.usage_key: usage}
    if "example_mask" in batch:
      host["example_mask"] = np.asarray(batch["example_mask"])
    with np.errstate(invalid="ignore"):
      known = np.asarray(known_usage(host, self.usage_key))
      positions = known.any(-1)
      quantified = positions & (known & (usage > 0)).any(-1)
    sites = np.where(known, usage > 0, -1).astype(np.int8)
    self._site_scores.append(np.asarray(predictions["splice"], np.float32)[positions])
    self._sites.append(sites[positions])
    self._usage_predicted.append(np.asarray(predictions["usage"], np.float32)[quantified])
    self._usage_measured.append(np.where(known, usage, -1.0)[quantified])

  def merge(self, other: "SpliceUsageMetrics") -> "SpliceUsageMetrics":
    self._site_scores += other._site_scores
    self._sites += other._sites
    self._usage_predicted += other._usage_predicted
    self._usage_measured += other._usage_measured
    return self

  def state(self) -> tuple[np.ndarray, ...]:
    """``(site scores [n, T], sites [n, T] (1, 0, -1 unknown), predicted usage [m, T],
    measured usage [m, T] (-1 unknown))``, e.g. to gather across hosts."""
    if not self._site_scores:
      raise ValueError("SpliceUsageMetrics.compute() called before any update()")
    return tuple(np.concatenate(parts) for parts in (
        self._site_scores, self._sites, self._usage_predicted, self._usage_measured))

  def compute(self) -> dict[str, float]:
    scores, sites, predicted, measured = self.state()
    names = self.tissues or tuple(f"tissue{t}" for t in range(scores.shape[-1]))
    results: dict[str, float] = {"num_positions": float(len(sites))}
    for t, name in enumerate(names):
      known = sites[:, t] >= 0
      is_site = sites[known, t] == 1
      results[f"num_sites_{name}"] = float(is_site.sum())
      results[f"auprc_{name}"] = metrics.auprc(scores[known, t], is_site)
      results[f"top_k_accuracy_{name}"] = splice_sites.top_k_accuracy(
          scores[known, t], is_site)
      quantified = measured[:, t] >= 0
      results[f"num_quantified_sites_{name}"] = float(quantified.sum())
      results[f"usage_spearman_{name}"] = metrics.spearman_r(
          predicted[quantified, t], measured[quantified, t])
      results[f"usage_pearson_{name}"] = metrics.pearson_r(
          predicted[quantified, t], measured[quantified, t])
    for metric in ("auprc", "top_k_accuracy", "usage_spearman", "usage_pearson"):
      values = [results[f"{metric}_{name}"] for name in names]
      finite = [v for v in values if np.isfinite(v)]
      results[metric] = float(np.mean(finite)) if finite else float("nan")
    return results


Task = SpliceUsage
