"""``basenji_barnyard`` built from a tiny copy of the published layout.

The manual_dir is written exactly as ``basenji_data.py`` writes it: statistics.json,
a pandas-style targets.txt with ``strand_pair``, sequences.bed with interleaved folds,
and ZLIB-compressed TFRecords of ``tf.train.Example{sequence: one-hot bytes, target:
float16 bytes}``, with a split spread over files whose names sort differently
lexicographically and naturally.
"""

import json
import zlib

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import basenji_barnyard as bb
from genereg_jax import tasks
from genereg_jax.data import encoding
from genereg_jax.data import pipeline
from genereg_jax.data import tfrecord

SEQ_LENGTH, TARGET_LENGTH, NUM_TARGETS = 32, 4, 3
TINY = bb.BasenjiBarnyardConfig(name="tiny", organism="human", seq_length=SEQ_LENGTH,
                                target_length=TARGET_LENGTH, num_targets=NUM_TARGETS)
# Per split: (file name, records in it). train-10 sorts before train-2 as text.
FILES = {"train": [("train-0.tfr", 1), ("train-2.tfr", 1), ("train-10.tfr", 1)],
         "valid": [("valid-0.tfr", 3)],
         "test": [("test-0.tfr", 2), ("test-1.tfr", 1)]}
TARGETS_TXT = (
    "\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tstrand_pair\tdescription\n"
    "0\tCNhs10752+\t/data/CNhs10752/coverage+.w5\t384\t64\t1.0\tsum_sqrt\t1\t"
    "CAGE:oral squamous cell carcinoma cell line:Ca9-22\n"
    "1\tCNhs10752-\t/data/CNhs10752/coverage-.w5\t384\t64\t1.0\tsum_sqrt\t0\t"
    "CAGE:oral squamous cell carcinoma cell line:Ca9-22\n"
    "2\tENCFF833POA\t/data/ENCSR000EIE/coverage.w5\t32\t32\t2\tmean\t2\t"
    "DNASE:cerebellum male adult (27 years) and male adult (35 years)\n")
STATISTICS = {"num_targets": NUM_TARGETS, "train_seqs": 3, "valid_seqs": 3,
              "test_seqs": 3, "seq_length": SEQ_LENGTH, "pool_width": 8, "crop_bp": 0,
              "target_length": TARGET_LENGTH}


def write_layout(manual_dir, seed=0):
  """Writes human/ under ``manual_dir``; returns {split: [(seq, target, region)]}."""
  rng = np.random.default_rng(seed)
  directory = manual_dir / "human"
  (directory / "tfrecords").mkdir(parents=True)
  (directory / "statistics.json").write_text(json.dumps(STATISTICS, indent=4))
  (directory / "targets.txt").write_text(TARGETS_TXT)
  expected = {split: [] for split in FILES}
  bed_lines = []
  for position in range(9):
    split = ("train", "valid", "test")[position % 3]  # Folds interleave in the BED.
    start = 1000 * position
    region = (f"chr{position + 1}", start, start + SEQ_LENGTH)
    sequence = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, SEQ_LENGTH)]
    sequence[rng.integers(0, SEQ_LENGTH, 3)] = 0  # N positions.
    target = rng.gamma(0.5, 20.0, (TARGET_LENGTH, NUM_TARGETS)).astype(np.float16)
    target[0, 0], target[1, 1], target[2, 2] = 60000, 1e-7, 0  # Max, subnormal, zero.
    expected[split].append((sequence, target, region))
    bed_lines.append("\t".join(map(str, (*region, split))))
  (directory / "sequences.bed").write_text("\n".join(bed_lines) + "\n")
  for split, files in FILES.items():
    examples = iter(expected[split])
    for name, count in files:
      with tfrecord.TFRecordWriter(directory / "tfrecords" / name, "ZLIB") as writer:
        for _ in range(count):
          sequence, target, _ = next(examples)
          # Enformer's copy decodes sequences as tf.bool: the same bytes.
          raw = sequence.astype(bool) if split == "valid" else sequence
          writer.write(tfrecord.serialize_example(
              {"sequence": raw.tobytes(), "target": target.tobytes()}))
  return expected


def build(manual_dir, data_dir, config=TINY):
  builder = bb.BasenjiBarnyard(config=config, data_dir=str(data_dir),
                               file_format="array_record")
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
  return builder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  manual_dir = tmp_path_factory.mktemp("manual")
  expected = write_layout(manual_dir)
  return build(manual_dir, tmp_path_factory.mktemp("tfds")), expected


def test_round_trip_is_exact(built):
  builder, expected = built
  source = builder.as_data_source()
  for split in bb.SPLITS:
    assert builder.info.splits[split].num_examples == 3
    for index, (sequence, target, region) in enumerate(expected[split]):
      record = source[split][index]
      assert record["sequence"].dtype == np.uint8
      assert record["sequence"].shape == (SEQ_LENGTH, 4)
      np.testing.assert_array_equal(record["sequence"], sequence)
      assert record["target"].dtype == np.float16
      assert record["target"].shape == (TARGET_LENGTH, NUM_TARGETS)
      assert record["target"].tobytes() == target.tobytes()  # Bit-exact float16.
      assert (record["chrom"].decode(), int(record["start"]), int(record["end"])) == region


def test_metadata_holds_tracks_strands_and_statistics(built):
  builder, _ = built
  metadata = builder.info.metadata
  assert metadata["organism"] == "human"
  assert metadata["statistics"] == STATISTICS
  assert metadata["track_names"] == ["CNhs10752+", "CNhs10752-", "ENCFF833POA"]
  assert metadata["strand_pair"] == [1, 0, 2]
  targets = metadata["targets"]
  assert targets["index"] == [0, 1, 2]
  assert targets["clip"] == [384.0, 384.0, 32.0]
  assert targets["sum_stat"] == ["sum_sqrt", "sum_sqrt", "mean"]
  assert targets["description"][2].startswith("DNASE:cerebellum")
  # Reloading the prepared data set restores the metadata from disk.
  reloaded = bb.BasenjiBarnyard(config=TINY, data_dir=builder.data_dir_root,
                                file_format="array_record")
  assert reloaded.info.metadata["strand_pair"] == [1, 0, 2]
  assert reloaded.info.features["target"].shape == (TARGET_LENGTH, NUM_TARGETS)


def test_reverse_complement_augmentation_with_the_metadata_strand_pairs(built):
  builder, expected = built
  task = tasks.get_task("coverage", {"strand_pair": builder.info.metadata["strand_pair"]})
  augmentation = pipeline.Augmentation(
      reverse_complement=True, reverse_complement_targets=task.reverse_complement_targets)
  loader = pipeline.make_loader(builder.as_data_source("train"), batch_size=3,
                                keys=("sequence", "target"), shuffle=False, num_epochs=8,
                                augmentation=augmentation, seed=1)
  flipped_seen = 0
  for batch in loader:
    for row, (sequence, target, _) in enumerate(expected["train"]):
      if np.array_equal(batch["sequence"][row], sequence):
        np.testing.assert_array_equal(batch["target"][row], target)
      else:
        np.testing.assert_array_equal(batch["sequence"][row],
                                      encoding.reverse_complement(sequence))
        # Bins reversed; CAGE + and - swapped; DNase stays.
        np.testing.assert_array_equal(batch["target"][row], target[::-1][:, [1, 0, 2]])
        flipped_seen += 1
  assert 0 < flipped_seen < 24


def test_published_configs_and_registration(tmp_path):
  configs = {c.name: c for c in bb.BasenjiBarnyard.BUILDER_CONFIGS}
  assert (configs["human"].seq_length, configs["human"].target_length,
          configs["human"].num_targets) == (131_072, 896, 5313)
  assert configs["mouse"].num_targets == 1643
  assert "gsutil -u <your-gcp-project> -m cp -r gs://basenji_barnyard/data/human" in (
      bb.BasenjiBarnyard.MANUAL_DOWNLOAD_INSTRUCTIONS)
  with pytest.raises(pipeline.DatasetNotBuiltError, match="--manual_dir="):
    pipeline.load_builder("basenji_barnyard/mouse", str(tmp_path))
  statistics = tmp_path / "statistics.json"
  statistics.write_text(json.dumps(STATISTICS))
  config = bb.BasenjiBarnyardConfig.from_statistics("mine", statistics, organism="human")
  assert (config.name, config.organism, config.seq_length, config.target_length,
          config.num_targets) == ("mine", "human", SEQ_LENGTH, TARGET_LENGTH, NUM_TARGETS)


def _corrupt_first_data_byte(path):
  framed = bytearray(zlib.decompress(path.read_bytes()))
  framed[12] ^= 0x01  # First byte of record 0's data: after length and its CRC.
  path.write_bytes(zlib.compress(bytes(framed)))


@pytest.mark.parametrize("damage, message", [
    (lambda d: _corrupt_first_data_byte(d / "tfrecords" / "train-2.tfr"),
     r"train-2\.tfr: record 0: CRC32C mismatch in the data"),
    (lambda d: (d / "targets.txt").unlink(), r"missing .*human/targets\.txt"),
    (lambda d: (d / "sequences.bed").unlink(), r"missing .*human/sequences\.bed"),
    (lambda d: [p.unlink() for p in (d / "tfrecords").glob("test-*")],
     r"missing .*tfrecords/test-\*\.tfr \(statistics\.json says test_seqs = 3\)"),
    (lambda d: (d / "tfrecords" / "train-10.tfr").unlink(),
     r"train: 2 records in 2 tfrecords/train-\*\.tfr file\(s\), but statistics\.json "
     r"says train_seqs = 3"),
    (lambda d: (d / "statistics.json").write_text(json.dumps(
        {**STATISTICS, "valid_seqs": 2})),
     r"sequences\.bed: 3 valid windows, but statistics\.json says valid_seqs = 2"),
    (lambda d: (d / "statistics.json").write_text(json.dumps(
        {**STATISTICS, "num_targets": 5})),
     r"num_targets = 5 but config 'tiny' expects 3; .*from_statistics"),
    (lambda d: tfrecord.write_records(
        d / "tfrecords" / "valid-0.tfr",
        [tfrecord.serialize_example({"sequence": bytes(SEQ_LENGTH * 4),
                                     "target": bytes(5)})] * 3, "ZLIB"),
     r"valid-0\.tfr: record 0: 'target' has 5 bytes, expected target_length x "
     r"num_targets x 2 = 24"),
])
def test_bad_input_raises_a_clear_error(tmp_path, damage, message):
  write_layout(tmp_path / "manual")
  damage(tmp_path / "manual" / "human")
  with pytest.raises(ValueError, match=message):
    build(tmp_path / "manual", tmp_path / "tfds")


def test_targets_table_variants_and_strand_pairs(tmp_path):
  # Basenji2's mouse table: a named index starting at 5313 and a genome column.
  path = tmp_path / "targets.txt"
  path.write_text("index\tgenome\tidentifier\tfile\tclip\tscale\tsum_stat\tstrand_pair\t"
                  "description\n"
                  "5313\t1\tA+\tf\t32\t2\tmean\t5314\tCAGE:a\n"
                  "5314\t1\tA-\tf\t32\t2\tmean\t5313\tCAGE:a\n"
                  "5315\t1\tB\tf\t32\t2\tmean\t5315\tDNASE:b\n")
  targets = bb.read_targets(path)
  assert targets["index"] == [5313, 5314, 5315] and targets["genome"] == [1, 1, 1]
  assert bb.strand_pair_positions(targets) == [1, 0, 2]
  del targets["strand_pair"]
  assert bb.strand_pair_positions(targets) == [0, 1, 2]
  # Akita's table: no index column name at all, no strand_pair.
  path.write_text("identifier\tfile\tclip\tdescription\nHFF\tx.cool\t2\tHFF\n")
  assert bb.read_targets(path)["index"] == [0]

  path.write_text("\tidentifier\tstrand_pair\n0\tA\t1\n1\tB\t2\n2\tC\t2\n")
  with pytest.raises(ValueError, match=r"not symmetric: 'A' -> 'B' -> 'C'"):
    bb.strand_pair_positions(bb.read_targets(path), str(path))
  path.write_text("\tidentifier\tstrand_pair\n0\tA\t7\n")
  with pytest.raises(ValueError, match="strand_pair 7, which is no track's index"):
    bb.strand_pair_positions(bb.read_targets(path), str(path))
  path.write_text("\tidentifier\tclip\n0\tA\t1\n1\tB\n")
  with pytest.raises(ValueError, match=r"targets\.txt:3: 2 tab-separated fields, header "
                     "has 3"):
    bb.read_targets(path)
  path.write_text("\tidentifier\tclip\n0\tA\tlots\n")
  with pytest.raises(ValueError, match=r"targets\.txt:2: column 'clip' = 'lots' is not"):
    bb.read_targets(path)

  bed = tmp_path / "sequences.bed"
  bed.write_text("chr1\t0\t32\ttrain\nchr1\t32\t64\tfold3\n")
  with pytest.raises(ValueError, match=r"fold labels \['fold3'\] are not"):
    bb.read_regions(bed)
  bed.write_text("chr1\tzero\t32\ttrain\n")
  with pytest.raises(ValueError, match=r"sequences\.bed:1: start/end"):
    bb.read_regions(bed)
  statistics = tmp_path / "statistics.json"
  statistics.write_text(json.dumps({"seq_length": 32}))
  with pytest.raises(ValueError, match=r"statistics\.json: lacks \['target_length'"):
    bb.read_statistics(statistics)


def test_decode_record_rejects_non_one_hot_sequences():
  sequence = np.zeros((SEQ_LENGTH, 4), np.uint8)
  sequence[5] = [1, 1, 0, 0]
  record = tfrecord.serialize_example({"sequence": sequence.tobytes(),
                                       "target": bytes(TARGET_LENGTH * NUM_TARGETS * 2)})
  with pytest.raises(ValueError, match="f.tfr: record 4: 'sequence' is not one-hot"):
    bb.decode_record(record, SEQ_LENGTH, TARGET_LENGTH, NUM_TARGETS, "f.tfr: record 4")
  with pytest.raises(ValueError, match=r"needs one bytes value in feature 'target'; "
                     r"features: \['sequence'\]"):
    bb.decode_record(tfrecord.serialize_example({"sequence": b"x"}), SEQ_LENGTH,
                     TARGET_LENGTH, NUM_TARGETS)
