"""Usage of every polyadenylation site of a gene, as DeeReCT-APA (Li et al., GPB 2021).

Targets are padded sets: ``usage [batch, max_pas]`` (fraction of the gene's 3'-end reads
at each site) and ``pas_mask [batch, max_pas]`` (1 for the gene's sites, 0 for padding).
The model gives one logit per site (`genereg_jax.models.deerect_apa`); the prediction is
their softmax over the valid sites. The loss is the released code's: the cross-entropy
``-sum_i u_i log p_i`` between the measured usage, renormalised to sum to 1 over the
valid sites, and the predicted usage, averaged over genes (genes whose usage sums to 0
carry no weight).

Metrics, over all valid sites or all genes of the split, as the paper reports them:

* ``usage_pearson`` / ``usage_spearman`` of predicted vs measured usage over sites;
* ``usage_mae``: mean absolute error over sites (the released code's model selection);
* ``top_pas_accuracy``: genes with >= 2 sites whose most-used site is predicted most
  used (the paper's "highest usage prediction" task);
* ``comparison_accuracy``: pairs of sites of one gene whose measured usages differ by
  more than ``comparison_margin`` (0.05 in the released ``comparison_eval``), ordered
  right by the prediction (the "pairwise comparison" task);
* ``ranking_spearman``: the mean per-gene Spearman correlation over genes with >= 3
  sites (the "ranking" task).

Accumulators keep the per-gene arrays and merge by concatenation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def valid_sites(batch: base.Batch, mask_key: str = "pas_mask"):
  """``[batch, max_pas]`` bool: real sites of real (non-padding) rows."""
  valid = batch[mask_key] > 0
  if "example_mask" in batch:
    valid = valid & (batch["example_mask"][:, None] > 0)
  return valid


class PASUsage(base.Task):
  """Masked softmax cross-entropy over each gene's sites; usage correlations, top-PAS."""

  def __init__(self, usage_key: str = "usage", mask_key: str = "pas_mask",
               comparison_margin: float = 0.05):
    self.usage_key = usage_key
    self.mask_key = mask_key
    self.comparison_margin = comparison_margin
    self.target_keys = (usage_key, mask_key)

  def loss(self, outputs, batch):
    logits = jnp.asarray(outputs, jnp.float32)
    valid = valid_sites(batch, self.mask_key)
    usage = jnp.where(valid, jnp.nan_to_num(jnp.asarray(batch[self.usage_key], jnp.float32)),
                      0.0)
    usage = jnp.maximum(usage, 0.0)
    total = usage.sum(-1, keepdims=True)
    target = usage / jnp.maximum(total, 1e-12)
    log_p = jax.nn.log_softmax(jnp.where(valid, logits, -1e9), axis=-1)
    per_gene = -jnp.where(valid, target * log_p, 0.0).sum(-1)
    genes = (total[:, 0] > 0).astype(jnp.float32)
    weight = genes.sum()
    return (per_gene * genes).sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.softmax(jnp.asarray(outputs, jnp.float32), axis=-1)

  def new_metrics(self) -> "PASUsageMetrics":
    return PASUsageMetrics(self.usage_key, self.mask_key, self.comparison_margin)


@dataclasses.dataclass
class PASUsageMetrics:
  """Host accumulator of (predicted, measured) usage per gene."""

  usage_key: str = "usage"
  mask_key: str = "pas_mask"
  comparison_margin: float = 0.05
  _genes: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    host = {self.mask_key: np.asarray(batch[self.mask_key])}
    if "example_mask" in batch:
      host["example_mask"] = np.asarray(batch["example_mask"])
    valid = np.asarray(valid_sites(host, self.mask_key))
    usage = np.asarray(batch[self.usage_key], np.float64)
    predicted = np.asarray(predictions, np.float64)
    for row in range(valid.shape[0]):
      if valid[row].any():
        measured = np.nan_to_num(usage[row, valid[row]])
        if measured.sum() > 0:
          self._genes.append((predicted[row, valid[row]], measured / measured.sum()))

  def merge(self, other: "PASUsageMetrics") -> "PASUsageMetrics":
    self._genes += other._genes
    return self

  def compute(self) -> dict[str, float]:
    if not self._genes:
      raise ValueError("PASUsageMetrics.compute() called before any update()")
    predicted = np.concatenate([p for p, _ in self._genes])
    measured = np.concatenate([m for _, m in self._genes])
    top, pairs_right, pairs, ranks = [], 0, 0, []
    for p, m in self._genes:
      if len(m) >= 2:
        top.append(np.argmax(p) == np.argmax(m))
        i, j = np.triu_indices(len(m), 1)
        differ = np.abs(m[i] - m[j]) > self.comparison_margin
        pairs += int(differ.sum())
        pairs_right += int((np.sign(p[i] - p[j]) == np.sign(m[i] - m[j]))[differ].sum())
      if len(m) >= 3:
        ranks.append(metrics.spearman_r(p, m))
    finite_ranks = [r for r in ranks if np.isfinite(r)]
    return {
        "num_genes": float(len(self._genes)),
        "num_sites": float(len(measured)),
        "usage_pearson": metrics.pearson_r(predicted, measured),
        "usage_spearman": metrics.spearman_r(predicted, measured),
        "usage_mae": float(np.mean(np.abs(predicted - measured))),
        "top_pas_accuracy": float(np.mean(top)) if top else float("nan"),
        "comparison_accuracy": pairs_right / pairs if pairs else float("nan"),
        "num_comparisons": float(pairs),
        "ranking_spearman": float(np.mean(finite_ranks)) if finite_ranks else float("nan"),
    }


Task = PASUsage
