"""One-hot encodings, augmentation and the checkpointable grain loader."""

import json

import numpy as np

from genereg_jax.data import encoding
from genereg_jax.data import pipeline


def test_one_hot_dna_rna_protein():
  x = encoding.one_hot_dna("ACGTNacgu")
  np.testing.assert_array_equal(x.argmax(1)[:4], [0, 1, 2, 3])
  assert x[4].sum() == 0
  np.testing.assert_array_equal(x[5:], x[:4])
  assert encoding.decode_dna(x) == "ACGTNACGT"
  p = encoding.one_hot_protein("ACY*B")
  assert p.shape == (5, 21)
  assert p[3].argmax() == p[4].argmax() == encoding.PROTEIN_ALPHABET.index("X")


def test_reverse_complement_and_shift():
  x = encoding.one_hot_dna("AACGTN")
  assert encoding.decode_dna(encoding.reverse_complement(x)) == "NACGTT"
  assert encoding.decode_dna(pipeline.shift_sequence(x, 2)) == "NNAACG"
  assert encoding.decode_dna(pipeline.shift_sequence(x, -2)) == "CGTNNN"


class _ListSource:
  def __init__(self, n):
    self.rows = [{"sequence": encoding.one_hot_dna("ACGTA" * 4), "label": np.array([i, 0.0]),
                  "extra": i} for i in range(n)]

  def __len__(self):
    return len(self.rows)

  def __getitem__(self, i):
    return self.rows[i]


def test_loader_is_deterministic_and_resumes_exactly():
  source = _ListSource(40)
  make = lambda: pipeline.make_loader(source, batch_size=4, keys=("sequence", "label"), seed=7)
  it = iter(make())
  first = [next(it)["label"][:, 0] for _ in range(3)]
  state = it.get_state()
  rest = [next(it)["label"][:, 0] for _ in range(12)]  # Crosses an epoch boundary.
  resumed = iter(make())
  resumed.set_state(state)
  np.testing.assert_array_equal([next(resumed)["label"][:, 0] for _ in range(12)], rest)
  again = iter(make())
  np.testing.assert_array_equal([next(again)["label"][:, 0] for _ in range(3)], first)
  assert sorted(np.concatenate(first + rest)[:40].tolist()) == list(range(40))
  assert set(json.loads(state.decode())) >= {"last_seen_indices"} or state


def test_reverse_complement_augmentation_calls_target_hook():
  source = _ListSource(64)

  def flip_targets(example):
    return {**example, "label": example["label"] + np.array([0.0, 1.0])}

  augmentation = pipeline.Augmentation(reverse_complement=True,
                                       reverse_complement_targets=flip_targets)
  batch = next(iter(pipeline.make_loader(source, batch_size=64, keys=("sequence", "label"),
                                         augmentation=augmentation)))
  flipped = batch["label"][:, 1] == 1
  assert 10 < flipped.sum() < 54
  forward = encoding.one_hot_dna("ACGTA" * 4)
  for seq, was_flipped in zip(batch["sequence"], flipped):
    expected = encoding.reverse_complement(forward) if was_flipped else forward
    np.testing.assert_array_equal(seq, expected)


def test_unknown_dataset_lists_builders(tmp_path):
  import pytest
  with pytest.raises(ValueError, match="synthetic_motifs"):
    pipeline.load_builder("no_such_dataset", str(tmp_path))


def test_dataset_not_built_says_how_to_build(tmp_path):
  import pytest
  with pytest.raises(pipeline.DatasetNotBuiltError,
                     match="python -m data_builders.build --dataset=synthetic_motifs/tiny"):
    pipeline.load_builder("synthetic_motifs/tiny", str(tmp_path))


def test_user_config_dataset_not_built_points_to_its_tool(tmp_path):
  import pytest
  with pytest.raises(pipeline.DatasetNotBuiltError, match="data_builders.intervals.make"):
    pipeline.load_builder("intervals/my_peaks", str(tmp_path))
