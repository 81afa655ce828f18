"""Cuperus et al. (Genome Research 2017) yeast 5' UTR growth-selection data, from
``manual_dir``.

The released tables (``Seeliglab/2017---Deep-learning-yeast-UTRs``, ``Data/``;
GEO GSE104252): ``Random_UTRs.csv`` (the ~490,000 random 50-nt UTRs) and
``Native_UTRs.csv``, pandas ``to_csv`` output with a ``UTR`` column (the sequence, 5'->3',
ending at the start codon), ``growth_rate`` (the log2 enrichment the model regresses)
and ``t0`` (reads before selection), plus columns this builder ignores. The one CSV in
``manual_dir`` (plain or gzipped) is read; ``--config`` picks its layout only through
``length``.

Sequences are upper-cased, T for U, and right-aligned in ``length`` nt (the AUG side is
what matters; longer native UTRs keep their last ``length`` nt, shorter ones are padded
with N, all-zero columns, at the 5' end). Rows without a growth rate are skipped.
Splits follow the notebook: the ``test_fraction`` of UTRs with the most ``t0`` reads
are the test set (the least noisy measurements, Notebook 1); the rest is split by a
CRC32 of the sequence, ``valid_fraction`` to valid. Without ``t0`` the test set is also
drawn by hash.
"""

from __future__ import annotations

import dataclasses
import os
import zlib

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import tables
from genereg_jax.files import InputFormatError


def right_aligned(sequence: str, length: int) -> str:
  """The last ``length`` nt of ``sequence``, N-padded on the 5' side."""
  sequence = sequence.upper().replace("U", "T")
  return sequence[-length:].rjust(length, "N")


def read_utrs(path: str) -> list[tuple[str, float, float]]:
  """``(UTR, growth_rate, t0 or NaN)`` of every row with a growth rate."""
  records = []
  for line, row in tables.rows(path, ("UTR", "growth_rate")):
    utr = row["UTR"].upper().replace("U", "T")
    if not utr or set(utr) - set("ACGTN"):
      raise InputFormatError(path, line, f"UTR is not a nucleotide sequence: {utr[:30]!r}")
    growth = tables.number(path, line, row, "growth_rate")
    t0 = tables.number(path, line, row, "t0") if "t0" in row else float("nan")
    if growth == growth:
      records.append((utr, growth, t0))
  return records


def hashed_split(key: str, fraction: float, salt: str) -> bool:
  """A stable ``fraction`` of keys (CRC32 of ``salt + key``)."""
  return zlib.crc32((salt + key).encode()) % 10_000 < fraction * 10_000


@dataclasses.dataclass(eq=False)
class CuperusUTRConfig(tfds.core.BuilderConfig):
  """``length`` nt per UTR; ``valid_fraction``/``test_fraction`` of the records."""
  length: int = 50
  valid_fraction: float = 0.1
  test_fraction: float = 0.05


class CuperusUTR(tfds.core.GeneratorBasedBuilder):
  """Yeast 5' UTRs and their growth-selection enrichment (Cuperus et al. 2017)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [CuperusUTRConfig(name="default", description="50-nt UTRs.")]

  def _info(self) -> tfds.core.DatasetInfo:
    length = self.builder_config.length
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(length, 4), dtype=np.uint8),
            "expression": tfds.features.Scalar(dtype=np.float32),
            "t0": tfds.features.Scalar(dtype=np.float32)}),
        metadata=tfds.core.MetadataDict(targets=["growth_rate"], length=length))

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    found = sorted(f for f in os.listdir(manual_dir) if f.endswith((".csv", ".csv.gz")))
    if len(found) != 1:
      raise FileNotFoundError(f"{manual_dir}: need one UTR CSV (Random_UTRs.csv); found {found}")
    config = self.builder_config
    records = read_utrs(os.path.join(manual_dir, found[0]))
    t0 = np.array([r[2] for r in records])
    test = np.zeros(len(records), bool)
    if len(records) and not np.isnan(t0).any():
      order = np.argsort(t0, kind="stable")
      test[order[len(records) - int(round(config.test_fraction * len(records))):]] = True
    else:
      test[:] = [hashed_split(r[0], config.test_fraction, "test") for r in records]
    splits = {"train": [], "valid": [], "test": []}
    for i, (utr, growth, reads) in enumerate(records):
      split = ("test" if test[i] else
               "valid" if hashed_split(utr, config.valid_fraction, "valid") else "train")
      splits[split].append((str(i), {
          "sequence": encoding.one_hot_dna(right_aligned(utr, config.length)),
          "expression": np.float32(growth), "t0": np.float32(reads)}))
    # A split with no records (a small input) is left out: TFDS cannot write it empty.
    return {name: self._generate_examples(rows) for name, rows in splits.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
