"""Fractions of a transcript over compartments, as RNATracker (Yan et al., Bioinformatics 2019).

Targets are ``fractions`` ``float[batch, compartments]``: the share of a gene's
transcripts found in each subcellular compartment (CeFra-seq: cytosol, insoluble,
membrane, nucleus; APEX-RIP: ER, mitochondria, cytosol, nucleus), summing to 1. Rows
with a negative or NaN entry are unknown and ignored. The model gives ``[batch,
compartments]`` logits; predictions are their softmax.

The loss is the Kullback-Leibler divergence ``KL(target || softmax(logits)) = sum_c t_c
(log t_c - log p_c)`` averaged over known rows: RNATracker's Keras ``loss='kld'`` on
softmax outputs (``Models/cnn_bilstm_attention.py`` in HarveyYan/RNATracker). Terms with
``t_c = 0`` contribute 0.

Metrics: ``kl`` (the same divergence, streamed), ``pearson_<compartment>`` between
predicted and measured fractions over the transcripts and their mean ``pearson`` (the
paper's per-compartment correlation), and ``accuracy``: the predicted dominant
compartment equals the measured one. Accumulators merge by concatenation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics


def known_rows(fractions, example_mask=None):
  """``[batch]`` bool: every fraction of the row is >= 0 (NaN is unknown), not padding."""
  known = (fractions >= 0).all(-1)
  if example_mask is not None:
    known = known & (example_mask > 0)
  return known


def kl_divergence(targets, log_probs, xp=jnp):
  """``[batch]`` ``sum_c t_c (log t_c - log p_c)``, with ``0 log 0 = 0``."""
  safe = xp.where(targets > 0, targets, 1.0)
  return xp.sum(xp.where(targets > 0, targets * (xp.log(safe) - log_probs), 0.0), axis=-1)


class Fractions(base.Task):
  """KL divergence of softmax fractions over compartments (RNATracker).

  Attributes:
    compartments: names of the fraction columns; taken from the dataset's
      ``compartments`` metadata when not given, and checked against it when given.
    fractions_key: batch key of the ``float[batch, compartments]`` targets.
  """

  def __init__(self, compartments: Sequence[str] = (), fractions_key: str = "fractions"):
    self.compartments = tuple(compartments)
    self.fractions_key = fractions_key
    self.target_keys = (fractions_key,)

  @property
  def label_names(self) -> tuple[str, ...]:
    """Names along the predictions' last axis, e.g. for ``predict``."""
    return self.compartments

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    names = tuple(metadata.get("compartments") or ())
    if not self.compartments:
      self.compartments = names
    elif names and names != self.compartments:
      raise ValueError(f"fractions is configured for compartments {self.compartments} but "
                       f"the dataset's columns are {names}; use the dataset's, in its order.")

  def loss(self, outputs, batch):
    targets = jnp.asarray(batch[self.fractions_key], jnp.float32)
    if outputs.shape != targets.shape:
      raise ValueError(f"fractions: outputs {outputs.shape} do not match targets "
                       f"{targets.shape} [batch, compartments]")
    known = known_rows(targets, batch.get("example_mask"))
    # Unknown rows may hold NaN: zero them before they reach the gradient.
    targets = jnp.where(known[:, None], targets, 0.0)
    log_probs = jax.nn.log_softmax(outputs.astype(jnp.float32), axis=-1)
    per_row = jnp.where(known, kl_divergence(targets, log_probs), 0.0)
    weight = known.sum().astype(jnp.float32)
    return per_row.sum() / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return jax.nn.softmax(outputs.astype(jnp.float32), axis=-1)

  def new_metrics(self) -> "FractionMetrics":
    return FractionMetrics(self.compartments, self.fractions_key)


@dataclasses.dataclass
class FractionMetrics:
  """Host accumulator of predicted and measured fractions of the known rows."""

  compartments: tuple[str, ...] = ()
  fractions_key: str = "fractions"
  _predicted: list = dataclasses.field(default_factory=list)
  _measured: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    measured = np.asarray(batch[self.fractions_key], np.float64)
    mask = batch.get("example_mask")
    with np.errstate(invalid="ignore"):
      known = np.asarray(known_rows(measured, None if mask is None else np.asarray(mask)))
    self._predicted.append(np.asarray(predictions, np.float64)[known])
    self._measured.append(measured[known])

  def merge(self, other: "FractionMetrics") -> "FractionMetrics":
    self._predicted += other._predicted
    self._measured += other._measured
    return self

  def compute(self) -> dict[str, float]:
    if not self._predicted:
      raise ValueError("FractionMetrics.compute() called before any update()")
    predicted, measured = np.concatenate(self._predicted), np.concatenate(self._measured)
    names = self.compartments or tuple(f"compartment{c}" for c in range(predicted.shape[-1]))
    results = {"num_transcripts": float(len(measured))}
    log_probs = np.log(np.maximum(predicted, 1e-30))
    results["kl"] = float(np.mean(kl_divergence(measured, log_probs, xp=np)))
    pearsons = []
    for c, name in enumerate(names):
      results[f"pearson_{name}"] = metrics.pearson_r(predicted[:, c], measured[:, c])
      pearsons.append(results[f"pearson_{name}"])
    finite = [p for p in pearsons if np.isfinite(p)]
    results["pearson"] = float(np.mean(finite)) if finite else float("nan")
    results["accuracy"] = float(np.mean(predicted.argmax(-1) == measured.argmax(-1)))
    return results


Task = Fractions
