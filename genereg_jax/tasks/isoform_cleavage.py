"""APARENT's targets (Bogard et al., Cell 2019): proximal isoform proportion + cleavage
distribution of each reporter.

Targets: ``isoform`` ``float[batch]`` (fraction of reads at the proximal PAS) and
``cleavage`` ``float[batch, length + 1]`` (reads per cleavage position normalised to
sum 1; the last bin holds reads not cleaved in the window), a row of NaN / a negative
isoform where unmeasured. Outputs are ``{"isoform": [batch, 1] logits, "cleavage":
[batch, length + 1] logits}`` (`genereg_jax.models.aparent`). The loss is the released
trainer's: ``0.5 * KL_bernoulli(isoform || sigmoid) + 0.5 * KL(cleavage || softmax)``
(``aparent/losses/aparent_losses.py``, ``get_sigmoid_kl_divergence`` and
``get_kl_divergence``, values clipped to [1e-7, 1 - 1e-7] as Keras' epsilon). Metrics:
the isoform's ``pearson``/``r2`` on the proportion and on its log-odds (the paper's
R^2 of predicted vs measured isoform logits), the cleavage ``kl`` and the mean absolute
error of the predicted mean cleavage position, ``cut_position_mae``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics

EPSILON = 1e-7


def _clip(p, xp=jnp):
  return xp.clip(p, EPSILON, 1 - EPSILON)


def sigmoid_kl(targets, logits):
  """``[batch]`` Bernoulli KL of ``sigmoid(logits)`` from the proportions ``targets``."""
  t, p = _clip(targets), _clip(jax.nn.sigmoid(logits))
  return t * jnp.log(t / p) + (1 - t) * jnp.log((1 - t) / (1 - p))


def categorical_kl(targets, logits):
  """``[batch]`` KL of ``softmax(logits)`` from the distributions ``targets``."""
  t, p = _clip(targets), _clip(jax.nn.softmax(logits, axis=-1))
  return jnp.sum(t * jnp.log(t / p), axis=-1)


class IsoformCleavage(base.Task):
  """APARENT's 0.5/0.5 KL loss on isoform proportion and cleavage distribution."""

  target_keys = ("isoform", "cleavage")

  def __init__(self, isoform_weight: float = 0.5, cleavage_weight: float = 0.5):
    self.isoform_weight = float(isoform_weight)
    self.cleavage_weight = float(cleavage_weight)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (1,)

  def _known(self, batch):
    isoform = jnp.asarray(batch["isoform"], jnp.float32).reshape(-1)
    known = (isoform >= 0) & (isoform <= 1)
    if "example_mask" in batch:
      known = known & (batch["example_mask"] > 0)
    return isoform, known

  def loss(self, outputs, batch):
    isoform, known = self._known(batch)
    cleavage = jnp.asarray(batch["cleavage"], jnp.float32)
    known_cut = known & jnp.all(cleavage == cleavage, axis=-1)
    iso = sigmoid_kl(jnp.where(known, isoform, 0.5),
                     outputs["isoform"].astype(jnp.float32)[:, 0])
    cut = categorical_kl(jnp.where(known_cut[:, None], cleavage, 1.0 / cleavage.shape[-1]),
                         outputs["cleavage"].astype(jnp.float32))
    weight = known.sum().astype(jnp.float32)
    loss = (self.isoform_weight * jnp.where(known, iso, 0.0).sum()
            + self.cleavage_weight * jnp.where(known_cut, cut, 0.0).sum())
    return loss / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return {"isoform": jax.nn.sigmoid(outputs["isoform"].astype(jnp.float32)),
            "cleavage": jax.nn.softmax(outputs["cleavage"].astype(jnp.float32), axis=-1)}

  def new_metrics(self) -> "IsoformCleavageMetrics":
    return IsoformCleavageMetrics()


@dataclasses.dataclass
class IsoformCleavageMetrics:
  """Host accumulator of predicted and measured isoforms and cleavage summaries."""

  _rows: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    isoform = np.asarray(batch["isoform"], np.float64).reshape(-1)
    known = (isoform >= 0) & (isoform <= 1)
    if batch.get("example_mask") is not None:
      known &= np.asarray(batch["example_mask"]) > 0
    predicted = np.asarray(predictions["isoform"], np.float64).reshape(-1)
    cut_true = np.asarray(batch["cleavage"], np.float64)
    cut_pred = np.asarray(predictions["cleavage"], np.float64)
    known &= ~np.isnan(cut_true).any(-1)
    t, p = np.clip(cut_true, EPSILON, 1), np.clip(cut_pred, EPSILON, 1)
    kl = np.sum(t * np.log(t / p), axis=-1)
    # Mean cleavage position within the window (the last, distal bin left out).
    positions = np.arange(cut_true.shape[-1] - 1)
    mean_pos = lambda c: (c[:, :-1] * positions).sum(-1) / np.maximum(c[:, :-1].sum(-1), 1e-9)
    self._rows.append(np.stack([predicted, isoform, kl, mean_pos(cut_pred),
                                mean_pos(cut_true)], axis=1)[known])

  def merge(self, other: "IsoformCleavageMetrics") -> "IsoformCleavageMetrics":
    self._rows += other._rows
    return self

  def compute(self) -> dict[str, float]:
    if not self._rows:
      raise ValueError("IsoformCleavageMetrics.compute() called before any update()")
    predicted, measured, kl, pos_pred, pos_true = np.concatenate(self._rows).T
    logit = lambda p: np.log(np.clip(p, 1e-3, 1 - 1e-3) / (1 - np.clip(p, 1e-3, 1 - 1e-3)))
    r = metrics.pearson_r(predicted, measured)
    r_logit = metrics.pearson_r(logit(predicted), logit(measured))
    return {"pearson": r, "r2": r * r, "pearson_logit": r_logit, "r2_logit": r_logit ** 2,
            "cleavage_kl": float(kl.mean()) if len(kl) else float("nan"),
            "cut_position_mae": float(np.abs(pos_pred - pos_true).mean()) if len(kl)
            else float("nan")}


Task = IsoformCleavage
