"""``borzoi_data`` built from a tiny copy of the Borzoi layout (baskerville's
hound_data.py): eight folds, base-index sequences (``seq_1hot``), Borzoi's splits."""

import json

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import basenji_barnyard as bb
from data_builders import borzoi_data as bd
from genereg_jax.data import tfrecord

SEQ_LENGTH, TARGET_LENGTH, NUM_TARGETS = 16, 2, 2
TINY = bd.BorzoiDataConfig(name="tiny", organism="human", seq_length=SEQ_LENGTH,
                           target_length=TARGET_LENGTH, num_targets=NUM_TARGETS)
# fold5 spans two files, fold6 has none; the rest one record each.
COUNTS = {"fold0": 1, "fold1": 1, "fold2": 1, "fold3": 1, "fold4": 1, "fold5": 2,
          "fold6": 0, "fold7": 1}
TARGETS_TXT = ("\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tstrand_pair\t"
               "description\n"
               "0\tRNA+\t/a+.w5\t768\t384\t0.01\tsum_sqrt\t1\tRNA:liver\n"
               "1\tRNA-\t/a-.w5\t768\t384\t0.01\tsum_sqrt\t0\tRNA:liver\n")


def write_layout(directory, rng):
  """Writes the layout; returns {fold: [(one-hot sequence, target, region)]}."""
  (directory / "tfrecords").mkdir(parents=True)
  statistics = {"num_targets": NUM_TARGETS, "seq_length": SEQ_LENGTH, "seq_1hot": True,
                "pool_width": 8, "crop_bp": 0, "target_length": TARGET_LENGTH,
                **{f"{fold}_seqs": n for fold, n in COUNTS.items()}}
  (directory / "statistics.json").write_text(json.dumps(statistics))
  (directory / "targets.txt").write_text(TARGETS_TXT)
  expected, bed = {}, []
  for fold, count in COUNTS.items():
    expected[fold] = []
    for index in range(count):
      codes = rng.integers(0, 5, SEQ_LENGTH).astype(np.uint8)  # 4 is N.
      target = rng.gamma(0.5, 2.0, (TARGET_LENGTH, NUM_TARGETS)).astype(np.float16)
      region = (f"chr{len(bed) + 1}", 100 * len(bed), 100 * len(bed) + SEQ_LENGTH)
      bed.append("\t".join(map(str, (*region, fold))))
      expected[fold].append((codes, target, region))
    files = [expected[fold][:1], expected[fold][1:]] if count > 1 else [expected[fold]]
    for number, records in enumerate(files if count else []):
      with tfrecord.TFRecordWriter(directory / "tfrecords" / f"{fold}-{number}.tfr",
                                   "ZLIB") as writer:
        for codes, target, _ in records:
          writer.write(tfrecord.serialize_example(
              {"sequence": codes.tobytes(), "target": target.tobytes()}))
  (directory / "sequences.bed").write_text("\n".join(bed) + "\n")
  return expected


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  manual_dir = tmp_path_factory.mktemp("manual")
  expected = write_layout(manual_dir / "human", np.random.default_rng(0))
  builder = bd.BorzoiData(config=TINY, data_dir=str(tmp_path_factory.mktemp("tfds")),
                          file_format="array_record")
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
  return builder, expected


def test_folds_become_borzois_splits_in_order(built):
  builder, expected = built
  source = builder.as_data_source()
  for split, folds in bd.SPLIT_FOLDS.items():
    rows = [row for fold in folds for row in expected[fold]]
    assert builder.info.splits[split].num_examples == len(rows)
    for index, (codes, target, region) in enumerate(rows):
      record = source[split][index]
      want = np.zeros((SEQ_LENGTH, 4), np.uint8)
      want[codes < 4, codes[codes < 4]] = 1  # N (4) is all zeros.
      np.testing.assert_array_equal(record["sequence"], want)
      assert record["target"].tobytes() == target.tobytes()
      assert (record["chrom"].decode(), int(record["start"]), int(record["end"])) == region
  assert builder.info.metadata["strand_pair"] == [1, 0]
  assert builder.info.metadata["track_names"] == ["RNA+", "RNA-"]


def test_bad_counts_and_codes_are_errors(tmp_path):
  directory = tmp_path / "human"
  write_layout(directory, np.random.default_rng(1))
  statistics = json.loads((directory / "statistics.json").read_text())
  (directory / "statistics.json").write_text(json.dumps({**statistics, "fold6_seqs": 1}))
  builder = bd.BorzoiData(config=TINY, data_dir=str(tmp_path / "tfds"),
                          file_format="array_record")
  with pytest.raises(bb.BasenjiFormatError, match="0 fold6 windows"):
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path)))
  record = tfrecord.serialize_example({"sequence": bytes([0, 5] * 8),
                                       "target": bytes(8)})
  with pytest.raises(bb.BasenjiFormatError, match="base indices 0-4"):
    bd.decode_record(record, SEQ_LENGTH, TARGET_LENGTH, NUM_TARGETS, seq_1hot=True)
