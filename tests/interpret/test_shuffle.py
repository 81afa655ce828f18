"""Dinucleotide shuffles keep the first and last letters and all dinucleotide counts."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import fixture_path
from genereg_jax.interpret import shuffle


def dinucleotide_counts(onehot: np.ndarray) -> np.ndarray:
  """``[L, 4]`` one-hot (N rows all zero) -> ``[5, 5]`` counts, N as letter 4."""
  tokens = np.where(onehot.sum(-1) == 1, onehot.argmax(-1), 4)
  counts = np.zeros((5, 5), int)
  np.add.at(counts, (tokens[:-1], tokens[1:]), 1)
  return counts


def check_shuffles(x: np.ndarray, shuffles: np.ndarray) -> None:
  for s in shuffles:
    np.testing.assert_array_equal(s[0], x[0])
    np.testing.assert_array_equal(s[-1], x[-1])
    np.testing.assert_array_equal(dinucleotide_counts(s), dinucleotide_counts(x))


def test_tangermeme_shuffles_pass_the_property_check():
  # The fixture's tangermeme shuffles satisfy the same check (so it checks the right
  # thing), and a plain position shuffle does not.
  with np.load(fixture_path("attributions_cnn.npz")) as data:
    x = data["x_channels_last"][0]
    theirs = np.swapaxes(data["dinuc_shuffles_x0"], -1, -2)
  check_shuffles(x, theirs)
  permuted = x[np.random.default_rng(0).permutation(len(x))]
  with pytest.raises(AssertionError):
    check_shuffles(x, permuted[None])


def test_shuffles_keep_dinucleotides_with_n_and_are_seeded():
  rng = np.random.default_rng(1)
  x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 200))]
  x[1, 50:60] = 0  # a run of N
  x[2, 7] = 0
  out = shuffle.dinucleotide_shuffle(x, n=5, seed=3)
  assert out.shape == (3, 5, 200, 4) and out.dtype == np.float32
  for b in range(3):
    check_shuffles(x[b], out[b])
    # Shuffled: not the input, and the five differ from each other.
    assert (out[b] != x[b]).any(axis=-1).mean() > 0.3
    assert len({o.tobytes() for o in out[b]}) == 5
  np.testing.assert_array_equal(out, shuffle.dinucleotide_shuffle(x, n=5, seed=3))
  # A sequence's shuffles do not depend on the rest of the batch.
  np.testing.assert_array_equal(out[2:], shuffle.dinucleotide_shuffle(x[2:], n=5, seed=3))
  assert (out != shuffle.dinucleotide_shuffle(x, n=5, seed=4)).any()


def test_short_sequences_are_returned_as_they_are():
  x = np.eye(4, dtype=np.float32)[[[0, 3]]]
  np.testing.assert_array_equal(shuffle.dinucleotide_shuffle(x, n=2)[0, 1], x[0])
