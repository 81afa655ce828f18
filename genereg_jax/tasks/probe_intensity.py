"""RNAcompete probe intensities, as DeepBind scores them (Alipanahi et al., Nat. Biotechnol. 2015).

Targets are ``intensity`` ``float[batch, proteins]``: one column per RNA-binding protein
(RBP), the probe's normalised RNAcompete intensity (Ray et al., Nature 2013), NaN where
that protein's array did not measure the probe. DeepBind trained one model per protein
on probe set A and tested it on set B; here a model with one output per protein (1 for
the paper's per-RBP models) is scored per column. Its targets were the intensities
clipped at their 99.95th percentile and standardised to mean 0 and variance 1, which the
``rnacompete`` builder does per protein with set A's statistics.

Loss: squared error averaged over the measured (protein, probe) pairs, DeepBind's
regression objective. Metrics per protein (suffix ``_<protein>``) and their means:

* ``pearson`` and ``spearman`` of predicted vs measured intensity over the held-out
  probes: the paper's in vitro RNAcompete evaluation (Fig. 2);
* ``auroc``: how well the predictions rank the top probes first, positives being the
  probes measured at least ``positive_sd`` standard deviations above that protein's
  mean (on standardised targets: > ``positive_sd``). We could not read how Ray et al.
  2013 defined their "bound" probes; the threshold is our choice (default 2) and a
  config field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def measured(intensity, example_mask=None):
  """``[batch, proteins]`` bool: measured (not NaN) and not a padding row."""
  known = intensity == intensity
  if example_mask is not None:
    known = known & (example_mask[:, None] > 0)
  return known


class ProbeIntensity(base.Task):
  """Squared error on per-protein probe intensities; Pearson, Spearman, top-probe AUROC.

  Attributes:
    proteins: names of the intensity columns; from the dataset's ``proteins`` metadata
      when not given, and checked against it when given.
    intensity_key: batch key of the ``float[batch, proteins]`` targets.
    positive_sd: standardised intensity above which a probe is a positive for AUROC.
  """

  def __init__(self, proteins: Sequence[str] = (), intensity_key: str = "intensity",
               positive_sd: float = 2.0):
    self.proteins = tuple(proteins)
    self.intensity_key = intensity_key
    self.positive_sd = float(positive_sd)
    self.target_keys = (intensity_key,)
    self.columns: tuple[int, ...] | None = None  # Dataset columns of ``proteins``.

  @property
  def label_names(self) -> tuple[str, ...]:
    return self.proteins

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Protein names from the dataset; configured ones pick their columns (DeepBind's
    per-protein models: one name)."""
    names = tuple(metadata.get("proteins") or ())
    if not self.proteins:
      self.proteins = names
    elif names and names != self.proteins:
      missing = [p for p in self.proteins if p not in names]
      if missing:
        raise ValueError(f"probe_intensity: proteins {missing} are not columns of the "
                         f"dataset; it has {names}.")
      self.columns = tuple(names.index(p) for p in self.proteins)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One output per configured protein, however many columns the dataset has."""
    return tuple(target_shape) if self.columns is None else (len(self.columns),)

  def targets(self, batch: base.Batch):
    """The configured proteins' columns of ``batch[intensity_key]``."""
    intensity = batch[self.intensity_key]
    return intensity if self.columns is None else intensity[:, np.asarray(self.columns)]

  def loss(self, outputs, batch):
    targets = jnp.asarray(self.targets(batch), jnp.float32)
    if outputs.shape != targets.shape:
      raise ValueError(f"probe_intensity: outputs {outputs.shape} do not match targets "
                       f"{targets.shape} [batch, proteins]")
    known = measured(targets, batch.get("example_mask"))
    error = jnp.where(known, outputs.astype(jnp.float32) - jnp.where(known, targets, 0.0), 0.0)
    weight = known.sum().astype(jnp.float32)
    return jnp.sum(error * error) / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return outputs.astype(jnp.float32)

  def new_metrics(self) -> "ProbeIntensityMetrics":
    return ProbeIntensityMetrics(self.proteins, self.targets, self.positive_sd)


@dataclasses.dataclass
class ProbeIntensityMetrics:
  """Host accumulator of (predicted, measured) intensities per protein."""

  proteins: tuple[str, ...] = ()
  targets: Any = lambda batch: batch["intensity"]  # ProbeIntensity.targets.
  positive_sd: float = 2.0
  _predicted: list = dataclasses.field(default_factory=list)
  _measured: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    targets = np.asarray(self.targets(batch), np.float32)
    mask = batch.get("example_mask")
    if mask is not None:
      targets = np.where(np.asarray(mask)[:, None] > 0, targets, np.nan)
    self._predicted.append(np.asarray(predictions, np.float32))
    self._measured.append(targets)

  def merge(self, other: "ProbeIntensityMetrics") -> "ProbeIntensityMetrics":
    self._predicted += other._predicted
    self._measured += other._measured
    return self

  def compute(self) -> dict[str, float]:
    if not self._predicted:
      raise ValueError("ProbeIntensityMetrics.compute() called before any update()")
    predicted, targets = np.concatenate(self._predicted), np.concatenate(self._measured)
    names = self.proteins or tuple(f"protein{p}" for p in range(targets.shape[-1]))
    results: dict[str, float] = {}
    for p, name in enumerate(names):
      known = ~np.isnan(targets[:, p])
      x, y = predicted[known, p], targets[known, p]
      results[f"num_probes_{name}"] = float(known.sum())
      results[f"pearson_{name}"] = metrics.pearson_r(x, y)
      results[f"spearman_{name}"] = metrics.spearman_r(x, y)
      results[f"auroc_{name}"] = metrics.auroc(x, y > self.positive_sd)
    for metric in ("pearson", "spearman", "auroc"):
      finite = [results[f"{metric}_{n}"] for n in names if np.isfinite(results[f"{metric}_{n}"])]
      results[metric] = float(np.mean(finite)) if finite else float("nan")
    return results


Task = ProbeIntensity
