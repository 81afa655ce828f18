"""APARENT's 3' UTR MPRA libraries (Bogard et al., Cell 2019), from ``manual_dir``.

The processed data of ``johli/aparent`` (``data/prepared_data/apa_plasmid_data``, its
``*_fileindex.txt``): ``apa_plasmid_data_plasmid_df.csv``, the reporters (pandas CSV:
``padded_seq`` or ``seq``, ``library``, ``library_index``, ``total_count`` and others),
and ``apa_plasmid_data_plasmid_cuts.mat``, a (sparse) matrix with one row per reporter:
read counts per cleavage position along the padded sequence, plus a last column of
reads not cleaved there (the distal isoform). A CSV whose cuts are missing can instead
carry ``proximal_count`` and ``total_count`` (isoform only; cleavage then NaN).

Per reporter, as ``aparent/data/aparent_data_plasmid.py``: the model reads ``length``
(205) nt from ``start`` (180) of the padded sequence; ``t`` = the cuts in that window
and the distal column; ``isoform`` = the reads cleaved in ``[proximal_start,
proximal_end)`` (80-105, the proximal site) over ``sum(t)``, ``cleavage`` = ``t /
sum(t)`` (``length + 1`` bins). ``library`` is the one-hot of the ``library`` column over
its values in order of appearance (``num_libraries`` wide, the reference's 13), and
``distal_pas`` flags the libraries whose reporter carries a distal PAS (library index 2,
5, 8, 11, 20, 40, the reference's list). Rows with fewer than ``min_count`` reads are
skipped. Splits keep the file order, as the reference: the last ``test_fraction`` is
test, the ``valid_fraction`` before it valid.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import scipy.io
import scipy.sparse
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import tables
from genereg_jax.files import InputFormatError

DISTAL_PAS_LIBRARIES = (2, 5, 8, 11, 20, 40)


def read_cuts(path: str) -> np.ndarray:
  """The cut-count matrix of a ``.mat`` file (its one non-``__`` variable), dense."""
  variables = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
  if len(variables) != 1:
    raise InputFormatError(path, None, f"expected one matrix, found {sorted(variables)}")
  matrix = next(iter(variables.values()))
  return np.asarray(matrix.todense() if scipy.sparse.issparse(matrix) else matrix, np.float64)


def reporter_targets(cuts: np.ndarray, start: int, length: int, proximal: tuple[int, int]
                     ) -> tuple[float, np.ndarray, float]:
  """``(isoform, cleavage [length + 1], total)`` from one row of cut counts."""
  t = np.append(cuts[start:start + length], cuts[-1])
  total = float(t.sum())
  if total <= 0:
    return float("nan"), np.full(length + 1, np.nan), 0.0
  return float(t[proximal[0]:proximal[1]].sum() / total), t / total, total


@dataclasses.dataclass(eq=False)
class APARENTConfig(tfds.core.BuilderConfig):
  """The window (``start``, ``length``), proximal site, library width and splits."""
  start: int = 180
  length: int = 205
  proximal_start: int = 80
  proximal_end: int = 105
  num_libraries: int = 13
  min_count: int = 1
  valid_fraction: float = 0.025
  test_fraction: float = 0.025


class APARENTMPRA(tfds.core.GeneratorBasedBuilder):
  """APA reporters: sequence, library, proximal isoform and cleavage distribution."""

  name = "aparent_mpra"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [APARENTConfig(name="default", description="205 nt from 180.")]

  def _info(self) -> tfds.core.DatasetInfo:
    c = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(c.length, 4), dtype=np.uint8),
            "library": tfds.features.Tensor(shape=(c.num_libraries,), dtype=np.float32),
            "library_index": tfds.features.Scalar(dtype=np.int32),
            "distal_pas": tfds.features.Tensor(shape=(1,), dtype=np.float32),
            "isoform": tfds.features.Scalar(dtype=np.float32),
            "cleavage": tfds.features.Tensor(shape=(c.length + 1,), dtype=np.float32),
            "total_count": tfds.features.Scalar(dtype=np.float32)}),
        metadata=tfds.core.MetadataDict(length=c.length, start=c.start,
                                        proximal=[c.proximal_start, c.proximal_end]))

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    csvs = sorted(f for f in os.listdir(manual_dir) if f.endswith((".csv", ".csv.gz")))
    mats = sorted(f for f in os.listdir(manual_dir) if f.endswith(".mat"))
    if len(csvs) != 1 or len(mats) > 1:
      raise FileNotFoundError(f"{manual_dir}: need one reporter CSV and at most one cuts "
                              f".mat; found {csvs} and {mats}")
    rows = self._records(os.path.join(manual_dir, csvs[0]),
                         os.path.join(manual_dir, mats[0]) if mats else None)
    n = len(rows)
    n_test, n_valid = int(n * self.builder_config.test_fraction), int(
        n * self.builder_config.valid_fraction)
    splits = {"train": rows[:n - n_test - n_valid], "valid": rows[n - n_test - n_valid:n - n_test],
              "test": rows[n - n_test:]}
    return {name: self._generate_examples(r) for name, r in splits.items() if r}

  def _records(self, csv_path: str, cuts_path: str | None) -> list:
    c = self.builder_config
    cuts = read_cuts(cuts_path) if cuts_path else None
    libraries: list[str] = []
    records = []
    for row_index, (line, row) in enumerate(tables.rows(csv_path, ("library", "library_index"))):
      sequence = row.get("padded_seq") or row.get("seq")
      if not sequence:
        raise InputFormatError(csv_path, line, "needs a padded_seq or seq column")
      window = sequence.upper()[c.start:c.start + c.length]
      if len(window) != c.length:
        raise InputFormatError(csv_path, line, f"sequence of {len(sequence)} nt is shorter "
                                               f"than start {c.start} + length {c.length}")
      if cuts is not None:
        if row_index >= len(cuts):
          raise InputFormatError(cuts_path, None, f"{len(cuts)} rows of cuts, fewer than "
                                                  f"the CSV's reporters")
        isoform, cleavage, total = reporter_targets(cuts[row_index], c.start, c.length,
                                                    (c.proximal_start, c.proximal_end))
      elif {"proximal_count", "total_count"} <= set(row):
        total = tables.number(csv_path, line, row, "total_count")
        isoform = tables.number(csv_path, line, row, "proximal_count") / max(total, 1e-9)
        cleavage = np.full(c.length + 1, np.nan)
      else:
        raise InputFormatError(csv_path, line, "without a cuts .mat the CSV needs "
                                               "proximal_count and total_count")
      if not total >= c.min_count:
        continue
      if row["library"] not in libraries:
        libraries.append(row["library"])
      library = libraries.index(row["library"])
      if library >= c.num_libraries:
        raise InputFormatError(csv_path, line, f"more than {c.num_libraries} libraries")
      index = tables.number(csv_path, line, row, "library_index")
      records.append((str(row_index), {
          "sequence": encoding.one_hot_dna(window),
          "library": np.eye(c.num_libraries, dtype=np.float32)[library],
          "library_index": np.int32(index),
          "distal_pas": np.float32([index in DISTAL_PAS_LIBRARIES]),
          "isoform": np.float32(isoform), "cleavage": cleavage.astype(np.float32),
          "total_count": np.float32(total)}))
    return records

  def _generate_examples(self, rows):
    yield from rows
