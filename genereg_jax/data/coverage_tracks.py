"""Coverage tracks from bigWig files, binned the way Basenji's data scripts bin them.

Basenji (Kelley et al., Genome Res. 2018; Basenji2, PLoS Comput. Biol. 2020) describes
its tracks in a tab-separated ``targets.txt`` (an index column, ``identifier``,
``file``, ``clip``, ``clip_soft``, ``scale``, ``sum_stat``, ``strand_pair``,
``description``) and turns each track's per-base coverage of a window into bins with
``bin/basenji_data_read.py``. `basenji_bins` repeats that script step by step for
one window (calico/basenji, ``basenji_data_read.py`` ``main``), and `TrackBins` for
all of a window's tracks at once (one NumPy call per step, not one per track):

1. the bigWig's per-base values are read as float16;
2. the baseline is their median (``--black_pct`` 0.5) when the window has at least 8
   bins, else 0; NumPy's percentile of a window holding a NaN is NaN, which
   ``nan_to_num`` makes 0, so in practice the baseline is 0 whenever data is missing;
3. blacklist intervals, widened by 20 bp on each side (``read_blacklist``), are
   clipped to ``[-baseline, baseline]``;
4. NaN (no data) becomes the baseline;
5. values are multiplied by ``scale`` (still float16);
6. each ``pool_width`` bin is summarised by ``sum_stat`` in float32: ``sum``,
   ``sum_sqrt`` (``sqrt(1 + sum) - 1``), ``mean``/``avg``, ``mean_sqrt``/``avg_sqrt``,
   ``median``, ``max``, ``peak`` (``clip(sqrt(4 mean), 0, 1)``);
7. soft clip: a bin above ``clip_soft`` becomes ``clip_soft - 1 + sqrt(x - clip_soft
   + 1)``; then a hard clip to ``[-clip, clip]``; then to float16's range; stored as
   float16.

Two differences, both deliberate: a blacklist interval that starts before the window
is clipped from the window's first base (Basenji's slice then starts at a negative
index, which wraps around and skips the interval), and the data set-wide clip at the
``clip_pct`` percentile of all windows (``--clip_pct``, 0.9999999) is not applied,
since a streaming reader never sees all windows (it touches about one value in ten
million). Basenji's ``basenji_data.py`` reads the whole window and drops
``crop_bp`` bins at each end later; callers here bin just the kept span.

The readers of ``targets.txt`` and of profile bigWigs (BPNet's absolute, NaN-as-0
per-base values) live here so the ``basenji_barnyard`` and ``bpnet_profiles`` builders
and `genereg_jax.data.genome_source` share them; streaming readers read bigWigs with
`BigWigReader` (pyBigWig's values at a third of its cost per window), or through
`PerBaseCache`, an opt-in memory-mapped copy.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import os
import struct
import zlib
from collections.abc import Mapping, Sequence

from etils import epath
import numpy as np

try:  # libdeflate inflates bigWig blocks ~3x faster than zlib (BigWigReader).
  import deflate
except ImportError:
  deflate = None

from genereg_jax.data import text as text_files
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_path

# Columns of targets.txt parsed as numbers; every other column stays text.
_INT_COLUMNS = ("index", "genome", "strand_pair")
_FLOAT_COLUMNS = ("clip", "clip_soft", "scale")
SUM_STATS = ("sum", "sum_sqrt", "mean", "avg", "mean_sqrt", "avg_sqrt", "median", "max",
             "peak")
#: Basenji's ``read_blacklist`` widens every blacklist interval by this many bp.
BLACKLIST_BUFFER = 20
#: Basenji's ``--black_pct``: the baseline is this quantile of the window's values.
BLACKLIST_QUANTILE = 0.5


class BasenjiFormatError(InputFormatError):
  """An input file of the Basenji data layout is missing or malformed."""


# ---------------------------------------------------------------------------
# targets.txt
# ---------------------------------------------------------------------------


def read_targets(path: epath.PathLike) -> dict[str, list]:
  """Reads a Basenji ``targets.txt`` as ``{column: values}`` in file order.

  The index column may be named ``index`` or be unnamed (pandas' ``to_csv``); it
  is returned as ``index`` (row positions if the file has none). Numeric columns
  become int/float; ``identifier`` is required.
  """
  path = epath.Path(path)
  if not path.exists():
    raise BasenjiFormatError(None, None, f"missing {path} (Basenji's targets table)")
  lines = path.read_text().splitlines()
  if not lines:
    raise BasenjiFormatError(path, None, "empty; expected a header line")
  header = lines[0].split("\t")
  if header[0] == "":
    header[0] = "index"
  if "identifier" not in header:
    raise BasenjiFormatError(path, None, f"header {header} has no 'identifier' column")
  if len(set(header)) != len(header):
    raise BasenjiFormatError(path, None, f"repeated column names in header {header}")
  columns: dict[str, list] = {name: [] for name in header}
  for line_number, line in enumerate(lines[1:], start=2):
    if not line.strip():
      continue
    fields = line.split("\t")
    if len(fields) != len(header):
      raise BasenjiFormatError(path, line_number, f"{len(fields)} tab-separated fields, "
                               f"header has {len(header)}")
    for name, value in zip(header, fields):
      try:
        if name in _INT_COLUMNS:
          value = int(value)
        elif name in _FLOAT_COLUMNS:
          value = float(value)
      except ValueError:
        raise BasenjiFormatError(path, line_number, f"column {name!r} = {value!r} is "
                                 "not a number") from None
      columns[name].append(value)
  if "index" not in columns:
    columns = {"index": list(range(len(columns["identifier"]))), **columns}
  return columns


def strand_pair_positions(targets: Mapping[str, Sequence], source: str = "targets.txt"
                          ) -> list[int]:
  """0-based track positions of each track's other-strand partner.

  Basenji's ``strand_pair`` column names partners by the index column (which need
  not start at 0: Basenji2's mouse table starts at 5313); without the column every
  track is its own partner.
  """
  num_tracks = len(targets["identifier"])
  if "strand_pair" not in targets:
    return list(range(num_tracks))
  position = {index: i for i, index in enumerate(targets["index"])}
  if len(position) != num_tracks:
    raise BasenjiFormatError(source, None, "repeated values in the index column")
  pairs = []
  for i, partner in enumerate(targets["strand_pair"]):
    if partner not in position:
      raise BasenjiFormatError(source, None, f"track {targets['identifier'][i]!r} has "
                               f"strand_pair {partner}, which is no track's index")
    pairs.append(position[partner])
  for i, j in enumerate(pairs):
    if pairs[j] != i:
      raise BasenjiFormatError(
          source, None, f"strand pairs are not symmetric: {targets['identifier'][i]!r} -> "
          f"{targets['identifier'][j]!r} -> {targets['identifier'][pairs[j]]!r}")
  return pairs


@dataclasses.dataclass(frozen=True)
class Track:
  """One row of ``targets.txt``: a bigWig and how its bins are made (Basenji defaults)."""

  identifier: str
  file: str
  clip: float | None = None
  clip_soft: float | None = None
  scale: float = 1.0
  sum_stat: str = "sum"


def tracks_from_targets(path: str | os.PathLike, targets: Mapping[str, Sequence] | None = None
                        ) -> list[Track]:
  """The ``Track`` of every row of a ``targets.txt``; relative files are resolved
  against the table's folder. Errors name the table and the row's line."""
  path = os.fspath(path)
  targets = read_targets(path) if targets is None else targets
  if "file" not in targets:
    raise BasenjiFormatError(path, None, "no 'file' column: which bigWig holds each track?")
  folder = os.path.dirname(os.path.abspath(path))
  tracks = []
  for row, identifier in enumerate(targets["identifier"]):
    value = lambda column, default=None: targets[column][row] if column in targets else default
    sum_stat = value("sum_stat", "sum")
    if sum_stat not in SUM_STATS:
      raise BasenjiFormatError(path, row + 2, f"sum_stat {sum_stat!r} of track "
                               f"{identifier!r} is not one of {SUM_STATS}")
    tracks.append(Track(identifier, os.path.join(folder, os.path.expanduser(value("file"))),
                        value("clip"), value("clip_soft"), float(value("scale", 1.0)),
                        sum_stat))
  return tracks


# ---------------------------------------------------------------------------
# bigWig reading
# ---------------------------------------------------------------------------


def open_bigwig(path: str, streaming: bool = False):
  """An open pyBigWig handle; a clear error when the file is missing or not a bigWig.

  ``streaming``: a `BigWigReader` instead (the same ``chroms`` and ``values``, several
  times cheaper per read), or pyBigWig for a file it cannot read.
  """
  import pyBigWig  # pylint: disable=g-import-not-at-top  # only bigWig readers need it.
  if not os.path.exists(path):
    raise FileNotFoundError(f"bigWig {path} does not exist.")
  if streaming:
    try:
      return BigWigReader(path)
    except NotImplementedError:
      pass
  handle = pyBigWig.open(path)
  if handle is None or not handle.isBigWig():
    raise ValueError(f"{path} is not a bigWig file.")
  return handle


class PerBaseCache:
  """A bigWig read through memory-mapped per-base ``float16`` copies of its chromosomes.

  A bigWig reader walks the file's index and inflates a zlib block on every read; a
  window of a mapped ``.npy`` is a copy. A chromosome's copy is written to ``directory`` the
  first time it is read (in 16 Mb chunks of ``values``, as ``float16``: exactly what
  `raw_values` makes of each read, so examples do not change) and is then shared by
  every process through the page cache. Files are named by the bigWig's absolute
  path, size and modification time, so a rewritten bigWig gets new copies. The price
  is disk, 2 bytes per bp per track (6.2 GB for one human track): opt-in
  (``CoverageSource(cache_dir=...)``). Reads like a pyBigWig handle (``chroms``,
  ``values``) for `raw_values`.
  """

  CHUNK = 1 << 24

  def __init__(self, handle, path: str, directory: str):
    self._handle, self._directory = handle, os.fspath(directory)
    path = os.path.abspath(path)
    stat = os.stat(path)
    key = hashlib.blake2b(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode(),
                          digest_size=8).hexdigest()
    self._prefix = os.path.join(self._directory, f"{os.path.basename(path)}.{key}")
    self._chromosomes: dict[str, np.ndarray] = {}

  def chroms(self, chrom: str) -> int | None:
    return self._handle.chroms(chrom)

  def values(self, chrom: str, start: int, end: int, numpy: bool = True) -> np.ndarray:
    """``float16[end - start]`` (a view of the mapped file)."""
    del numpy  # Always an array, like pyBigWig's numpy=True.
    values = self._chromosomes.get(chrom)
    if values is None:
      values = self._chromosomes[chrom] = self._map(chrom)
    return values[start:end]

  def _map(self, chrom: str) -> np.ndarray:
    file = f"{self._prefix}.{chrom}.npy"
    if not os.path.exists(file):
      length = self._handle.chroms(chrom)
      with atomic_path(file) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(length,))
        for first in range(0, length, self.CHUNK):
          last = min(first + self.CHUNK, length)
          out[first:last] = self._handle.values(chrom, first, last, numpy=True)
        out.flush()
        del out
    return np.load(file, mmap_mode="r").view(np.ndarray)  # The view keeps the mapping.

  def close(self) -> None:
    self._handle.close()
    self._chromosomes = {}


class BigWigReader:
  """A bigWig's base-resolution values read with NumPy, for streaming readers.

  Follows the bigWig layout of Kent et al., Bioinformatics 2010 ("BigWig and BigBed"):
  a chromosome B+ tree, an R tree over the data blocks, and zlib-compressed blocks of
  one section each (``bedGraph`` items: start, end, value; ``varStep``: start, value;
  ``fixedStep``: value), little-endian. ``values`` is pyBigWig's ``values(numpy=True)``
  value for value: float32, NaN where no item covers a base, a later item overwriting
  an earlier one as libBigWig does. It is cheaper because it does less per read:
  libBigWig re-reads the index nodes and walks every item of each block it inflates
  (8,185 for a pyBigWig-written fixedStep block), where this keeps the index's inner
  nodes (a few per file), inflates with the block size known, and picks a fixedStep
  block's items by arithmetic. Reads are ``os.pread``, so threads may share a reader
  and nothing of the file stays mapped. Zoom levels, bigBed and big-endian files are not
  read (`open_bigwig` falls back to pyBigWig for the last).
  """

  _HEADER = struct.Struct("<IHHQQQHHQQIQ")
  _SECTION = struct.Struct("<IIIIIBBH")
  _NODE = struct.Struct("<BBH")
  _MAGIC, _CHROM_TREE_MAGIC, _INDEX_MAGIC = 0x888FFC26, 0x78CA8C91, 0x2468ACE0
  _INNER = np.dtype([("start_chrom", "<u4"), ("start", "<u4"), ("end_chrom", "<u4"),
                     ("end", "<u4"), ("offset", "<u8")])
  _LEAF = np.dtype(_INNER.descr + [("size", "<u8")])
  _ITEMS = {1: np.dtype([("start", "<u4"), ("end", "<u4"), ("value", "<f4")]),
            2: np.dtype([("start", "<u4"), ("value", "<f4")]),
            3: np.dtype([("value", "<f4")])}

  def __init__(self, path: str):
    self.path = os.fspath(path)
    self._fd = os.open(self.path, os.O_RDONLY)
    try:
      header = self._read(0, self._HEADER.size)
      magic = int.from_bytes(header[:4], "little") if len(header) == 64 else None
      if magic == int.from_bytes(self._MAGIC.to_bytes(4, "big"), "little"):
        raise NotImplementedError(f"{self.path} is a big-endian bigWig")
      if magic != self._MAGIC:
        raise ValueError(f"{self.path} is not a bigWig file.")
      (_, _, _, chrom_tree, _, index, _, _, _, _, self._buffer,
       _) = self._HEADER.unpack(header)
      self._chroms = self._read_chromosomes(chrom_tree)
      magic, self._node_items = struct.unpack("<II", self._read(index, 8))
      if magic != self._INDEX_MAGIC:
        raise ValueError(f"{self.path}: no R tree index at byte {index}")
      self._root = index + 48
      self._inner_nodes: dict[int, tuple] = {}
    except BaseException:
      os.close(self._fd)
      raise

  def _read(self, offset: int, size: int) -> bytes:
    return os.pread(self._fd, size, offset)

  def _read_chromosomes(self, offset: int) -> dict[str, tuple[int, int]]:
    magic, _, key_size = struct.unpack("<III", self._read(offset, 12))
    if magic != self._CHROM_TREE_MAGIC:
      raise ValueError(f"{self.path}: no chromosome tree at byte {offset}")
    chroms, nodes = {}, [offset + 32]
    while nodes:
      node = nodes.pop()
      is_leaf, _, count = self._NODE.unpack(self._read(node, 4))
      item = struct.Struct(f"<{key_size}s" + ("II" if is_leaf else "Q"))
      data = self._read(node + 4, count * item.size)
      for key, *value in item.iter_unpack(data):
        if is_leaf:
          chroms[key.rstrip(b"\0").decode()] = tuple(value)  # (id, size)
        else:
          nodes.append(value[0])
    return chroms

  def chroms(self, chrom: str) -> int | None:
    """The chromosome's length, None if the file does not name it (as pyBigWig)."""
    entry = self._chroms.get(chrom)
    return None if entry is None else entry[1]

  def _node(self, offset: int) -> tuple[bool, list, list, list, list | None, bool]:
    """An R tree node: is it a leaf, its items' first and last (chromosome << 32 |
    base) keys, their offsets (of children or data blocks), the blocks' sizes, and
    whether both keys are sorted (as writers sort them)."""
    node = self._inner_nodes.get(offset)
    if node is None:
      data = self._read(offset, 4 + self._node_items * self._LEAF.itemsize)
      is_leaf, _, count = self._NODE.unpack_from(data)
      items = np.frombuffer(data, self._LEAF if is_leaf else self._INNER, count, 4)
      begins = items["start_chrom"].astype(np.uint64) << np.uint64(32) | items["start"]
      ends = items["end_chrom"].astype(np.uint64) << np.uint64(32) | items["end"]
      ordered = bool((np.diff(begins.astype(np.int64)) >= 0).all()
                     and (np.diff(ends.astype(np.int64)) >= 0).all())
      node = (bool(is_leaf), begins.tolist(), ends.tolist(), items["offset"].tolist(),
              items["size"].tolist() if is_leaf else None, ordered)
      if not is_leaf or offset == self._root:  # Leaves: one read each, nothing kept.
        self._inner_nodes[offset] = node
    return node

  def _blocks(self, chrom_id: int, start: int, end: int) -> list[tuple[int, int]]:
    """(offset, size) of the data blocks overlapping the interval, in file order."""
    first, last = chrom_id << 32 | start, chrom_id << 32 | end
    blocks, nodes = [], [self._root]
    while nodes:
      is_leaf, begins, ends, offsets, sizes, ordered = self._node(nodes.pop(0))
      if ordered:  # Items ending after first, up to the first beginning at last.
        hits = range(bisect.bisect_right(ends, first), bisect.bisect_left(begins, last))
      else:
        hits = [i for i, (b, e) in enumerate(zip(begins, ends)) if b < last and e > first]
      if is_leaf:
        blocks += [(offsets[i], sizes[i]) for i in hits]
      else:
        nodes[:0] = [offsets[i] for i in hits]  # Depth first, in file order.
    return blocks

  def _inflate(self, block: bytes):
    if not self._buffer:  # Written uncompressed.
      return block
    if deflate is not None:
      return deflate.zlib_decompress(block, self._buffer)
    return zlib.decompress(block, bufsize=self._buffer)

  def values(self, chrom: str, start: int, end: int, numpy: bool = True,
             out: np.ndarray | None = None) -> np.ndarray:
    """``float32[end - start]`` values of ``[start, end)`` (NaN: no data), or written
    into ``out`` (cast as ``astype`` casts: a ``float16`` row of a window's tracks).
    Raises RuntimeError for a chromosome the file lacks or bounds outside it, as
    pyBigWig does."""
    del numpy  # Always an array, like pyBigWig's numpy=True.
    entry = self._chroms.get(chrom)
    if entry is None or not 0 <= start < end <= entry[1]:
      raise RuntimeError(f"{self.path}: invalid interval bounds {chrom}:{start}-{end}")
    out = np.empty(end - start, np.float32) if out is None else out
    blank = True  # Nothing written yet: NaN-filled only if no block covers it all.
    for offset, size in self._blocks(entry[0], start, end):
      block = self._inflate(self._read(offset, size))
      (chrom_id, first, _, step, span, kind, _,
       count) = self._SECTION.unpack_from(block)
      if kind not in self._ITEMS:
        raise RuntimeError(f"{self.path}: data block at byte {offset} has section type "
                           f"{kind} (bigWig has 1-3)")
      if chrom_id != entry[0]:
        continue
      if kind == 3 and step == span > 0:
        # fixedStep tiling its section (pyBigWig's and Basenji's per-base writes): item
        # i covers [first + i span, + span), so the window's values are a slice.
        lo, hi = max(0, (start - first) // span), min(count, max(0, -((first - end) // span)))
        if lo < hi:
          items = np.frombuffer(block, np.float32, hi - lo, self._SECTION.size + 4 * lo)
          origin = first + lo * span
          a, b = max(start, origin), min(end, first + hi * span)
          if blank and (a, b) != (start, end):
            out[:] = np.nan
          blank = False
          out[a - start:b - start] = (items if span == 1 else items.repeat(span))[
              a - origin:b - origin]
        continue
      items = np.frombuffer(block, self._ITEMS[kind], count, self._SECTION.size)
      if kind == 3:
        begins = first + step * np.arange(count, dtype=np.int64)
      else:
        begins = items["start"].astype(np.int64)
      ends = items["end"].astype(np.int64) if kind == 1 else begins + span
      inside = (begins < end) & (ends > start)
      if inside.any():
        if blank:
          out[:] = np.nan
          blank = False
        _fill(out, start, np.maximum(begins[inside], start), np.minimum(ends[inside], end),
              items["value"][inside])
    if blank:
      out[:] = np.nan
    return out

  def close(self) -> None:
    if self._fd is not None:
      os.close(self._fd)
      self._fd = None


def _fill(out: np.ndarray, origin: int, begins: np.ndarray, ends: np.ndarray,
          values: np.ndarray) -> None:
  """``out[b - origin:e - origin] = v`` for each item in order (a later one wins)."""
  bounds = np.stack([begins, ends], axis=1).reshape(-1) - origin
  lengths = np.diff(bounds)
  if (lengths >= 0).all() and np.isnan(out[bounds[0]:bounds[-1]]).all():
    # Sorted, not overlapping, nothing written there yet: a run per item and per gap.
    runs = np.stack([values, np.full(len(values), np.nan, np.float32)], axis=1)
    out[bounds[0]:bounds[-1]] = np.repeat(runs.reshape(-1)[:-1], lengths)
  else:
    for b, e, v in zip(bounds[::2].tolist(), bounds[1::2].tolist(), values.tolist()):
      out[b:e] = v


def read_bigwig(handle, path: str, chrom: str, start: int, end: int) -> np.ndarray:
  """``float32[end - start]`` |values| of ``[start, end)``; no data is 0 (BPNet
  profiles: many pipelines write minus-strand coverage as negative numbers)."""
  length = handle.chroms(chrom)
  if length is None:
    return np.zeros(end - start, np.float32)
  if end > length:
    raise ValueError(f"{path}: {chrom} is {length} bp but the FASTA has a "
                     f"window up to {end}; are both from the same assembly?")
  values = handle.values(chrom, start, end, numpy=True)
  return np.abs(np.nan_to_num(values, nan=0.0)).astype(np.float32)


def raw_values(handle, path: str, chrom: str, start: int, end: int,
               out: np.ndarray | None = None) -> np.ndarray:
  """``float16[end - start]`` values as Basenji reads them (NaN where there is no data,
  and off the chromosome's ends or on a chromosome the bigWig lacks); written into
  ``out`` (a row of a window's tracks) when given."""
  length = handle.chroms(chrom)
  inside_start, inside_end = max(start, 0), min(end, length or 0)
  if out is None:
    out = np.empty(end - start, np.float16)
  if (inside_start, inside_end) == (start, end):  # The usual case: no padding.
    if isinstance(handle, BigWigReader):  # Cast straight into out, as astype(float16).
      return handle.values(chrom, start, end, out=out)
    out[:] = handle.values(chrom, start, end, numpy=True)
    return out
  out[:] = np.nan
  if inside_end > inside_start:
    out[inside_start - start:inside_end - start] = handle.values(
        chrom, inside_start, inside_end, numpy=True)
  return out


# ---------------------------------------------------------------------------
# Blacklist and binning
# ---------------------------------------------------------------------------


class Blacklist:
  """Blacklisted intervals per chromosome (BED), widened by `BLACKLIST_BUFFER` bp."""

  def __init__(self, path: str | os.PathLike | None, buffer: int = BLACKLIST_BUFFER):
    self.path = None if path is None else os.fspath(path)
    intervals: dict[str, list[tuple[int, int]]] = {}
    if self.path is not None:
      for number, line in text_files.numbered_lines(self.path):
        fields = line.split()
        if not fields or fields[0].startswith(("#", "track", "browser")):
          continue
        start = text_files.ascii_int(fields[1]) if len(fields) > 2 else None
        end = text_files.ascii_int(fields[2]) if len(fields) > 2 else None
        if start is None or end is None or end < start:
          raise InputFormatError(self.path, number, "expected chrom, start, end with "
                                 f"integer start <= end; got {line.strip()!r}")
        intervals.setdefault(fields[0], []).append((max(0, start - buffer), end + buffer))
    self.intervals = {chrom: np.array(sorted(spans), np.int64).reshape(-1, 2)
                      for chrom, spans in intervals.items()}

  def overlapping(self, chrom: str, start: int, end: int) -> np.ndarray:
    """``int64[k, 2]`` intervals overlapping ``[start, end)``."""
    spans = self.intervals.get(chrom)
    if spans is None:
      return np.zeros((0, 2), np.int64)
    return spans[(spans[:, 0] < end) & (spans[:, 1] > start)]


def summarize_bins(values: np.ndarray, pool_width: int, sum_stat: str) -> np.ndarray:
  """``float32[..., n // pool_width]``: Basenji's ``sum_stat`` of each bin of the last axis."""
  bins = values.reshape(*values.shape[:-1], -1, pool_width)
  if sum_stat in ("sum", "sum_sqrt"):
    out = bins.sum(axis=-1, dtype=np.float32)
  elif sum_stat in ("mean", "avg", "mean_sqrt", "avg_sqrt", "peak"):
    out = bins.mean(axis=-1, dtype=np.float32)
  elif sum_stat == "median":
    out = np.median(bins, axis=-1).astype(np.float32)
  elif sum_stat == "max":
    out = bins.max(axis=-1).astype(np.float32)
  else:
    raise ValueError(f"unknown sum_stat {sum_stat!r}; valid: {SUM_STATS}")
  if sum_stat.endswith("_sqrt"):
    out = -1 + np.sqrt(1 + out)
  elif sum_stat == "peak":
    out = np.clip(np.sqrt(out * 4), 0, 1)
  return out


def _per_row(value, rows: int) -> np.ndarray:
  """``float64[rows, 1]``: a clip parameter per track (None and NaN = no clip)."""
  if not isinstance(value, np.ndarray):
    value = np.array([np.nan if v is None else v for v in np.ravel(np.array(value, object))],
                     np.float64)
  return np.broadcast_to(value.reshape(-1, 1), (rows, 1))


def clip_bins(bins: np.ndarray, clip, clip_soft) -> np.ndarray:
  """Basenji's soft clip (square root above ``clip_soft``), hard clip, float16 range.

  ``bins`` is ``[bins]`` with scalar clips, or ``[tracks, bins]`` with a clip per
  track (None/NaN: none). Each step is the float32 arithmetic ``basenji_data_read.py``
  does with a Python-float clip: the clip is rounded to float32, except in the soft
  clip's ``clip_soft - 1``, which Python computes in float64 first.
  """
  bins = np.array(bins, np.float32)
  rows = bins.reshape(-1, bins.shape[-1])  # A view: the clips write into bins.
  return _Clips(clip, clip_soft, len(rows))(rows).reshape(bins.shape)


class _Clips:
  """`clip_bins`'s clips as float32 columns, made once per track table."""

  _LIMIT = np.finfo(np.float16).max

  def __init__(self, clip, clip_soft, rows: int):
    soft = _per_row(clip_soft, rows)
    self.soft = None if np.isnan(soft).all() else (soft.astype(np.float32),
                                                   (soft - 1).astype(np.float32))
    hard = _per_row(clip, rows)
    self.hard = None if np.isnan(hard).all() else np.where(
        np.isnan(hard), np.inf, hard).astype(np.float32)

  def __call__(self, rows: np.ndarray) -> np.ndarray:
    """``float16`` clipped ``rows`` (``float32[rows, bins]``, changed in place)."""
    if self.soft is not None:
      soft32, soft_minus_one = self.soft
      above = rows > soft32  # NaN (no soft clip) compares False.
      if above.any():  # Computed for every bin (cheaper than indexing), kept above.
        with np.errstate(invalid="ignore"):  # Bins far below the clip: sqrt of < 0.
          softened = soft_minus_one + np.sqrt(rows - soft32 + 1)
        np.copyto(rows, softened, where=above)
    if self.hard is not None:
      np.clip(rows, -self.hard, self.hard, out=rows)
    return np.clip(rows, -self._LIMIT, self._LIMIT, out=rows).astype(np.float16)


class TrackBins:
  """`basenji_bins` for a window of several tracks at once.

  ``TrackBins(tracks, pool_width)(values)`` with ``values`` ``float16[tracks, length]``
  (one `raw_values` row per track) gives ``float16[length // pool_width, tracks]``,
  element for element what `basenji_bins` gives each track: the same operations on
  the same dtypes, with each track's scale and clips as a column, so a window costs
  one NumPy call per step instead of one per track (6 tracks: ~4x faster; Basenji2's
  5,313: the difference between streaming and not).
  """

  def __init__(self, tracks: Sequence[Track], pool_width: int):
    self.tracks, self.pool_width = list(tracks), pool_width
    # x * 1 is x (NaN too): only tracks with another scale pay the float16 multiply.
    self.scaled = np.array([t.scale != 1 for t in self.tracks])
    self.scale = np.array([t.scale for t in self.tracks], np.float16)[:, None]
    stats = [t.sum_stat for t in self.tracks]
    self.stat_rows = {s: np.array([x == s for x in stats]) for s in dict.fromkeys(stats)}
    self.clips = _Clips([t.clip for t in self.tracks], [t.clip_soft for t in self.tracks],
                        len(self.tracks))

  def __call__(self, values: np.ndarray,
               blacklisted: np.ndarray = np.zeros((0, 2), np.int64), start: int = 0
               ) -> np.ndarray:
    """See the class docstring; ``blacklisted`` and ``start`` as in `basenji_bins`."""
    values = np.asarray(values, np.float16)
    tracks, length = values.shape
    if tracks != len(self.tracks) or length % self.pool_width:
      raise ValueError(f"values {values.shape} must be [{len(self.tracks)} tracks, a "
                       f"multiple of pool_width {self.pool_width}]")
    # float16 NaN bits (exponent all ones, mantissa not 0): 5x cheaper than np.isnan.
    missing = (values.view(np.uint16) & 0x7FFF) > 0x7C00
    has_missing = missing.any(axis=1)
    if has_missing.any() or len(blacklisted):
      values = values.copy()  # Changed in place below; the caller's array stays.
    if len(blacklisted):
      # Basenji's nan_to_num(percentile(...)): 0 with any NaN (the percentile is NaN)
      # or under 8 bins; computed only here (the percentile is a window's costly part).
      # Bounds as columns. Basenji's 0 is an integer, so its lower bound is +0, where
      # a computed baseline of 0.0 gives -0.0 (max(-0.5, -0.0) is -0.0: "max" bins
      # keep the sign).
      lower, upper = np.zeros((2, tracks, 1), np.float16)
      rows = ~has_missing & (length // self.pool_width >= 8)
      if rows.any():
        upper[rows, 0] = np.nan_to_num(
            np.percentile(values[rows], 100 * BLACKLIST_QUANTILE, axis=1))
        lower[rows] = -upper[rows]
      for black_start, black_end in blacklisted:
        part = slice(max(black_start - start, 0), max(black_end - start, 0))
        values[:, part] = np.clip(values[:, part], lower, upper)
    if has_missing.any():
      values[missing] = 0  # The baseline of a window with missing data.
    if self.scaled.any():
      values = np.where(self.scaled[:, None], self.scale * values, values)
    if len(self.stat_rows) == 1:
      bins = summarize_bins(values, self.pool_width, self.tracks[0].sum_stat)
    else:
      bins = np.empty((len(values), values.shape[1] // self.pool_width), np.float32)
      for stat, rows in self.stat_rows.items():
        bins[rows] = summarize_bins(values[rows], self.pool_width, stat)
    return np.ascontiguousarray(self.clips(bins).T)


def basenji_bins(values: np.ndarray, track: Track, pool_width: int,
                 blacklisted: np.ndarray = np.zeros((0, 2), np.int64), start: int = 0
                 ) -> np.ndarray:
  """``float16[len(values) // pool_width]`` bins of one track's window, as
  ``basenji_data_read.py`` makes them (see the module docstring; `TrackBins` does it).

  Args:
    values: ``float16`` per-base values of the window (`raw_values`; NaN = no data).
    track: clip, soft clip, scale and sum_stat of the track.
    pool_width: bp per bin; ``len(values)`` must be a multiple.
    blacklisted: genome intervals ``[k, 2]`` to clip to the baseline.
    start: genome position of ``values[0]``.
  """
  return TrackBins([track], pool_width)(np.asarray(values)[None], blacklisted, start)[:, 0]
