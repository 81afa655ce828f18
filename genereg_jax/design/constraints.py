"""Constraints on designed DNA: fixed positions, a GC range, forbidden motifs.

How each design method honours them:

* **Fixed positions** (a letter per position or -1 for free; e.g. a promoter's TATA box,
  a cloning site) are exact in both methods: SeqProp overwrites those positions of every
  sampled sequence, evolution never mutates them.
* **GC range** ``[low, high]`` (fraction of C + G over the whole sequence, letters in
  ACGT order): SeqProp adds a *penalty* ``gc_weight * distance(expected GC, range)`` on
  the softmax and, at the end, *projects* its argmax sequence into the range (the free
  A/T <-> C/G changes that cost the least logit margin, ``project_gc``), so the returned
  designs always satisfy it; evolution starts from projected sequences and only takes
  substitutions that stay in the range.
* **Forbidden motifs** (``Motif``: a log-odds matrix and a threshold, or an exact
  consensus such as a restriction site; both strands scanned): SeqProp adds a *penalty*
  ``motif_weight * sum(relu(score - threshold + 1))`` over every window of the expected
  sequence; evolution never takes a substitution that adds a match. The exact count of
  matches of every returned design is checked at the end (``motif_hits``) and reported
  (a SeqProp design may keep one when the penalty loses to the objective).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
DNA = "ACGT"


@dataclasses.dataclass(frozen=True, eq=False)
class Motif:
  """A window matches when ``sum(x * matrix) >= threshold`` on either strand.

  Attributes:
    name: shown in reports.
    matrix: ``float[w, A]`` scores (a log-odds PWM, or a one-hot consensus).
    threshold: the match score.
  """
  name: str
  matrix: np.ndarray
  threshold: float

  @classmethod
  def consensus(cls, text: str, alphabet: str = DNA) -> "Motif":
    """An exact match of ``text`` (e.g. ``GAATTC``, EcoRI)."""
    text = text.upper()
    if not text or set(text) - set(alphabet):
      raise ValueError(f"consensus {text!r} must be letters of {alphabet}")
    matrix = np.eye(len(alphabet), dtype=np.float32)[[alphabet.index(c) for c in text]]
    return cls(text, matrix, float(len(text)))

  @classmethod
  def pwm(cls, name: str, log_odds: np.ndarray, fraction: float = 0.7) -> "Motif":
    """Windows scoring at least ``fraction`` of the consensus (best) score."""
    log_odds = np.asarray(log_odds, np.float32)
    return cls(name, log_odds, float(fraction * log_odds.max(axis=1).sum()))

  def strands(self, reverse_complement: bool) -> tuple[np.ndarray, ...]:
    # The reverse complement of an ACGT window flips positions and letters.
    return (self.matrix, self.matrix[::-1, ::-1]) if reverse_complement else (self.matrix,)


@dataclasses.dataclass(frozen=True, eq=False)
class Constraints:
  """What every design must satisfy (see the module docstring for how).

  Attributes:
    fixed: ``int[L]``, the letter index at fixed positions, -1 where free (None: all free).
    gc_range: ``(low, high)`` fractions of C + G, or None.
    forbidden: motifs no design may contain.
    reverse_complement: scan forbidden motifs on both strands (DNA).
    gc_weight, motif_weight: SeqProp's penalty weights.
  """
  fixed: np.ndarray | None = None
  gc_range: tuple[float, float] | None = None
  forbidden: tuple[Motif, ...] = ()
  reverse_complement: bool = True
  gc_weight: float = 10.0
  motif_weight: float = 1.0

  def __post_init__(self):
    if self.gc_range is not None:
      low, high = self.gc_range
      if not 0 <= low <= high <= 1:
        raise ValueError(f"gc_range {self.gc_range} must satisfy 0 <= low <= high <= 1")

  def fixed_mask(self, length: int) -> np.ndarray:
    """``bool[L]``: the fixed positions."""
    if self.fixed is None:
      return np.zeros(length, bool)
    if len(self.fixed) != length:
      raise ValueError(f"fixed has {len(self.fixed)} positions, the designs {length}")
    return np.asarray(self.fixed) >= 0

  def apply_fixed(self, x: Array) -> Array:
    """``x`` with the fixed positions set to their one-hot letters (numpy or jax)."""
    if self.fixed is None:
      return x
    fixed = np.asarray(self.fixed)
    letters = np.eye(x.shape[-1], dtype=np.float32)[np.maximum(fixed, 0)]
    where = jnp.where if isinstance(x, jax.Array) else np.where
    return where((fixed >= 0)[None, :, None], letters.astype(x.dtype), x)


def fixed_positions(length: int, letters: Mapping[int, str], alphabet: str = DNA) -> np.ndarray:
  """``Constraints.fixed`` from ``{start: "TATAAA", ...}`` (0-based starts)."""
  fixed = np.full(length, -1, np.int32)
  for start, text in letters.items():
    if start < 0 or start + len(text) > length:
      raise ValueError(f"fixed {text!r} at {start} does not fit in {length} positions")
    for i, c in enumerate(text.upper()):
      if c not in alphabet:
        raise ValueError(f"fixed letter {c!r} at {start + i} is not one of {alphabet}")
      fixed[start + i] = alphabet.index(c)
  return fixed


def gc_fraction(x: Array) -> Array:
  """``float[B]``: mean of ``x[..., C] + x[..., G]`` over positions (ACGT order)."""
  return (x[..., 1] + x[..., 2]).mean(axis=-1)


def motif_scores(x: Array, matrix: np.ndarray) -> Array:
  """``float[B, L - w + 1]``: ``sum(x[:, j:j + w] * matrix)`` for every window ``j``."""
  width, n = matrix.shape[0], x.shape[1] - matrix.shape[0] + 1
  return sum(x[:, k:k + n] @ matrix[k] for k in range(width))


def motif_hits(x: np.ndarray, constraints: Constraints) -> np.ndarray:
  """``int[B]``: windows of the one-hot ``x`` matching a forbidden motif (exact check)."""
  x = np.asarray(x, np.float32)
  hits = np.zeros(len(x), np.int64)
  for motif in constraints.forbidden:
    for matrix in motif.strands(constraints.reverse_complement):
      hits += (motif_scores(x, matrix) >= motif.threshold - 1e-4).sum(axis=1)
  return hits


def penalty(p: Array, constraints: Constraints) -> Array:
  """``float[B]``: SeqProp's GC and motif penalties on the softmax ``p`` (jax)."""
  total = jnp.zeros(p.shape[0], p.dtype)
  if constraints.gc_range is not None:
    low, high = constraints.gc_range
    gc = gc_fraction(p)
    total += constraints.gc_weight * (jax.nn.relu(low - gc) + jax.nn.relu(gc - high))
  for motif in constraints.forbidden:
    for matrix in motif.strands(constraints.reverse_complement):
      # The margin of 1 pushes windows clear of the threshold, not onto it.
      excess = jax.nn.relu(motif_scores(p, matrix) - motif.threshold + 1.0)
      total += constraints.motif_weight * excess.sum(axis=1)
  return total


def project_gc(x: np.ndarray, logits: np.ndarray, constraints: Constraints) -> np.ndarray:
  """The one-hot ``x`` moved into the GC range by the fewest free A/T <-> C/G changes,
  choosing those that lose the least logit (the best letter of the other class at each
  changed position); unchanged where already inside or there is no range."""
  x = np.array(x, np.float32)
  if constraints.gc_range is None:
    return x
  batch, length, _ = x.shape
  low, high = constraints.gc_range
  free = ~constraints.fixed_mask(length)
  logits = np.asarray(logits, np.float32)
  is_gc = x[..., 1] + x[..., 2] > 0.5
  count = is_gc.sum(axis=1)
  for b in range(batch):
    need_up = int(np.ceil(low * length - 1e-9)) - count[b]
    need_down = count[b] - int(np.floor(high * length + 1e-9))
    if need_up <= 0 and need_down <= 0:
      continue
    # Moving up turns A/T into the better of C/G, and down the reverse.
    up = need_up > 0
    target = [1, 2] if up else [0, 3]
    own = (x[b] * logits[b]).sum(-1)
    best = np.array(target)[logits[b][:, target].argmax(-1)]
    cost = own - logits[b][np.arange(length), best]
    movable = free & (is_gc[b] != up)
    order = [i for i in np.argsort(cost, kind="stable") if movable[i]]
    for i in order[:need_up if up else need_down]:
      x[b, i] = np.eye(x.shape[-1], dtype=np.float32)[best[i]]
  return x


def feasible_substitutions(x: np.ndarray, constraints: Constraints) -> np.ndarray:
  """``bool[B, L, A]``: single substitutions of the one-hot ``x`` that keep every
  constraint (evolution's moves): not at a fixed position, not the own letter, GC
  inside the range (or not moving away from it), no more forbidden matches than ``x``."""
  x = np.asarray(x, np.float32)
  batch, length, alphabet = x.shape
  own = x.argmax(-1)
  ok = x < 0.5
  ok &= ~constraints.fixed_mask(length)[None, :, None]
  if constraints.gc_range is not None:
    low, high = constraints.gc_range
    is_gc = np.isin(np.arange(alphabet), [1, 2])
    count = (x[..., 1] + x[..., 2]).sum(axis=1)[:, None, None]
    after = (count - is_gc[own][..., None] + is_gc[None, None, :]) / length
    inside = (after >= low - 1e-9) & (after <= high + 1e-9)
    closer = np.abs(after - np.clip(after, low, high)) <= np.abs(
        count / length - np.clip(count / length, low, high)) - 1e-9
    ok &= inside | closer
  if constraints.forbidden:
    ok &= _mutant_hits(x, own, constraints) <= motif_hits(x, constraints)[:, None, None]
  return ok


def _mutant_hits(x: np.ndarray, own: np.ndarray, constraints: Constraints) -> np.ndarray:
  """``int[B, L, A]``: forbidden matches of every single-substitution mutant, from the
  windows' scores and the change the substitution makes to those covering it."""
  batch, length, alphabet = x.shape
  total = motif_hits(x, constraints)[:, None, None]
  change = np.zeros((batch, length, alphabet), np.int64)
  positions = np.arange(length)
  for motif in constraints.forbidden:
    for matrix in motif.strands(constraints.reverse_complement):
      scores = motif_scores(x, matrix)
      threshold = motif.threshold - 1e-4
      for k in range(matrix.shape[0]):  # the substitution at l is letter k of window l - k
        window = positions - k
        valid = ((window >= 0) & (window < scores.shape[1]))[None, :, None]
        before = scores[:, np.clip(window, 0, scores.shape[1] - 1)][..., None]
        after = before + matrix[k][None, None, :] - matrix[k][own][..., None]
        change += valid * ((after >= threshold).astype(np.int64)
                           - (before >= threshold).astype(np.int64))
  return total + change
