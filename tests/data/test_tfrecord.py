"""Tests for ``genereg_jax.data.tfrecord`` against known bytes: CRC32C test vectors,
a TFRecord file written by TensorFlow, and hand-encoded ``tf.train.Example`` protos."""

import gzip
import zlib

import numpy as np
import pytest

from genereg_jax.data import tfrecord

# grain's testdata/morris_sequence_first_5.tfrecord, written by TensorFlow: the first
# five terms of the look-and-say sequence, uncompressed, with TensorFlow's CRCs.
TENSORFLOW_FILE = bytes.fromhex(
    "01000000000000000175de4131c30c4ad60300000000000000b099490e31203159bed8de0300"
    "000000000000b099490e322031b4f2345f0700000000000000bbd79f11312032203120319886"
    "ebb80b000000000000008615f504312031203120322032203161692698")
TENSORFLOW_RECORDS = [b"1", b"1 1", b"2 1", b"1 2 1 1", b"1 1 1 2 2 1"]


@pytest.mark.parametrize("data, expected", [
    (b"123456789", 0xE3069283),  # The CRC catalogue's check value for CRC-32C.
    (b"", 0x00000000),
    (bytes(32), 0x8A9136AA),  # RFC 3720, B.4.
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_values(data, expected):
  assert tfrecord.crc32c(data) == expected
  assert tfrecord.crc32c(data[5:], tfrecord.crc32c(data[:5])) == expected
  assert tfrecord.CRC32C_IMPLEMENTATION in ("c", "python")


def test_masked_crc_matches_tensorflow_file_and_writer_reproduces_it(tmp_path):
  # Record 0's length field is 1; its masked CRC is stored right after it.
  assert tfrecord.masked_crc32c((1).to_bytes(8, "little")) == int.from_bytes(
      TENSORFLOW_FILE[8:12], "little")
  assert tfrecord.masked_crc32c(b"1") == int.from_bytes(TENSORFLOW_FILE[13:17], "little")
  path = tmp_path / "tf.tfrecord"
  path.write_bytes(TENSORFLOW_FILE)
  assert list(tfrecord.read_records(path, compression=None)) == TENSORFLOW_RECORDS
  assert tfrecord.detect_compression(path) == "NONE"
  ours = tmp_path / "ours.tfrecord"
  assert tfrecord.write_records(ours, TENSORFLOW_RECORDS) == 5
  assert ours.read_bytes() == TENSORFLOW_FILE


def test_example_wire_format_matches_hand_encoding():
  # Example{features{feature{key: "a" value{int64_list{value: [1]}}}}}, by hand:
  # Int64List 0a 01 01 | Feature 1a 03 .. | entry 0a 01 'a' 12 05 .. | Features 0a 0a ..
  # | Example 0a 0c ..
  hand = bytes.fromhex("0a0c" "0a0a" "0a0161" "1205" "1a03" "0a0101")
  assert tfrecord.serialize_example({"a": np.array([1])}) == hand
  assert tfrecord.parse_example(hand)["a"].tolist() == [1]
  # float_list (field 2) packed little-endian float32: 1.5 = 0x3fc00000.
  floats = bytes.fromhex("0a0f" "0a0d" "0a0166" "1208" "1206" "0a04" "0000c03f")
  assert tfrecord.serialize_example({"f": np.float32(1.5)}) == floats
  # bytes_list (field 1), two values.
  strings = bytes.fromhex("0a11" "0a0f" "0a0173" "120a" "0a08" "0a02" "6869" "0a02" "796f")
  assert tfrecord.serialize_example({"s": [b"hi", "yo"]}) == strings
  assert tfrecord.parse_example(strings) == {"s": [b"hi", b"yo"]}


def test_example_round_trip_of_every_kind():
  features = {
      "sequence": np.eye(4, dtype=np.uint8)[[0, 3, 2, 1, 1]].tobytes(),
      "names": [b"chr1", "chr2"],
      "ints": np.array([[-3, 0], [2**40, 7]], dtype=np.int64),
      "flags": np.array([True, False]),
      "floats": np.array([0.25, -1e30, np.inf], dtype=np.float64),
      "empty": np.array([], np.float32),
  }
  parsed = tfrecord.parse_example(tfrecord.serialize_example(features))
  assert parsed["sequence"] == [features["sequence"]]
  assert parsed["names"] == [b"chr1", b"chr2"]
  assert parsed["ints"].tolist() == [-3, 0, 2**40, 7]
  assert parsed["flags"].tolist() == [1, 0]
  assert parsed["floats"].dtype == np.float32
  np.testing.assert_array_equal(parsed["floats"], np.float32([0.25, -1e30, np.inf]))
  assert parsed["empty"].dtype == np.float32 and parsed["empty"].size == 0


def test_serialize_rejects_what_an_example_cannot_hold():
  with pytest.raises(ValueError, match="'x' is empty and untyped"):
    tfrecord.serialize_example({"x": []})
  with pytest.raises(ValueError, match="complex"):
    tfrecord.serialize_example({"z": np.array([1j])})
  with pytest.raises(ValueError, match="beyond int64"):
    tfrecord.serialize_example({"u": np.array([2**63], np.uint64)})


@pytest.mark.parametrize("compression", [None, "ZLIB", "GZIP"])
def test_round_trip_with_compression(tmp_path, compression):
  rng = np.random.default_rng(0)
  # Records straddle the 1 MiB read chunks; one is empty; one-hot inflates > 100x.
  records = [b"", rng.bytes(10), rng.bytes(3_000_001),
             np.eye(4, dtype=np.uint8)[rng.integers(0, 4, 2**20)].tobytes(), b"x"]
  path = tmp_path / "r.tfr"
  assert tfrecord.write_records(path, records, compression) == len(records)
  assert list(tfrecord.read_records(path, compression)) == records
  assert list(tfrecord.read_records(path)) == records  # compression="auto".
  assert tfrecord.detect_compression(path) == (compression or "NONE")
  framed = b"".join(tfrecord.frame_record(r) for r in records)
  raw = path.read_bytes()
  if compression == "ZLIB":
    assert zlib.decompress(raw) == framed
  elif compression == "GZIP":
    assert gzip.decompress(raw) == framed
  else:
    assert raw == framed


def test_reads_concatenated_gzip_members_and_empty_files(tmp_path):
  path = tmp_path / "two_members.tfr.gz"
  path.write_bytes(gzip.compress(tfrecord.frame_record(b"first"))
                   + gzip.compress(tfrecord.frame_record(b"second")))
  assert list(tfrecord.read_records(path, "gzip")) == [b"first", b"second"]
  empty = tmp_path / "empty.tfr"
  empty.write_bytes(b"")
  assert list(tfrecord.read_records(empty)) == []
  assert list(tfrecord.read_records(empty, "ZLIB")) == []


def test_read_examples_of_a_zlib_file(tmp_path):
  path = tmp_path / "e.tfr"
  with tfrecord.TFRecordWriter(path, "ZLIB") as writer:
    for i in range(3):
      writer.write(tfrecord.serialize_example({"i": i, "name": f"r{i}"}))
  examples = list(tfrecord.read_examples(path, "ZLIB"))
  assert [e["i"].tolist() for e in examples] == [[0], [1], [2]]
  assert [e["name"] for e in examples] == [[b"r0"], [b"r1"], [b"r2"]]


def test_errors_name_the_file_and_record(tmp_path):
  records = [b"alpha", b"bravo", b"charlie"]
  framed = bytearray(b"".join(tfrecord.frame_record(r) for r in records))
  offset_of_second = len(tfrecord.frame_record(b"alpha"))

  corrupt_data = bytearray(framed)
  corrupt_data[offset_of_second + 12] ^= 0x01  # First data byte of record 1.
  path = tmp_path / "bad_data.tfr"
  path.write_bytes(bytes(corrupt_data))
  reader = tfrecord.read_records(path, None)
  assert next(reader) == b"alpha"
  with pytest.raises(tfrecord.TFRecordError, match=r"bad_data\.tfr: record 1: CRC32C "
                     r"mismatch in the data"):
    next(reader)
  assert len(list(tfrecord.read_records(path, None, verify_crc=False))) == 3

  corrupt_length = bytearray(framed)
  corrupt_length[offset_of_second + 9] ^= 0x10  # Length CRC of record 1.
  path = tmp_path / "bad_length.tfr"
  path.write_bytes(bytes(corrupt_length))
  with pytest.raises(tfrecord.TFRecordError, match=r"bad_length\.tfr: record 1: CRC32C "
                     r"mismatch in the length"):
    list(tfrecord.read_records(path, None))

  path = tmp_path / "truncated.tfr"
  path.write_bytes(bytes(framed[:-3]))
  with pytest.raises(tfrecord.TFRecordError, match=r"truncated\.tfr: record 2: truncated"):
    list(tfrecord.read_records(path, None))

  zlib_path = tmp_path / "z.tfr"
  tfrecord.write_records(zlib_path, records, "ZLIB")
  with pytest.raises(tfrecord.TFRecordError, match=r"z\.tfr: record 0: CRC32C mismatch "
                     r"in the length field \(corrupted file, or not compression='NONE'"):
    list(tfrecord.read_records(zlib_path, None))
  with pytest.raises(tfrecord.TFRecordError, match=r"z\.tfr: corrupted GZIP stream"):
    list(tfrecord.read_records(zlib_path, "GZIP"))
  cut = tmp_path / "cut.tfr"
  cut.write_bytes(zlib_path.read_bytes()[:-6])
  with pytest.raises(tfrecord.TFRecordError, match=r"cut\.tfr: the ZLIB stream ends early"):
    list(tfrecord.read_records(cut, "ZLIB"))
  trailing = tmp_path / "trailing.tfr"
  trailing.write_bytes(zlib_path.read_bytes() + b"junk")
  with pytest.raises(tfrecord.TFRecordError, match="trailing data"):
    list(tfrecord.read_records(trailing, "ZLIB"))

  garbage = tmp_path / "garbage.tfr"
  garbage.write_bytes(b"this is not a tfrecord file")
  with pytest.raises(tfrecord.TFRecordError, match=r"garbage\.tfr: not a TFRecord file"):
    list(tfrecord.read_records(garbage))
  not_example = tmp_path / "not_example.tfr"
  tfrecord.write_records(not_example, [tfrecord.serialize_example({"a": 1}), b"\xff\xff"])
  with pytest.raises(tfrecord.TFRecordError, match=r"not_example\.tfr: record 1: not a "
                     r"tf\.train\.Example"):
    list(tfrecord.read_examples(not_example))
  with pytest.raises(ValueError, match="unknown TFRecord compression 'LZ4'"):
    list(tfrecord.read_records(not_example, "LZ4"))
