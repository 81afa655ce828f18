r"""Windows of a genome FASTA labelled by BED files, split by chromosome.

The user-data builder (STYLE.md: Selene and baskerville let users bring FASTA +
BED and a config, no code). An ``IntervalsConfig`` names a FASTA, BED files,
a window size and the held-out chromosomes; ``python -m
data_builders.intervals.make`` builds one from the command line. Two label
modes:

  peaks (one BED per label, e.g. ENCODE narrowPeak files)
      Every peak of every file proposes a window of ``window`` bp centred on
      its summit (``.narrowPeak`` files, column 10) or midpoint. A window's
      label ``j`` is 1 when peaks of file ``j`` cover at least
      ``min_overlap`` bp of its central ``label_center`` bp (the whole window
      by default), as DeepSEA labels a 1,000 bp window by its central 200 bp
      bin (Zhou & Troyanskaya 2015); windows proposed by a peak that end up
      with no positive label are dropped. Negatives are background windows
      that overlap no peak of any file, sampled on the same chromosomes as
      the positives (``negative_ratio`` per positive, per chromosome) and
      matched to the positives' GC content bin by bin (``gc_bins`` equal bins
      of GC fraction), like the GC-matched null sequences of gkm-SVM
      (Ghandi et al., PLoS Comput. Biol. 2014).
  columns (one BED whose 4th and later columns are labels)
      Each line is one example: a window of ``window`` bp centred on the
      interval's midpoint, labels read as numbers (``NA``, ``nan`` or ``.``
      mean missing and are stored as -1, which the ``multilabel_binary`` task
      ignores). Column names come from a header line (``#chrom start end
      K562 HepG2`` or ``chrom start end ...``), else ``column_4`` ...

Windows are 0-based half-open ``[start, start + window)``. Windows that run
off a chromosome end, or whose fraction of non-ACGT bases exceeds
``max_n_fraction``, are dropped (counted in the metadata). Splits are by
chromosome: ``valid_chromosomes`` and ``test_chromosomes`` are held out; every
other chromosome with intervals goes to ``train``.

Features: ``sequence`` uint8 ``[window, 4]`` (A,C,G,T, N all zeros; soft-masked
lower case reads as upper case), ``label`` float32 ``[num_labels]``, ``chrom``,
``start`` (0-based) and ``gc`` (G+C over A+C+G+T of the window). Records are
written in chromosome (FASTA) order then by start. ``info.metadata`` holds
``label_names``, the full config and per-split counts and mean GC of
positives and negatives.

The FASTA and BED readers are the library's (``genereg_jax.data.genome`` and
``genereg_jax.data.bed``): malformed input raises ``BedFormatError`` or
``FastaFormatError``, naming the file and the 1-based line.

Windows are planned (labels, background sampling) in the building process; the
sequences are then read chromosome by chromosome, in that process or, with
``--beam_options`` (``make.py``; `data_builders.sharded`, BUILD.md "Big builds"), one
chromosome per Apache Beam work item, giving the same records. Beam workers read the
FASTA at the same path, so it must be on a file system they share.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from data_builders import sharded
from genereg_jax.data.bed import BedFile
from genereg_jax.data.bed import bed_column_names
from genereg_jax.data.bed import read_bed
from genereg_jax.data.encoding import one_hot_dna
from genereg_jax.data.genome import Genome

SPLITS: tuple[str, ...] = ("train", "valid", "test")
_ACGT_BYTES = np.zeros(256, dtype=bool)
_GC_BYTES = np.zeros(256, dtype=bool)
for _letter in "ACGT":
  _ACGT_BYTES[ord(_letter)] = _ACGT_BYTES[ord(_letter.lower())] = True
for _letter in "GC":
  _GC_BYTES[ord(_letter)] = _GC_BYTES[ord(_letter.lower())] = True
# Windows scored per batch when computing GC: bounds the gather to ~32 MB.
_GC_BATCH_BASES = 1 << 22
# Rounds of background draws before unmet GC bins borrow from neighbours.
MAX_SAMPLING_ROUNDS = 50
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------


def window_composition(sequence: np.ndarray, starts: np.ndarray,
                       width: int) -> tuple[np.ndarray, np.ndarray]:
  """GC fraction (of A+C+G+T) and non-ACGT fraction of ``[start, start+width)``.

  Args:
    sequence: a chromosome as ASCII codes (``Genome.sequence``).
    starts: ``int64[n]`` window starts; every window must fit.
    width: window length.

  Returns:
    ``(gc, n_fraction)``, both ``float64[n]``; gc is 0 for all-N windows.
  """
  starts = np.asarray(starts, dtype=np.int64)
  gc = np.zeros(starts.shape, dtype=np.float64)
  n_fraction = np.zeros(starts.shape, dtype=np.float64)
  batch = max(1, _GC_BATCH_BASES // width)
  offsets = np.arange(width, dtype=np.int64)
  for i in range(0, starts.size, batch):
    codes = sequence[starts[i:i + batch, None] + offsets]
    acgt = _ACGT_BYTES[codes].sum(axis=1)
    gc_count = _GC_BYTES[codes].sum(axis=1)
    gc[i:i + batch] = np.where(acgt > 0, gc_count / np.maximum(acgt, 1), 0.0)
    n_fraction[i:i + batch] = 1.0 - acgt / width
  return gc, n_fraction


# ---------------------------------------------------------------------------
# BED
# ---------------------------------------------------------------------------


class Coverage:
  """Base pairs of query intervals covered by a set of intervals (one chromosome).

  The intervals are merged into disjoint sorted runs; ``covered(a, b)`` is the
  number of bp of each ``[a, b)`` inside their union, from a prefix sum.
  """

  def __init__(self, starts: np.ndarray, ends: np.ndarray):
    order = np.argsort(starts, kind="stable")
    starts = np.asarray(starts, np.int64)[order]
    ends = np.asarray(ends, np.int64)[order]
    if starts.size:
      reach = np.maximum.accumulate(ends)
      new_run = np.r_[True, starts[1:] > reach[:-1]]
      run_ids = np.cumsum(new_run) - 1
      self.starts = starts[new_run]
      self.ends = np.zeros(self.starts.size, np.int64)
      np.maximum.at(self.ends, run_ids, ends)
    else:
      self.starts = self.ends = np.zeros(0, np.int64)
    self._cumulative = np.r_[0, np.cumsum(self.ends - self.starts)]

  def _covered_before(self, x: np.ndarray) -> np.ndarray:
    k = np.searchsorted(self.starts, x, side="left")
    last_end = np.where(k > 0, self.ends[np.maximum(k - 1, 0)], 0)
    return self._cumulative[k] - np.maximum(last_end - x, 0)

  def covered(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``int64[n]``: bp of ``[a_i, b_i)`` covered by the intervals."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    return self._covered_before(b) - self._covered_before(a)


# ---------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class ChromosomeWindows:
  """The windows of one chromosome, sorted by start.

  Attributes:
    chrom: chromosome name.
    starts: ``int64[n]`` 0-based window starts.
    labels: ``float32[n, num_labels]``.
    gc: ``float64[n]`` GC fraction of each window.
    background: ``bool[n]``, True for sampled negatives (peaks mode).
    stats: counts of dropped windows and of GC-bin borrowing.
  """

  chrom: str
  starts: np.ndarray
  labels: np.ndarray
  gc: np.ndarray
  background: np.ndarray
  stats: dict[str, int]


def _gc_bin(gc: np.ndarray, num_bins: int) -> np.ndarray:
  return np.minimum((gc * num_bins).astype(np.int64), num_bins - 1)


def _allocate(counts: np.ndarray, ratio: float) -> np.ndarray:
  """Integer targets ``~ ratio * counts`` summing to ``round(ratio * total)``."""
  exact = counts * ratio
  targets = np.floor(exact).astype(np.int64)
  remainder = int(round(exact.sum())) - int(targets.sum())
  if remainder > 0:
    targets[np.argsort(-(exact - targets), kind="stable")[:remainder]] += 1
  return targets


def sample_background(rng: np.random.Generator, sequence: np.ndarray,
                      positive_gc: np.ndarray, width: int, ratio: float,
                      num_bins: int, max_n_fraction: float,
                      peaks: Coverage) -> tuple[np.ndarray, np.ndarray, int, int]:
  """GC-matched background windows that overlap no peak.

  Draws uniform random starts in rounds; a candidate counts when it overlaps
  no peak, has at most ``max_n_fraction`` non-ACGT bases and is new; it fills
  its GC bin while the bin needs windows (``ratio`` x the positives in it).
  After ``MAX_SAMPLING_ROUNDS`` rounds, unmet bins take the unused candidates
  nearest in GC.

  Args:
    rng: the chromosome's generator.
    sequence: the chromosome (``Genome.sequence``).
    positive_gc: GC fraction of the positive windows to match.
    width: window length.
    ratio: negatives per positive.
    num_bins: equal-width GC bins on [0, 1].
    max_n_fraction: largest allowed fraction of non-ACGT bases.
    peaks: union of all peaks on the chromosome.

  Returns:
    ``(starts, gc, borrowed, shortfall)``: sorted starts and their GC, how
    many windows came from a neighbouring GC bin, and how many could not be
    found at all (the chromosome ran out of background).
  """
  need = _allocate(np.bincount(_gc_bin(positive_gc, num_bins),
                               minlength=num_bins), ratio)
  total = int(need.sum())
  last_start = sequence.size - width
  if total == 0 or last_start < 0:
    return np.zeros(0, np.int64), np.zeros(0), 0, total
  chosen_starts: list[np.ndarray] = []
  chosen_gc: list[np.ndarray] = []
  seen: set[int] = set()
  spare_starts: list[np.ndarray] = []
  spare_gc: list[np.ndarray] = []
  for _ in range(MAX_SAMPLING_ROUNDS):
    remaining = int(need.sum())
    if remaining == 0:
      break
    draws = rng.integers(0, last_start + 1, size=max(256, 8 * remaining))
    draws = np.array([s for s in dict.fromkeys(draws.tolist()) if s not in seen],
                     dtype=np.int64)
    if draws.size == 0:
      continue
    seen.update(draws.tolist())
    draws = draws[peaks.covered(draws, draws + width) == 0]
    gc, n_fraction = window_composition(sequence, draws, width)
    keep = n_fraction <= max_n_fraction
    draws, gc = draws[keep], gc[keep]
    bins = _gc_bin(gc, num_bins)
    taken = np.zeros(draws.size, dtype=bool)
    for b in np.flatnonzero(need):
      in_bin = np.flatnonzero((bins == b) & ~taken)[:need[b]]
      taken[in_bin] = True
      need[b] -= in_bin.size
    chosen_starts.append(draws[taken])
    chosen_gc.append(gc[taken])
    spare_starts.append(draws[~taken])
    spare_gc.append(gc[~taken])
  borrowed = 0
  if need.sum() > 0:
    spare_s = np.concatenate(spare_starts) if spare_starts else np.zeros(0, np.int64)
    spare_g = np.concatenate(spare_gc) if spare_gc else np.zeros(0)
    used = np.zeros(spare_s.size, dtype=bool)
    centers = (np.arange(num_bins) + 0.5) / num_bins
    for b in np.flatnonzero(need):
      for _ in range(int(need[b])):
        free = np.flatnonzero(~used)
        if free.size == 0:
          break
        pick = free[np.argmin(np.abs(spare_g[free] - centers[b]))]
        used[pick] = True
        need[b] -= 1
        borrowed += 1
    chosen_starts.append(spare_s[used])
    chosen_gc.append(spare_g[used])
  starts = np.concatenate(chosen_starts) if chosen_starts else np.zeros(0, np.int64)
  gc = np.concatenate(chosen_gc) if chosen_gc else np.zeros(0)
  order = np.argsort(starts, kind="stable")
  return starts[order], gc[order], borrowed, int(need.sum())


# ---------------------------------------------------------------------------
# Config and builder
# ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class IntervalsConfig(tfds.core.BuilderConfig):
  """What to build: genome, BEDs, window, splits and negative sampling.

  Attributes:
    fasta: genome FASTA (indexed by ``genereg_jax.data.genome``).
    beds: BED files: one per label (peaks mode) or exactly one with label
      columns (``label_columns=True``).
    label_columns: columns mode (see the module docstring).
    window: window length in bp.
    valid_chromosomes: chromosomes of the ``valid`` split.
    test_chromosomes: chromosomes of the ``test`` split.
    label_names: names of the labels; default: BED file stems (peaks mode)
      or the header's column names (columns mode).
    label_center: peaks mode: bp at the window centre whose peak coverage
      sets the labels; None means the whole window.
    min_overlap: peaks mode: bp of that centre a file's peaks must cover.
    negative_ratio: peaks mode: background windows per positive window.
    gc_bins: peaks mode: equal-width GC bins used for matching.
    max_n_fraction: largest fraction of non-ACGT bases a window may hold.
    seed: seed of the background sampling.
  """

  fasta: str = ""
  beds: tuple[str, ...] = ()
  label_columns: bool = False
  window: int = 1000
  valid_chromosomes: tuple[str, ...] = ()
  test_chromosomes: tuple[str, ...] = ()
  label_names: tuple[str, ...] | None = None
  label_center: int | None = None
  min_overlap: int = 1
  negative_ratio: float = 1.0
  gc_bins: int = 20
  max_n_fraction: float = 0.0
  seed: int = 0

  def __post_init__(self):
    self.beds = tuple(os.fspath(b) for b in self.beds)
    self.fasta = os.fspath(self.fasta)
    self.valid_chromosomes = tuple(self.valid_chromosomes)
    self.test_chromosomes = tuple(self.test_chromosomes)
    if self.label_names is not None:
      self.label_names = tuple(self.label_names)
    problems = []
    if not _CONFIG_NAME.match(self.name or ""):
      problems.append(f"name {self.name!r} must be letters, digits, '_', '.' "
                      "or '-'")
    if not self.fasta:
      problems.append("no FASTA given")
    if not self.beds:
      problems.append("no BED file given")
    if self.label_columns and len(self.beds) != 1:
      problems.append(f"label_columns takes exactly one BED, got "
                      f"{len(self.beds)}")
    if self.window < 1:
      problems.append(f"window {self.window} must be positive")
    center = self.window if self.label_center is None else self.label_center
    if not 1 <= center <= self.window:
      problems.append(f"label_center {self.label_center} must be in "
                      f"[1, window={self.window}]")
    if not 1 <= self.min_overlap <= center:
      problems.append(f"min_overlap {self.min_overlap} must be in "
                      f"[1, label_center={center}]")
    if self.negative_ratio < 0:
      problems.append(f"negative_ratio {self.negative_ratio} is negative")
    if self.gc_bins < 1:
      problems.append(f"gc_bins {self.gc_bins} must be at least 1")
    if not 0 <= self.max_n_fraction <= 1:
      problems.append(f"max_n_fraction {self.max_n_fraction} not in [0, 1]")
    both = sorted(set(self.valid_chromosomes) & set(self.test_chromosomes))
    if both:
      problems.append(f"chromosomes {both} are in both valid and test")
    if (self.label_names is not None and not self.label_columns and
        len(self.label_names) != len(self.beds)):
      problems.append(f"{len(self.label_names)} label_names for "
                      f"{len(self.beds)} BED files")
    if problems:
      raise ValueError(f"IntervalsConfig {self.name!r}: " + "; ".join(problems))

  @property
  def center_bp(self) -> int:
    """Length of the labelled centre of a window."""
    return self.window if self.label_center is None else self.label_center

  def split_of(self, chrom: str) -> str:
    """``train``, ``valid`` or ``test`` for a chromosome."""
    if chrom in self.valid_chromosomes:
      return "valid"
    if chrom in self.test_chromosomes:
      return "test"
    return "train"

  def resolved_label_names(self) -> list[str]:
    """Label names: given, else BED stems or the BED's column names."""
    if self.label_columns:
      names = bed_column_names(self.beds[0])
      if self.label_names is not None:
        if len(self.label_names) != len(names):
          raise ValueError(f"{len(self.label_names)} label_names for the "
                           f"{len(names)} label columns of {self.beds[0]}")
        names = list(self.label_names)
    elif self.label_names is not None:
      names = list(self.label_names)
    else:
      names = [_stem(path) for path in self.beds]
    duplicated = sorted(n for n, c in collections.Counter(names).items() if c > 1)
    if duplicated:
      raise ValueError(f"label names {duplicated} are not unique; rename the "
                       "BED files or pass label_names")
    return names

  def as_dict(self) -> dict[str, Any]:
    """The build parameters, JSON-ready (stored in ``info.metadata``)."""
    keys = ("fasta", "beds", "label_columns", "window", "valid_chromosomes",
            "test_chromosomes", "label_center", "min_overlap", "negative_ratio",
            "gc_bins", "max_n_fraction", "seed")
    return {k: (list(v) if isinstance(v, tuple) else v)
            for k, v in ((k, getattr(self, k)) for k in keys)}


def _stem(path: str) -> str:
  name = os.path.basename(path)
  for suffix in (".gz", ".bed", ".narrowPeak", ".broadPeak", ".narrowpeak",
                 ".broadpeak"):
    if name.endswith(suffix):
      name = name[:-len(suffix)]
  return name


def plan_chromosome(config: IntervalsConfig, chrom: str, sequence: np.ndarray,
                    beds: Sequence[BedFile]) -> ChromosomeWindows:
  """All windows of one chromosome: positives (+ background) or BED rows.

  Args:
    config: the build config.
    chrom: the chromosome.
    sequence: its bases (``Genome.sequence``).
    beds: the parsed BED files (one per label, or the one label BED).

  Returns:
    The chromosome's windows sorted by start.
  """
  width = config.window
  stats = collections.Counter()
  if config.label_columns:
    bed = beds[0]
    rows = bed.on(chrom)
    starts = bed.centers[rows] - width // 2
    labels = bed.labels[rows]
  else:
    starts = np.unique(np.concatenate(
        [bed.centers[bed.on(chrom)] for bed in beds]) - width // 2)
    labels = None
  fits = (starts >= 0) & (starts + width <= sequence.size)
  stats["dropped_off_chromosome"] += int((~fits).sum())
  starts = starts[fits]
  labels = labels[fits] if labels is not None else None
  gc, n_fraction = window_composition(sequence, starts, width)
  clean = n_fraction <= config.max_n_fraction
  stats["dropped_n_fraction"] += int((~clean).sum())
  starts, gc = starts[clean], gc[clean]
  if config.label_columns:
    labels = labels[clean]
    order = np.argsort(starts, kind="stable")
    return ChromosomeWindows(chrom, starts[order], labels[order], gc[order],
                             np.zeros(starts.size, bool), dict(stats))

  coverages = [Coverage(bed.starts[bed.on(chrom)], bed.ends[bed.on(chrom)])
               for bed in beds]
  center_start = starts + (width - config.center_bp) // 2
  labels = np.stack(
      [c.covered(center_start, center_start + config.center_bp)
       >= config.min_overlap for c in coverages], axis=1).astype(np.float32)
  labelled = labels.any(axis=1)
  stats["dropped_unlabelled"] += int((~labelled).sum())
  starts, gc, labels = starts[labelled], gc[labelled], labels[labelled]

  all_peaks = Coverage(
      np.concatenate([bed.starts[bed.on(chrom)] for bed in beds]),
      np.concatenate([bed.ends[bed.on(chrom)] for bed in beds]))
  # Seeded by the chromosome's name so each chromosome's draw is reproducible
  # on its own (Python's hash() is salted per process).
  rng = np.random.default_rng([config.seed, *chrom.encode("utf-8")])
  negatives, negative_gc, borrowed, shortfall = sample_background(
      rng, sequence, gc, width, config.negative_ratio, config.gc_bins,
      config.max_n_fraction, all_peaks)
  stats["negatives_from_neighbour_gc_bins"] += borrowed
  stats["negatives_shortfall"] += shortfall
  all_starts = np.concatenate([starts, negatives])
  order = np.argsort(all_starts, kind="stable")
  return ChromosomeWindows(
      chrom, all_starts[order],
      np.concatenate([labels, np.zeros((negatives.size, len(beds)),
                                       np.float32)])[order],
      np.concatenate([gc, negative_gc])[order],
      np.r_[np.zeros(starts.size, bool), np.ones(negatives.size, bool)][order],
      dict(stats))


class Intervals(sharded.ShardedBuilder):
  """Genome windows labelled by BED files; configured by an ``IntervalsConfig``."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Peaks and label-column modes, GC-matched negatives."}
  BUILDER_CONFIGS: list[IntervalsConfig] = []

  def _config(self) -> IntervalsConfig:
    config = self.builder_config
    if not isinstance(config, IntervalsConfig):
      raise ValueError(
          "the intervals builder needs an IntervalsConfig naming a FASTA and "
          "BED files; build one with: python -m data_builders.intervals.make "
          "--fasta=genome.fa --bed=peaks.bed --window=1000 --name=my_peaks")
    return config

  def _info(self) -> tfds.core.DatasetInfo:
    config = self._config()
    names = config.resolved_label_names()
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.window, 4),
                                             dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(len(names),),
                                          dtype=np.float32),
            "chrom": tfds.features.Text(),
            "start": tfds.features.Scalar(dtype=np.int64),
            "gc": tfds.features.Scalar(dtype=np.float32),
        }),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            label_names=names,
            sequence_length=config.window,
            config=config.as_dict(),
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager
                        ) -> Mapping[str, Any]:
    del dl_manager  # Everything is read from the config's local files.
    config = self._config()
    genome = Genome(config.fasta)
    for chrom in config.valid_chromosomes + config.test_chromosomes:
      if chrom not in genome.sizes:
        raise ValueError(f"held-out chromosome {chrom!r} is not in the FASTA "
                         f"{genome.path}")
    beds = [read_bed(path, genome.sizes, genome.path, config.label_columns)
            for path in config.beds]
    used = set().union(*(set(bed.chroms.tolist()) for bed in beds))
    plans: dict[str, list[ChromosomeWindows]] = {s: [] for s in SPLITS}
    for chrom in genome.sizes:
      if chrom in used:
        plan = plan_chromosome(config, chrom, genome.sequence(chrom), beds)
        plans[config.split_of(chrom)].append(plan)
    self.info.metadata["splits"] = {
        split: _split_stats(chrom_plans, config.label_columns)
        for split, chrom_plans in plans.items() if chrom_plans}
    generators = {}
    for split, chrom_plans in plans.items():
      held_out = {"valid": config.valid_chromosomes,
                  "test": config.test_chromosomes}.get(split)
      if not sum(p.starts.size for p in chrom_plans):
        if held_out:
          raise ValueError(
              f"split {split!r} ({', '.join(held_out)}) has no windows: no "
              "interval of the BED files survives on those chromosomes")
        if split == "train":
          raise ValueError("split 'train' has no windows: every chromosome "
                           "with intervals is held out")
        continue
      generators[split] = self._generate_examples(config.fasta, chrom_plans)
    genome.close()
    return generators

  def _generate_examples(self, fasta: str, plans: Sequence[ChromosomeWindows]):
    # One shard per chromosome: a worker reads its chromosome once.
    return self.split_examples(
        plans, functools.partial(chromosome_examples, fasta=fasta,
                                 width=self._config().window),
        sizes=[plan.starts.size for plan in plans])


def chromosome_examples(plan: ChromosomeWindows, first_key: int, fasta: str,
                        width: int) -> Iterator[dict[str, Any]]:
  """The records of one chromosome's windows, in order (a shard of a split).

  Args:
    plan: the chromosome's windows.
    first_key: unused (records carry their coordinates).
    fasta: the genome FASTA.
    width: window length.
  """
  del first_key
  genome = Genome(fasta)
  try:
    sequence = genome.sequence(plan.chrom)
    for start, label, gc in zip(plan.starts, plan.labels, plan.gc):
      yield {
          "sequence": one_hot_dna(sequence[start:start + width].tobytes()),
          "label": label,
          "chrom": plan.chrom,
          "start": np.int64(start),
          "gc": np.float32(gc),
      }
  finally:
    genome.close()


def _split_stats(plans: Sequence[ChromosomeWindows],
                 label_columns: bool) -> dict[str, Any]:
  labels = np.concatenate([p.labels for p in plans])
  gc = np.concatenate([p.gc for p in plans])
  background = np.concatenate([p.background for p in plans])
  stats = collections.Counter()
  for p in plans:
    stats.update(p.stats)
  summary = {
      "chromosomes": [p.chrom for p in plans],
      "windows": int(labels.shape[0]),
      "positives_per_label": (labels > 0).sum(axis=0).astype(int).tolist(),
      **{k: int(v) for k, v in sorted(stats.items())},
  }
  if not label_columns:
    summary["background_windows"] = int(background.sum())
    summary["mean_gc_positive"] = _mean(gc[~background])
    summary["mean_gc_background"] = _mean(gc[background])
  return summary


def _mean(values: np.ndarray) -> float | None:
  return float(values.mean()) if values.size else None
