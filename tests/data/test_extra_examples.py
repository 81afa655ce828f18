"""`extra_examples.ExtendedSource` (hard negatives after a dataset's records): a loader's
checkpointed state restores onto a fresh source of the same file, as a relaunched
hard-negative round needs (grain compares the sources' repr)."""

import numpy as np
import pytest

from genereg_jax.data import extra_examples
from genereg_jax.data import pipeline


class _Records(list):
  def __repr__(self) -> str:
    return f"_Records({len(self)})"


def _source(path):
  base = _Records({"sequence": np.full((3, 4), i, np.uint8), "label": np.int32(1)}
                  for i in range(6))
  return extra_examples.ExtendedSource(base, str(path))


def test_loader_state_restores_onto_a_fresh_source_of_the_same_file(tmp_path):
  path = tmp_path / "extra_train.npz"
  np.savez(path, sequence=np.full((4, 3, 4), 9, np.uint8), label=np.zeros(4, np.int32))
  source = _source(path)
  assert len(source) == 10 and source[7]["sequence"][0, 0] == 9 and source[7]["label"] == 0
  make = lambda s: iter(pipeline.make_loader(s, batch_size=2, keys=("sequence", "label")))
  first = make(source)
  next(first)
  state = first.get_state()
  expected = next(first)
  again = make(_source(path))  # A relaunch: the same file read again.
  again.set_state(state)
  np.testing.assert_array_equal(next(again)["sequence"], expected["sequence"])
  other = tmp_path / "other.npz"
  np.savez(other, sequence=np.zeros((1, 3, 4), np.uint8), label=np.zeros(1, np.int32))
  with pytest.raises(ValueError, match="does not match"):
    make(_source(other)).set_state(state)
