"""TFRecord files and ``tf.train.Example`` protos, read and written without TensorFlow.

Follows TensorFlow's on-disk format (``tensorflow/core/lib/io/record_writer.cc``):
every record is

  uint64  length              little-endian
  uint32  masked CRC32C of the 8 length bytes
  bytes   data[length]
  uint32  masked CRC32C of data

with ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32). A file
may be compressed as a whole: ``ZLIB`` (one zlib stream, as
``tf.io.TFRecordOptions(compression_type="ZLIB")`` writes and Basenji/Enformer's
training data use) or ``GZIP`` (gzip members). CRC32C (Castagnoli) comes from the
``google-crc32c`` package: its C extension (hardware CRC32 instructions where the CPU
has them) or, where that is unavailable, its own pure-Python table implementation.

``tf.train.Example`` / ``Features`` / ``Feature`` / ``BytesList`` / ``FloatList`` /
``Int64List`` are rebuilt at import time from the message definitions of
TensorFlow's ``example.proto`` and ``feature.proto`` (same package, names, field
numbers and packing) in a private descriptor pool, so the wire format is TensorFlow's
and nothing clashes with TensorFlow's own classes if both are imported.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from etils import epath
import google_crc32c
from google.protobuf import descriptor_pb2
from genereg_jax.files import InputFormatError
from google.protobuf import descriptor_pool
from google.protobuf import message
from google.protobuf import message_factory
import numpy as np

#: Which CRC32C implementation ``google-crc32c`` provides here: "c" or "python".
CRC32C_IMPLEMENTATION: str = google_crc32c.implementation

COMPRESSIONS = ("NONE", "ZLIB", "GZIP")
_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_READ_CHUNK = 1 << 20
# Upper bound on bytes inflated per call: one-hot DNA compresses > 100x.
_MAX_INFLATE = 1 << 24
_ZLIB_WBITS = zlib.MAX_WBITS
_GZIP_WBITS = 16 + zlib.MAX_WBITS

Feature = list[bytes] | np.ndarray
PathLike = str | os.PathLike


class TFRecordError(InputFormatError):
  """A TFRecord file is truncated, corrupted or not what it claims to be."""


# ---------------------------------------------------------------------------
# CRC32C
# ---------------------------------------------------------------------------


def crc32c(data: bytes, value: int = 0) -> int:
  """CRC32C (Castagnoli, iSCSI; RFC 3720) of ``data``, continuing from ``value``."""
  return google_crc32c.extend(value, bytes(data))


def masked_crc32c(data: bytes) -> int:
  """TFRecord's masked CRC32C: rotated right by 15 bits plus ``0xa282ead8``."""
  crc = crc32c(data)
  return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Framing and compression
# ---------------------------------------------------------------------------


def _normalize_compression(compression: str | None, allow_auto: bool) -> str:
  name = (compression or "NONE").upper()
  if name == "":
    name = "NONE"
  if name == "AUTO" and allow_auto:
    return name
  if name not in COMPRESSIONS:
    valid = (*COMPRESSIONS, "auto") if allow_auto else COMPRESSIONS
    raise ValueError(f"unknown TFRecord compression {compression!r}; valid: {list(valid)}")
  return name


def detect_compression(path: PathLike) -> str:
  """Guesses ``"NONE"``, ``"ZLIB"`` or ``"GZIP"`` from a file's first bytes.

  An uncompressed file is recognised by the CRC of its first length field (a
  false match has probability 2**-32), gzip by its magic number, zlib by a valid
  deflate header. An empty file is ``"NONE"`` (it holds zero records).

  Raises:
    TFRecordError: if the file looks like none of them.
  """
  with epath.Path(path).open("rb") as f:
    head = f.read(_HEADER.size)
  if not head:
    return "NONE"
  if len(head) == _HEADER.size and masked_crc32c(head[:8]) == _HEADER.unpack(head)[1]:
    return "NONE"
  if head[:2] == b"\x1f\x8b":
    return "GZIP"
  if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
    return "ZLIB"
  raise TFRecordError(path, None, f"not a TFRecord file (neither uncompressed, ZLIB nor "
                      f"GZIP); first bytes {head.hex()}")


class _InflatingReader:
  """Exact-size reads from a file, inflating ZLIB/GZIP streams on the fly."""

  def __init__(self, file: BinaryIO, compression: str, path: PathLike):
    self._file = file
    self._compression = compression
    self._path = path
    self._buffer = bytearray()
    self._position = 0
    self._input = b""
    self._fed_any = False
    self._decompressor = self._new_decompressor()

  def _new_decompressor(self):
    if self._compression == "NONE":
      return None
    return zlib.decompressobj(_GZIP_WBITS if self._compression == "GZIP" else _ZLIB_WBITS)

  def _fill(self) -> bool:
    """Appends more decoded bytes to the buffer; False at the end of the file."""
    if self._decompressor is None:
      chunk = self._file.read(_READ_CHUNK)
      self._buffer += chunk
      return bool(chunk)
    while True:
      if not self._input:
        self._input = self._file.read(_READ_CHUNK)
        if not self._input:
          if self._fed_any and not self._decompressor.eof:
            raise TFRecordError(self._path, None, f"the {self._compression} stream ends early "
                                "(truncated file?)")
          return False
      if self._decompressor.eof:
        if self._compression == "GZIP":  # Concatenated gzip members are one stream.
          self._decompressor = self._new_decompressor()
        else:
          raise TFRecordError(self._path, None, f"{len(self._input)}+ bytes of trailing "
                              "data after the end of the ZLIB stream")
      self._fed_any = True
      try:
        out = self._decompressor.decompress(self._input, _MAX_INFLATE)
      except zlib.error as e:
        raise TFRecordError(self._path, None, f"corrupted {self._compression} stream ({e}); "
                            "is the compression right?") from e
      self._input = (self._decompressor.unused_data if self._decompressor.eof
                     else self._decompressor.unconsumed_tail)
      if out:
        self._buffer += out
        return True

  def read(self, size: int) -> bytes:
    """``size`` bytes, or fewer only at the end of the file."""
    while len(self._buffer) - self._position < size and self._fill():
      pass
    data = bytes(self._buffer[self._position:self._position + size])
    self._position += len(data)
    if self._position > _READ_CHUNK:
      del self._buffer[:self._position]
      self._position = 0
    return data


def read_records(path: PathLike, compression: str | None = "auto", *,
                 verify_crc: bool = True) -> Iterator[bytes]:
  """Yields the records of one TFRecord file in order.

  Args:
    path: a local path or anything ``etils.epath`` opens.
    compression: ``"auto"`` (detect), ``None``/``""``/``"NONE"``, ``"ZLIB"`` or
      ``"GZIP"``, as ``tf.data.TFRecordDataset``'s ``compression_type``.
    verify_crc: check both masked CRC32Cs of every record.

  Raises:
    TFRecordError: naming the file and the 0-based record index, on a CRC
      mismatch, a truncated record, or a corrupted compressed stream.
  """
  compression = _normalize_compression(compression, allow_auto=True)
  if compression == "AUTO":
    compression = detect_compression(path)
  with epath.Path(path).open("rb") as f:
    stream = _InflatingReader(f, compression, path)
    index = 0
    while True:
      header = stream.read(_HEADER.size)
      if not header:
        return
      if len(header) < _HEADER.size:
        raise TFRecordError(path, None, f"record {index}: truncated header ({len(header)} of "
                            f"{_HEADER.size} bytes)")
      length, length_crc = _HEADER.unpack(header)
      if verify_crc and masked_crc32c(header[:8]) != length_crc:
        raise TFRecordError(
            path, None, f"record {index}: CRC32C mismatch in the length field (corrupted "
            f"file, or not compression={compression!r}?)")
      data = stream.read(length)
      footer = stream.read(_FOOTER.size)
      if len(data) < length or len(footer) < _FOOTER.size:
        raise TFRecordError(path, None, f"record {index}: truncated (expected {length} data "
                            f"bytes + CRC, got {len(data) + len(footer)} bytes)")
      if verify_crc and masked_crc32c(data) != _FOOTER.unpack(footer)[0]:
        raise TFRecordError(path, None, f"record {index}: CRC32C mismatch in the data "
                            f"({length} bytes): the record is corrupted")
      yield data
      index += 1


def frame_record(data: bytes) -> bytes:
  """One record in TFRecord framing: length, its masked CRC, data, data's masked CRC."""
  length = struct.pack("<Q", len(data))
  return (length + _FOOTER.pack(masked_crc32c(length)) + bytes(data)
          + _FOOTER.pack(masked_crc32c(data)))


class TFRecordWriter:
  """Writes TFRecord files as ``tf.io.TFRecordWriter`` does, optionally compressed.

  Use as a context manager::

    with TFRecordWriter(path, compression="ZLIB") as writer:
      writer.write(serialize_example({...}))
  """

  def __init__(self, path: PathLike, compression: str | None = None,
               compression_level: int = zlib.Z_DEFAULT_COMPRESSION):
    self.path = path
    self.compression = _normalize_compression(compression, allow_auto=False)
    self._file = epath.Path(path).open("wb")
    self._compressor = None
    if self.compression != "NONE":
      wbits = _GZIP_WBITS if self.compression == "GZIP" else _ZLIB_WBITS
      self._compressor = zlib.compressobj(compression_level, zlib.DEFLATED, wbits)
    self.num_records = 0

  def write(self, record: bytes) -> None:
    """Appends one record."""
    framed = frame_record(record)
    self._file.write(self._compressor.compress(framed) if self._compressor else framed)
    self.num_records += 1

  def close(self) -> None:
    """Finishes the compressed stream and closes the file."""
    if self._file.closed:
      return
    if self._compressor is not None:
      self._file.write(self._compressor.flush())
    self._file.close()

  def __enter__(self) -> "TFRecordWriter":
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()


def write_records(path: PathLike, records: Iterable[bytes],
                  compression: str | None = None) -> int:
  """Writes ``records`` to a new TFRecord file; returns how many were written."""
  with TFRecordWriter(path, compression) as writer:
    for record in records:
      writer.write(record)
  return writer.num_records


# ---------------------------------------------------------------------------
# tf.train.Example
# ---------------------------------------------------------------------------


def _example_message_classes() -> dict[str, type[message.Message]]:
  """Message classes equivalent to tensorflow/core/example/{feature,example}.proto."""
  fd = descriptor_pb2.FieldDescriptorProto
  proto = descriptor_pb2.FileDescriptorProto(
      name="genereg_jax/tensorflow_example.proto", package="tensorflow", syntax="proto3")

  def add_message(name: str, fields, oneof: str | None = None):
    msg = proto.message_type.add(name=name)
    if oneof:
      msg.oneof_decl.add(name=oneof)
    for field_name, number, label, field_type, type_name in fields:
      field = msg.field.add(name=field_name, number=number, label=label, type=field_type)
      if type_name:
        field.type_name = type_name
      if oneof:
        field.oneof_index = 0
      if label == fd.LABEL_REPEATED and field_type in (fd.TYPE_FLOAT, fd.TYPE_INT64):
        field.options.packed = True
    return msg

  add_message("BytesList", [("value", 1, fd.LABEL_REPEATED, fd.TYPE_BYTES, None)])
  add_message("FloatList", [("value", 1, fd.LABEL_REPEATED, fd.TYPE_FLOAT, None)])
  add_message("Int64List", [("value", 1, fd.LABEL_REPEATED, fd.TYPE_INT64, None)])
  add_message("Feature", [
      ("bytes_list", 1, fd.LABEL_OPTIONAL, fd.TYPE_MESSAGE, ".tensorflow.BytesList"),
      ("float_list", 2, fd.LABEL_OPTIONAL, fd.TYPE_MESSAGE, ".tensorflow.FloatList"),
      ("int64_list", 3, fd.LABEL_OPTIONAL, fd.TYPE_MESSAGE, ".tensorflow.Int64List"),
  ], oneof="kind")
  features = add_message("Features", [
      ("feature", 1, fd.LABEL_REPEATED, fd.TYPE_MESSAGE,
       ".tensorflow.Features.FeatureEntry")])
  entry = features.nested_type.add(name="FeatureEntry")
  entry.options.map_entry = True
  entry.field.add(name="key", number=1, label=fd.LABEL_OPTIONAL, type=fd.TYPE_STRING)
  entry.field.add(name="value", number=2, label=fd.LABEL_OPTIONAL, type=fd.TYPE_MESSAGE,
                  type_name=".tensorflow.Feature")
  add_message("Example", [
      ("features", 1, fd.LABEL_OPTIONAL, fd.TYPE_MESSAGE, ".tensorflow.Features")])

  pool = descriptor_pool.DescriptorPool()
  pool.Add(proto)
  return {name: message_factory.GetMessageClass(
      pool.FindMessageTypeByName(f"tensorflow.{name}"))
          for name in ("Example", "Features", "Feature", "BytesList", "FloatList",
                       "Int64List")}


_CLASSES = _example_message_classes()
Example = _CLASSES["Example"]
Features = _CLASSES["Features"]
FeatureProto = _CLASSES["Feature"]
BytesList = _CLASSES["BytesList"]
FloatList = _CLASSES["FloatList"]
Int64List = _CLASSES["Int64List"]


def parse_example(serialized: bytes) -> dict[str, Feature]:
  """Decodes a serialized ``tf.train.Example``.

  Returns:
    ``{name: value}`` with ``bytes_list`` as a list of bytes, ``float_list`` as
    ``float32[n]`` and ``int64_list`` as ``int64[n]``; a feature with no kind set
    is an empty list.

  Raises:
    google.protobuf.message.DecodeError: if the bytes are not an Example.
  """
  example = Example.FromString(serialized)
  parsed: dict[str, Feature] = {}
  for name, feature in example.features.feature.items():
    kind = feature.WhichOneof("kind")
    if kind == "bytes_list":
      parsed[name] = list(feature.bytes_list.value)
    elif kind == "float_list":
      parsed[name] = np.array(feature.float_list.value, dtype=np.float32)
    elif kind == "int64_list":
      parsed[name] = np.array(feature.int64_list.value, dtype=np.int64)
    else:
      parsed[name] = []
  return parsed


def _fill_feature(feature, name: str, value: Any) -> None:
  if isinstance(value, (bytes, str)):
    value = [value]
  if isinstance(value, (list, tuple)) and value and all(
      isinstance(v, (bytes, str)) for v in value):
    feature.bytes_list.SetInParent()
    feature.bytes_list.value.extend(v.encode() if isinstance(v, str) else v for v in value)
    return
  array = np.asarray(value)
  if array.size == 0 and array.dtype == np.float64 and not isinstance(value, np.ndarray):
    raise ValueError(f"feature {name!r} is empty and untyped; pass a typed numpy array "
                     "(e.g. np.array([], np.float32)) or an empty list of bytes")
  if array.dtype.kind in "SO":
    feature.bytes_list.SetInParent()
    feature.bytes_list.value.extend(bytes(v) for v in array.reshape(-1))
  elif array.dtype.kind in "biu":
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
      raise ValueError(f"feature {name!r} has uint64 values beyond int64's range")
    feature.int64_list.SetInParent()
    feature.int64_list.value.extend(array.reshape(-1).astype(np.int64).tolist())
  elif array.dtype.kind == "f":
    feature.float_list.SetInParent()
    feature.float_list.value.extend(array.reshape(-1).astype(np.float32).tolist())
  else:
    raise ValueError(f"feature {name!r} has dtype {array.dtype}, which a tf.train.Example "
                     "cannot hold (bytes, int64 and float32 only)")


def serialize_example(features: Mapping[str, Any]) -> bytes:
  """Serializes ``{name: value}`` as a ``tf.train.Example``.

  Bytes/str (or lists of them) become ``bytes_list``; bool/integer arrays or
  scalars ``int64_list``; floating ones ``float_list`` (float32). Arrays are
  flattened, as TensorFlow stores them.
  """
  example = Example()
  for name, value in features.items():
    _fill_feature(example.features.feature[name], name, value)
  return example.SerializeToString()


def read_examples(path: PathLike, compression: str | None = "auto", *,
                  verify_crc: bool = True) -> Iterator[dict[str, Feature]]:
  """Yields the parsed ``tf.train.Example`` of every record of a TFRecord file.

  Raises:
    TFRecordError: naming the file and record index, for framing errors and for
      records that are not a ``tf.train.Example``.
  """
  for index, record in enumerate(read_records(path, compression, verify_crc=verify_crc)):
    try:
      yield parse_example(record)
    except message.DecodeError as e:
      raise TFRecordError(path, None, f"record {index}: not a tf.train.Example ({e})") from e
