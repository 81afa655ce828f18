"""One-hot encodings for DNA, RNA and protein, in one place.

Channels-last, as fixed in DESIGN.md: DNA/RNA ``[length, 4]`` in A,C,G,T (U read as T)
order with N (or any other letter) all zeros; protein ``[length, 21]`` over the 20
amino acids plus X (unknown), in ``PROTEIN_ALPHABET`` order.
"""

from __future__ import annotations

import numpy as np

DNA_ALPHABET = "ACGT"
PROTEIN_ALPHABET = "ACDEFGHIKLMNPQRSTVWYX"


def _lookup_table(alphabet: str, aliases: dict[str, str] | None = None,
                  default: int = -1) -> np.ndarray:
  table = np.full(256, default, dtype=np.int16)
  for index, letter in enumerate(alphabet):
    table[ord(letter)] = table[ord(letter.lower())] = index
  for alias, letter in (aliases or {}).items():
    table[ord(alias)] = table[ord(alias.lower())] = alphabet.index(letter)
  return table


_DNA_TABLE = _lookup_table(DNA_ALPHABET, {"U": "T"})
_PROTEIN_TABLE = _lookup_table(PROTEIN_ALPHABET, default=PROTEIN_ALPHABET.index("X"))


def _as_bytes(sequence: str | bytes) -> np.ndarray:
  if isinstance(sequence, str):
    sequence = sequence.encode("ascii")
  return np.frombuffer(sequence, dtype=np.uint8)


def _one_hot(indices: np.ndarray, depth: int, dtype) -> np.ndarray:
  out = np.zeros((indices.shape[0], depth), dtype=dtype)
  valid = indices >= 0
  out[np.nonzero(valid)[0], indices[valid]] = 1
  return out


def one_hot_dna(sequence: str | bytes, dtype=np.uint8) -> np.ndarray:
  """DNA or RNA string -> ``[length, 4]`` one-hot A,C,G,T; N and others all zeros."""
  return _one_hot(_DNA_TABLE[_as_bytes(sequence)], 4, dtype)


def one_hot_protein(sequence: str | bytes, dtype=np.uint8) -> np.ndarray:
  """Protein string -> ``[length, 21]`` one-hot; unknown letters map to X."""
  return _one_hot(_PROTEIN_TABLE[_as_bytes(sequence)], len(PROTEIN_ALPHABET), dtype)


def decode_dna(one_hot: np.ndarray) -> str:
  """``[length, 4]`` one-hot -> string; all-zero (or ambiguous) columns become N."""
  one_hot = np.asarray(one_hot)
  letters = np.array(list(DNA_ALPHABET + "N"))
  index = np.where(one_hot.max(axis=-1) > 0, one_hot.argmax(axis=-1), 4)
  return "".join(letters[index])


def reverse_complement(one_hot: np.ndarray) -> np.ndarray:
  """Reverse complement of ``[..., length, 4]`` A,C,G,T one-hot (works for numpy and jax).

  With A,C,G,T order the complement is a flip of the channel axis.
  """
  return one_hot[..., ::-1, ::-1]
