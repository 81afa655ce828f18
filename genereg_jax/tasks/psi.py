"""Exon inclusion (PSI) per tissue: the splicing code's low/medium/high coding, or regression.

Targets ``psi`` ``float[batch, tissues]`` in [0, 1], negative or NaN where unknown (too
few reads). Two modes:

* ``"lmh"`` (Barash et al. 2010; Leung et al. 2014): PSI is coded as the probabilities
  of three classes, low [0, 1/3), medium [1/3, 2/3), high [2/3, 1]. With ``lmh_key``
  the targets are the dataset's soft class probabilities ``float[batch, tissues, 3]``
  (the posterior mass of PSI in each bin given the reads, as Leung et al. coded
  targets); without it, the hard class of ``psi``. Loss: cross-entropy with the
  targets over known (exon, tissue) pairs. Model outputs ``[batch, tissues, 3]``
  logits. Metrics: AUROC of P(low) for "low" vs rest and of P(high) for "high" vs
  rest (Leung et al.'s LMH AUCs, on the hard classes of ``psi``), per tissue and mean;
  Spearman of the expected PSI (class centres 1/6, 1/2, 5/6 weighted by the
  probabilities) with measured PSI.
* ``"regression"``: binary cross-entropy of a sigmoid PSI against ``psi`` (a logit per
  tissue, ``[batch, tissues]``); Pearson and Spearman per tissue and mean.
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

LMH_EDGES = (1 / 3, 2 / 3)
LMH_CENTRES = np.array([1 / 6, 1 / 2, 5 / 6], np.float32)
MODES = ("lmh", "regression")


def lmh_class(psi):
  """Hard low/medium/high class (0, 1, 2) of PSI values."""
  return (psi >= LMH_EDGES[0]).astype(np.int32) + (psi >= LMH_EDGES[1]).astype(np.int32)


def known_psi(batch: base.Batch, psi_key: str):
  psi = batch[psi_key]
  known = psi >= 0  # False for NaN too.
  if "example_mask" in batch:
    known = known & (batch["example_mask"][:, None] > 0)
  return known


class PSI(base.Task):
  """LMH cross-entropy or PSI regression per tissue; LMH AUCs / correlations."""

  def __init__(self, mode: str = "lmh", psi_key: str = "psi", lmh_key: str | None = "lmh",
               tissues: Sequence[str] = ()):
    if mode not in MODES:
      raise ValueError(f"psi task: unknown mode {mode!r}; valid: {MODES}")
    self.mode = mode
    self.psi_key = psi_key
    self.lmh_key = lmh_key if mode == "lmh" else None
    self.tissues = tuple(tissues)
    self.target_keys = (psi_key,) + ((self.lmh_key,) if self.lmh_key else ())

  @property
  def label_names(self) -> tuple[str, ...]:
    return self.tissues

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    names = tuple(metadata.get("tissues") or ())
    if not self.tissues:
      self.tissues = names
    elif names and names != self.tissues:
      raise ValueError(f"psi task is configured for tissues {self.tissues} but the dataset "
                       f"has {names}")

  def output_shape(self, target_shape):
    return (*target_shape, 3) if self.mode == "lmh" else tuple(target_shape)

  def loss(self, outputs, batch):
    psi = jnp.asarray(batch[self.psi_key], jnp.float32)
    known = known_psi({**batch, self.psi_key: psi}, self.psi_key)
    outputs = outputs.astype(jnp.float32)
    if outputs.shape[:2] != psi.shape:
      raise ValueError(f"psi task: outputs {outputs.shape} do not match psi targets "
                       f"{psi.shape} [batch, tissues]")
    target = jnp.where(known, psi, 0.0)  # NaN targets would leak into the gradient.
    if self.mode == "lmh":
      if self.lmh_key:
        probabilities = jnp.where(known[..., None], jnp.asarray(batch[self.lmh_key],
                                                                jnp.float32), 1 / 3)
      else:
        probabilities = jax.nn.one_hot(lmh_class(target), 3)
      per = optax.softmax_cross_entropy(outputs, probabilities)
    else:
      per = optax.sigmoid_binary_cross_entropy(outputs, target)
    weight = known.sum().astype(jnp.float32)
    return jnp.where(known, per, 0.0).sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    """LMH: ``[batch, tissues, 3]`` class probabilities; regression: PSI ``[batch, tissues]``."""
    outputs = outputs.astype(jnp.float32)
    return jax.nn.softmax(outputs, -1) if self.mode == "lmh" else jax.nn.sigmoid(outputs)

  def new_metrics(self) -> "PSIMetrics":
    return PSIMetrics(self.mode, self.psi_key, self.tissues)


@dataclasses.dataclass
class PSIMetrics:
  """Host accumulator of predictions and measured PSI (``-1`` where unknown)."""
  mode: str
  psi_key: str = "psi"
  tissues: tuple[str, ...] = ()
  _predicted: list = dataclasses.field(default_factory=list)
  _measured: list = dataclasses.field(default_factory=list)

  def update(self, predictions, batch) -> None:
    psi = np.asarray(batch[self.psi_key], np.float32)
    host = {self.psi_key: psi}
    if "example_mask" in batch:
      host["example_mask"] = np.asarray(batch["example_mask"])
    with np.errstate(invalid="ignore"):
      known = np.asarray(known_psi(host, self.psi_key))
    rows = known.any(1)
    self._predicted.append(np.asarray(predictions, np.float32)[rows])
    self._measured.append(np.where(known, psi, -1.0)[rows])

  def merge(self, other: "PSIMetrics") -> "PSIMetrics":
    self._predicted += other._predicted
    self._measured += other._measured
    return self

  def compute(self) -> dict[str, float]:
    if not self._predicted:
      raise ValueError("PSIMetrics.compute() called before any update()")
    predicted, measured = np.concatenate(self._predicted), np.concatenate(self._measured)
    names = self.tissues or tuple(f"tissue{t}" for t in range(measured.shape[1]))
    results: dict[str, float] = {"num_exons": float(len(measured))}
    summary = ("auroc_low", "auroc_high", "spearman") if self.mode == "lmh" else (
        "pearson", "spearman")
    for t, name in enumerate(names):
      known = measured[:, t] >= 0
      psi = measured[known, t]
      if self.mode == "lmh":
        probabilities = predicted[known, t]
        classes = lmh_class(psi)
        results[f"auroc_low_{name}"] = metrics.auroc(probabilities[:, 0], classes == 0)
        results[f"auroc_high_{name}"] = metrics.auroc(probabilities[:, 2], classes == 2)
        estimate = probabilities @ LMH_CENTRES
      else:
        estimate = predicted[known, t]
        results[f"pearson_{name}"] = metrics.pearson_r(estimate, psi)
      results[f"spearman_{name}"] = metrics.spearman_r(estimate, psi)
    for metric in summary:
      values = [results[f"{metric}_{n}"] for n in names if np.isfinite(results[f"{metric}_{n}"])]
      results[metric] = float(np.mean(values)) if values else float("nan")
    return results


Task = PSI
