r"""RNAcompete probe intensities (Ray et al., Nature 2013) for DeepBind (Alipanahi et al. 2015).

Input (``manual_dir``): the compendium's normalised probe intensity table,
``norm_data.txt`` (optionally gzipped): tab-separated, a header ``Probe_ID  Probe_Set
RNA_Seq  RNCMPT00001  RNCMPT00002 ...``, then one row per probe: its id, its set
(``SetA`` / ``SetB``), its RNA sequence (A, C, G, U; 30-41 nt) and one intensity per
experiment, ``NaN`` (or empty) where an array did not measure the probe.

DeepBind's protocol (Supplementary Notes, RNAcompete): models train on set A and are
tested on set B; each experiment's intensities are clipped at their 99.95th
percentile and linearly standardised to mean 0 and variance 1. Here the percentile,
mean and variance are set A's, applied to both sets (so set B is scored on set A's
scale). Set A's probes are split by a hash of the probe id: one in ten to ``valid``
(DeepBind's calibration held out part of the training data), the rest to ``train``;
set B is ``test``.

Records: ``sequence`` ``uint8[max_length, 4]`` one-hot A,C,G,U (U in T's column),
short probes followed by all-zero columns; ``intensity`` ``float32[proteins]`` (NaN
where unmeasured); ``probe_id``; ``length``. Config ``proteins`` picks columns (all
experiments when empty); DeepBind's per-RBP models are one column each.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import text
from genereg_jax.files import InputFormatError

SPLITS = ("train", "valid", "test")
TABLE_NAMES = ("norm_data.txt", "norm_data.txt.gz")
FIXED_COLUMNS = ("Probe_ID", "Probe_Set", "RNA_Seq")
CLIP_PERCENTILE = 99.95
MAX_PROBE_LENGTH = 41


class RnacompeteFormatError(InputFormatError):
  """A line of an RNAcompete table that does not parse."""


@dataclasses.dataclass
class ProbeTable:
  """Probes of one table: ids, sets (``"SetA"``/``"SetB"``), sequences, ``[n, P]`` values."""
  probe_ids: list[str]
  probe_sets: list[str]
  sequences: list[str]
  intensity: np.ndarray
  proteins: tuple[str, ...]


def _value(path: str, number: int, field: str) -> float:
  if field in ("", "NaN", "nan", "NA"):
    return np.nan
  try:
    return float(field)
  except ValueError:
    raise RnacompeteFormatError(path, number, f"intensity {field!r} is not a number") from None


def read_table(path: str, proteins: Sequence[str] = (),
               max_length: int = MAX_PROBE_LENGTH) -> ProbeTable:
  """Reads ``norm_data.txt`` (module docstring), keeping ``proteins`` (all when empty)."""
  table = ProbeTable([], [], [], np.zeros((0, 0)), ())
  rows, columns, width = [], None, 0
  for number, line in text.numbered_lines(path, RnacompeteFormatError):
    fields = line.rstrip("\r\n").split("\t")
    if not line.strip():
      continue
    if columns is None:
      if tuple(fields[:3]) != FIXED_COLUMNS or len(fields) < 4:
        raise RnacompeteFormatError(path, number, f"header must start with "
                                    f"{'<TAB>'.join(FIXED_COLUMNS)} and name experiments")
      names = tuple(proteins) or tuple(fields[3:])
      missing = [p for p in names if p not in fields[3:]]
      if missing:
        raise RnacompeteFormatError(path, number, f"no column for {missing}")
      columns, width, table.proteins = [fields.index(p) for p in names], len(fields), names
      continue
    if len(fields) != width:
      raise RnacompeteFormatError(path, number, f"{len(fields)} columns, the header has {width}")
    probe_set, sequence = fields[1], fields[2].strip().upper()
    if probe_set not in ("SetA", "SetB"):
      raise RnacompeteFormatError(path, number, f"Probe_Set {probe_set!r} is not SetA/SetB")
    if not sequence or set(sequence) - set("ACGUTN"):
      raise RnacompeteFormatError(path, number, f"RNA_Seq {fields[2]!r} is not an RNA sequence")
    if len(sequence) > max_length:
      raise RnacompeteFormatError(path, number, f"probe of {len(sequence)} nt is longer than "
                                  f"max_length {max_length}")
    table.probe_ids.append(fields[0])
    table.probe_sets.append(probe_set)
    table.sequences.append(sequence)
    rows.append([_value(path, number, fields[c]) for c in columns])
  if columns is None:
    raise RnacompeteFormatError(path, 1, "empty table: no header")
  table.intensity = np.asarray(rows, np.float64).reshape(len(rows), len(table.proteins))
  return table


def standardize(intensity: np.ndarray, reference: np.ndarray) -> np.ndarray:
  """DeepBind's targets: clip at ``reference``'s 99.95th percentile, then standardise.

  Per column, with the percentile, mean and standard deviation of ``reference`` (set A);
  NaN stays NaN.
  """
  out = np.full(intensity.shape, np.nan, np.float32)
  for p in range(intensity.shape[1]):
    known = reference[~np.isnan(reference[:, p]), p]
    if known.size < 2:
      continue
    ceiling = np.percentile(known, CLIP_PERCENTILE)
    clipped = np.minimum(known, ceiling)
    scale = clipped.std() or 1.0
    out[:, p] = (np.minimum(intensity[:, p], ceiling) - clipped.mean()) / scale
  return out


def split_of(probe_id: str, probe_set: str) -> str:
  """Set B -> ``test``; set A -> ``valid`` for one probe in ten (by id hash), else ``train``."""
  if probe_set == "SetB":
    return "test"
  return "valid" if int(hashlib.sha1(probe_id.encode()).hexdigest(), 16) % 10 == 0 else "train"


def probe_one_hot(sequence: str, max_length: int) -> np.ndarray:
  """``uint8[max_length, 4]``: the probe, then all-zero columns."""
  out = np.zeros((max_length, 4), np.uint8)
  out[:len(sequence)] = encoding.one_hot_dna(sequence)
  return out


def probe_features(max_length: int, num_proteins: int | None) -> tfds.features.FeaturesDict:
  """The record layout shared with ``synthetic_rna``'s probe configs."""
  return tfds.features.FeaturesDict({
      "probe_id": tfds.features.Text(),
      "sequence": tfds.features.Tensor(shape=(max_length, 4), dtype=np.uint8),
      "intensity": tfds.features.Tensor(shape=(num_proteins,), dtype=np.float32),
      "length": tfds.features.Scalar(dtype=np.int32),
  })


def probe_records(table: ProbeTable, max_length: int) -> dict[str, list[tuple[str, dict]]]:
  """``{split: [(key, record)]}`` with DeepBind's standardised targets."""
  set_a = np.array([s == "SetA" for s in table.probe_sets])
  targets = standardize(table.intensity, table.intensity[set_a])
  out = {split: [] for split in SPLITS}
  for i, (probe_id, probe_set, sequence) in enumerate(
      zip(table.probe_ids, table.probe_sets, table.sequences)):
    out[split_of(probe_id, probe_set)].append((probe_id, {
        "probe_id": probe_id, "sequence": probe_one_hot(sequence, max_length),
        "intensity": targets[i], "length": np.int32(len(sequence))}))
  return out


@dataclasses.dataclass(eq=False)
class RnacompeteConfig(tfds.core.BuilderConfig):
  """Attributes:
    proteins: experiment columns to keep (``RNCMPT00001`` ...); all when empty.
    max_length: probe length after padding (RNAcompete probes: at most 41 nt).
  """
  proteins: tuple[str, ...] = ()
  max_length: int = MAX_PROBE_LENGTH


class Rnacompete(tfds.core.GeneratorBasedBuilder):
  """RNAcompete probes, set A train/valid and set B test (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put the RNAcompete compendium's norm_data.txt(.gz) (Ray et al. 2013, "
      "http://hugheslab.ccbr.utoronto.ca/supplementary-data/RNAcompete_eukarya/) in manual_dir.")
  BUILDER_CONFIGS = [
      RnacompeteConfig(name="all", description="Every experiment of the table."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "all"

  def _table(self, manual_dir: str) -> ProbeTable:
    for name in TABLE_NAMES:
      path = os.path.join(manual_dir, name)
      if os.path.isfile(path):
        return read_table(path, self.builder_config.proteins, self.builder_config.max_length)
    raise FileNotFoundError(f"no {' or '.join(TABLE_NAMES)} in {manual_dir}")

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    # Without configured proteins the columns are the table's: known only once read, so
    # ``intensity`` has a free length and the names go to the metadata when built.
    width = len(config.proteins) or None
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=probe_features(config.max_length, width),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(proteins=list(config.proteins),
                                        max_length=config.max_length,
                                        clip_percentile=CLIP_PERCENTILE))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    table = self._table(str(dl_manager.manual_dir))
    self.info.metadata["proteins"] = list(table.proteins)
    records = probe_records(table, self.builder_config.max_length)
    return {split: self._generate_examples(records[split]) for split in SPLITS}

  def _generate_examples(self, records) -> Iterator[tuple[str, dict]]:
    yield from records
