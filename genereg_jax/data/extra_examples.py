"""A training split extended by examples kept in an ``.npz`` file (hard negatives).

DeeReCT-PromID (Umarov et al. 2019) grows its negative set between trainings with the
windows a genome scan called wrongly (`genereg_jax.train.hard_negatives`). Those windows
are not a TFDS dataset: they are arrays written by the previous round, one array per
record key (``sequence [n, L, 4]``, ``label [n]`` ...). `ExtendedSource` serves the
dataset's records followed by them, so the trainer's grain loader (shuffling,
checkpointed iterator state) treats both as one split. ``config.dataset.extra_examples``
names the file; only the training split is extended.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ExtendedSource:
  """Random access over ``base``'s records and then the ``.npz`` file's rows.

  The file's arrays must have the keys the loader selects (the model inputs and targets)
  with per-record shapes equal to the dataset's; both are checked on construction.
  """

  def __init__(self, base, path: str):
    with np.load(path) as arrays:
      self.extra = {k: arrays[k] for k in arrays.files}
    self.base, self.path = base, path
    self.metadata = dict(getattr(base, "metadata", {}) or {})
    sizes = {len(v) for v in self.extra.values()}
    if len(sizes) != 1:
      raise ValueError(f"{path}: arrays of different lengths {sorted(sizes)}")
    self.num_extra = sizes.pop()
    if len(base):
      first = base[0]
      for key, value in self.extra.items():
        if key in first and np.shape(first[key]) != value.shape[1:]:
          raise ValueError(f"{path}: {key!r} rows are {value.shape[1:]} but the dataset's "
                           f"records are {np.shape(first[key])}")

  def __repr__(self) -> str:
    # Grain checks a restored iterator against repr(source): it must not hold an address,
    # or a killed round with hard negatives could not resume from its checkpoint.
    return f"ExtendedSource({self.base!r}, {self.path!r}, {self.num_extra} rows)"

  def __len__(self) -> int:
    return len(self.base) + self.num_extra

  def __getitem__(self, index: int) -> dict[str, Any]:
    index = int(index)
    if index < len(self.base):
      return self.base[index]
    return {k: v[index - len(self.base)] for k, v in self.extra.items()}
