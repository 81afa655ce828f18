"""Masked language modelling: BERT's objective for DNABERT, ESM-1b and the MSA Transformer.

The loss is the cross-entropy of the original token at the masked positions only
(Devlin et al. 2019): ``labels`` holds the original id where a token was masked and
``IGNORE_INDEX`` (-100, Hugging Face's convention) everywhere else. Metrics over the
masked positions of the evaluated set: ``accuracy`` (top-1), ``masked_nll`` (mean
negative log-likelihood, nats) and ``perplexity`` (``exp`` of it).

Masking runs on the host, in the data source (``genereg_jax.data.pretrain_sources``),
with a NumPy generator seeded from the run seed and the record index, so a run's
masks are a function of its seed and resume with the grain iterator state:

* ``mask_tokens`` — BERT / ESM-1b (Rives et al. 2021) / MSA Transformer (Rao et al.
  2021): each maskable token is chosen with probability 15%; of those, 80% become the
  mask token, 10% a random token, 10% stay unchanged.
* ``mask_kmer_spans`` — DNABERT (Ji et al. 2021; ``mask_tokens`` in
  github.com/jerryji1993/DNABERT ``examples/run_pretrain.py``): with overlapping
  k-mers one masked k-mer is spelled out by its neighbours, so every sampled centre
  ``c`` also masks the tokens at ``c + offset`` for DNABERT's ``MASK_LIST``
  (k = 3: -1, +1; 4: -1, +1, +2; 5: -2 … +2; 6: -2 … +3), i.e. ``k`` consecutive
  k-mers, kept between the first and the last maskable token; centres are drawn
  with ``mlm_probability`` (0.025 in DNABERT's 6-mer pretraining script, about 15%
  of tokens once spans are added), then the same 80/10/10 replacement. As in the
  reference, random replacements are drawn from the whole vocabulary. ``span``
  widens the span to more than ``k`` tokens (the same layout around the centre):
  ``k + m - 1`` tokens hide ``m`` nucleotides, as SpanBERT-style span masking
  (Joshi et al., TACL 2020) hides whole words rather than word pieces.

Even a k-token span leaves only the span's middle nucleotide unknown when it does
not touch another span (the tokens either side spell the rest), so a model that
copies from its neighbours reaches about the entropy of one base per masked token;
``context_baseline`` computes that bound, ``unigram_baseline`` the cross-entropy of
predicting each masked token from unigram token frequencies.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base

IGNORE_INDEX = -100
#: DNABERT's MASK_LIST: offsets from a sampled centre that are masked with it.
DNABERT_SPAN_OFFSETS = {3: (-1, 1), 4: (-1, 1, 2), 5: (-2, -1, 1, 2),
                        6: (-2, -1, 1, 2, 3)}


def _replace(ids: np.ndarray, masked: np.ndarray, rng: np.random.Generator,
             mask_id: int, random_ids: tuple[int, int], mask_fraction: float,
             random_fraction: float) -> tuple[np.ndarray, np.ndarray]:
  """BERT's replacement of the chosen positions: mask token / random / unchanged."""
  labels = np.where(masked, ids, IGNORE_INDEX).astype(np.int32)
  draw = rng.random(ids.shape)
  inputs = ids.copy()
  to_mask = masked & (draw < mask_fraction)
  to_random = masked & (draw >= mask_fraction) & (draw < mask_fraction + random_fraction)
  inputs[to_mask] = mask_id
  inputs[to_random] = rng.integers(*random_ids, size=int(to_random.sum()))
  return inputs.astype(np.int32), labels


def mask_tokens(ids: np.ndarray, rng: np.random.Generator, *, maskable: np.ndarray,
                mask_id: int, random_ids: tuple[int, int],
                mlm_probability: float = 0.15, mask_fraction: float = 0.8,
                random_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
  """BERT / ESM masking of token ids of any shape.

  Args:
    ids: token ids (``[length]`` or an MSA's ``[rows, columns]``).
    rng: the generator (seeded per record by the caller).
    maskable: bool, same shape: positions that may be masked (not special or padding).
    mask_id: the mask token.
    random_ids: ``[low, high)`` of the random replacement tokens.
    mlm_probability: chance that a maskable position is chosen.
    mask_fraction: share of chosen positions set to ``mask_id``.
    random_fraction: share set to a random token (the rest stay unchanged).

  Returns:
    ``(input_ids, labels)``: labels are the original ids at the chosen positions and
    ``IGNORE_INDEX`` elsewhere.
  """
  ids = np.asarray(ids)
  masked = maskable & (rng.random(ids.shape) < mlm_probability)
  return _replace(ids, masked, rng, mask_id, random_ids, mask_fraction, random_fraction)


def span_offsets(k: int, span: int | None = None) -> tuple[int, ...]:
  """Offsets from a centre masked with it: DNABERT's ``MASK_LIST`` for ``span = k``
  (or None), else the same layout widened to ``span`` tokens (centre at ``(span - 1)
  // 2``), which hides ``span - k + 1`` nucleotides instead of one."""
  if k not in DNABERT_SPAN_OFFSETS:
    raise ValueError(f"DNABERT span masking needs k in {sorted(DNABERT_SPAN_OFFSETS)}, got {k}")
  if span is None or span == k:
    return DNABERT_SPAN_OFFSETS[k]
  if span < 1:
    raise ValueError(f"span must be at least 1 token, got {span}")
  return tuple(o for o in range(-((span - 1) // 2), span // 2 + 1) if o)


def span_positions(centres: np.ndarray, maskable: np.ndarray, k: int,
                   span: int | None = None) -> np.ndarray:
  """DNABERT's span expansion of ``[length]`` bool ``centres`` (see module docstring;
  ``span`` tokens per centre, ``span_offsets``).

  Offsets reaching outside ``[1, last maskable position]`` are dropped, as the
  reference bounds them.
  """
  offsets = span_offsets(k, span)
  positions = np.flatnonzero(maskable)
  masked = centres.copy()
  if not positions.size:
    return masked
  end = positions[-1]
  for c in np.flatnonzero(centres):
    for offset in offsets:
      if 1 <= c + offset <= end:
        masked[c + offset] = True
  return masked


def mask_kmer_spans(ids: np.ndarray, rng: np.random.Generator, *, k: int,
                    maskable: np.ndarray, mask_id: int, random_ids: tuple[int, int],
                    mlm_probability: float = 0.025, mask_fraction: float = 0.8,
                    random_fraction: float = 0.1,
                    span: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """DNABERT's masking of ``[length]`` k-mer ids: centres, k-token spans, 80/10/10.

  Args as ``mask_tokens``, with ``k`` the k-mer size, ``mlm_probability`` the
  chance that a maskable position is a span centre and ``span`` the tokens masked
  per centre (None: DNABERT's ``k``).
  """
  ids = np.asarray(ids)
  centres = maskable & (rng.random(ids.shape) < mlm_probability)
  masked = span_positions(centres, maskable, k, span)
  return _replace(ids, masked, rng, mask_id, random_ids, mask_fraction, random_fraction)


def unigram_baseline(train_ids: np.ndarray, labels: np.ndarray,
                     vocab_size: int) -> float:
  """Cross-entropy (nats) of predicting each masked token from unigram frequencies.

  Frequencies are counted over ``train_ids`` (add-one smoothed); the cross-entropy
  is averaged over the masked positions of ``labels`` (``!= IGNORE_INDEX``).
  """
  counts = np.bincount(np.asarray(train_ids).ravel(), minlength=vocab_size) + 1.0
  log_p = np.log(counts / counts.sum())
  targets = np.asarray(labels)[np.asarray(labels) != IGNORE_INDEX]
  return float(-log_p[targets].mean())


def context_baseline(labels: np.ndarray, k: int, base_entropy: float) -> float:
  """The copy-from-neighbours bound of k-mer MLM, in nats per masked token.

  A masked k-mer at position ``t`` spells nucleotides ``t .. t + k - 1``; the ones no
  unmasked k-mer covers are unknown. With nucleotides drawn independently with
  entropy ``base_entropy``, a model that copies every spelled-out nucleotide has
  cross-entropy ``unknown(t) * base_entropy`` at ``t``; this returns its mean over the
  masked tokens of ``labels`` ``[batch, length]`` (special tokens at either end count
  as unmasked tokens that spell nothing).
  """
  unknown = [u.sum() for row in np.atleast_2d(labels) for u in unknown_nucleotides(row, k)]
  return float(np.sum(unknown) * base_entropy / max(len(unknown), 1))


def unknown_nucleotides(labels: np.ndarray, k: int) -> list[np.ndarray]:
  """For each masked token of a ``[length]`` ``labels`` row (``[CLS]`` first), in
  order, bool ``[k]``: which of its ``k`` nucleotides no unmasked token spells (the
  ones a model must predict rather than copy). Token ``t`` spells bases ``t - 1 ..
  t + k - 2`` of the window."""
  masked = np.asarray(labels) != IGNORE_INDEX
  known = np.zeros(len(masked) + k, bool)  # nucleotide j is spelled by tokens j-k+1 .. j
  for t in np.flatnonzero(~masked[1:-1]) + 1:
    known[t:t + k] = True
  return [~known[t:t + k] for t in np.flatnonzero(masked)]


def hidden_in_region(labels: np.ndarray, k: int, region: np.ndarray) -> np.ndarray:
  """Per token of a ``[length]`` ``labels`` row: 1 where the token is masked and every
  nucleotide it hides (``unknown_nucleotides``) is in ``region`` (bool, one per base of
  the window: ``length - 2 + k - 1``), 0 where none is, -1 otherwise (unmasked, mixed,
  or nothing hidden) — e.g. MLM accuracy on planted motif sites vs background."""
  groups = np.full(len(labels), -1, np.int8)
  for t, unknown in zip(np.flatnonzero(np.asarray(labels) != IGNORE_INDEX),
                        unknown_nucleotides(labels, k)):
    hidden = np.asarray(region)[np.arange(t - 1, t - 1 + k)[unknown]]
    if hidden.size:
      groups[t] = 1 if hidden.all() else (0 if not hidden.any() else -1)
  return groups


@dataclasses.dataclass
class MaskedTokenMetrics:
  """Accuracy, mean NLL and perplexity over the masked positions (streaming sums)."""
  nll: float = 0.0
  correct: float = 0.0
  count: float = 0.0

  def update(self, predictions: dict[str, Any], batch: dict[str, Any]) -> None:
    valid = np.asarray(batch["labels"]) != IGNORE_INDEX
    self.nll += float(np.asarray(predictions["nll"])[valid].sum())
    self.correct += float(np.asarray(predictions["correct"])[valid].sum())
    self.count += float(valid.sum())

  def merge(self, other: "MaskedTokenMetrics") -> "MaskedTokenMetrics":
    return MaskedTokenMetrics(self.nll + other.nll, self.correct + other.correct,
                              self.count + other.count)

  def compute(self) -> dict[str, float]:
    count = max(self.count, 1.0)
    nll = self.nll / count
    return {"accuracy": self.correct / count, "masked_nll": nll,
            "perplexity": float(np.exp(nll)), "masked_tokens": self.count}


def _valid(batch: base.Batch) -> jax.Array:
  valid = batch["labels"] != IGNORE_INDEX
  if "example_mask" in batch:
    example = batch["example_mask"].reshape(-1, *([1] * (valid.ndim - 1))) > 0
    valid = valid & example
  return valid


def _token_nll(outputs: Any, batch: base.Batch) -> tuple[jax.Array, jax.Array, jax.Array]:
  logits = outputs["logits"].astype(jnp.float32)
  valid = _valid(batch)
  targets = jnp.where(valid, batch["labels"], 0)
  nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
  return logits, jnp.where(valid, nll, 0.0), valid


class Task(base.Task):
  """Masked-token cross-entropy on ``outputs["logits"]`` ``[..., vocab]`` (see module
  docstring); ``labels`` ``[...]`` with ``IGNORE_INDEX`` at unmasked positions."""

  target_keys = ("labels",)

  def loss(self, outputs: Any, batch: base.Batch) -> tuple[jax.Array, jax.Array]:
    _, nll, valid = _token_nll(outputs, batch)
    count = valid.sum().astype(jnp.float32)
    return nll.sum() / jnp.maximum(count, 1.0), count

  def predictions(self, outputs: Any) -> jax.Array:
    """Token probabilities ``[..., vocab]``."""
    return jax.nn.softmax(outputs["logits"].astype(jnp.float32), axis=-1)

  def eval_predictions(self, outputs: Any, batch: base.Batch) -> dict[str, jax.Array]:
    """Per-position NLL and top-1 correctness: two numbers per token reach the host,
    not ``[batch, length, vocab]`` probabilities."""
    logits, nll, valid = _token_nll(outputs, batch)
    correct = (jnp.argmax(logits, axis=-1) == batch["labels"]) & valid
    return {"nll": nll, "correct": correct}

  def new_metrics(self) -> MaskedTokenMetrics:
    return MaskedTokenMetrics()


MaskedLanguageModel = Task


def maskable_positions(ids: np.ndarray, special_ids: Sequence[int]) -> np.ndarray:
  """Bool mask of the positions whose token is not one of ``special_ids``."""
  return ~np.isin(np.asarray(ids), np.asarray(special_ids))
