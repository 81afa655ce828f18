"""Binned coverage tracks: Basenji/Enformer's Poisson loss or Borzoi's Poisson-multinomial.

Outputs are non-negative rates ``[batch, bins, tracks]`` (the Basenji, Enformer and
Borzoi heads end in softplus), or a dict of them keyed by head (``{"human": ...,
"mouse": ...}``) from which ``head`` picks one. Targets are the same shape, e.g. the
float16 ``target`` of ``data_builders/basenji_barnyard``.

Losses:

* ``"poisson"`` — Basenji (Kelley et al., Genome Res. 2018; 2020) and Enformer
  (Avsec et al., Nat. Methods 2021) train with Keras' Poisson loss,
  ``mean(ŷ - y log(ŷ + ε))`` with ε = 1e-7 over examples, bins and tracks. It is
  the Poisson negative log-likelihood without the ``log Γ(y + 1)`` term, which does
  not depend on the prediction, so the loss can be negative.
* ``"poisson_multinomial"`` — Borzoi (Linder et al., Nat. Genet. 2025), as in
  baskerville's ``poisson_multinomial``: per example and track, a multinomial NLL of
  the coverage's shape over bins plus ``total_weight`` × a Poisson NLL of its total,
  both divided by the number of bins, then averaged. Borzoi trains with
  ``total_weight = 0.2`` (its ``params.json``), the default here. The multinomial
  coefficient is dropped like the log-gamma term. ε is added to every bin; the
  predicted distribution is normalised with the ε included so it sums to exactly 1
  (baskerville divides by the un-smoothed total, a relative difference of
  ``bins · ε / Σŷ``).

Both honour ``batch["example_mask"]`` (padding rows of a partial evaluation batch).

Metrics are Enformer's ``PearsonR`` and ``R2`` per track — computed over every bin of
every example, then averaged over tracks — plus optionally Pearson R of
``log(1 + x)`` values, as Basenji's ``Accuracy.pearsonr(log=True)`` (it uses
``log2(x + 1)``, which gives the same R). They stream in float64 and merge across
devices/hosts. ``reverse_complement_targets`` flips the bin axis and swaps strand-paired
tracks (baskerville's ``strand_pair``; identity by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base

OBJECTIVES = ("poisson", "poisson_multinomial")
# Keras' backend epsilon, which Basenji/Enformer's Poisson loss adds inside the log.
POISSON_EPSILON = 1e-7
# Borzoi's weight of the Poisson total-count term (calico/borzoi params.json).
BORZOI_TOTAL_WEIGHT = 0.2


def poisson_nll(predictions: jax.Array, targets: jax.Array,
                epsilon: float = POISSON_EPSILON) -> jax.Array:
  """Elementwise ``ŷ - y log(ŷ + ε)``: the Poisson NLL up to ``log Γ(y + 1)``."""
  return predictions - targets * jnp.log(predictions + epsilon)


def poisson_multinomial_nll(predictions: jax.Array, targets: jax.Array,
                            total_weight: float = BORZOI_TOTAL_WEIGHT,
                            epsilon: float = POISSON_EPSILON) -> jax.Array:
  """Borzoi's loss per example and track: ``[..., bins, tracks] -> [..., tracks]``.

  ``(multinomial NLL of the profile over bins + total_weight * Poisson NLL of the
  total) / bins``.
  """
  num_bins = predictions.shape[-2]
  total_pred = predictions.sum(axis=-2)
  total_true = targets.sum(axis=-2)
  poisson_term = poisson_nll(total_pred, total_true, epsilon) / num_bins
  log_p = (jnp.log(predictions + epsilon)
           - jnp.log(total_pred + num_bins * epsilon)[..., None, :])
  multinomial_term = -jnp.sum((targets + epsilon) * log_p, axis=-2) / num_bins
  return multinomial_term + total_weight * poisson_term


def _check_strand_pair(strand_pair: Sequence[int] | None) -> np.ndarray | None:
  if strand_pair is None:
    return None
  pair = np.asarray(strand_pair, dtype=np.int64).reshape(-1)
  if sorted(pair.tolist()) != list(range(pair.size)):
    raise ValueError(f"strand_pair must be a permutation of 0..{pair.size - 1}; got "
                     f"{pair.tolist()[:20]}{' ...' if pair.size > 20 else ''}")
  unpaired = np.nonzero(pair[pair] != np.arange(pair.size))[0]
  if unpaired.size:
    i = int(unpaired[0])
    raise ValueError(f"strand_pair must pair tracks symmetrically: track {i} -> "
                     f"{int(pair[i])} but track {int(pair[i])} -> {int(pair[pair[i]])}")
  return pair


class Coverage(base.Task):
  """Poisson or Poisson-multinomial loss over ``[batch, bins, tracks]`` rates.

  Args:
    head: key of the model's output dict to score (``"human"``, ``"mouse"``);
      ignored when the model returns a single array.
    target_key: batch key of the ``[batch, bins, tracks]`` targets.
    objective: ``"poisson"`` (Basenji/Enformer) or ``"poisson_multinomial"``
      (Borzoi).
    total_weight: weight of the Poisson total-count term of
      ``"poisson_multinomial"``.
    epsilon: added inside the logarithms.
    strand_pair: ``strand_pair[i]`` is the track holding track ``i``'s signal on
      the other strand (``i`` for unstranded tracks), e.g.
      ``info.metadata["strand_pair"]`` of ``basenji_barnyard``. None: identity.
    track_names: names of the tracks, for reports.
    log_pearson: also report Pearson R of ``log1p`` predictions and targets.
  """

  def __init__(self, head: str | None = None, target_key: str = "target",
               objective: str = "poisson", total_weight: float = BORZOI_TOTAL_WEIGHT,
               epsilon: float = POISSON_EPSILON, strand_pair: Sequence[int] | None = None,
               track_names: Sequence[str] = (), log_pearson: bool = False):
    if objective not in OBJECTIVES:
      raise ValueError(f"unknown coverage objective {objective!r}; valid: {list(OBJECTIVES)}")
    self.head = head
    self.target_key = target_key
    self.target_keys = (target_key,)
    self.objective = objective
    self.total_weight = float(total_weight)
    self.epsilon = float(epsilon)
    self.strand_pair = _check_strand_pair(strand_pair)
    self.track_names = tuple(track_names)
    self.log_pearson = bool(log_pearson)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if self.strand_pair is None and metadata.get("strand_pair") is not None:
      self.strand_pair = _check_strand_pair(metadata["strand_pair"])
    if not self.track_names and metadata.get("track_names"):
      self.track_names = tuple(metadata["track_names"])

  def select(self, outputs: Any) -> Any:
    """The scored array: ``outputs[head]`` for a dict of heads, else ``outputs``."""
    if isinstance(outputs, Mapping):
      if self.head is None:
        raise ValueError(f"the model returns heads {sorted(outputs)}; set the coverage "
                         "task's head (e.g. --config.task.head=human)")
      if self.head not in outputs:
        raise ValueError(f"the model has no head {self.head!r}; heads: {sorted(outputs)}")
      return outputs[self.head]
    return outputs

  def loss(self, outputs, batch):
    predictions = self.select(outputs).astype(jnp.float32)
    targets = batch[self.target_key].astype(jnp.float32)
    if predictions.shape != targets.shape:
      raise ValueError(f"predictions {tuple(predictions.shape)} and {self.target_key!r} "
                       f"{tuple(targets.shape)} differ in shape")
    batch_size = predictions.shape[0]
    if "example_mask" in batch:
      example_weight = batch["example_mask"].astype(jnp.float32).reshape(batch_size)
    else:
      example_weight = jnp.ones((batch_size,), jnp.float32)
    if self.objective == "poisson":
      per_target = poisson_nll(predictions, targets, self.epsilon)
    else:
      per_target = poisson_multinomial_nll(predictions, targets, self.total_weight,
                                           self.epsilon)
    per_example = per_target.reshape(batch_size, -1).mean(axis=1)
    # Padding rows may hold anything; where() keeps a NaN there out of the sum.
    total = jnp.sum(jnp.where(example_weight > 0, per_example * example_weight, 0.0))
    examples = example_weight.sum()
    # The weight counts valid target values: examples x bins x tracks.
    return total / jnp.maximum(examples, 1e-12), examples * (predictions.size // batch_size)

  def predictions(self, outputs):
    return self.select(outputs).astype(jnp.float32)

  def new_metrics(self) -> "CoverageMetrics":
    return CoverageMetrics(self.target_key, self.track_names, self.log_pearson)

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """Bins reversed and plus/minus tracks swapped: the targets of the RC sequence."""
    target = np.asarray(example[self.target_key])
    flipped = target[::-1]
    if self.strand_pair is not None:
      if target.shape[-1] != self.strand_pair.size:
        raise ValueError(f"{self.target_key!r} has {target.shape[-1]} tracks but "
                         f"strand_pair has {self.strand_pair.size}")
      flipped = flipped[..., self.strand_pair]
    example = dict(example)
    example[self.target_key] = np.ascontiguousarray(flipped)
    return example


@dataclasses.dataclass
class TrackMoments:
  """Per-track count, means and centred second moments of (prediction, target) pairs.

  Centred moments combined with Chan et al.'s pairwise update (Chan, Golub &
  LeVeque 1979) give the sums Enformer's ``PearsonR``/``R2`` accumulate (counts,
  sums, squares, products) without their cancellation when means are large
  relative to spreads. ``squared_error`` is ``Σ (y - ŷ)²``, additive as is.
  """
  count: int = 0
  mean_pred: np.ndarray | None = None
  mean_true: np.ndarray | None = None
  m2_pred: np.ndarray | None = None
  m2_true: np.ndarray | None = None
  comoment: np.ndarray | None = None
  squared_error: np.ndarray | None = None

  @classmethod
  def of(cls, predictions: np.ndarray, targets: np.ndarray) -> "TrackMoments":
    """Moments of ``[n, tracks]`` float64 arrays."""
    mean_pred, mean_true = predictions.mean(axis=0), targets.mean(axis=0)
    d_pred, d_true = predictions - mean_pred, targets - mean_true
    residual = targets - predictions
    return cls(count=predictions.shape[0], mean_pred=mean_pred, mean_true=mean_true,
               m2_pred=np.einsum("ij,ij->j", d_pred, d_pred),
               m2_true=np.einsum("ij,ij->j", d_true, d_true),
               comoment=np.einsum("ij,ij->j", d_pred, d_true),
               squared_error=np.einsum("ij,ij->j", residual, residual))

  def merge(self, other: "TrackMoments") -> "TrackMoments":
    """Adds ``other``'s pairs to these, in place."""
    if other.count == 0:
      return self
    if self.count == 0:
      self.__dict__.update({k: (v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in other.__dict__.items()})
      return self
    if other.mean_pred.shape != self.mean_pred.shape:
      raise ValueError(f"cannot merge metrics over {other.mean_pred.shape[0]} tracks into "
                       f"metrics over {self.mean_pred.shape[0]}")
    n_a, n_b = self.count, other.count
    n = n_a + n_b
    delta_pred = other.mean_pred - self.mean_pred
    delta_true = other.mean_true - self.mean_true
    scale = n_a * n_b / n
    self.m2_pred = self.m2_pred + other.m2_pred + delta_pred**2 * scale
    self.m2_true = self.m2_true + other.m2_true + delta_true**2 * scale
    self.comoment = self.comoment + other.comoment + delta_pred * delta_true * scale
    self.mean_pred = self.mean_pred + delta_pred * (n_b / n)
    self.mean_true = self.mean_true + delta_true * (n_b / n)
    self.squared_error = self.squared_error + other.squared_error
    self.count = n
    return self

  def pearson_r(self) -> np.ndarray:
    """Per-track Pearson R; NaN where predictions or targets are constant."""
    with np.errstate(all="ignore"):
      r = self.comoment / np.sqrt(self.m2_pred * self.m2_true)
    return np.where((self.m2_pred > 0) & (self.m2_true > 0), r, np.nan)

  def r2(self) -> np.ndarray:
    """Per-track coefficient of determination ``1 - SS_res / SS_tot``; NaN if targets
    are constant."""
    with np.errstate(all="ignore"):
      r2 = 1.0 - self.squared_error / self.m2_true
    return np.where(self.m2_true > 0, r2, np.nan)


def _nanmean(values: np.ndarray) -> float:
  return float(np.mean(values[np.isfinite(values)])) if np.isfinite(values).any() \
      else float("nan")


class CoverageMetrics:
  """Host accumulator of Pearson R and R² per track over all bins of all examples."""

  def __init__(self, target_key: str = "target", track_names: Sequence[str] = (),
               log_pearson: bool = False):
    self.target_key = target_key
    self.track_names = tuple(track_names)
    self.log_pearson = log_pearson
    self.moments = TrackMoments()
    self.log_moments = TrackMoments()

  def update(self, predictions: Any, batch: base.Batch) -> None:
    """Adds a batch: ``predictions`` and ``batch[target_key]`` are ``[batch, bins,
    tracks]``; rows with ``batch["example_mask"] == 0`` are skipped."""
    predictions = np.asarray(predictions)
    targets = np.asarray(batch[self.target_key])
    if predictions.shape != targets.shape:
      raise ValueError(f"predictions {predictions.shape} and {self.target_key!r} "
                       f"{targets.shape} differ in shape")
    if "example_mask" in batch:
      keep = np.asarray(batch["example_mask"]).reshape(-1) > 0
      predictions, targets = predictions[keep], targets[keep]
    num_tracks = predictions.shape[-1]
    predictions = predictions.reshape(-1, num_tracks).astype(np.float64)
    targets = targets.reshape(-1, num_tracks).astype(np.float64)
    if predictions.shape[0] == 0:
      return
    self.moments.merge(TrackMoments.of(predictions, targets))
    if self.log_pearson:
      self.log_moments.merge(TrackMoments.of(np.log1p(predictions), np.log1p(targets)))

  def merge(self, other: "CoverageMetrics") -> "CoverageMetrics":
    self.moments.merge(other.moments)
    self.log_moments.merge(other.log_moments)
    return self

  def compute(self) -> dict[str, float | np.ndarray]:
    if self.moments.count == 0:
      raise ValueError("CoverageMetrics.compute() called before any update()")
    pearson, r2 = self.moments.pearson_r(), self.moments.r2()
    results: dict[str, float | np.ndarray] = {
        "pearsonr": _nanmean(pearson), "r2": _nanmean(r2),
        "pearsonr_per_track": pearson, "r2_per_track": r2,
    }
    if self.log_pearson:
      log_pearson = self.log_moments.pearson_r()
      results["pearsonr_log1p"] = _nanmean(log_pearson)
      results["pearsonr_log1p_per_track"] = log_pearson
    return results


Task = Coverage
