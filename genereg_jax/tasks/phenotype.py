"""Quantitative phenotypes (traits, yield) by regression, scored as genomic prediction is.

DeepGP (Zingaretti et al., Front. Plant Sci. 2020) and Shook et al. (Plant Methods 2021)
fit continuous traits with the mean squared error, and genomic prediction reports the
*predictive ability*: Pearson's r between predicted and observed phenotypes of held-out
individuals (DeepGP's ``acc_pearson_r``). Targets ``float[batch, traits]`` (or
``[batch]`` for one trait) under ``phenotype_key``; NaN is missing and masked. Metrics per
trait (suffix ``_<name>``) and their means: ``pearson``, ``r2`` (1 - SSE/SST) and ``mse``;
with ``truth_key`` (synthetic data: the noiseless genetic value of each example),
``pearson_truth`` is the accuracy against it, the measure a simulation can report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import expression
from genereg_jax.tasks import metrics




class Phenotype(base.Task):
  """Masked squared error on traits; Pearson r, R² and MSE per trait."""

  def __init__(self, phenotype_key: str = "phenotype", truth_key: str | None = None,
               trait_names: Sequence[str] = ()):
    self.phenotype_key = phenotype_key
    self.truth_key = truth_key
    self.trait_names = tuple(trait_names)
    self.target_keys = (phenotype_key,) + ((truth_key,) if truth_key else ())

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if not self.trait_names and metadata.get("trait_names"):
      self.trait_names = tuple(metadata["trait_names"])

  def loss(self, outputs, batch):
    return expression.masked_mse(outputs, batch[self.phenotype_key], batch)

  def predictions(self, outputs):
    return outputs.astype(jnp.float32)

  def new_metrics(self) -> "PhenotypeMetrics":
    return PhenotypeMetrics(self.phenotype_key, self.truth_key, self.trait_names)


@dataclasses.dataclass
class PhenotypeMetrics:
  """Host accumulator of (predicted, observed[, true genetic value]) per trait."""

  phenotype_key: str = "phenotype"
  truth_key: str | None = None
  trait_names: tuple[str, ...] = ()
  _rows: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    observed = expression.columns(np.asarray(batch[self.phenotype_key], np.float64))
    predicted = expression.columns(np.asarray(predictions, np.float64))
    truth = batch.get(self.truth_key) if self.truth_key else None
    truth = (expression.columns(np.asarray(truth, np.float64)) if truth is not None
             else np.full_like(observed, np.nan))
    mask = batch.get("example_mask")
    if mask is not None:
      keep = np.asarray(mask) > 0
      observed, predicted, truth = observed[keep], predicted[keep], truth[keep]
    self._rows.append((predicted, observed, truth))

  def merge(self, other: "PhenotypeMetrics") -> "PhenotypeMetrics":
    self._rows += other._rows
    return self

  def compute(self) -> dict[str, float]:
    if not self._rows:
      raise ValueError("PhenotypeMetrics.compute() called before any update()")
    predicted, observed, truth = (np.concatenate(c) for c in zip(*self._rows))
    names = self.trait_names or tuple(f"trait{t}" for t in range(observed.shape[1]))
    results: dict[str, float] = {}
    for t, name in enumerate(names):
      known = ~np.isnan(observed[:, t])
      x, y = predicted[known, t], observed[known, t]
      results[f"pearson_{name}"] = metrics.pearson_r(x, y)
      results[f"mse_{name}"] = float(np.mean((x - y) ** 2)) if known.any() else float("nan")
      total = float(np.sum((y - y.mean()) ** 2)) if known.any() else 0.0
      results[f"r2_{name}"] = 1.0 - float(np.sum((x - y) ** 2)) / total if total else float("nan")
      has_truth = ~np.isnan(truth[:, t])
      if has_truth.any():
        results[f"pearson_truth_{name}"] = metrics.pearson_r(predicted[has_truth, t],
                                                             truth[has_truth, t])
    for metric in ("pearson", "r2", "mse", "pearson_truth"):
      values = [results[f"{metric}_{n}"] for n in names
                if np.isfinite(results.get(f"{metric}_{n}", np.nan))]
      if values:
        results[metric] = float(np.mean(values))
    return results


Task = Phenotype
