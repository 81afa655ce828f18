"""Basenji2's human/mouse coverage training data, read from its published TFRecords.

The "barnyard" data of Kelley, "Cross-species regulatory sequence activity
prediction" (PLoS Comput. Biol. 2020; Basenji2), on which Enformer (Avsec et al.,
Nat. Methods 2021) was trained and evaluated too. Per organism the public bucket
``gs://basenji_barnyard/data/{human,mouse}/`` holds the layout written by Basenji's
``basenji_data.py``:

  statistics.json   seq_length, pool_width, crop_bp, target_length, num_targets,
                    train_seqs / valid_seqs / test_seqs (+ optional seq_depth)
  targets.txt       tab-separated track table with a header: an index column
                    (named ``index`` or left unnamed by pandas), ``identifier``,
                    ``file``, ``clip``, ``scale``, ``sum_stat``, ``description``;
                    optionally ``genome``, ``clip_soft`` and ``strand_pair``
  sequences.bed     chrom, start, end, fold (train/valid/test), one line per window
  tfrecords/{train,valid,test}-<n>.tfr
                    ZLIB-compressed TFRecords of ``tf.train.Example`` with
                    ``sequence``: raw bytes of the ``[seq_length, 4]`` one-hot
                    (uint8 or bool; N = all zeros) and ``target``: raw bytes of
                    float16 ``[target_length, num_targets]``

Records of a split are read from its files in natural order (``train-2`` before
``train-10``, as Basenji's ``natsorted``), which is the order of that fold's lines in
``sequences.bed``; each example carries its window's coordinates. The published sizes
are 131,072 bp windows, 896 bins of 128 bp (8,192 bp cropped per side), 5,313 human
and 1,643 mouse tracks.

Features: ``sequence`` uint8 ``[seq_length, 4]`` (zlib-compressed on disk: one-hot
DNA shrinks > 10x), ``target`` float16 ``[target_length, num_targets]`` (stored as
raw bytes, as upstream: float16 halves storage against float32 and keeps the
published precision), ``chrom``, ``start``, ``end``. ``info.metadata`` holds
``statistics`` (statistics.json as is), ``targets`` (every column of targets.txt),
``track_names`` (identifiers), ``strand_pair`` (0-based track positions; the
``strand_pair`` column mapped through the index column, identity when absent) and
``organism``.

Every record's CRCs are checked; the record counts must equal statistics.json's and
sequences.bed's. The whole dataset is ~320 GB: the build reads it file by file, in one
process, or with Apache Beam one TFRecord file per work item (``data_builders.build
--beam_options=...``; `data_builders.sharded`, BUILD.md "Big builds"). A Beam build
first counts each file's records (decompression only) so every worker knows the window
of its file's first record, and writes the same records as the in-process build.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from etils import epath
from google.protobuf import message
import numpy as np
import tensorflow_datasets as tfds

from data_builders import sharded
from genereg_jax.data import tfrecord
# The targets.txt readers are shared with the streaming genome source.
from genereg_jax.data.coverage_tracks import (BasenjiFormatError, read_targets,
                                              strand_pair_positions)

SPLITS: tuple[str, ...] = ("train", "valid", "test")
ORGANISMS: tuple[str, ...] = ("human", "mouse")
REQUIRED_STATISTICS = ("seq_length", "target_length", "num_targets",
                       *(f"{split}_seqs" for split in SPLITS))
BUCKET = "gs://basenji_barnyard/data"

_MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
Copy one organism's directory (requester pays: bill a Google Cloud project you own)
into manual_dir, keeping its name:

  gsutil -u <your-gcp-project> -m cp -r {BUCKET}/human <manual_dir>/
  gsutil -u <your-gcp-project> -m cp -r {BUCKET}/mouse <manual_dir>/

giving <manual_dir>/human/{{statistics.json,targets.txt,sequences.bed,tfrecords/}}.
The whole data set is ~320 GB. The Enformer-era bucket gs://basenji_barnyard2 (also
requester pays) additionally hosts the genome FASTA (hg38.ml.fa.gz, mm10.ml.fa.gz)
and sequences_{{human,mouse}}.bed; a copy of its data in the same layout builds the
same way. Then:

  python -m data_builders.build --dataset=basenji_barnyard/human --manual_dir=<manual_dir>
"""


# ---------------------------------------------------------------------------
# The layout's files
# ---------------------------------------------------------------------------


def read_statistics(path: epath.PathLike,
                    required: Sequence[str] = REQUIRED_STATISTICS) -> dict[str, Any]:
  """Reads ``statistics.json``; requires the sizes and per-split counts (``required``:
  Borzoi's data count folds instead of splits)."""
  path = epath.Path(path)
  if not path.exists():
    raise BasenjiFormatError(None, None, f"missing {path} (Basenji's statistics.json)")
  try:
    statistics = json.loads(path.read_text())
  except json.JSONDecodeError as e:
    raise BasenjiFormatError(path, None, f"not valid JSON ({e})") from e
  missing = [key for key in required if key not in statistics]
  if missing:
    raise BasenjiFormatError(path, None, f"lacks {missing}; has {sorted(statistics)}")
  for key in required:
    if not isinstance(statistics[key], int) or statistics[key] < 0:
      raise BasenjiFormatError(path, None, f"{key} = {statistics[key]!r} is not a "
                               "non-negative integer")
  return statistics


def read_regions(path: epath.PathLike, labels: Sequence[str] = SPLITS
                 ) -> dict[str, list[tuple[str, int, int]]]:
  """Reads ``sequences.bed``: ``{fold: [(chrom, start, end), ...]}`` in file order;
  fold labels outside ``labels`` are an error."""
  path = epath.Path(path)
  if not path.exists():
    raise BasenjiFormatError(None, None, f"missing {path} (Basenji's sequences.bed)")
  regions: dict[str, list[tuple[str, int, int]]] = {}
  for line_number, line in enumerate(path.read_text().splitlines(), start=1):
    if not line.strip() or line.startswith(("#", "track", "browser")):
      continue
    fields = line.split("\t")
    if len(fields) < 4:
      raise BasenjiFormatError(path, line_number, f"expected chrom, start, end, fold; "
                               f"got {len(fields)} field(s)")
    try:
      start, end = int(fields[1]), int(fields[2])
    except ValueError:
      raise BasenjiFormatError(path, line_number, f"start/end {fields[1:3]} are not "
                               "integers") from None
    regions.setdefault(fields[3], []).append((fields[0], start, end))
  unknown = sorted(set(regions) - set(labels))
  if unknown:
    raise BasenjiFormatError(path, None, f"fold labels {unknown} are not {list(labels)}")
  return regions


def _natural_key(path: epath.Path) -> list:
  return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def tfrecord_files(directory: epath.PathLike, split: str) -> list[epath.Path]:
  """``tfrecords/{split}-*.tfr`` in natural order (``-2`` before ``-10``)."""
  return sorted(epath.Path(directory).glob(f"tfrecords/{split}-*.tfr"), key=_natural_key)


def decode_record(record: bytes, seq_length: int, target_length: int, num_targets: int,
                  source: str = "record") -> tuple[np.ndarray, np.ndarray]:
  """``(uint8 [seq_length, 4] one-hot, float16 [target_length, num_targets])`` of one
  serialized Basenji example; errors name ``source``."""
  try:
    features = tfrecord.parse_example(record)
  except message.DecodeError as e:
    raise BasenjiFormatError(source, None, f"not a tf.train.Example ({e})") from e
  values = {}
  for key in ("sequence", "target"):
    value = features.get(key)
    if not isinstance(value, list) or len(value) != 1:
      raise BasenjiFormatError(source, None, f"needs one bytes value in feature {key!r}; "
                               f"features: {sorted(features)}")
    values[key] = value[0]
  if len(values["sequence"]) != seq_length * 4:
    raise BasenjiFormatError(source, None, f"'sequence' has {len(values['sequence'])} bytes, "
                             f"expected seq_length x 4 = {seq_length * 4} (one-hot uint8)")
  if len(values["target"]) != target_length * num_targets * 2:
    raise BasenjiFormatError(
        source, None, f"'target' has {len(values['target'])} bytes, expected target_length x "
        f"num_targets x 2 = {target_length * num_targets * 2} (float16)")
  sequence = np.frombuffer(values["sequence"], np.uint8).reshape(seq_length, 4)
  if sequence.max(initial=0) > 1 or sequence.sum(axis=1).max(initial=0) > 1:
    raise BasenjiFormatError(source, None, "'sequence' is not one-hot (a position has a "
                             "value > 1 or more than one base)")
  target = np.frombuffer(values["target"], np.float16).reshape(target_length, num_targets)
  return sequence, target


def count_records(path: epath.PathLike) -> int:
  """Records in one ZLIB TFRecord file (framing only: the CRCs are checked when the
  records are decoded)."""
  return sum(1 for _ in tfrecord.read_records(path, "ZLIB", verify_crc=False))


def file_examples(path: epath.PathLike, first_index: int,
                  regions: Sequence[tuple[str, int, int]], split: str, expected: int,
                  seq_length: int, target_length: int, num_targets: int
                  ) -> Iterator[dict[str, Any]]:
  """The examples of one TFRecord file of ``split``.

  Args:
    path: ``tfrecords/{split}-<n>.tfr``.
    first_index: position in the split of the file's first record; record ``i`` is
      the window ``regions[first_index + i]``.
    regions: the split's windows, from sequences.bed.
    split: the split, for messages.
    expected: the split's record count in statistics.json.
    seq_length: bp per window.
    target_length: bins per window.
    num_targets: tracks.

  Yields:
    ``{"sequence", "target", "chrom", "start", "end"}`` per record.
  """
  for record_index, record in enumerate(tfrecord.read_records(path, "ZLIB")):
    index = first_index + record_index
    source = f"{path}: record {record_index}"
    if index >= expected:
      raise BasenjiFormatError(source, None, f"{split} has more records than statistics."
                               f"json's {split}_seqs = {expected}")
    sequence, target = decode_record(record, seq_length, target_length, num_targets, source)
    chrom, start, end = regions[index]
    yield {"sequence": sequence, "target": target, "chrom": chrom, "start": start,
           "end": end}


def _check_total(total: int, split: str, num_files: int, expected: int) -> None:
  if total != expected:
    raise BasenjiFormatError(
        None, None, f"{split}: {total} records in {num_files} "
        f"tfrecords/{split}-*.tfr file(s), but statistics.json says {split}_seqs = {expected}")


# ---------------------------------------------------------------------------
# TFDS builder
# ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class BasenjiBarnyardConfig(tfds.core.BuilderConfig):
  """One organism's data and the sizes its statistics.json must state.

  Attributes:
    organism: sub-directory of ``manual_dir`` holding the layout.
    seq_length: bp per window.
    target_length: bins per window (after cropping).
    num_targets: tracks.
  """

  organism: str = "human"
  seq_length: int = 131_072
  target_length: int = 896
  num_targets: int = 5313

  @classmethod
  def from_statistics(cls, name: str, statistics_path: epath.PathLike,
                      organism: str | None = None, **kwargs) -> "BasenjiBarnyardConfig":
    """A config whose sizes are those of a Basenji-format ``statistics.json`` (e.g. a
    data set made with ``basenji_data.py``); ``organism`` defaults to ``name``."""
    statistics = read_statistics(statistics_path)
    return cls(name=name, organism=organism or name, seq_length=statistics["seq_length"],
               target_length=statistics["target_length"],
               num_targets=statistics["num_targets"], **kwargs)


def coverage_features(config, target_doc: str) -> tfds.features.FeaturesDict:
  """Features of a Basenji-layout window (``config``: ``seq_length``, ``target_length``,
  ``num_targets``): one-hot sequence, float16 targets [bins, tracks], its location."""
  return tfds.features.FeaturesDict({
      "sequence": tfds.features.Tensor(
          shape=(config.seq_length, 4), dtype=np.uint8,
          encoding=tfds.features.Encoding.ZLIB,
          doc="One-hot DNA, A,C,G,T; N is all zeros."),
      "target": tfds.features.Tensor(
          shape=(config.target_length, config.num_targets), dtype=np.float16,
          encoding=tfds.features.Encoding.BYTES, doc=target_doc),
      "chrom": tfds.features.Text(doc="Chromosome of the window."),
      "start": tfds.features.Scalar(dtype=np.int64, doc="0-based window start."),
      "end": tfds.features.Scalar(dtype=np.int64, doc="Window end (exclusive)."),
  })


class BasenjiBarnyard(sharded.ShardedBuilder):
  """Basenji2/Enformer human or mouse coverage windows from ``manual_dir``."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Basenji2 barnyard TFRecords with window coordinates."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = _MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
      BasenjiBarnyardConfig(
          name="human", organism="human", num_targets=5313,
          description="hg38, 131,072 bp, 896 x 128 bp bins, 5,313 tracks (Basenji2)."),
      BasenjiBarnyardConfig(
          name="mouse", organism="mouse", num_targets=1643,
          description="mm10, 131,072 bp, 896 x 128 bp bins, 1,643 tracks (Basenji2)."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "human"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=coverage_features(config, "Coverage per bin and track, in targets.txt's order."),
        supervised_keys=("sequence", "target"),
        disable_shuffling=True,
        homepage="https://github.com/calico/basenji",
        citation=("Kelley DR. Cross-species regulatory sequence activity prediction. "
                  "PLoS Comput Biol. 2020;16(7):e1008050."),
        metadata=tfds.core.MetadataDict(organism=config.organism),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    directory = epath.Path(dl_manager.manual_dir) / config.organism
    if not directory.is_dir():
      raise BasenjiFormatError(None, None, f"missing {directory}: copy the {config.organism!r} "
                               f"directory into manual_dir.\n{_MANUAL_DOWNLOAD_INSTRUCTIONS}")
    statistics = read_statistics(directory / "statistics.json")
    for key in ("seq_length", "target_length", "num_targets"):
      if statistics[key] != getattr(config, key):
        raise BasenjiFormatError(
            directory / 'statistics.json', None, f"{key} = {statistics[key]} but config "
            f"{config.name!r} expects {getattr(config, key)}; build a config for this data "
            "with BasenjiBarnyardConfig.from_statistics")
    if statistics.get("seq_depth", 4) != 4:
      raise BasenjiFormatError(directory / 'statistics.json', None, f"seq_depth = "
                               f"{statistics['seq_depth']}, only 4 (DNA) is supported")
    targets_path = directory / "targets.txt"
    targets = read_targets(targets_path)
    if len(targets["identifier"]) != config.num_targets:
      raise BasenjiFormatError(targets_path, None, f"{len(targets['identifier'])} tracks, but "
                               f"statistics.json says num_targets = {config.num_targets}")
    strand_pair = strand_pair_positions(targets, str(targets_path))
    regions = read_regions(directory / "sequences.bed")
    files = {}
    for split in SPLITS:
      expected = statistics[f"{split}_seqs"]
      found = len(regions.get(split, []))
      if found != expected:
        raise BasenjiFormatError(directory / 'sequences.bed', None, f"{found} {split} windows, "
                                 f"but statistics.json says {split}_seqs = {expected}")
      files[split] = tfrecord_files(directory, split)
      if expected and not files[split]:
        raise BasenjiFormatError(None, None, f"missing {directory / 'tfrecords'}/{split}-*.tfr "
                                 f"(statistics.json says {split}_seqs = {expected})")
    self.info.metadata.update(
        statistics=statistics, targets=targets, track_names=list(targets["identifier"]),
        strand_pair=strand_pair)
    return {split: self._generate_examples(files[split], regions.get(split, []), split,
                                           statistics[f"{split}_seqs"])
            for split in SPLITS}

  def _generate_examples(self, files: Sequence[epath.Path],
                         regions: Sequence[tuple[str, int, int]], split: str,
                         expected: int):
    config = self.builder_config
    return self.split_examples(
        [str(path) for path in files],
        functools.partial(file_examples, regions=tuple(regions), split=split,
                          expected=expected, seq_length=config.seq_length,
                          target_length=config.target_length,
                          num_targets=config.num_targets),
        sizes=count_records,
        check_total=functools.partial(_check_total, split=split, num_files=len(files),
                                      expected=expected))
