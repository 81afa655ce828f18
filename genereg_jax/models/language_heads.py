"""Fine-tuning heads on a DNABERT / ESM encoder: sequence and per-position classification.

one-hot DNA (or token ids) → overlapping k-mer tokens → ``LanguageModel`` encoder → head:

* **sequence** level — Hugging Face's ``BertForSequenceClassification``, which DNABERT
  (Ji et al., Bioinformatics 2021) fine-tunes for promoters, TFBS and splice sites:
  the ``[CLS]`` vector through the BERT pooler (dense + tanh), dropout, a dense layer to
  ``num_outputs``; or (``pooling="mean"``, ``"max"``, ``"mean_max"``) the mean, the
  maximum or both (concatenated) of the non-special tokens' vectors — a motif is present
  if some position holds it, which a max reads as a CNN's global max pool does, while
  a [CLS] vector the MLM never trained carries nothing and a mean over hundreds of
  tokens barely varies between sequences (``experiments.finetune_compare --diagnose``).
  ``[batch, num_outputs]`` logits (multi-label, multi-class or regression tasks).
* **token** level — ``BertForTokenClassification``: dropout and a dense layer on every
  token's vector, ``[batch, tokens, num_outputs]``.
* **base** level — per-nucleotide outputs from k-mer tokens (splice sites): nucleotide
  ``i`` is covered by the k-mers starting at ``i - k + 1 .. i``; its vector is the mean
  of theirs (DNABERT's convention for mapping k-mer scores back to bases, as its
  attention maps do), then dropout and a dense layer; ``crop`` nucleotides are dropped
  at each end (SpliceAI-style context), ``[batch, length - 2 crop, num_outputs]``.

``Model`` is a ``LanguageModel`` without the MLM head plus the head's parameters
(``pooler``, ``classifier``), so a pretrained encoder's parameters load under their own
names. One-hot input (``input_kind="onehot"``, the framework's DNA batches) is turned
into DNABERT's k-mer ids inside the model — ``[CLS]`` k-mers ``[SEP]``, k-mers in
DNABERT's ``itertools.product("ATCG")`` order, any N in a k-mer gives ``[UNK]`` — so
every existing DNA dataset fine-tunes a language model without a new builder.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.data import tokenizers
from genereg_jax.models import language

Array = jax.Array

LEVELS = ("sequence", "token", "base")
POOLINGS = ("cls", "mean", "max", "mean_max")
#: A, C, G, T (one-hot order) → DNABERT's digits (A T C G order).
_ONEHOT_TO_DNABERT = (0, 2, 3, 1)
_SPECIAL = {t: i for i, t in enumerate(tokenizers.DNABERT_SPECIAL_TOKENS)}

PRESETS: dict[str, dict[str, Any]] = {
    # DNABERT-6 fine-tuning (Ji et al. 2021: BERT-base, 6-mers, 512 positions).
    "dnabert": dict(language.PRESETS["dnabert"], kmer=6),
    "dnabert_small": dict(language.PRESETS["dnabert_small"], kmer=6),
    # Tests and CPU proofs: 3-mers (vocabulary 69), 2 layers of 32, 256 positions
    # (dnabert_pretrain:tiny run with --config.dataset.max_tokens=256).
    "dnabert_tiny": dict(language.PRESETS["dnabert_tiny"], kmer=3,
                         max_position_embeddings=256),
    "dnabert_tiny64": dict(language.PRESETS["dnabert_tiny64"], kmer=3),
    "dnabert_tiny128": dict(language.PRESETS["dnabert_tiny128"], kmer=3),
}


def onehot_to_kmer_ids(onehot: Array, k: int) -> Array:
  """``[batch, length, 4]`` one-hot (ACGT) → ``int32[batch, length - k + 1]`` DNABERT ids.

  The id of k-mer ``s`` is ``5 + sum_i digit(s_i) 4^(k-1-i)`` with A, T, C, G = 0..3
  (``tokenizers.dnabert_vocab``); a k-mer with an N (an all-zero row) is ``[UNK]``.
  """
  digits = jnp.asarray(_ONEHOT_TO_DNABERT)[jnp.argmax(onehot, -1)]
  known = onehot.max(-1) > 0
  n = onehot.shape[1] - k + 1
  ids = sum(digits[:, i:i + n] * 4**(k - 1 - i) for i in range(k))
  all_known = jnp.stack([known[:, i:i + n] for i in range(k)], -1).all(-1)
  return jnp.where(all_known, ids + len(_SPECIAL), _SPECIAL["[UNK]"]).astype(jnp.int32)


def kmers_to_bases(hidden: Array, k: int) -> Array:
  """``[batch, n_kmers, d]`` → ``[batch, n_kmers + k - 1, d]``: each base's vector is the
  mean over the k-mers that contain it (fewer at the two ends)."""
  n = hidden.shape[1]
  length = n + k - 1
  total = jnp.pad(jnp.cumsum(hidden, axis=1), ((0, 0), (1, 0), (0, 0)))
  base = jnp.arange(length)
  first, last = jnp.maximum(base - k + 1, 0), jnp.minimum(base, n - 1)
  sums = total[:, last + 1] - total[:, first]
  return sums / (last - first + 1)[None, :, None].astype(hidden.dtype)


class Model(language.LanguageModel):
  """A language-model encoder with a classification / regression head.

  Attributes (beyond ``LanguageModel``'s):
    num_outputs: outputs per sequence, token or base.
    level: ``"sequence"``, ``"token"`` or ``"base"`` (see the module docstring).
    pooling: sequence level: ``"cls"`` (BERT pooler on ``[CLS]``), ``"mean"``,
      ``"max"`` or ``"mean_max"`` (both, concatenated) over the non-special tokens.
    input_kind: ``"onehot"`` (``[batch, length, 4]`` DNA, tokenised here) or
      ``"tokens"`` (``int[batch, length]`` ids as given).
    kmer: k of the k-mer tokens (one-hot input).
    crop: base level: nucleotides dropped at each end of the output.
    classifier_dropout: dropout before the classifier (BERT: hidden_dropout_prob).
  """
  num_outputs: int = 1
  level: str = "sequence"
  pooling: str = "cls"
  input_kind: str = "onehot"
  kmer: int = 6
  crop: int = 0
  classifier_dropout: float = 0.1
  mlm_head: bool = False

  def setup(self):
    super().setup()
    if self.level not in LEVELS:
      raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
    if self.pooling not in POOLINGS:
      raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
    if self.input_kind not in ("onehot", "tokens"):
      raise ValueError(f"input_kind must be 'onehot' or 'tokens', got {self.input_kind!r}")
    if self.level == "base" and self.input_kind != "onehot":
      raise ValueError("base-level outputs need one-hot input (k-mers are mapped to bases)")
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    init = nn.initializers.normal(0.02)  # BERT's initializer_range.
    if self.level == "sequence" and self.pooling == "cls":
      self.pooler = nn.Dense(self.hidden_size, name="pooler", kernel_init=init, **kw)
    self.classifier = nn.Dense(self.num_outputs, name="classifier", kernel_init=init, **kw)
    self.head_dropout = nn.Dropout(self.classifier_dropout)

  def tokens(self, sequence: Array) -> tuple[Array, Array]:
    """``(input_ids, attention_mask)``: ``[CLS]`` k-mers ``[SEP]`` for one-hot input."""
    if self.input_kind == "tokens":
      ids = sequence.astype(jnp.int32)
      return ids, (ids != self.pad_token_id).astype(jnp.int32)
    kmers = onehot_to_kmer_ids(sequence, self.kmer)
    batch = kmers.shape[0]
    ids = jnp.concatenate([jnp.full((batch, 1), _SPECIAL["[CLS]"], jnp.int32), kmers,
                           jnp.full((batch, 1), _SPECIAL["[SEP]"], jnp.int32)], 1)
    return ids, jnp.ones_like(ids)

  def pool(self, hidden: Array, mask: Array) -> Array:
    """``[batch, tokens, d]`` last hidden states → the sequence-level vector."""
    if self.pooling == "cls":
      return jnp.tanh(self.pooler(hidden[:, 0]))
    inner = mask.at[:, 0].set(0)
    if self.input_kind == "onehot":
      inner = inner.at[:, -1].set(0)
    weights = inner[..., None].astype(hidden.dtype)
    mean = (hidden * weights).sum(1) / jnp.maximum(weights.sum(1), 1)
    peak = jnp.where(weights > 0, hidden, jnp.finfo(hidden.dtype).min).max(1)
    return {"mean": mean, "max": peak, "mean_max": jnp.concatenate([mean, peak], -1)}[
        self.pooling]

  def features(self, sequence: Array, *, train: bool = False) -> Array:
    """What the classifier reads: the pooled vector, each token's or each base's (by
    ``level``); a linear probe fits its head on these (LP-FT)."""
    ids, mask = self.tokens(sequence)
    hidden, _ = self.encode(ids, mask, train=train)
    if self.level == "sequence":
      return self.pool(hidden, mask)
    if self.level == "token":
      return hidden
    x = kmers_to_bases(hidden[:, 1:-1], self.kmer)
    return x[:, self.crop:x.shape[1] - self.crop] if self.crop else x

  def __call__(self, sequence: Array, *, train: bool = False) -> Array:
    """Logits: ``[batch, outputs]``, ``[batch, tokens, outputs]`` or
    ``[batch, length - 2 crop, outputs]`` by ``level``."""
    x = self.features(sequence, train=train)
    return self.classifier(self.head_dropout(x, deterministic=not train))
