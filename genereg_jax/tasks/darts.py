"""DARTS (Zhang et al., Nat. Methods 2019): the DNN prior and its Bayesian-test posterior.

Training (as DARTS-DNN): binary cross-entropy of the DNN's logit against ``label``
(1 differential, 0 not, negative = unlabeled and ignored). DARTS labelled events by
DARTS-BHT with the flat prior on deeply sequenced data: posterior > 0.9 positive,
< 0.1 negative, the rest unlabeled (the ``synthetic_splicing_code/darts`` builder does
the same). Model outputs ``[batch]`` logits; predictions are the prior P(H1).

Metrics: AUROC and AUPRC of the prior against the labels. With ``counts_key``
(``float[batch, 4]``: I1, S1, I2, S2 junction reads) and ``lengths_key``
(``[batch, 2]``: inclusion and skipping effective lengths) the accumulator also runs
DARTS-BHT (`genereg_jax.splicing.bht`) on those counts with the DNN prior ("info") and
with the flat prior 0.5, and with ``truth_key`` (true |delta PSI|, simulated data only)
scores both posteriors against |delta PSI| > c: the paper's comparison
(``auroc_bht_info`` vs ``auroc_bht_flat``).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.splicing import bht
from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


class Darts(base.Task):
  """BCE of the differential-splicing logit; prior and BHT-posterior AUROC."""

  def __init__(self, label_key: str = "label", counts_key: str | None = None,
               lengths_key: str | None = None, truth_key: str | None = None,
               cutoff: float = bht.CUTOFF):
    self.label_key, self.counts_key = label_key, counts_key
    self.lengths_key, self.truth_key, self.cutoff = lengths_key, truth_key, cutoff
    self.target_keys = tuple(k for k in (label_key, counts_key, lengths_key, truth_key) if k)

  def loss(self, outputs, batch):
    logits = outputs.astype(jnp.float32).reshape(-1)
    labels = jnp.asarray(batch[self.label_key], jnp.float32).reshape(-1)
    known = labels >= 0
    if "example_mask" in batch:
      known = known & (batch["example_mask"] > 0)
    per = optax.sigmoid_binary_cross_entropy(logits, jnp.clip(labels, 0, 1))
    weight = known.sum().astype(jnp.float32)
    return jnp.where(known, per, 0.0).sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.sigmoid(outputs.astype(jnp.float32).reshape(-1))

  def new_metrics(self) -> "DartsMetrics":
    return DartsMetrics(self)


@dataclasses.dataclass
class DartsMetrics:
  task: Darts
  _parts: dict = dataclasses.field(default_factory=dict)

  def update(self, predictions, batch) -> None:
    keep = np.ones(len(np.asarray(predictions)), bool)
    if "example_mask" in batch:
      keep = np.asarray(batch["example_mask"]) > 0
    values = {"prior": np.asarray(predictions, np.float64)}
    for key in self.task.target_keys:
      values[key] = np.asarray(batch[key], np.float64)
    for key, value in values.items():
      self._parts.setdefault(key, []).append(value[keep])

  def merge(self, other: "DartsMetrics") -> "DartsMetrics":
    for key, parts in other._parts.items():
      self._parts.setdefault(key, []).extend(parts)
    return self

  def compute(self) -> dict[str, float]:
    if not self._parts:
      raise ValueError("DartsMetrics.compute() called before any update()")
    data = {k: np.concatenate(v) for k, v in self._parts.items()}
    task = self.task
    labels = data[task.label_key].reshape(-1)
    known = labels >= 0
    prior = np.clip(data["prior"], 1e-3, 1 - 1e-3)
    results = {"num_labeled": float(known.sum()),
               "auroc": metrics.auroc(prior[known], labels[known]),
               "auprc": metrics.auprc(prior[known], labels[known])}
    if task.counts_key and task.lengths_key:
      counts, lengths = data[task.counts_key], data[task.lengths_key]
      posteriors = {}
      for name, p in (("info", prior), ("flat", np.full_like(prior, 0.5))):
        posteriors[name] = bht.bayes_test(*counts.T, lengths[:, 0], lengths[:, 1], p,
                                          cutoff=task.cutoff).posterior
      if task.truth_key:
        truth = np.abs(data[task.truth_key].reshape(-1)) > task.cutoff
        for name, posterior in posteriors.items():
          results[f"auroc_bht_{name}"] = metrics.auroc(posterior, truth)
          results[f"auprc_bht_{name}"] = metrics.auprc(posterior, truth)
        results["auroc_prior_truth"] = metrics.auroc(prior, truth)
    return results


Task = Darts
