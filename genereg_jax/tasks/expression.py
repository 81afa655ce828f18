"""Expression levels by regression: Xpresso's median mRNA level (Agarwal & Shendure 2020)
and Cuperus et al. 2017's 5' UTR growth enrichment.

Targets ``float[batch, targets]`` under ``target_key`` (default ``"expression"``; a
``[batch]`` vector is one target), NaN where unmeasured. Loss: mean squared error over
the measured values, both papers' objective. Metrics per target (suffix ``_<name>``)
and their means: ``pearson`` and its square ``r2`` (Xpresso reports r^2 of predicted vs
measured expression, Cuperus et al. R^2 of predicted vs measured growth), ``spearman``
and ``mse``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def columns(y):
  """``[batch]`` as ``[batch, 1]``; other shapes unchanged."""
  return y[:, None] if y.ndim == 1 else y


def masked_mse(outputs, targets, batch):
  """(mean squared error over the known targets, their count): NaN targets and
  padded examples (``batch["example_mask"]``) are left out."""
  targets = columns(jnp.asarray(targets, jnp.float32))
  outputs = columns(outputs.astype(jnp.float32))
  known = targets == targets
  if "example_mask" in batch:
    known = known & (batch["example_mask"][:, None] > 0)
  error = jnp.where(known, outputs - jnp.where(known, targets, 0.0), 0.0)
  weight = known.sum().astype(jnp.float32)
  return jnp.sum(error * error) / jnp.maximum(weight, 1.0), weight


class Expression(base.Task):
  """Squared error; Pearson, r^2, Spearman and MSE per target.

  Attributes:
    target_names: names of the target columns (default: the dataset's ``targets``
      metadata).
    target_key: batch key of the targets.
  """

  def __init__(self, target_names: Sequence[str] = (), target_key: str = "expression"):
    self.target_names = tuple(target_names)
    self.target_key = target_key
    self.target_keys = (target_key,)

  @property
  def label_names(self) -> tuple[str, ...]:
    return self.target_names

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if not self.target_names:
      self.target_names = tuple(metadata.get("targets") or ())

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(target_shape) or (1,)

  def loss(self, outputs, batch):
    return masked_mse(outputs, batch[self.target_key], batch)

  def predictions(self, outputs):
    return outputs.astype(jnp.float32)

  def new_metrics(self) -> "ExpressionMetrics":
    return ExpressionMetrics(self.target_names, self.target_key)


@dataclasses.dataclass
class ExpressionMetrics:
  """Host accumulator of (predicted, measured) values per target."""

  target_names: tuple[str, ...] = ()
  target_key: str = "expression"
  _predicted: list = dataclasses.field(default_factory=list)
  _measured: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    measured = columns(np.asarray(batch[self.target_key], np.float64))
    if batch.get("example_mask") is not None:
      measured = np.where(np.asarray(batch["example_mask"])[:, None] > 0, measured, np.nan)
    self._predicted.append(columns(np.asarray(predictions, np.float64)))
    self._measured.append(measured)

  def merge(self, other: "ExpressionMetrics") -> "ExpressionMetrics":
    self._predicted += other._predicted
    self._measured += other._measured
    return self

  def compute(self) -> dict[str, float]:
    if not self._predicted:
      raise ValueError("ExpressionMetrics.compute() called before any update()")
    predicted, measured = np.concatenate(self._predicted), np.concatenate(self._measured)
    names = self.target_names or tuple(str(i) for i in range(measured.shape[1]))
    results: dict[str, float] = {}
    for i, name in enumerate(names):
      known = ~np.isnan(measured[:, i])
      x, y = predicted[known, i], measured[known, i]
      r = metrics.pearson_r(x, y)
      results.update({f"pearson_{name}": r, f"r2_{name}": r * r,
                      f"spearman_{name}": metrics.spearman_r(x, y),
                      f"mse_{name}": float(np.mean((x - y) ** 2)) if len(x) else float("nan")})
    for metric in ("pearson", "r2", "spearman", "mse"):
      results[metric] = float(np.nanmean([results[f"{metric}_{n}"] for n in names]))
    return results


Task = Expression
