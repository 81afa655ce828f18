"""Training examples read straight from a FASTA and bigWigs: no dataset build step.

Basenji2/Enformer-scale data is hundreds of GB once converted, and the conversion
(``basenji_data.py``, or a TFDS build here) is slow and opaque (gReLU #40/#92, basenji
#130). These grain random-access sources cut it out: record ``i`` is region ``i`` of an
interval table, and its sequence (pyfaidx, `genereg_jax.data.genome.Genome`) and
targets (bigWigs, `coverage_tracks.BigWigReader`) are read when a grain worker asks
for it. File handles open lazily in each worker process and are never pickled. A
record depends on nothing but ``i`` and the files, so shuffling, augmentation
(reverse complement with strand-pair swaps, shifts:
`genereg_jax.data.pipeline.make_loader`, as for a built dataset) and the iterator
state checkpointed with a run are exactly those of the array_record path.

Regions, per split:

* a BED (BED3+, narrowPeak: centred on the column-10 summit; several files are read
  in turn): with no held-out chromosomes its 4th column names the split
  (``train``/``valid``/``test``: Basenji's ``sequences.bed``), otherwise
  ``valid_chromosomes``/``test_chromosomes`` are held out and ``exclude_chromosomes``
  dropped (BPNet's chromosome splits); or
* the split's chromosomes tiled into windows every ``tile_stride`` bp within the
  contigs left after removing the ``gaps`` BED (Basenji's ``contig_sequences`` after
  ``-g`` gap removal; assembly gaps and blacklists both work).

Each region is a chromosome index and three integers (32 bytes: a 1M-region table
costs ~32 MB, not a copy of the data), and grain's workers share one memory-mapped
copy of a large table (`Regions`). A BED line naming a chromosome the FASTA lacks
or running past its end raises `RegionFormatError` naming the file and line.

Three example layouts, the same keys, dtypes and shapes as the builders they replace
(a config switches with ``dataset.source = "genome"``):

* `CoverageSource` = ``basenji_barnyard``: ``sequence`` uint8 ``[seq_length, 4]``
  centred on the region (N-padded off the chromosome ends), ``target`` float16
  ``[target_length, num_targets]``: the central ``seq_length - 2 crop_bp`` bp binned by
  ``pool_width`` with each track's ``targets.txt`` clip / soft clip / scale /
  sum_stat and the blacklist as Basenji does (`genereg_jax.data.coverage_tracks`);
  ``chrom``, ``start``, ``end`` of the region. Metadata: ``statistics``,
  ``targets``, ``track_names``, ``strand_pair``, ``organism``.
* `ProfileSource` = ``bpnet_profiles`` (peaks only, no GC-matched background):
  ``sequence`` uint8 ``[input_length + 2 max_jitter, 4]``, ``profile`` float32
  ``[output_length + 2 max_jitter, n_tracks]`` per-base |values|, ``control``,
  ``chrom``, ``start``, ``summit``, ``is_peak``; windows running off a chromosome and
  repeated summits are dropped (counted in the metadata), as the builder drops them.
  Metadata: the builder's track names, strand pairs and geometry, so its jitter crop
  (``grain_transforms``) applies.
* `LabelSource` = ``intervals`` (columns mode: one BED whose 4th and later columns are
  labels): ``sequence``, ``label`` float32, ``chrom``, ``start``, ``gc``.
"""

from __future__ import annotations

import array
import hashlib
import inspect
import os
import threading
from collections.abc import Sequence
from typing import Any

from absl import logging
import numpy as np

from genereg_jax.data import coverage_tracks
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text as text_files
from genereg_jax.data.encoding import one_hot_dna
from genereg_jax.files import InputFormatError
from genereg_jax.files import atomic_write

SPLITS: tuple[str, ...] = ("train", "valid", "test")
Example = dict[str, Any]
_ACGT_BYTES = np.zeros(256, bool)  # A, C, G, T in either case.
_ACGT_BYTES[np.frombuffer(b"ACGTacgt", np.uint8)] = True


class RegionFormatError(InputFormatError):
  """A region BED line is malformed or does not fit the genome."""


# ---------------------------------------------------------------------------
# Regions.
# ---------------------------------------------------------------------------


#: Region tables with at least this many rows travel to grain's workers memory-mapped.
SHARE_MIN_REGIONS = 100_000


def regions_cache_dir() -> str:
  """``$XDG_CACHE_HOME/genereg_jax/regions``, beside the FASTA index cache."""
  return os.path.join(os.path.dirname(genome_lib.index_cache_dir()), "regions")


class Regions:
  """Windows of one split: ``table`` ``int64[n, 4]`` rows of (chromosome index, start,
  end, centre), with the columns as ``chrom``, ``start``, ``end``, ``centre``.

  grain starts its workers with ``spawn`` and hands each a pickled source. A table of
  `SHARE_MIN_REGIONS` rows or more is pickled as the path of a ``.npy`` in
  `regions_cache_dir` (named by a hash of its contents, so written once and reused)
  that the worker memory-maps: the workers share the page cache's one copy and touch
  only the rows they read, instead of each unpickling its own (32 MB per worker at 1M
  regions). If the cache cannot be written, the table is pickled whole.
  """

  def __init__(self, chromosomes: Sequence[str], chrom, start, end, centre):
    self.chromosomes = list(chromosomes)
    self.table = np.stack([np.asarray(a, np.int64).reshape(-1)
                           for a in (chrom, start, end, centre)], axis=1)
    self.path: str | None = None  # The table's .npy once written.

  chrom = property(lambda self: self.table[:, 0])
  start = property(lambda self: self.table[:, 1])
  end = property(lambda self: self.table[:, 2])
  centre = property(lambda self: self.table[:, 3])

  def __len__(self) -> int:
    return len(self.table)

  def __getstate__(self) -> dict[str, Any]:
    state = dict(self.__dict__)
    if len(self.table) >= SHARE_MIN_REGIONS and self._write() is not None:
      state["path"], state["table"] = self.path, None
    return state

  def __setstate__(self, state: dict[str, Any]) -> None:
    self.__dict__.update(state)
    if self.table is None:  # A plain ndarray view keeps the mapping open.
      self.table = np.load(self.path, mmap_mode="r").view(np.ndarray)

  def _write(self) -> str | None:
    if self.path is None:
      table = np.ascontiguousarray(self.table)
      digest = hashlib.blake2b(table.data, digest_size=16).hexdigest()
      path = os.path.join(regions_cache_dir(), f"{digest}.npy")
      try:
        if not os.path.exists(path):
          with atomic_write(path, "wb") as f:
            np.save(f, table)
          logging.info("Wrote the %d-region table that grain workers map to %s",
                       len(table), path)
      except OSError as e:
        logging.warning("Could not write %s (%s); each grain worker gets a copy of the "
                        "%d-region table", path, e, len(table))
        return None
      self.path = path
    return self.path


def held_out(sizes: dict[str, int], source: str, valid: Sequence[str], test: Sequence[str],
             exclude: Sequence[str]) -> dict[str, str | None]:
  """``{chromosome: "valid" | "test" | None (excluded)}`` spelt as in the FASTA."""
  split_of: dict[str, str | None] = {}
  for names, split in ((valid, "valid"), (test, "test"), (exclude, None)):
    for name in names:
      match = genome_lib.match_chromosome(name, sizes)
      if match is None:
        raise ValueError(f"held-out chromosome {name!r} is not in {source}; chromosomes: "
                         f"{list(sizes)[:20]}")
      if match in split_of:
        raise ValueError(f"chromosome {name!r} is held out twice (valid/test/exclude)")
      split_of[match] = split
  return split_of


def read_regions(paths: Sequence[str], sizes: dict[str, int], fasta: str, split: str, *,
                 valid: Sequence[str] = (), test: Sequence[str] = (),
                 exclude: Sequence[str] = ()) -> Regions:
  """The lines of BED files that fall in ``split``, in file order.

  The split is the 4th column when no chromosome is held out, else the chromosome's.
  Raises `RegionFormatError` (file:line) for a malformed line, a chromosome the FASTA
  lacks, or an interval past the chromosome's end.
  """
  by_fold = not (valid or test)
  split_of = held_out(sizes, fasta, valid, test, exclude)
  names = list(sizes)
  index = {name: i for i, name in enumerate(names)}
  chrom, start, end, centre = (array.array("q") for _ in range(4))
  for path in paths:
    path = os.fspath(path)
    if not os.path.isfile(path):
      raise RegionFormatError(path, None, "region BED not found")
    lower = path.lower().removesuffix(".gz")
    narrowpeak = lower.endswith("narrowpeak")
    for number, line in text_files.numbered_lines(path, RegionFormatError):
      line = line.rstrip("\r\n")
      fields = line.split("\t") if "\t" in line else line.split()
      if not line.strip() or fields[0].startswith(("#", "track", "browser")):
        continue
      if len(fields) < (4 if by_fold else 3):
        raise RegionFormatError(path, number, f"{len(fields)} tab-separated column(s); "
                                "expected chrom, start, end" + (", split (train/valid/test: "
                                "no valid/test chromosomes are set)" if by_fold else ""))
      first, last = text_files.ascii_int(fields[1]), text_files.ascii_int(fields[2])
      if first is None or last is None or not 0 <= first < last:
        raise RegionFormatError(path, number, f"start/end {fields[1]!r}, {fields[2]!r} are "
                                "not integers with 0 <= start < end")
      if fields[0] not in index:
        raise RegionFormatError(path, number, f"chromosome {fields[0]!r} is not in the FASTA "
                                f"{fasta} (it has {', '.join(names[:10])}"
                                f"{', ...' if len(names) > 10 else ''})")
      if last > sizes[fields[0]]:
        raise RegionFormatError(path, number, f"end {last} is past the end of {fields[0]} "
                                f"({sizes[fields[0]]} bp in {fasta}); is the BED from "
                                "another assembly?")
      if split_of.get(fields[0], "") is None:  # An excluded chromosome.
        continue
      if by_fold:
        if fields[3] not in SPLITS:
          raise RegionFormatError(path, number, f"split column {fields[3]!r} is not one of "
                                  f"{list(SPLITS)} (or set valid/test chromosomes)")
        line_split = fields[3]
      else:
        line_split = split_of.get(fields[0], "train")
      if line_split != split:
        continue
      middle = (first + last) // 2
      if narrowpeak and len(fields) >= 10:
        offset = text_files.ascii_int(fields[9])
        if offset is None or offset >= last - first:
          raise RegionFormatError(path, number, f"summit offset {fields[9]!r} is not an "
                                  f"integer inside the peak's {last - first} bp")
        middle = first + offset if offset >= 0 else middle
      for values, value in ((chrom, index[fields[0]]), (start, first), (end, last),
                            (centre, middle)):
        values.append(value)
  return Regions(names, chrom, start, end, centre)


def tile_regions(sizes: dict[str, int], fasta: str, split: str, width: int, stride: int, *,
                 gaps: str | None = None, valid: Sequence[str] = (), test: Sequence[str] = (),
                 exclude: Sequence[str] = ()) -> Regions:
  """``width``-bp windows every ``stride`` bp of ``split``'s chromosomes (FASTA order),
  inside the contigs left after removing the ``gaps`` BED intervals."""
  if width < 1 or stride < 1:
    raise ValueError(f"tiling needs width and stride >= 1, got {width} and {stride}")
  split_of = held_out(sizes, fasta, valid, test, exclude)
  removed = coverage_tracks.Blacklist(gaps, buffer=0)
  chrom, start = [], []
  for i, (name, size) in enumerate(sizes.items()):
    if split_of.get(name, "train") != split:
      continue
    contigs, cursor = [], 0
    for gap_start, gap_end in removed.overlapping(name, 0, size):  # Sorted by start.
      if gap_start > cursor:
        contigs.append((cursor, int(gap_start)))
      cursor = max(cursor, int(gap_end))
    contigs.append((cursor, size))
    for contig_start, contig_end in contigs:
      starts = np.arange(contig_start, contig_end - width + 1, stride, dtype=np.int64)
      chrom.append(np.full(len(starts), i, np.int32))
      start.append(starts)
  start = np.concatenate(start) if start else np.zeros(0, np.int64)
  return Regions(list(sizes), np.concatenate(chrom) if chrom else [], start, start + width,
                 start + width // 2)


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------


class _GenomeSource:
  """Regions of one split, the FASTA, lazily opened handles, grain plumbing."""

  #: `pipeline.make_loader` reads records in the consuming thread (of each worker): a
  #: read is mostly small NumPy calls holding the GIL, so reader threads only add
  #: handoffs (the loader's own cost per example: ~300 -> ~65 us of CPU).
  read_threads = 0

  def __init__(self, fasta: str, split: str, window: int, *, regions=None,
               tile_stride: int | None = None, gaps: str | None = None,
               valid_chromosomes: Sequence[str] = (), test_chromosomes: Sequence[str] = (),
               exclude_chromosomes: Sequence[str] = (), tile_width: int | None = None):
    if split not in SPLITS:
      raise ValueError(f"unknown split {split!r}; splits: {list(SPLITS)} (slices such as "
                       "'train[:100]' need a built dataset)")
    if (regions is None) == (tile_stride is None):
      raise ValueError("give either regions (BED files) or tile_stride (tile the genome)")
    self.fasta, self.split, self.window = os.fspath(fasta), split, window
    self.regions_paths = tuple(regions.split(",") if isinstance(regions, str) else regions
                               or ())
    self.tile_stride, self.gaps = tile_stride, gaps
    self.held_out = (tuple(valid_chromosomes), tuple(test_chromosomes),
                     tuple(exclude_chromosomes))
    self._handles: dict[str, Any] = {}
    self._lock = threading.Lock()
    holdout = dict(valid=valid_chromosomes, test=test_chromosomes, exclude=exclude_chromosomes)
    self.regions = self._load_regions(self.genome().sizes, tile_width or window, holdout)

  def _load_regions(self, sizes: dict[str, int], tile_width: int, holdout) -> Regions:
    if self.tile_stride is None:
      return read_regions(self.regions_paths, sizes, self.fasta, self.split, **holdout)
    return tile_regions(sizes, self.fasta, self.split, tile_width, self.tile_stride,
                        gaps=self.gaps, **holdout)

  # grain: handles are opened in each worker process, never pickled; reader threads
  # share them (pyfaidx locks its reads; BigWigReader reads with pread, no file offset).
  def __getstate__(self) -> dict[str, Any]:
    state = dict(self.__dict__)
    state["_handles"], state["_lock"] = {}, None
    return state

  def __setstate__(self, state: dict[str, Any]) -> None:
    self.__dict__.update(state)
    self._lock = threading.Lock()

  def _open(self, key: str, opener) -> Any:
    handle = self._handles.get(key)
    if handle is None:
      with self._lock:
        handle = self._handles.get(key)
        if handle is None:
          handle = self._handles[key] = opener()
    return handle

  def genome(self) -> genome_lib.Genome:
    return self._open("fasta", lambda: genome_lib.Genome(self.fasta))

  def bigwig(self, path: str):
    return self._open(path, lambda: coverage_tracks.open_bigwig(path, streaming=True))

  def close(self) -> None:
    """Closes the open files (they reopen on the next read)."""
    with self._lock:
      for handle in self._handles.values():
        handle.close()
      self._handles = {}

  def __len__(self) -> int:
    return len(self.regions)

  def __repr__(self) -> str:
    # grain keeps the source's repr in its iterator state and refuses to restore into
    # a source with another one: name the arguments, never the object's address.
    fields = ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items())
                       if not k.startswith("_") and isinstance(v, (str, int, float, tuple)))
    return f"{type(self).__name__}({fields})"

  def locus(self, index: int) -> tuple[str, int, int, int]:
    """``(chromosome, start, end, centre)`` of record ``index``."""
    if not 0 <= index < len(self):
      raise IndexError(f"record {index} of {len(self)} in split {self.split!r}")
    chrom, start, end, centre = self.regions.table[index].tolist()
    return self.regions.chromosomes[chrom], start, end, centre

  def sequence(self, chrom: str, start: int, end: int) -> np.ndarray:
    """uint8 ``[end - start, 4]`` one-hot, N-padded off the chromosome's ends."""
    return one_hot_dna(self.genome().fetch(chrom, start, end))

  def _sources(self) -> dict[str, Any]:
    return {"fasta": self.fasta, "regions": list(self.regions_paths),
            "tile_stride": self.tile_stride, "gaps": self.gaps}


class CoverageSource(_GenomeSource):
  """Basenji/Enformer coverage windows (the ``basenji_barnyard`` layout) from files.

  Args:
    fasta: the genome FASTA.
    split: ``"train"``, ``"valid"`` or ``"test"``.
    targets: a Basenji ``targets.txt`` (bigWig ``file`` paths relative to it), or a
      list of bigWig paths (``sum``, no clipping, unstranded).
    seq_length: bp of sequence per example (Basenji2 131,072).
    pool_width: bp per target bin (128).
    crop_bp: bp at each end of the sequence without targets (8,192).
    regions / tile_stride / gaps / *_chromosomes: see the module docstring.
    blacklist: BED whose intervals (+20 bp) are clipped to the window's median.
    organism: stored in the metadata (the ``basenji_barnyard`` config name).
    cache_dir: where to keep per-base float16 copies of the bigWigs' chromosomes,
      written on first read and memory-mapped after (`coverage_tracks.PerBaseCache`:
      the same examples, several times faster, 2 bytes per bp per track on disk);
      None reads the bigWigs.
  """

  def __init__(self, fasta: str, split: str = "train", *, targets: str | Sequence[str],
               seq_length: int = 131_072, pool_width: int = 128, crop_bp: int = 8192,
               blacklist: str | None = None, organism: str = "",
               cache_dir: str | None = None, **regions):
    span = seq_length - 2 * crop_bp
    if span <= 0 or span % pool_width:
      raise ValueError(f"seq_length - 2 crop_bp = {span} must be a positive multiple of "
                       f"pool_width {pool_width}")
    self.seq_length, self.pool_width, self.crop_bp = seq_length, pool_width, crop_bp
    self.target_length = span // pool_width
    self.blacklist_path, self.organism = blacklist, organism
    if isinstance(targets, str) and not targets.lower().endswith((".bw", ".bigwig")):
      self.targets_path = targets
      self.table = coverage_tracks.read_targets(targets)
      self.tracks = coverage_tracks.tracks_from_targets(targets, self.table)
    else:
      files = targets.split(",") if isinstance(targets, str) else list(targets)
      self.targets_path = ",".join(files)
      self.tracks = [coverage_tracks.Track(os.path.basename(f).split(".")[0], f)
                     for f in files]
      self.table = {"index": list(range(len(files))),
                    "identifier": [t.identifier for t in self.tracks], "file": files}
    self.strand_pair = coverage_tracks.strand_pair_positions(self.table, self.targets_path)
    self._bins = coverage_tracks.TrackBins(self.tracks, pool_width)
    self._cache_dir = cache_dir  # Private: not in repr, since it changes no example.
    self._blacklist = coverage_tracks.Blacklist(blacklist)
    super().__init__(fasta, split, seq_length, tile_width=span, **regions)
    for track in self.tracks:  # Fail now, not in a worker: every bigWig must open.
      self.bigwig(track.file)

  def bigwig(self, path: str):
    if self._cache_dir is None:
      return super().bigwig(path)
    return self._open(path, lambda: coverage_tracks.PerBaseCache(
        coverage_tracks.open_bigwig(path), path, self._cache_dir))

  def __getitem__(self, index: int) -> Example:
    chrom, start, end, centre = self.locus(int(index))
    seq_start = centre - self.seq_length // 2
    first = seq_start + self.crop_bp
    last = first + self.target_length * self.pool_width
    values = np.empty((len(self.tracks), last - first), np.float16)
    for row, track in zip(values, self.tracks):
      coverage_tracks.raw_values(self.bigwig(track.file), track.file, chrom, first, last, row)
    target = self._bins(values, self._blacklist.overlapping(chrom, first, last), first)
    return {"sequence": self.sequence(chrom, seq_start, seq_start + self.seq_length),
            "target": target, "chrom": chrom.encode(), "start": np.int64(start),
            "end": np.int64(end)}

  @property
  def metadata(self) -> dict[str, Any]:
    statistics = {"seq_length": self.seq_length, "pool_width": self.pool_width,
                  "crop_bp": self.crop_bp, "target_length": self.target_length,
                  "num_targets": len(self.tracks), f"{self.split}_seqs": len(self)}
    return {"statistics": statistics, "targets": self.table,
            "track_names": [t.identifier for t in self.tracks],
            "strand_pair": self.strand_pair, "organism": self.organism,
            "sources": {**self._sources(), "targets": self.targets_path,
                        "blacklist": self.blacklist_path}}


def parse_tasks(specs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
  """``"NAME:plus.bw,minus.bw"`` (stranded) or ``"NAME:signal.bw"`` -> ``(name, files)``,
  the ``bpnet_profiles.make --task`` syntax."""
  tasks = []
  for spec in specs:
    name, sep, paths = spec.partition(":")
    files = tuple(p for p in paths.split(",") if p)
    if not sep or not name or len(files) not in (1, 2):
      raise ValueError(f"task {spec!r} must look like NAME:plus.bw,minus.bw (stranded) or "
                       "NAME:signal.bw (unstranded)")
    tasks.append((name, files))
  return tasks


class ProfileSource(_GenomeSource):
  """BPNet / ChromBPNet summit windows (the ``bpnet_profiles`` layout) from files.

  Args:
    fasta: the genome FASTA.
    split: ``"train"``, ``"valid"`` or ``"test"``.
    tasks: ``"NAME:plus.bw,minus.bw"`` or ``"NAME:signal.bw"`` per task.
    control: control bigWigs (plus, minus), one, or none.
    input_length / output_length: bp of sequence and profile (bpnet-lite 2,114 / 1,000).
    max_jitter: bp stored beyond both on each side for the random-crop jitter.
    regions / tile_stride / gaps / *_chromosomes: see the module docstring.
  """

  def __init__(self, fasta: str, split: str = "train", *, tasks: Sequence[str],
               control: Sequence[str] = (), input_length: int = 2114,
               output_length: int = 1000, max_jitter: int = 0, **regions):
    if not 1 <= output_length <= input_length or (input_length - output_length) % 2:
      raise ValueError(f"need 1 <= output_length <= input_length with an even difference, "
                       f"got {output_length} and {input_length}")
    if len(control) > 2:
      raise ValueError(f"control takes at most two bigWigs (plus, minus), got {len(control)}")
    self.tasks = tuple(tasks)
    self.control = tuple(control)
    self.input_length, self.output_length = input_length, output_length
    self.max_jitter = max_jitter
    parsed = parse_tasks(self.tasks)
    self.bigwigs = tuple(f for _, files in parsed for f in files)
    self.track_names, self.strand_pair, i = [], [], 0
    for name, files in parsed:
      self.track_names += [name] if len(files) == 1 else [f"{name}/plus", f"{name}/minus"]
      self.strand_pair += [i] if len(files) == 1 else [i + 1, i]
      i += len(files)
    self.tracks_per_task = [len(files) for _, files in parsed]
    self.task_names = [name for name, _ in parsed]
    stored = input_length + 2 * max_jitter
    super().__init__(fasta, split, stored, **regions)
    # Windows running off a chromosome and repeated summits are dropped, as
    # bpnet_profiles drops them (the first of equal summits stays).
    r = self.regions
    sizes = np.array([self.genome().sizes[c] for c in r.chromosomes], np.int64)
    starts = self._sequence_start(r.centre)
    inside = (starts >= 0) & (starts + stored <= sizes[r.chrom])
    first = np.unique(r.chrom.astype(np.int64) << 40 | r.centre, return_index=True)[1]
    unique = np.zeros(len(r), bool)
    unique[first] = True
    self.off_chromosome_end = int((~inside).sum())
    self.duplicates = int((inside & ~unique).sum())
    keep = inside & unique
    self.regions = Regions(r.chromosomes, r.chrom[keep], r.start[keep], r.end[keep],
                           r.centre[keep])
    for path in (*self.bigwigs, *self.control):
      self.bigwig(path)

  def _sequence_start(self, summit):
    return summit - self.input_length // 2 - self.max_jitter

  def __getitem__(self, index: int) -> Example:
    chrom, _, _, summit = self.locus(int(index))
    seq_start = self._sequence_start(summit)
    seq_end = seq_start + self.window
    profile_start = summit - self.output_length // 2 - self.max_jitter
    profile_end = profile_start + self.output_length + 2 * self.max_jitter

    def read(paths, start, end):
      return np.stack([coverage_tracks.read_bigwig(self.bigwig(p), p, chrom, start, end)
                       for p in paths], axis=-1)

    example = {"sequence": self.sequence(chrom, seq_start, seq_end),
               "profile": read(self.bigwigs, profile_start, profile_end),
               "chrom": chrom.encode(), "start": np.int64(seq_start),
               "summit": np.int64(summit), "is_peak": np.bool_(True)}
    if self.control:
      example["control"] = read(self.control, seq_start, seq_end)
    return example

  @property
  def metadata(self) -> dict[str, Any]:
    control_names = {0: [], 1: ["control"],
                     2: ["control/plus", "control/minus"]}[len(self.control)]
    valid, test, exclude = self.held_out
    return {
        "tasks": self.task_names, "track_names": self.track_names,
        "strand_pair": self.strand_pair, "tracks_per_task": self.tracks_per_task,
        "control_names": control_names,
        "control_strand_pair": list(range(len(self.control)))[::-1],
        "input_length": self.input_length, "output_length": self.output_length,
        "max_jitter": self.max_jitter,
        "output_offset": (self.input_length - self.output_length) // 2,
        "valid_chroms": list(valid), "test_chroms": list(test),
        "exclude_chroms": list(exclude),
        "examples": {self.split: {"peaks": len(self), "background": 0}},
        "dropped_peaks": {"off_chrom_end": self.off_chromosome_end,
                          "duplicate": self.duplicates},
        "sources": {**self._sources(), "bigwigs": list(self.bigwigs),
                    "control": list(self.control)},
    }


class LabelSource(_GenomeSource):
  """Windows labelled by a BED's columns (the ``intervals`` builder's columns mode).

  ``regions`` is one label BED (`genereg_jax.data.bed.read_bed` with label columns:
  a header names them; ``NA`` is missing, -1). Windows of ``window`` bp centred on each
  interval's midpoint, in FASTA chromosome order then by start; windows running off a
  chromosome are dropped, and with ``max_n_fraction`` set, those with more non-ACGT
  bases (one read of the split's chromosomes at start-up, as the builder does).
  Examples: ``sequence`` uint8 ``[window, 4]``, ``label`` float32 ``[num_labels]``,
  ``chrom``, ``start``, ``gc`` (G+C over A+C+G+T). Metadata: ``label_names``,
  ``sequence_length``.
  """

  def __init__(self, fasta: str, split: str = "train", *, regions: str, window: int = 1000,
               max_n_fraction: float | None = None, valid_chromosomes: Sequence[str] = (),
               test_chromosomes: Sequence[str] = (), exclude_chromosomes: Sequence[str] = ()):
    self.max_n_fraction = max_n_fraction
    super().__init__(fasta, split, window, regions=regions,
                     valid_chromosomes=valid_chromosomes, test_chromosomes=test_chromosomes,
                     exclude_chromosomes=exclude_chromosomes)

  def _load_regions(self, sizes: dict[str, int], tile_width: int, holdout) -> Regions:
    from genereg_jax.data import bed as bed_lib  # pylint: disable=g-import-not-at-top
    if len(self.regions_paths) != 1:
      raise ValueError(f"a label BED is one file, got {list(self.regions_paths)}")
    table = bed_lib.read_bed(self.regions_paths[0], sizes, self.fasta, label_columns=True)
    self.label_names = table.column_names
    split_of = held_out(sizes, self.fasta, **holdout)
    names = list(sizes)
    in_split = np.array([split_of.get(c, "train") == self.split for c in names])
    index = {name: i for i, name in enumerate(names)}
    chrom = np.array([index[c] for c in table.chroms.tolist()], np.int32)
    start = table.centers - self.window // 2
    lengths = np.array([sizes[c] for c in names], np.int64)
    keep = in_split[chrom] & (start >= 0) & (start + self.window <= lengths[chrom])
    if self.max_n_fraction is not None:
      offsets = np.arange(self.window)
      batch = max(1, (1 << 22) // self.window)  # Windows per vectorised read.
      for i in np.unique(chrom[keep]):
        rows = np.flatnonzero(keep & (chrom == i))
        codes = self.genome().sequence(names[i])
        for first in range(0, rows.size, batch):
          part = rows[first:first + batch]
          acgt = _ACGT_BYTES[codes[start[part, None] + offsets]].sum(axis=1)
          keep[part] = 1.0 - acgt / self.window <= self.max_n_fraction
    rows = np.flatnonzero(keep)
    rows = rows[np.lexsort((start[rows], chrom[rows]))]  # Stable: file order for ties.
    self.labels = table.labels[rows]
    return Regions(names, chrom[rows], start[rows], start[rows] + self.window,
                   start[rows] + self.window // 2)

  def __getitem__(self, index: int) -> Example:
    chrom, start, end, _ = self.locus(int(index))
    sequence = self.sequence(chrom, start, end)
    acgt = int(sequence.sum())
    gc = float(sequence[:, 1:3].sum()) / acgt if acgt else 0.0
    return {"sequence": sequence, "label": self.labels[index], "chrom": chrom.encode(),
            "start": np.int64(start),
            # As the built dataset reads it back: float32 precision, a Python float.
            "gc": float(np.float32(gc))}

  @property
  def metadata(self) -> dict[str, Any]:
    return {"label_names": list(self.label_names), "sequence_length": self.window,
            "sources": self._sources()}


LAYOUTS = {"coverage": CoverageSource, "profile": ProfileSource, "labels": LabelSource}
#: Keyword arguments every layout takes (where the regions come from).
REGION_FIELDS = ("regions", "tile_stride", "gaps", "valid_chromosomes", "test_chromosomes",
                 "exclude_chromosomes")


def from_config(genome: Any, split: str, head: str | None = None) -> _GenomeSource:
  """The source a config's ``dataset.genome`` section describes.

  ``layout`` picks `CoverageSource`, `ProfileSource` or `LabelSource` (``coverage``,
  ``profile``, ``labels``); every other field is a keyword argument of that class. In
  multi-species configs, ``{species}`` in a string field is the head's name
  (``/data/{species}/targets.txt``).
  """
  fields = genome.to_dict() if hasattr(genome, "to_dict") else dict(genome)
  layout = fields.pop("layout", "coverage")
  if layout not in LAYOUTS:
    raise ValueError(f"unknown dataset.genome.layout {layout!r}; layouts: {sorted(LAYOUTS)}")
  if not fields.get("fasta"):
    raise ValueError("dataset.source='genome' needs dataset.genome.fasta (and targets or "
                     "tasks, and regions or tile_stride)")

  def fill(value):
    if isinstance(value, str) and head is not None:
      return value.replace("{species}", head)
    if isinstance(value, (list, tuple)):
      return type(value)(fill(v) for v in value)
    return value

  kwargs = {k: fill(v) for k, v in fields.items() if v not in (None, "", ())}
  cls = LAYOUTS[layout]
  parameters = inspect.signature(cls.__init__).parameters.values()
  allowed = {p.name for p in parameters if p.kind is not p.VAR_KEYWORD} - {"self", "split"}
  if any(p.kind is p.VAR_KEYWORD for p in parameters):  # Passed on to _GenomeSource.
    allowed |= set(REGION_FIELDS)
  unknown = sorted(set(kwargs) - allowed)
  if unknown:
    raise ValueError(f"dataset.genome fields {unknown} do not apply to layout {layout!r}; "
                     f"its fields: {sorted(allowed)}")
  return cls(split=split, **kwargs)
