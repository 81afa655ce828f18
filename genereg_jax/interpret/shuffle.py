r"""Dinucleotide-preserving shuffles of one-hot sequences, the DeepSHAP/DeepLIFT references.

A shuffle that keeps every dinucleotide count is an Eulerian path through the graph
whose vertices are the letters and whose edges are the sequence's consecutive pairs
(Altschul & Erickson, Mol. Biol. Evol. 1985). As in the shuffle the DeepLIFT/DeepSHAP
authors use (Shrikumar et al.; Kundaje lab ``dinuc_shuffle``, which tangermeme ports):

1. For each letter, list the positions that follow its occurrences (its out-edges), in
   order.
2. Permute each letter's out-edges at random, except its last one: the last exits of
   the letters form a tree directed at the sequence's last letter, so every walk that
   leaves each letter through its permuted edges and through the kept edge last uses
   all edges once (an Eulerian path).
3. Walk from the first letter, taking at each letter its next unused out-edge.

The result starts and ends with the same letters as the input and has the same 16
dinucleotide counts. Positions that are not one-hot (N, all zeros) are a letter of
their own and stay all zeros. The walk is sequential, so this is numpy, not jax; it
runs once per input before the model.
"""

from __future__ import annotations

import zlib

import numpy as np


def _tokens(sequence: np.ndarray) -> np.ndarray:
  """``[L, A]`` one-hot -> ``[L]`` letter indices, ``A`` for a non-one-hot (N) row."""
  alphabet = sequence.shape[-1]
  onehot = (sequence.max(axis=-1) == 1) & (sequence.sum(axis=-1) == 1)
  return np.where(onehot, sequence.argmax(axis=-1), alphabet)


def _shuffle_tokens(tokens: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
  """``n`` dinucleotide shuffles ``[n, L]`` of one token sequence ``[L]``."""
  length = len(tokens)
  out = np.empty((n, length), tokens.dtype)
  if length < 3:
    out[:] = tokens
    return out
  letters = np.unique(tokens)
  successors = {t: np.flatnonzero(tokens[:-1] == t) + 1 for t in letters}
  for i in range(n):
    for t in letters:
      edges = successors[t]
      order = np.arange(len(edges))
      order[:-1] = rng.permutation(len(edges) - 1)  # the last exit stays last
      successors[t] = edges[order]
    used = {t: 0 for t in letters}
    position = 0
    out[i, 0] = tokens[0]
    for j in range(1, length):
      t = tokens[position]
      position = successors[t][used[t]]
      used[t] += 1
      out[i, j] = tokens[position]
  return out


def dinucleotide_shuffle(x: np.ndarray, n: int = 20, seed: int = 0) -> np.ndarray:
  """``n`` dinucleotide-preserving shuffles of each sequence (Altschul & Erickson 1985).

  Args:
    x: ``float[B, L, A]`` one-hot sequences (rows of zeros are N).
    n: shuffles per sequence.
    seed: with the sequence's letters, seeds the ``numpy`` generator of each
      sequence, so a sequence's shuffles do not depend on the batch it comes in (a
      command run in batches of any size draws the same references).

  Returns:
    ``float32[B, n, L, A]``, each keeping its sequence's first and last letters and
    all dinucleotide counts.
  """
  x = np.asarray(x)
  if x.ndim != 3:
    raise ValueError(f"expected one-hot [batch, length, alphabet], got shape {x.shape}")
  batch, length, alphabet = x.shape
  # An extra all-zero row so that the N token maps back to zeros.
  eye = np.concatenate([np.eye(alphabet, dtype=np.float32),
                        np.zeros((1, alphabet), np.float32)])
  out = np.empty((batch, n, length, alphabet), np.float32)
  for b in range(batch):
    tokens = _tokens(x[b])
    rng = np.random.default_rng([seed, zlib.crc32(tokens.astype(np.int64).tobytes())])
    out[b] = eye[_shuffle_tokens(tokens, n, rng)]
  return out
