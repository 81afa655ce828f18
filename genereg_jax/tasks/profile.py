"""Base-resolution profiles: BPNet's loss and metrics (Avsec et al., Nat Genet 2021).

Targets are read counts ``float[batch, length, n_tracks]`` (tracks = tasks x
strands, plus/minus adjacent); model outputs are ``{"profile_logits": [batch,
length, n_tracks], "log_counts": [batch, n_count_outputs]}`` as returned by
``genereg_jax.models.bpnet``.

Loss. Tracks are split into ``n_count_outputs`` equal groups of consecutive
tracks; each group is one multinomial over (positions x tracks in the group)
with its own predicted total:

  loss = sum_groups MNLL(counts_g | softmax(logits_g))
         + count_weight * sum_tasks mean_{count outputs of the task}
                          (log_counts - log(1 + total_g))^2

averaged over examples. With one count per track (``PRESETS["paper"]``) this
is the official BPNet code's loss (kundajelab/bpnet: a multinomial per strand,
summed; one MSE head per task over its two strands; total = sum over tasks).
With one count output (``PRESETS["bpnet_lite"]``) it is bpnet-lite's: one
softmax over positions and strands together and the MSE of the total. The
MNLL is the full negative log-likelihood, log-factorials included, as in
bpnet-lite's ``MNLLLoss`` and TFP's ``Multinomial.log_prob``.

``count_weight`` (lambda) defaults to 10, the value of the official BPNet
code for the mESC ChIP-nexus models this task is first used for
(``bpnet9.gin``: ``lambda = 10``). Other published rules, which need the
data's read depth: lambda = mean total counts per window / 2 (BPNet paper,
Methods; basepairmodels' ``counts_loss_weight``), makes both terms' gradients
comparable; lambda = median total counts / 10 (ChromBPNet). The
``bpnet_profiles`` builder stores both suggestions in its metadata.

Metrics (host side, streaming, mergeable): count Pearson and Spearman over
examples and count MSE, per count output and averaged (targets log(1 +
total)); profile MNLL per example (same definition as the loss); and the
Jensen-Shannon distance (natural log, as ``scipy.spatial.distance.
jensenshannon`` and ChromBPNet's evaluation) between each track's observed
and predicted profile over positions, averaged over (example, track) pairs
whose observed track has at least ``min_jsd_counts`` reads: a track without
reads has no distribution, so it is left out (ChromBPNet divides by ``sum +
0.001`` and gets NaN there). ``jsd_smoothing=(sigma, width)`` smooths the
observed profile with a Gaussian first, as BPNet's evaluation options do
(basepairmodels ``--smooth-profileA``, bpnet-lite ``smooth_true``; sigma 7,
width 81 is their usual choice); it is off by default, as in ChromBPNet.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics

Array = jax.Array


# ---------------------------------------------------------------------------
# Track grouping and strand pairs.
# ---------------------------------------------------------------------------


def group_size(n_tracks: int, n_count_outputs: int) -> int:
  """Tracks per count output (consecutive tracks share one multinomial)."""
  if n_count_outputs < 1 or n_tracks % n_count_outputs:
    raise ValueError(
        f"profile task: {n_tracks} profile tracks cannot be split evenly "
        f"among {n_count_outputs} count outputs; use one count per track, "
        "one per task or one in total (n_count_outputs must divide n_tracks).")
  return n_tracks // n_count_outputs


def _grouped(x, n_groups: int):
  """``[batch, length, tracks]`` -> ``[batch, groups, length * tracks/group]``."""
  batch, length, tracks = x.shape
  k = tracks // n_groups
  x = x.reshape(batch, length, n_groups, k)
  return x.transpose(0, 2, 1, 3).reshape(batch, n_groups, length * k)


def _ungrouped(x, length: int):
  """Inverse of ``_grouped``."""
  batch, n_groups, size = x.shape
  k = size // length
  x = x.reshape(batch, n_groups, length, k).transpose(0, 2, 1, 3)
  return x.reshape(batch, length, n_groups * k)


def default_strand_pair(n_tracks: int) -> list[int]:
  """Consecutive (plus, minus) pairs: ``[1, 0, 3, 2, ...]``; ``[0]`` if unstranded."""
  if n_tracks == 1:
    return [0]
  if n_tracks % 2:
    raise ValueError(
        f"{n_tracks} tracks cannot be consecutive plus/minus pairs; give the "
        "task an explicit strand_pair (track i's opposite-strand track).")
  return [i + 1 if i % 2 == 0 else i - 1 for i in range(n_tracks)]


def check_strand_pair(pair: Sequence[int], n_tracks: int, what: str) -> list[int]:
  """Validates ``pair`` as an involution of ``range(n_tracks)``."""
  pair = [int(p) for p in pair]
  if len(pair) != n_tracks or sorted(pair) != list(range(n_tracks)):
    raise ValueError(f"{what} {pair} is not a permutation of the {n_tracks} "
                     "tracks.")
  if any(pair[p] != i for i, p in enumerate(pair)):
    raise ValueError(f"{what} {pair} is not symmetric: if track i pairs with "
                     "j, j must pair with i.")
  return pair


def reverse_complement_tracks(tracks: np.ndarray,
                              strand_pair: Sequence[int] | None) -> np.ndarray:
  """``[length, n]`` tracks of the reverse-complemented sequence.

  Positions are reversed and each track is replaced by its opposite-strand
  partner (``strand_pair[i]``; None means consecutive plus/minus pairs).
  """
  tracks = np.asarray(tracks)
  n = tracks.shape[-1]
  pair = (default_strand_pair(n) if strand_pair is None
          else check_strand_pair(strand_pair, n, "strand_pair"))
  return np.ascontiguousarray(tracks[::-1][:, pair])


# ---------------------------------------------------------------------------
# Numerics shared by the loss (JAX) and the metrics (NumPy).
# ---------------------------------------------------------------------------


def multinomial_nll(log_probs, counts, xp=jnp):
  """``-log Multinomial(counts | N, exp(log_probs))`` over the last axis.

  Args:
    log_probs: log-probabilities, normalised over the last axis.
    counts: non-negative counts of the same shape (need not be integers).
    xp: ``jax.numpy`` (in the loss) or ``numpy`` (host metrics).

  Returns:
    NLL with the log-factorial terms, shape ``counts.shape[:-1]``.
  """
  gammaln = jax.scipy.special.gammaln if xp is jnp else special.gammaln
  total = counts.sum(axis=-1)
  # Where a count is 0 its term is 0 even if the probability underflowed
  # (0 * -inf); the inner where keeps NaN out of JAX's gradient too.
  observed = counts > 0
  log_likelihood = (counts * xp.where(observed, log_probs, 0.0)).sum(axis=-1)
  return -gammaln(total + 1) + gammaln(counts + 1).sum(axis=-1) - log_likelihood


def gaussian_smooth(x: np.ndarray, sigma: float, width: int) -> np.ndarray:
  """Gaussian smoothing along axis 1 of ``[batch, length, tracks]``.

  The kernel has ``width`` taps (odd) and standard deviation ``sigma``;
  borders reflect (``d c b a | a b c d``), so it equals
  ``scipy.ndimage.gaussian_filter1d(x, sigma, axis=1, truncate=r / sigma)``
  with radius ``r = (width - 1) // 2``, as in basepairmodels' metrics.
  """
  if width < 1 or width % 2 == 0 or sigma <= 0:
    raise ValueError(f"jsd_smoothing needs sigma > 0 and an odd width, got "
                     f"({sigma}, {width}).")
  radius = (width - 1) // 2
  offsets = np.arange(-radius, radius + 1, dtype=np.float64)
  kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
  kernel /= kernel.sum()
  x = np.asarray(x, np.float64)
  padded = np.pad(x, ((0, 0), (radius, radius), (0, 0)), mode="symmetric")
  # Tiling the reflection covers kernels longer than the profile too.
  while padded.shape[1] < x.shape[1] + 2 * radius:
    padded = np.pad(padded, ((0, 0), (radius, radius), (0, 0)),
                    mode="symmetric")
  length = x.shape[1]
  out = np.zeros_like(x)
  for tap, weight in enumerate(kernel):
    out += weight * padded[:, tap:tap + length]
  return out


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
  """JS distance (natural log) between distributions along the last axis.

  Both are normalised first; rows where ``p`` sums to 0 give NaN.
  """
  p = np.asarray(p, np.float64)
  q = np.asarray(q, np.float64)
  with np.errstate(invalid="ignore", divide="ignore"):
    p = p / p.sum(axis=-1, keepdims=True)
    q = q / q.sum(axis=-1, keepdims=True)
    m = 0.5 * (p + q)

    def kl(a):
      return np.where(a > 0, a * np.log(a / m), 0.0).sum(axis=-1)

    divergence = 0.5 * (kl(p) + kl(q))
  # Rounding can make a zero divergence slightly negative.
  return np.sqrt(np.maximum(divergence, 0.0))


# ---------------------------------------------------------------------------
# The task.
# ---------------------------------------------------------------------------


class ProfileTask(base.Task):
  """BPNet's multinomial profile + log-count MSE task.

  Args:
    profile_key: batch key of the observed counts ``[batch, length, tracks]``.
    control_key: batch key of control tracks, reverse-complemented with the
      targets when present in an example (it is a model input, not a target).
    count_weight: lambda, the weight of the log-count MSE (see module doc).
    tracks_per_task: profile tracks of one experiment (2: plus and minus).
    strand_pair: track i's opposite-strand track, for reverse complement;
      None means consecutive plus/minus pairs (``[1, 0, 3, 2, ...]``).
    control_strand_pair: the same for the control tracks.
    track_names: names of the profile tracks, for per-track metrics.
    jsd_smoothing: ``(sigma, width)`` of a Gaussian applied to the observed
      profile before the JS distance, or None.
    min_jsd_counts: observed reads a track needs to enter the JS distance.
  """

  def __init__(self, profile_key: str = "profile", control_key: str = "control",
               count_weight: float = 10.0, tracks_per_task: int = 2,
               strand_pair: Sequence[int] | None = None,
               control_strand_pair: Sequence[int] | None = None,
               track_names: Sequence[str] = (),
               jsd_smoothing: Sequence[float] | None = None,
               min_jsd_counts: float = 1.0):
    if count_weight < 0:
      raise ValueError(f"count_weight must be >= 0, got {count_weight}.")
    if tracks_per_task < 1:
      raise ValueError(f"tracks_per_task must be >= 1, got {tracks_per_task}.")
    self.profile_key = profile_key
    self.control_key = control_key
    self.target_keys = (profile_key,)
    self.count_weight = float(count_weight)
    self.tracks_per_task = int(tracks_per_task)
    self.strand_pair = None if strand_pair is None else list(strand_pair)
    self.control_strand_pair = (None if control_strand_pair is None
                                else list(control_strand_pair))
    self.track_names = tuple(track_names)
    if jsd_smoothing is not None:
      sigma, width = jsd_smoothing
      gaussian_smooth(np.zeros((1, 1, 1)), float(sigma), int(width))  # Checks.
      jsd_smoothing = (float(sigma), int(width))
    self.jsd_smoothing = jsd_smoothing
    self.min_jsd_counts = float(min_jsd_counts)

  def _check(self, logits, log_counts, counts) -> None:
    if logits.shape != counts.shape:
      raise ValueError(
          f"profile task: the model's profile_logits have shape "
          f"{tuple(logits.shape)} but the dataset's {self.profile_key!r} has "
          f"{tuple(counts.shape)} ([batch, output length, tracks]). Match the "
          "model's n_outputs to the tracks and its trim to (input length - "
          "output length) / 2.")
    n_tracks = counts.shape[-1]
    group_size(n_tracks, log_counts.shape[-1])
    if n_tracks % self.tracks_per_task:
      raise ValueError(f"profile task: {n_tracks} tracks are not a multiple of "
                       f"tracks_per_task={self.tracks_per_task}.")

  def _count_output_weight(self, n_tracks: int, n_counts: int) -> float:
    """Weight of each count output's squared error: 1 / counts per task."""
    n_tasks = n_tracks // self.tracks_per_task
    return 1.0 / max(1, n_counts // n_tasks)

  def loss(self, outputs, batch):
    logits = outputs["profile_logits"].astype(jnp.float32)
    log_counts = outputs["log_counts"].astype(jnp.float32)
    counts = jnp.asarray(batch[self.profile_key]).astype(jnp.float32)
    self._check(logits, log_counts, counts)
    n_counts = log_counts.shape[-1]
    grouped_counts = _grouped(counts, n_counts)
    log_probs = jax.nn.log_softmax(_grouped(logits, n_counts), axis=-1)
    profile = multinomial_nll(log_probs, grouped_counts).sum(axis=-1)
    target = jnp.log1p(grouped_counts.sum(axis=-1))
    squared = jnp.square(log_counts - target).sum(axis=-1)
    per_example = profile + self.count_weight * self._count_output_weight(
        counts.shape[-1], n_counts) * squared
    if "example_mask" in batch:
      mask = jnp.asarray(batch["example_mask"]).astype(jnp.float32) > 0
    else:
      mask = jnp.ones(per_example.shape, bool)
    weight = mask.sum().astype(jnp.float32)
    # Padding rows may hold anything; where() keeps NaNs out of the sum.
    total = jnp.where(mask, per_example, 0.0).sum()
    return total / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    """``{"profile_probs", "profile_log_probs"}`` [batch, length, tracks] and
    ``"log_counts"`` [batch, n_count_outputs].

    Probabilities are normalised within each count group (over positions and
    the group's tracks), so with one count output all tracks sum to 1
    together; the expected reads are ``profile_probs * exp(log_counts)`` of
    the track's group.
    """
    logits = outputs["profile_logits"].astype(jnp.float32)
    log_counts = outputs["log_counts"].astype(jnp.float32)
    n_counts = log_counts.shape[-1]
    group_size(logits.shape[-1], n_counts)
    log_probs = _ungrouped(
        jax.nn.log_softmax(_grouped(logits, n_counts), axis=-1),
        logits.shape[1])
    return {"profile_probs": jnp.exp(log_probs), "profile_log_probs": log_probs,
            "log_counts": log_counts}

  def new_metrics(self) -> "ProfileMetrics":
    return ProfileMetrics(profile_key=self.profile_key,
                          track_names=self.track_names,
                          jsd_smoothing=self.jsd_smoothing,
                          min_jsd_counts=self.min_jsd_counts)

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """Reverses positions and swaps strand pairs of the profile and control."""
    example = dict(example)
    example[self.profile_key] = reverse_complement_tracks(
        example[self.profile_key], self.strand_pair)
    if self.control_key in example:
      example[self.control_key] = reverse_complement_tracks(
          example[self.control_key], self.control_strand_pair)
    return example


@dataclasses.dataclass
class ProfileMetrics:
  """Host accumulator of per-example count and profile statistics.

  ``update`` keeps, per example, true and predicted log counts, the profile
  MNLL and the JS distance of every track; ``merge`` concatenates, so the
  result equals one pass over all examples on one host.
  """

  profile_key: str = "profile"
  track_names: tuple[str, ...] = ()
  jsd_smoothing: tuple[float, int] | None = None
  min_jsd_counts: float = 1.0
  _true_log_counts: list = dataclasses.field(default_factory=list)
  _pred_log_counts: list = dataclasses.field(default_factory=list)
  _nll: list = dataclasses.field(default_factory=list)
  _jsd: list = dataclasses.field(default_factory=list)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    counts = np.asarray(batch[self.profile_key], np.float64)
    log_probs = np.asarray(predictions["profile_log_probs"], np.float64)
    log_counts = np.asarray(predictions["log_counts"], np.float64)
    if "example_mask" in batch:
      keep = np.asarray(batch["example_mask"]) > 0
      counts, log_probs, log_counts = counts[keep], log_probs[keep], log_counts[keep]
    if counts.shape != log_probs.shape:
      raise ValueError(f"profile metrics: predictions {log_probs.shape} and "
                       f"targets {counts.shape} differ in shape.")
    n_groups = log_counts.shape[-1]
    group_size(counts.shape[-1], n_groups)
    grouped = _grouped(counts, n_groups)
    self._true_log_counts.append(np.log1p(grouped.sum(axis=-1)))
    self._pred_log_counts.append(log_counts)
    self._nll.append(multinomial_nll(_grouped(log_probs, n_groups), grouped,
                                     xp=np).sum(axis=-1))
    observed = counts
    if self.jsd_smoothing is not None:
      observed = gaussian_smooth(counts, *self.jsd_smoothing)
    # [batch, tracks, length]: one distribution per example and track.
    jsd = jensen_shannon_distance(observed.transpose(0, 2, 1),
                                  np.exp(log_probs).transpose(0, 2, 1))
    jsd[counts.sum(axis=1) < max(self.min_jsd_counts, 1e-12)] = np.nan
    self._jsd.append(jsd)

  def merge(self, other: "ProfileMetrics") -> "ProfileMetrics":
    self._true_log_counts += other._true_log_counts
    self._pred_log_counts += other._pred_log_counts
    self._nll += other._nll
    self._jsd += other._jsd
    return self

  def compute(self) -> dict[str, Any]:
    """Scalars (means) and per-output / per-track arrays."""
    if not self._nll:
      raise ValueError("ProfileMetrics.compute() called before any update()")
    true = np.concatenate(self._true_log_counts)
    pred = np.concatenate(self._pred_log_counts)
    jsd = np.concatenate(self._jsd)
    n_counts = true.shape[1]
    count_pearson = np.array([metrics.pearson_r(pred[:, i], true[:, i])
                              for i in range(n_counts)])
    count_spearman = np.array([metrics.spearman_r(pred[:, i], true[:, i])
                               for i in range(n_counts)])
    count_mse = np.mean(np.square(pred - true), axis=0)
    valid = np.isfinite(jsd)
    with np.errstate(invalid="ignore"):
      jsd_per_track = np.where(valid.any(axis=0),
                               np.nansum(jsd, axis=0) / valid.sum(axis=0),
                               np.nan)

    def mean(values):
      finite = values[np.isfinite(values)]
      return float(finite.mean()) if finite.size else float("nan")

    return {
        "count_pearson": mean(count_pearson),
        "count_spearman": mean(count_spearman),
        "count_mse": float(count_mse.mean()),
        "profile_nll": float(np.concatenate(self._nll).mean()),
        "profile_jsd": mean(jsd[valid]),
        "count_pearson_per_output": count_pearson,
        "count_spearman_per_output": count_spearman,
        "count_mse_per_output": count_mse,
        "profile_jsd_per_track": jsd_per_track,
    }


Task = ProfileTask
