"""Borzoi's human/mouse coverage training data, read from its published TFRecords.

The data of Linder et al., "Predicting RNA-seq coverage from DNA sequence as a
unifying model of gene regulation" (Nat. Genet. 2025), in the public requester-pays
bucket ``gs://borzoi-paper/data`` (calico/borzoi README, "Data Availability"). Per
organism the layout is the Basenji one (``data_builders.basenji_barnyard``) as
baskerville's ``hound_data.py`` writes it, with two differences:

* the windows are split into eight folds, not train/valid/test: ``sequences.bed``
  labels each ``fold0`` .. ``fold7``, ``statistics.json`` counts ``fold<k>_seqs``
  and the records are ``tfrecords/fold<k>-<n>.tfr``. Borzoi's splits
  (``SPLIT_FOLDS``): test fold3, validation fold4, training the other six.
* with ``"seq_1hot": true`` in statistics.json (hound_data's default) a record's
  ``sequence`` holds one byte per base, its index 0-3 in A,C,G,T and 4 for N
  (baskerville ``dna_1hot_index``), not the one-hot matrix.

``target`` is float16 ``[target_length, num_targets]`` of squashed-scale coverage
(``genereg_jax.models.borzoi.squashed_scale``); published sizes 524,288 bp windows,
6,144 bins of 32 bp (163,840 bp cropped per side), 7,611 human and 2,608 mouse tracks.

Features and ``info.metadata`` are basenji_barnyard's (``sequence`` uint8 one-hot
``[seq_length, 4]``, ``target``, ``chrom``, ``start``, ``end``; ``statistics``,
``targets``, ``track_names``, ``strand_pair``, ``organism``). A split's records are its
folds' in fold order, each fold's files in natural order, which is the order of that
fold's lines in sequences.bed. Every CRC is checked and every count must agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from etils import epath
from google.protobuf import message
import numpy as np
import tensorflow_datasets as tfds

from data_builders import basenji_barnyard as bb
from genereg_jax.data import tfrecord

FOLDS: tuple[str, ...] = tuple(f"fold{k}" for k in range(8))
# calico/borzoi README: "test = fold3, validation = fold4".
SPLIT_FOLDS: dict[str, tuple[str, ...]] = {
    "train": ("fold0", "fold1", "fold2", "fold5", "fold6", "fold7"),
    "valid": ("fold4",),
    "test": ("fold3",),
}

_MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Copy one organism's data directory from the requester-pays bucket gs://borzoi-paper/data
(bill a Google Cloud project you own; the data are several TB) into manual_dir as
human/ (or mouse/):

  gsutil -u <your-gcp-project> -m cp -r gs://borzoi-paper/data/<human dir> <manual_dir>/human

giving <manual_dir>/human/{statistics.json,targets.txt,sequences.bed,tfrecords/fold*-*.tfr}.
Then:

  python -m data_builders.build --dataset=borzoi_data/human --manual_dir=<manual_dir>
"""


def decode_record(record: bytes, seq_length: int, target_length: int, num_targets: int,
                  seq_1hot: bool, source: str = "record") -> tuple[np.ndarray, np.ndarray]:
  """``(uint8 [seq_length, 4] one-hot, float16 [target_length, num_targets])`` of one
  serialized record; ``seq_1hot``: the sequence is base indices (N = 4)."""
  if not seq_1hot:
    return bb.decode_record(record, seq_length, target_length, num_targets, source)
  try:
    features = tfrecord.parse_example(record)
  except message.DecodeError as e:
    raise bb.BasenjiFormatError(source, None, f"not a tf.train.Example ({e})") from e
  values = {}
  for key in ("sequence", "target"):
    value = features.get(key)
    if not isinstance(value, list) or len(value) != 1:
      raise bb.BasenjiFormatError(source, None, f"needs one bytes value in feature "
                                  f"{key!r}; features: {sorted(features)}")
    values[key] = value[0]
  codes = np.frombuffer(values["sequence"], np.uint8)
  if codes.size != seq_length or codes.max(initial=0) > 4:
    raise bb.BasenjiFormatError(
        source, None, f"'sequence' has {codes.size} bytes up to {codes.max(initial=0)}, "
        f"expected seq_length = {seq_length} base indices 0-4 (seq_1hot)")
  if len(values["target"]) != target_length * num_targets * 2:
    raise bb.BasenjiFormatError(
        source, None, f"'target' has {len(values['target'])} bytes, expected "
        f"target_length x num_targets x 2 = {target_length * num_targets * 2} (float16)")
  sequence = np.eye(5, 4, dtype=np.uint8)[codes]  # Row 4 (N) is all zeros.
  target = np.frombuffer(values["target"], np.float16).reshape(target_length, num_targets)
  return sequence, target


@dataclasses.dataclass(eq=False)
class BorzoiDataConfig(bb.BasenjiBarnyardConfig):
  """``BasenjiBarnyardConfig`` (organism sub-directory, sizes statistics.json must
  state) with Borzoi's sizes as defaults: 524,288 bp, 6,144 bins, 7,611 tracks."""

  seq_length: int = 524_288
  target_length: int = 6144
  num_targets: int = 7611


class BorzoiData(tfds.core.GeneratorBasedBuilder):
  """Borzoi's human or mouse coverage windows from ``manual_dir``."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Borzoi training TFRecords, folds merged into Borzoi's splits."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = _MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
      BorzoiDataConfig(name="human", organism="human", num_targets=7611,
                       description="hg38, 524,288 bp, 6,144 x 32 bp bins, 7,611 tracks."),
      BorzoiDataConfig(name="mouse", organism="mouse", num_targets=2608,
                       description="mm10, 524,288 bp, 6,144 x 32 bp bins, 2,608 tracks."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "human"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=bb.coverage_features(
            config, "Squashed-scale coverage per bin and track, in targets.txt's order."),
        supervised_keys=("sequence", "target"),
        disable_shuffling=True,
        homepage="https://github.com/calico/borzoi",
        citation=("Linder J, Srivastava D, Yuan H, Agarwal V, Kelley DR. Predicting "
                  "RNA-seq coverage from DNA sequence as a unifying model of gene "
                  "regulation. Nat Genet. 2025;57:949-961."),
        metadata=tfds.core.MetadataDict(organism=config.organism),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    directory = epath.Path(dl_manager.manual_dir) / config.organism
    if not directory.is_dir():
      raise bb.BasenjiFormatError(None, None, f"missing {directory}: copy the "
                                  f"{config.organism!r} data into manual_dir.\n"
                                  f"{_MANUAL_DOWNLOAD_INSTRUCTIONS}")
    statistics = bb.read_statistics(
        directory / "statistics.json",
        required=("seq_length", "target_length", "num_targets",
                  *(f"{fold}_seqs" for fold in FOLDS)))
    for key in ("seq_length", "target_length", "num_targets"):
      if statistics[key] != getattr(config, key):
        raise bb.BasenjiFormatError(directory / "statistics.json", None,
                                    f"{key} = {statistics[key]} but config "
                                    f"{config.name!r} expects {getattr(config, key)}")
    targets_path = directory / "targets.txt"
    targets = bb.read_targets(targets_path)
    if len(targets["identifier"]) != config.num_targets:
      raise bb.BasenjiFormatError(targets_path, None, f"{len(targets['identifier'])} "
                                  f"tracks, but num_targets = {config.num_targets}")
    strand_pair = bb.strand_pair_positions(targets, str(targets_path))
    regions = bb.read_regions(directory / "sequences.bed", labels=FOLDS)
    for fold in FOLDS:
      found, expected = len(regions.get(fold, [])), statistics[f"{fold}_seqs"]
      if found != expected:
        raise bb.BasenjiFormatError(directory / "sequences.bed", None, f"{found} {fold} "
                                    f"windows, but statistics.json says {fold}_seqs = "
                                    f"{expected}")
    self.info.metadata.update(
        statistics=statistics, targets=targets, track_names=list(targets["identifier"]),
        strand_pair=strand_pair)
    seq_1hot = bool(statistics.get("seq_1hot", False))
    return {split: self._generate_examples(directory, folds, regions, statistics, seq_1hot)
            for split, folds in SPLIT_FOLDS.items()}

  def _generate_examples(self, directory: epath.Path, folds: Sequence[str],
                         regions, statistics, seq_1hot: bool
                         ) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for fold in folds:
      expected, index = statistics[f"{fold}_seqs"], 0
      files = bb.tfrecord_files(directory, fold)
      for path in files:
        for record_index, record in enumerate(tfrecord.read_records(path, "ZLIB")):
          source = f"{path}: record {record_index}"
          if index >= expected:
            raise bb.BasenjiFormatError(source, None, f"{fold} has more records than "
                                        f"statistics.json's {fold}_seqs = {expected}")
          sequence, target = decode_record(record, config.seq_length,
                                           config.target_length, config.num_targets,
                                           seq_1hot, source)
          chrom, start, end = regions[fold][index]
          yield f"{fold}-{index}", {"sequence": sequence, "target": target,
                                    "chrom": chrom, "start": start, "end": end}
          index += 1
      if index != expected:
        raise bb.BasenjiFormatError(None, None, f"{fold}: {index} records in "
                                    f"{len(files)} tfrecords/{fold}-*.tfr file(s), but "
                                    f"statistics.json says {fold}_seqs = {expected}")
