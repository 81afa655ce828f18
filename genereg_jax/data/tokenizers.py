"""Tokenisers of the language models: DNABERT k-mers, ESM amino acids, MSA rows.

* ``KmerTokenizer`` (DNABERT, Ji et al. 2021): a DNA sequence becomes its
  overlapping k-mers (stride 1, DNABERT's ``seq2kmer``), k = 3 … 6, framed as
  ``[CLS] k-mers [SEP]`` and padded with ``[PAD]``. The vocabulary is the released
  one (github.com/jerryji1993/DNABERT, ``src/transformers/dnabert-config/
  bert-config-{k}/vocab.txt``): ``[PAD] [UNK] [CLS] [SEP] [MASK]`` (ids 0-4), then
  every k-mer in ``itertools.product("ATCG", repeat=k)`` order — A, T, C, G, not
  alphabetical (AAA, AAT, AAC, AAG, ATA, …); 4^k + 5 tokens (4,101 for k = 6). A
  k-mer holding any other letter (N) is ``[UNK]``.
* ``ProteinTokenizer`` (ESM-1b / ESM-2, fair-esm ``Alphabet``): ``ESM_ALPHABET``,
  ``<cls> <pad> <eos> <unk>``, the residue letters in fair-esm's order
  (``L A G V S E R T I D P K Q N F Y M H W C X B U Z O . -``), ``<null_1>`` (pads
  the table to a multiple of 8) and ``<mask>`` (id 32). Sequences become
  ``<cls> residues <eos>``; special tokens may be written inline (``"MK<mask>L"``).
* MSA rows (MSA Transformer, Rao et al. 2021): ``read_a3m`` keeps each row's match
  columns (A3M lowercase insertions and ``.`` dropped, as fair-esm's ``read_msa``)
  and ``ProteinTokenizer.encode_msa`` gives ``[rows, columns + 1]`` with ``<cls>``
  in front of every row and no ``<eos>`` (fair-esm's MSA alphabet); a column of the
  alignment is a column of that array.

Ids are ``int32`` NumPy arrays; ``batch_encode`` pads to a common length and returns
the attention mask (1 = token, 0 = padding) the models take.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Iterable, Sequence

import numpy as np

from genereg_jax.files import InputFormatError

DNABERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: DNABERT's k-mer letter order (``itertools.product("ATCG", ...)``).
DNABERT_BASES = "ATCG"
KMER_SIZES = (3, 4, 5, 6)

ESM_ALPHABET = (
    "<cls>", "<pad>", "<eos>", "<unk>",
    "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q", "N", "F", "Y",
    "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-",
    "<null_1>", "<mask>")


def dnabert_vocab(k: int) -> list[str]:
  """DNABERT's released vocabulary for k-mers of size ``k`` (see module docstring)."""
  if k not in KMER_SIZES:
    raise ValueError(f"DNABERT k-mer size must be one of {KMER_SIZES}, got {k}")
  return list(DNABERT_SPECIAL_TOKENS) + [
      "".join(p) for p in itertools.product(DNABERT_BASES, repeat=k)]


def _pad_batch(rows: Sequence[np.ndarray], pad_id: int,
               max_length: int | None) -> dict[str, np.ndarray]:
  length = max(len(r) for r in rows) if max_length is None else max_length
  ids = np.full((len(rows), length), pad_id, np.int32)
  mask = np.zeros((len(rows), length), np.int32)
  for i, row in enumerate(rows):
    if len(row) > length:
      raise ValueError(f"sequence {i} has {len(row)} tokens, more than "
                       f"max_length={length}")
    ids[i, :len(row)] = row
    mask[i, :len(row)] = 1
  return {"input_ids": ids, "attention_mask": mask}


class KmerTokenizer:
  """DNABERT's overlapping k-mer tokeniser (see the module docstring).

  Attributes:
    k: k-mer size, 3 … 6.
    vocab: the token strings, index = id.
  """

  pad_id, unk_id, cls_id, sep_id, mask_id = range(5)

  def __init__(self, k: int = 6):
    self.k = k
    self.vocab = dnabert_vocab(k)
    self._ids = {token: i for i, token in enumerate(self.vocab)}
    # Base -> digit in DNABERT's ATCG order; 4 for any other byte.
    self._digits = np.full(256, 4, np.int64)
    for i, base in enumerate(DNABERT_BASES):
      self._digits[ord(base)] = self._digits[ord(base.lower())] = i
    self._digits[ord("U")] = self._digits[ord("u")] = DNABERT_BASES.index("T")

  @property
  def vocab_size(self) -> int:
    return len(self.vocab)

  def kmers(self, sequence: str) -> list[str]:
    """Overlapping k-mers, stride 1 (``len(sequence) - k + 1`` of them)."""
    return [sequence[i:i + self.k] for i in range(len(sequence) - self.k + 1)]

  def kmer_ids(self, sequence: str | bytes) -> np.ndarray:
    """Ids of the overlapping k-mers, without special tokens (vectorised; case-
    insensitive, U read as T, a k-mer with any other letter is ``[UNK]``)."""
    if isinstance(sequence, str):
      sequence = sequence.encode("ascii")
    digits = self._digits[np.frombuffer(sequence, np.uint8)]
    n = len(digits) - self.k + 1
    if n <= 0:
      return np.zeros(0, np.int32)
    windows = np.lib.stride_tricks.sliding_window_view(digits, self.k)
    ids = windows @ (4 ** np.arange(self.k - 1, -1, -1)) + len(DNABERT_SPECIAL_TOKENS)
    return np.where((windows == 4).any(-1), self.unk_id, ids).astype(np.int32)

  def encode(self, sequence: str | bytes, add_special_tokens: bool = True) -> np.ndarray:
    """``[CLS] k-mers [SEP]`` ids, ``int32[len(sequence) - k + 3]``."""
    ids = self.kmer_ids(sequence)
    if not add_special_tokens:
      return ids
    return np.concatenate([[self.cls_id], ids, [self.sep_id]]).astype(np.int32)

  def batch_encode(self, sequences: Iterable[str | bytes],
                   max_length: int | None = None) -> dict[str, np.ndarray]:
    """``{"input_ids", "attention_mask"}`` ``int32[batch, max_length]``, padded with
    ``[PAD]`` (to the longest when ``max_length`` is None)."""
    return _pad_batch([self.encode(s) for s in sequences], self.pad_id, max_length)

  def decode(self, ids: Iterable[int]) -> list[str]:
    """Token strings of ``ids``."""
    return [self.vocab[int(i)] for i in ids]

  def token_id(self, token: str) -> int:
    """Id of a token string (a k-mer or a special token); ``[UNK]`` if unknown."""
    return self._ids.get(token, self.unk_id)


class ProteinTokenizer:
  """ESM's amino-acid tokeniser (fair-esm ``Alphabet``; see the module docstring).

  Attributes:
    prepend_bos: put ``<cls>`` first (ESM-1b, ESM-2, MSA Transformer).
    append_eos: put ``<eos>`` last (ESM-1b, ESM-2; not the MSA Transformer).
  """

  vocab = ESM_ALPHABET
  cls_id, pad_id, eos_id, unk_id = range(4)
  mask_id = ESM_ALPHABET.index("<mask>")
  _SPECIAL = re.compile(r"(<[^<>]+>)")

  def __init__(self, prepend_bos: bool = True, append_eos: bool = True):
    self.prepend_bos, self.append_eos = prepend_bos, append_eos
    self._ids = {token: i for i, token in enumerate(ESM_ALPHABET)}

  @property
  def vocab_size(self) -> int:
    return len(ESM_ALPHABET)

  def residue_ids(self, sequence: str) -> np.ndarray:
    """Ids of each letter (upper-cased; unknown letters ``<unk>``) and of inline
    special tokens such as ``<mask>``, without ``<cls>`` / ``<eos>``."""
    ids = []
    for part in self._SPECIAL.split(sequence):
      if part.startswith("<") and part.endswith(">"):
        if part not in self._ids:
          raise ValueError(f"unknown special token {part!r}; known: "
                           f"{[t for t in ESM_ALPHABET if t.startswith('<')]}")
        ids.append(self._ids[part])
      else:
        ids.extend(self._ids.get(c, self.unk_id) for c in part.upper())
    return np.asarray(ids, np.int32)

  def encode(self, sequence: str) -> np.ndarray:
    """``<cls> residues <eos>`` (as ``prepend_bos`` / ``append_eos`` say)."""
    parts = [[self.cls_id]] if self.prepend_bos else []
    parts.append(self.residue_ids(sequence))
    if self.append_eos:
      parts.append([self.eos_id])
    return np.concatenate(parts).astype(np.int32)

  def batch_encode(self, sequences: Iterable[str],
                   max_length: int | None = None) -> dict[str, np.ndarray]:
    """``{"input_ids", "attention_mask"}``, padded with ``<pad>``."""
    return _pad_batch([self.encode(s) for s in sequences], self.pad_id, max_length)

  def encode_msa(self, rows: Sequence[str]) -> np.ndarray:
    """``int32[rows, columns + 1]``: ``<cls>`` and each aligned row (no ``<eos>``,
    as fair-esm's MSA Transformer alphabet); rows must be equally long."""
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
      raise ValueError(f"MSA rows differ in length: {sorted(lengths)}")
    tokenizer = ProteinTokenizer(prepend_bos=True, append_eos=False)
    return np.stack([tokenizer.encode(r) for r in rows])

  def decode(self, ids: Iterable[int]) -> str:
    """The string of ``ids`` (special tokens written as ``<name>``)."""
    return "".join(ESM_ALPHABET[int(i)] for i in ids)


_A3M_DROPPED = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz.*")


def read_a3m(path: str | os.PathLike, max_sequences: int | None = None
             ) -> list[tuple[str, str]]:
  """Rows of an A3M (or aligned FASTA) file as ``(name, aligned sequence)``.

  Lowercase letters (insertions relative to the query), ``.`` and ``*`` are
  dropped, so every row has the query's match columns; ``-`` (deletion) stays.
  The first row is the query. Raises ``InputFormatError`` (path:line) for a
  sequence before any header or rows of unequal length.

  Args:
    path: the file.
    max_sequences: keep only the first this many rows.
  """
  rows: list[tuple[str, str, int]] = []
  with open(path) as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line or line.startswith("#"):
        continue
      if line.startswith(">"):
        if max_sequences is not None and len(rows) == max_sequences:
          break
        rows.append((line[1:].split()[0] if line[1:].strip() else "", "", number))
      elif not rows:
        raise InputFormatError(path, number, "sequence line before any '>' header")
      else:
        name, seq, start = rows[-1]
        rows[-1] = (name, seq + line.translate(_A3M_DROPPED), start)
  if not rows:
    raise InputFormatError(path, None, "no sequences")
  width = len(rows[0][1])
  for name, seq, start in rows:
    if len(seq) != width:
      raise InputFormatError(path, start, f"row {name!r} has {len(seq)} match "
                             f"columns, the query has {width}")
  return [(name, seq) for name, seq, _ in rows]
