"""Summit-centred windows of stranded bigWig profiles for BPNet / ChromBPNet.

Reads what BPNet's pipelines take (Avsec et al., Nat Genet 2021; bpnet-lite;
ChromBPNet): a genome FASTA, peak files, one or two bigWigs per task (plus and
minus strand; one for unstranded assays) and optional control bigWigs, and
writes one example per peak summit:

  sequence  uint8[input_length + 2 * max_jitter, 4]   one-hot A,C,G,T (N = 0)
  profile   float32[output_length + 2 * max_jitter, n_tracks]  reads per bp
  control   float32[input_length + 2 * max_jitter, n_control]  (if controls)
  chrom, start (0-based start of the stored sequence window), summit,
  is_peak (False for GC-matched background windows)

Tracks are ordered task by task, strands in the order given (plus, minus),
and ``info.metadata`` holds ``track_names``, ``strand_pair`` (track i's
opposite-strand track, for reverse-complement augmentation),
``control_strand_pair``, the geometry and read-depth statistics of the train
peaks with the count-loss weights that BPNet (mean reads per track / 2) and
ChromBPNet (median reads per task / 10) would choose. Control tracks cover
the input window because ``genereg_jax.models.bpnet.BPNet`` takes ``control``
as ``[batch, input_length, n_control]`` and itself crops it to the output
window (profile head) and sums it there (count head), as bpnet-lite does.

Peaks: narrowPeak (10 columns; the window is centred on ``start + column
10``, or on the middle when the summit offset is -1) or BED (3-9 columns;
centred on the middle); ``.gz`` is read transparently; ``track``/``browser``/
``#`` lines are skipped; malformed lines raise ``ValueError`` naming the file
and line. Duplicate summits are kept once; windows that run off a
chromosome, and peaks on sequences missing from the FASTA, are dropped and
counted in the metadata. bigWig values are read with pyBigWig; missing data
is 0 and values are taken as absolute values because many pipelines write
minus-strand coverage as negative numbers.

Splits hold out whole chromosomes: ``valid_chroms`` and ``test_chroms``;
``exclude_chroms`` are dropped; everything else is ``train`` (BPNet's mESC
models: valid chr2-4, test chr1, chr8, chr9, excluding chrX/chrY).

Jitter: with ``max_jitter = J`` every window is stored ``J`` bp wider on
each side. ``RandomCrop`` (training: a uniform shift in [-J, J] applied to
sequence, control and profile together, bpnet-lite's ``max_jitter``) and
``CentreCrop`` (evaluation) are grain transforms that cut the published
geometry back out; a loader runs them before batching. Without them a model
simply sees the wider, still centred windows (the output grows by 2J too).

GC-matched background (``negative_ratio > 0``, as in ChromBPNet and
bpnet-lite's ``extract_matching_loci``): the genome of each split is tiled
into non-overlapping windows of the stored input width that contain only
A/C/G/T and overlap no peak window; for every peak, ``negative_ratio``
tiles are drawn from the same GC bin (``gc_bins`` equal bins of the window's
G+C fraction), from neighbouring bins when a bin runs out.

Windows are chosen in the building process; their sequence, profiles and control are
then read in runs of ``WINDOWS_PER_SHARD``, in that process or, with ``--beam_options``
(``make.py``; `data_builders.sharded`, BUILD.md "Big builds"), one run per Apache Beam
work item, giving the same records and read-depth statistics. Beam workers open the
FASTA and bigWigs at the same paths, so they must be on a file system they share.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from absl import logging
import grain
import numpy as np
import tensorflow_datasets as tfds

from data_builders import sharded
from genereg_jax.data import genome
from genereg_jax.data import text as text_files
from genereg_jax.data.bed import BedFormatError
# bigWig reading is shared with the streaming genome source.
from genereg_jax.data.coverage_tracks import open_bigwig, read_bigwig
from genereg_jax.data.encoding import one_hot_dna

SPLITS: tuple[str, ...] = ("train", "valid", "test")
PEAK_FORMATS: tuple[str, ...] = ("auto", "narrowPeak", "bed")
INPUT_KEYS: tuple[str, ...] = ("sequence", "control")
OUTPUT_KEYS: tuple[str, ...] = ("profile",)
# Windows per Beam work item: each opens the FASTA and the bigWigs once.
WINDOWS_PER_SHARD = 1000


# ---------------------------------------------------------------------------
# Peaks.
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Peak:
  """A peak and the summit its window is centred on (0-based)."""

  chrom: str
  start: int
  end: int
  summit: int
  source: str  # "file:line", for messages.


def read_peaks(path: str, peak_format: str = "auto") -> list[Peak]:
  """Parses a narrowPeak or BED file into summits.

  Args:
    path: the file (gzip allowed).
    peak_format: ``"narrowPeak"``, ``"bed"``, or ``"auto"``: narrowPeak if
      the first data line has 10 columns, BED otherwise.

  Returns:
    Peaks in file order.

  Raises:
    BedFormatError: on a malformed line, naming ``path:line``.
  """
  if peak_format not in PEAK_FORMATS:
    raise ValueError(f"peak_format must be one of {PEAK_FORMATS}, got "
                     f"{peak_format!r}.")
  peaks = []
  for number, line in text_files.numbered_lines(path, BedFormatError):
    line = line.rstrip("\n\r")
    if (not line.strip() or line.startswith(("#", "track", "browser"))):
      continue
    fields = line.split("\t") if "\t" in line else line.split()
    if peak_format == "auto":
      peak_format = "narrowPeak" if len(fields) == 10 else "bed"
    if peak_format == "narrowPeak" and len(fields) != 10:
      raise BedFormatError(path, number, f"narrowPeak lines have 10 tab-separated "
                           f"columns, this one has {len(fields)}: {line!r}")
    if len(fields) < 3:
      raise BedFormatError(path, number, f"a BED line needs chrom, start and end; "
                           f"got {len(fields)} column(s): {line!r}")
    chrom = fields[0]
    start, end = text_files.ascii_int(fields[1]), text_files.ascii_int(fields[2])
    if start is None or end is None:
      raise BedFormatError(path, number, f"start and end must be integers, got "
                           f"{fields[1]!r} and {fields[2]!r}.")
    if start < 0 or end <= start:
      raise BedFormatError(path, number, f"need 0 <= start < end, got start {start}"
                           f" and end {end}.")
    summit = (start + end) // 2
    if peak_format == "narrowPeak":
      offset = text_files.ascii_int(fields[9])
      if offset is None:
        raise BedFormatError(path, number, f"the summit offset (column 10) must be an "
                             f"integer, got {fields[9]!r}.")
      if offset != -1:
        if not 0 <= offset < end - start:
          raise BedFormatError(path, number, f"summit offset {offset} lies outside "
                               f"the peak's {end - start} bp.")
        summit = start + offset
    peaks.append(Peak(chrom, start, end, summit, f"{path}:{number}"))
  return peaks


# ---------------------------------------------------------------------------
# Config.
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TrackSet:
  """One task's bigWigs: ``(plus, minus)`` stranded or ``(unstranded,)``."""

  name: str
  bigwigs: tuple[str, ...]

  def track_names(self) -> list[str]:
    """Names of this task's tracks, e.g. ``Oct4/plus``."""
    if len(self.bigwigs) == 1:
      return [self.name]
    return [f"{self.name}/{strand}" for strand in ("plus", "minus")]


def parse_track_set(spec: str) -> TrackSet:
  """``"NAME:plus.bw,minus.bw"`` or ``"NAME:signal.bw"`` -> ``TrackSet``."""
  name, sep, paths = spec.partition(":")
  bigwigs = tuple(p for p in paths.split(",") if p)
  if not sep or not name or len(bigwigs) not in (1, 2):
    raise ValueError(f"task {spec!r} must look like NAME:plus.bw,minus.bw "
                     "(stranded) or NAME:signal.bw (unstranded).")
  return TrackSet(name, bigwigs)


@dataclasses.dataclass(eq=False)
class BpnetProfilesConfig(tfds.core.BuilderConfig):
  """One dataset's files, geometry and splits; made from arguments.

  Attributes:
    fasta: genome FASTA (indexed by ``genereg_jax.data.genome`` on first use).
    peaks: narrowPeak / BED files; their union gives the windows.
    tasks: ``TrackSet`` per task.
    control: control bigWigs (plus, minus), one, or none.
    input_length: bp of sequence per example (bpnet-lite: 2,114).
    output_length: bp of profile per example (bpnet-lite: 1,000).
    max_jitter: extra bp stored on each side for random-crop jitter.
    valid_chroms: chromosomes of ``valid``.
    test_chroms: chromosomes of ``test``.
    exclude_chroms: chromosomes used nowhere.
    negative_ratio: GC-matched background windows per peak (0: none).
    gc_bins: equal-width GC bins for the matching.
    peak_format: ``"auto"``, ``"narrowPeak"`` or ``"bed"``.
    seed: seed of the background sampling.
  """

  fasta: str = ""
  peaks: tuple[str, ...] = ()
  tasks: tuple[TrackSet, ...] = ()
  control: tuple[str, ...] = ()
  input_length: int = 2114
  output_length: int = 1000
  max_jitter: int = 0
  valid_chroms: tuple[str, ...] = ()
  test_chroms: tuple[str, ...] = ()
  exclude_chroms: tuple[str, ...] = ()
  negative_ratio: float = 0.0
  gc_bins: int = 50
  peak_format: str = "auto"
  seed: int = 0

  def __post_init__(self):
    if not self.fasta or not self.peaks or not self.tasks:
      raise ValueError("bpnet_profiles needs a FASTA, at least one peak file "
                       "and at least one task.")
    if self.output_length < 1 or self.output_length > self.input_length:
      raise ValueError(f"need 1 <= output_length <= input_length, got "
                       f"{self.output_length} and {self.input_length}.")
    if (self.input_length - self.output_length) % 2:
      raise ValueError(
          f"input_length - output_length must be even so both windows share "
          f"the summit as centre; got {self.input_length} and "
          f"{self.output_length}.")
    if self.max_jitter < 0 or self.negative_ratio < 0 or self.gc_bins < 1:
      raise ValueError("max_jitter and negative_ratio must be >= 0 and "
                       "gc_bins >= 1.")
    if len(self.control) > 2:
      raise ValueError(f"control takes at most two bigWigs (plus, minus), got "
                       f"{len(self.control)}.")
    overlap = set(self.valid_chroms) & set(self.test_chroms)
    if overlap:
      raise ValueError(f"chromosomes {sorted(overlap)} are in both the valid "
                       "and the test split.")
    names = [t.name for t in self.tasks]
    if len(set(names)) != len(names):
      raise ValueError(f"task names repeat: {names}.")
    if self.peak_format not in PEAK_FORMATS:
      raise ValueError(f"peak_format must be one of {PEAK_FORMATS}.")

  @property
  def track_names(self) -> list[str]:
    """Profile track names, task by task."""
    return [n for t in self.tasks for n in t.track_names()]

  @property
  def strand_pair(self) -> list[int]:
    """Opposite-strand track of every track (itself if unstranded)."""
    pair, i = [], 0
    for task in self.tasks:
      pair += [i] if len(task.bigwigs) == 1 else [i + 1, i]
      i += len(task.bigwigs)
    return pair

  @property
  def bigwigs(self) -> list[str]:
    """Profile bigWigs in track order."""
    return [bw for t in self.tasks for bw in t.bigwigs]

  @property
  def stored_input_length(self) -> int:
    """Stored sequence/control length: the input plus jitter on both sides."""
    return self.input_length + 2 * self.max_jitter

  @property
  def stored_output_length(self) -> int:
    """Stored profile length: the output plus jitter on both sides."""
    return self.output_length + 2 * self.max_jitter

  def split_of(self, chrom: str) -> str | None:
    """The split a chromosome belongs to, or None if excluded."""
    if chrom in self.exclude_chroms:
      return None
    if chrom in self.valid_chroms:
      return "valid"
    if chrom in self.test_chroms:
      return "test"
    return "train"

  def windows(self, summit: int) -> tuple[int, int]:
    """Starts of the stored sequence and profile windows around ``summit``."""
    sequence_start = summit - self.input_length // 2 - self.max_jitter
    profile_start = summit - self.output_length // 2 - self.max_jitter
    return sequence_start, profile_start


# ---------------------------------------------------------------------------
# Reading windows.
# ---------------------------------------------------------------------------


def _open_fasta(path: str):
  import pyfaidx  # pylint: disable=g-import-not-at-top  # building only.
  # The library's index: the FASTA's lines are checked, and a read-only folder works.
  return pyfaidx.Fasta(path, indexname=genome.find_or_build_index(path), as_raw=True,
                       sequence_always_upper=True, rebuild=False, build_index=False)


class WindowReader:
  """Reads a config's sequence, profile and control windows from the files."""

  def __init__(self, config: BpnetProfilesConfig):
    self.config = config
    self.fasta = _open_fasta(config.fasta)
    self.profile = [(open_bigwig(p), p) for p in config.bigwigs]
    self.control = [(open_bigwig(p), p) for p in config.control]

  def chrom_sizes(self) -> dict[str, int]:
    """``{chrom: length}`` of the FASTA."""
    return {name: len(self.fasta[name]) for name in self.fasta.keys()}

  def example(self, chrom: str, summit: int, is_peak: bool) -> dict[str, Any]:
    """The feature dict of the window centred on ``summit``."""
    config = self.config
    sequence_start, profile_start = config.windows(summit)
    sequence_end = sequence_start + config.stored_input_length
    profile_end = profile_start + config.stored_output_length
    example = {
        "sequence": one_hot_dna(
            self.fasta[chrom][sequence_start:sequence_end]),
        "profile": np.stack([read_bigwig(h, p, chrom, profile_start,
                                         profile_end)
                             for h, p in self.profile], axis=-1),
        "chrom": chrom,
        "start": np.int64(sequence_start),
        "summit": np.int64(summit),
        "is_peak": bool(is_peak),
    }
    if self.control:
      example["control"] = np.stack(
          [read_bigwig(h, p, chrom, sequence_start, sequence_end)
           for h, p in self.control], axis=-1)
    return example

  def close(self) -> None:
    for handle, _ in self.profile + self.control:
      handle.close()
    self.fasta.close()


# ---------------------------------------------------------------------------
# Summits per split and GC-matched background.
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Windows:
  """Summits per split, peaks first, and what was dropped."""

  summits: dict[str, list[tuple[str, int, bool]]]
  dropped: dict[str, int]


def peak_windows(config: BpnetProfilesConfig,
                 chrom_sizes: Mapping[str, int]) -> Windows:
  """Reads the peak files and assigns each summit's window to its split."""
  summits = {split: [] for split in SPLITS}
  dropped = {"missing_chrom": 0, "off_chrom_end": 0, "duplicate": 0,
             "excluded_chrom": 0}
  seen = set()
  missing = set()
  for path in config.peaks:
    for peak in read_peaks(path, config.peak_format):
      if peak.chrom not in chrom_sizes:
        dropped["missing_chrom"] += 1
        missing.add(peak.chrom)
        continue
      split = config.split_of(peak.chrom)
      if split is None:
        dropped["excluded_chrom"] += 1
        continue
      sequence_start, _ = config.windows(peak.summit)
      if (sequence_start < 0 or sequence_start + config.stored_input_length
          > chrom_sizes[peak.chrom]):
        dropped["off_chrom_end"] += 1
        continue
      if (peak.chrom, peak.summit) in seen:
        dropped["duplicate"] += 1
        continue
      seen.add((peak.chrom, peak.summit))
      summits[split].append((peak.chrom, peak.summit, True))
  if missing:
    logging.warning("bpnet_profiles: %d peaks on sequences missing from %s "
                    "were dropped: %s", dropped["missing_chrom"], config.fasta,
                    sorted(missing)[:10])
  return Windows(summits, dropped)


def _gc_and_valid(sequence: str, width: int) -> tuple[np.ndarray, np.ndarray]:
  """GC fraction and all-ACGT flag of consecutive ``width`` bp tiles."""
  codes = np.frombuffer(sequence.encode("ascii"), np.uint8)
  n_tiles = len(codes) // width
  tiles = codes[:n_tiles * width].reshape(n_tiles, width)
  gc = np.isin(tiles, np.frombuffer(b"GC", np.uint8)).sum(axis=1) / width
  valid = np.isin(tiles, np.frombuffer(b"ACGT", np.uint8)).all(axis=1)
  return gc, valid


def gc_fraction(sequence: str) -> float:
  """G+C fraction of an upper-case sequence (N counts as not G/C)."""
  return _gc_and_valid(sequence, len(sequence))[0][0]


def gc_matched_background(config: BpnetProfilesConfig, fasta,
                          chrom_sizes: Mapping[str, int],
                          peaks: Sequence[tuple[str, int, bool]],
                          blocking: Sequence[tuple[str, int, bool]],
                          split: str, rng: np.random.Generator
                          ) -> list[tuple[str, int, bool]]:
  """Background summits of ``split`` whose GC histogram matches its peaks'.

  Args:
    config: the dataset config (geometry, ``negative_ratio``, ``gc_bins``).
    fasta: an open pyfaidx FASTA.
    chrom_sizes: ``{chrom: length}``.
    peaks: this split's peak summits ``(chrom, summit, True)``.
    blocking: every peak summit; background windows overlap none of them.
    split: the split whose chromosomes are tiled.
    rng: the sampling generator.

  Returns:
    ``(chrom, centre, False)`` per background window, sorted.
  """
  if not peaks or config.negative_ratio <= 0:
    return []
  width = config.stored_input_length
  half = config.input_length // 2 + config.max_jitter
  bins = config.gc_bins

  def gc_bin(gc):
    return np.minimum((np.asarray(gc) * bins).astype(int), bins - 1)

  peak_gc = [gc_fraction(fasta[chrom][summit - half:summit - half + width])
             for chrom, summit, _ in peaks]
  blocked: dict[str, list[tuple[int, int]]] = {}
  for chrom, summit, _ in blocking:
    blocked.setdefault(chrom, []).append((summit - half, summit - half + width))
  candidates: dict[int, list[tuple[str, int]]] = {}
  for chrom, size in chrom_sizes.items():
    if config.split_of(chrom) != split or size < width:
      continue
    gc, valid = _gc_and_valid(fasta[chrom][:size], width)
    starts = np.arange(len(gc)) * width
    if chrom in blocked:
      intervals = np.array(sorted(blocked[chrom]))
      # Tile [s, s + width) overlaps window [a, b) iff a < s + width and
      # b > s: among windows starting before the tile ends, the largest end.
      first = np.searchsorted(intervals[:, 0], starts + width, side="left")
      ends = np.maximum.accumulate(intervals[:, 1])
      valid &= ~((first > 0) & (ends[np.maximum(first - 1, 0)] > starts))
    for b, s in zip(gc_bin(gc[valid]), starts[valid]):
      candidates.setdefault(int(b), []).append((chrom, int(s)))
  for pool in candidates.values():
    rng.shuffle(pool)

  wanted = np.bincount(gc_bin(peak_gc), minlength=bins) * config.negative_ratio
  wanted = np.floor(wanted + rng.random(bins)).astype(int)  # Unbiased rounding.
  chosen = []
  for b in np.flatnonzero(wanted):
    need = int(wanted[b])
    # The bin itself, then neighbours at growing distance.
    for distance in range(bins):
      for nb in sorted({b - distance, b + distance}):
        pool = candidates.get(int(nb), [])
        take = min(need, len(pool))
        chosen += [pool.pop() for _ in range(take)]
        need -= take
      if need == 0:
        break
  return [(chrom, start + half, False) for chrom, start in sorted(chosen)]


# ---------------------------------------------------------------------------
# Jitter transforms.
# ---------------------------------------------------------------------------


def crop_example(example: Mapping[str, Any], shift: int, input_length: int,
                 output_length: int) -> dict[str, Any]:
  """Cuts the published geometry out of a stored (jitter-widened) example.

  Args:
    example: a record; ``INPUT_KEYS`` are ``[input_length + 2J, ...]`` and
      ``OUTPUT_KEYS`` ``[output_length + 2J, ...]``.
    shift: offset in ``[0, 2J]`` of the crop; ``J`` is centred.
    input_length: length to cut from the input-length fields.
    output_length: length to cut from the profile.

  Returns:
    A new dict with the same keys; other fields are passed through.
  """
  out = dict(example)
  for keys, length in ((INPUT_KEYS, input_length), (OUTPUT_KEYS, output_length)):
    for key in keys:
      if key in out:
        stored = np.asarray(out[key])
        if not 0 <= shift <= stored.shape[0] - length:
          raise ValueError(f"cannot crop {length} bp at offset {shift} from "
                           f"{key!r} of {stored.shape[0]} bp.")
        out[key] = stored[shift:shift + length]
  return out


@dataclasses.dataclass
class RandomCrop(grain.transforms.RandomMap):
  """Training jitter: a uniform crop offset in ``[0, 2 * max_jitter]``."""

  input_length: int
  output_length: int
  max_jitter: int

  def random_map(self, example, rng: np.random.Generator):
    shift = int(rng.integers(0, 2 * self.max_jitter + 1))
    return crop_example(example, shift, self.input_length, self.output_length)


@dataclasses.dataclass
class CentreCrop(grain.transforms.Map):
  """Evaluation: the centred window (offset ``max_jitter``)."""

  input_length: int
  output_length: int
  max_jitter: int

  def map(self, example):
    return crop_example(example, self.max_jitter, self.input_length,
                        self.output_length)


def crop_transforms(metadata: Mapping[str, Any]) -> tuple[RandomCrop, CentreCrop]:
  """``(train, eval)`` crops for a built dataset, from its ``info.metadata``."""
  args = (int(metadata["input_length"]), int(metadata["output_length"]),
          int(metadata["max_jitter"]))
  return RandomCrop(*args), CentreCrop(*args)


# ---------------------------------------------------------------------------
# TFDS builder.
# ---------------------------------------------------------------------------


def _depth_statistics(totals: np.ndarray, tracks_per_task: Sequence[int]
                      ) -> dict[str, Any]:
  """Read-depth summaries and the count-loss weights they suggest."""
  if totals.size == 0:
    return {}
  per_task, i = [], 0
  for k in tracks_per_task:
    per_task.append(totals[:, i:i + k].sum(axis=1))
    i += k
  per_task = np.stack(per_task, axis=1)
  return {
      "mean_total_counts_per_track": totals.mean(axis=0).round(3).tolist(),
      "median_total_counts_per_task": np.median(per_task, 0).round(3).tolist(),
      "suggested_count_weight": {
          # Avsec et al. (Methods) / basepairmodels: lambda = n_obs / 2.
          "bpnet_paper": round(float(totals.mean()) / 2, 3),
          # ChromBPNet: median total counts / 10.
          "chrombpnet": round(float(np.median(per_task)) / 10, 3),
      },
  }


class BpnetProfiles(sharded.ShardedBuilder):
  """Summit-centred sequence, stranded profiles and control from bigWigs."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS: list[BpnetProfilesConfig] = []

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    zlib = tfds.features.Encoding.ZLIB
    features = {
        "sequence": tfds.features.Tensor(
            shape=(config.stored_input_length, 4), dtype=np.uint8,
            encoding=zlib),
        "profile": tfds.features.Tensor(
            shape=(config.stored_output_length, len(config.track_names)),
            dtype=np.float32, encoding=zlib),
        "chrom": tfds.features.Text(),
        "start": tfds.features.Scalar(dtype=np.int64),
        "summit": tfds.features.Scalar(dtype=np.int64),
        "is_peak": tfds.features.Scalar(dtype=np.bool_),
    }
    if config.control:
      features["control"] = tfds.features.Tensor(
          shape=(config.stored_input_length, len(config.control)),
          dtype=np.float32, encoding=zlib)
    control_names = {0: [], 1: ["control"],
                     2: ["control/plus", "control/minus"]}[len(config.control)]
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict(features),
        supervised_keys=("sequence", "profile"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            tasks=[t.name for t in config.tasks],
            track_names=config.track_names,
            strand_pair=config.strand_pair,
            tracks_per_task=[len(t.bigwigs) for t in config.tasks],
            control_names=control_names,
            control_strand_pair=list(range(len(config.control)))[::-1],
            input_length=config.input_length,
            output_length=config.output_length,
            max_jitter=config.max_jitter,
            output_offset=(config.input_length - config.output_length) // 2,
            valid_chroms=list(config.valid_chroms),
            test_chroms=list(config.test_chroms),
            exclude_chroms=list(config.exclude_chroms),
            sources={"fasta": config.fasta, "peaks": list(config.peaks),
                     "bigwigs": config.bigwigs,
                     "control": list(config.control)},
            negative_ratio=config.negative_ratio,
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Local files named by the config.
    config = self.builder_config
    reader = WindowReader(config)  # Also checks that every file opens.
    try:
      sizes = reader.chrom_sizes()
      windows = peak_windows(config, sizes)
      all_peaks = [w for split in SPLITS for w in windows.summits[split]]
      rng = np.random.default_rng(config.seed)
      counts = {}
      for split in SPLITS:
        background = gc_matched_background(
            config, reader.fasta, sizes, windows.summits[split], all_peaks,
            split, rng)
        counts[split] = {"peaks": len(windows.summits[split]),
                         "background": len(background)}
        windows.summits[split] += background
    finally:
      reader.close()
    self.info.metadata["examples"] = counts
    self.info.metadata["dropped_peaks"] = windows.dropped
    empty = [s for s in SPLITS if not windows.summits[s]]
    if empty:
      raise ValueError(
          f"bpnet_profiles: split(s) {empty} have no windows; check "
          f"valid_chroms={list(config.valid_chroms)}, test_chroms="
          f"{list(config.test_chroms)} against the peaks' chromosomes "
          f"(dropped: {windows.dropped}).")
    return {split: self._generate_examples(windows.summits[split], split)
            for split in SPLITS}

  def _generate_examples(self, summits: Sequence[tuple[str, int, bool]], split: str):
    config = self.builder_config
    shards = [tuple(summits[i:i + WINDOWS_PER_SHARD])
              for i in range(0, len(summits), WINDOWS_PER_SHARD)]
    depths = None
    if split == "train":  # The count-loss weights come from the train peaks.
      depths = sharded.Summary(
          extract=functools.partial(_peak_total, start=config.max_jitter,
                                    length=config.output_length),
          finish=functools.partial(_train_depth_statistics,
                                   tracks_per_task=[len(t.bigwigs) for t in config.tasks]))
    return self.split_examples(shards, functools.partial(window_examples, config=config),
                               sizes=[len(shard) for shard in shards], summary=depths)


def window_examples(summits: Sequence[tuple[str, int, bool]], first_key: int,
                    config: BpnetProfilesConfig) -> Iterator[dict[str, Any]]:
  """The records of a run of ``(chrom, summit, is_peak)`` windows (a shard of a split).

  Args:
    summits: the windows, in split order.
    first_key: unused (records carry their coordinates).
    config: the dataset config (files and geometry).
  """
  del first_key
  reader = WindowReader(config)
  try:
    for chrom, summit, is_peak in summits:
      yield reader.example(chrom, summit, is_peak)
  finally:
    reader.close()


def _peak_total(example: Mapping[str, Any], start: int, length: int) -> np.ndarray | None:
  """Reads per track in a peak's output window (without jitter); None for background."""
  if not example["is_peak"]:
    return None
  return example["profile"][start:start + length].sum(axis=0)


def _train_depth_statistics(totals: Sequence[np.ndarray], tracks_per_task: Sequence[int]
                            ) -> dict[str, Any]:
  return _depth_statistics(np.array(totals, np.float64).reshape(len(totals), -1),
                           tracks_per_task)
