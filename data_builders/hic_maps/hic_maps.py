"""Akita training data from real contact matrices: .cool / .mcool / .hic + genome FASTA.

The real-format builder for contact-map models — Akita (Fudenberg et al., Nat. Methods
2020) and Orca's 1-Mb model (Zhou, Nat. Genet. 2022). Inputs, all user files:

  targets    one contact matrix per target (cell type): ``.cool`` or one resolution
             of an ``.mcool`` (read with cooler, balanced by its ``weight`` column) or
             a ``.hic`` (read with hictkpy, balanced by a stored normalisation, KR by
             default). The list is Akita's ``targets.txt`` (tab-separated with a header
             naming at least ``identifier`` and ``file``, optionally ``clip``; relative
             paths are relative to the table) or ``NAME:path`` arguments.
  genome     the FASTA the maps were aligned to (``genereg_jax.data.genome``: checked,
             indexed, read with pyfaidx; ``chr`` prefixes are matched either way).
  windows    a BED of ``seq_length`` windows (``chrom start end [split]``; a fourth
             column ``train``/``valid``/``test`` picks the split, as Akita's
             ``sequences.bed``), or tiles over every chromosome present in all
             matrices and the FASTA with ``stride_bp``; splits then come from
             chromosome hold-outs (``valid_chroms``, ``test_chroms``, ``exclude_chroms``).

Each window's target is ``genereg_jax.data.contact_maps.akita_targets`` of every matrix:
basenji ``akita_data_read.py --as_obsexp`` exactly (adaptive coarse-grain, distance-
normalised observed/expected, log, clip, optional Gaussian smoothing, diagonal offset,
crop), filtered bins NaN (``mask_filtered_bins``). Windows with more than
``max_filtered_fraction`` of their cropped bins filtered in any target are dropped
(Akita only warns above 50%; such windows are mostly gaps) and counted in the metadata.

Records: ``sequence`` uint8 ``[seq_length, 4]`` (A,C,G,T; N all zeros), ``target``
float32 ``[n_pairs, n_targets]`` (``np.triu_indices(n_bins, diagonal_offset)`` order),
``chrom`` and ``start``. Metadata: ``seq_length``, ``bin_size``, ``n_bins`` (cropped),
``crop_bins``, ``diagonal_offset``, ``n_pairs``, ``target_names``, ``preprocessing``,
``sources``, split chromosomes and per-split counts. Defaults are Akita's: 1,048,576 bp,
2,048-bp bins, crop 32 bins (448 left), offset 2, clip 2, no smoothing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import contact_maps
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text
from genereg_jax.data.encoding import one_hot_dna
from genereg_jax.files import InputFormatError
from genereg_jax.nn import conv2d

SPLITS: tuple[str, ...] = ("train", "valid", "test")


@dataclasses.dataclass(frozen=True)
class Target:
  """One contact matrix: its name, file and clip of the log observed/expected values."""

  name: str
  path: str
  clip: float = contact_maps.AKITA_CLIP


def parse_target(spec: str) -> Target:
  """``"NAME:path"`` -> ``Target`` (Akita's clip)."""
  name, sep, path = spec.partition(":")
  if not sep or not name or not path:
    raise ValueError(f"target {spec!r} must look like NAME:path.mcool")
  return Target(name, path)


def read_targets_table(path: str | os.PathLike) -> tuple[Target, ...]:
  """Akita's ``targets.txt``: a header with ``identifier`` and ``file`` (``clip`` optional)."""
  path = os.fspath(path)
  header, targets = None, []
  for number, line in text.numbered_lines(path):
    fields = line.rstrip("\r\n").split("\t")
    if not line.strip() or line.startswith("#"):
      continue
    if header is None:
      header = fields
      missing = [c for c in ("identifier", "file") if c not in header]
      if missing:
        raise InputFormatError(path, number, f"the header needs columns {missing} "
                                             f"(Akita targets.txt); got {header}")
      continue
    if len(fields) != len(header):
      raise InputFormatError(path, number, f"{len(fields)} tab-separated fields, the "
                                           f"header has {len(header)}")
    row = dict(zip(header, fields))
    file = row["file"]
    if not os.path.isabs(file):
      file = os.path.join(os.path.dirname(os.path.abspath(path)), file)
    clip = contact_maps.AKITA_CLIP
    if row.get("clip", "") != "":
      try:
        clip = float(row["clip"])
      except ValueError:
        raise InputFormatError(path, number, f"clip {row['clip']!r} is not a number") \
            from None
      if not clip > 0:
        raise InputFormatError(path, number, f"clip must be > 0, got {clip}")
    targets.append(Target(row["identifier"], file, clip))
  if not targets:
    raise InputFormatError(path, None, "no targets listed")
  names = [t.name for t in targets]
  if len(set(names)) != len(names):
    raise InputFormatError(path, None, f"target identifiers repeat: {names}")
  return tuple(targets)


@dataclasses.dataclass(eq=False)
class HicMapsConfig(tfds.core.BuilderConfig):
  """One dataset's files, geometry, preprocessing and splits; made from arguments.

  Attributes:
    fasta: genome FASTA.
    targets: the contact matrices, one target column each.
    resolution: bin size in bp (the ``.mcool`` / ``.hic`` resolution read).
    hic_normalization: normalisation of ``.hic`` files (``KR``, ``VC``, ``SCALE`` ...,
      or ``NONE`` for raw counts).
    seq_length: bp per window (a multiple of ``resolution``).
    crop_bins: bins cropped at each side of the map.
    diagonal_offset: diagonals left out of the triangle.
    kernel_stddev: Gaussian smoothing sd in bins (0: none).
    mask_filtered_bins: keep filtered bins NaN instead of Akita's interpolation.
    max_filtered_fraction: drop windows with more filtered cropped bins in a target.
    windows_bed: BED of windows; empty tiles the chromosomes.
    stride_bp: tiling stride (default ``seq_length // 2``).
    valid_chroms, test_chroms, exclude_chroms: chromosome hold-outs.
  """

  fasta: str = ""
  targets: tuple[Target, ...] = ()
  resolution: int = 2_048
  hic_normalization: str = contact_maps.HIC_NORMALIZATION
  seq_length: int = 1_048_576
  crop_bins: int = 32
  diagonal_offset: int = contact_maps.AKITA_DIAGONAL_OFFSET
  kernel_stddev: float = 0.0
  mask_filtered_bins: bool = True
  max_filtered_fraction: float = 0.5
  windows_bed: str = ""
  stride_bp: int = 0
  valid_chroms: tuple[str, ...] = ()
  test_chroms: tuple[str, ...] = ()
  exclude_chroms: tuple[str, ...] = ()

  def __post_init__(self):
    if not self.fasta or not self.targets:
      raise ValueError("hic_maps needs a FASTA and at least one contact matrix")
    if self.seq_length % self.resolution:
      raise ValueError(f"seq_length {self.seq_length} is not a multiple of the "
                       f"{self.resolution}-bp resolution")
    if self.n_bins - self.diagonal_offset < 1:
      raise ValueError(f"crop_bins {self.crop_bins} and diagonal_offset "
                       f"{self.diagonal_offset} leave no map of {self.total_bins} bins")
    overlap = set(self.valid_chroms) & set(self.test_chroms)
    if overlap:
      raise ValueError(f"chromosomes {sorted(overlap)} are in both valid and test")
    names = [t.name for t in self.targets]
    if len(set(names)) != len(names):
      raise ValueError(f"target names repeat: {names}")
    if self.stride_bp < 0 or self.stride_bp % self.resolution:
      raise ValueError(f"stride_bp {self.stride_bp} must be a non-negative multiple of "
                       f"{self.resolution}")

  @property
  def total_bins(self) -> int:
    return self.seq_length // self.resolution

  @property
  def n_bins(self) -> int:
    return self.total_bins - 2 * self.crop_bins

  @property
  def n_pairs(self) -> int:
    return conv2d.num_pairs(self.n_bins, self.diagonal_offset)

  @property
  def stride(self) -> int:
    return self.stride_bp or self.seq_length // 2

  def preprocessing(self, target: Target) -> contact_maps.AkitaPreprocessing:
    return contact_maps.AkitaPreprocessing(
        diagonal_offset=self.diagonal_offset, clip=target.clip,
        kernel_stddev=self.kernel_stddev, crop_bins=self.crop_bins,
        mask_filtered_bins=self.mask_filtered_bins)

  def split_of(self, chrom: str) -> str | None:
    """The split of a chromosome's windows (None: excluded); names match with or
    without ``chr``."""
    def listed(names):
      return genome_lib.match_chromosome(chrom, names) is not None
    if listed(self.exclude_chroms):
      return None
    if listed(self.test_chroms):
      return "test"
    if listed(self.valid_chroms):
      return "valid"
    return "train"


@dataclasses.dataclass(frozen=True)
class Window:
  """``[start, end)`` of ``chrom`` (FASTA spelling) in ``split``."""

  chrom: str
  start: int
  end: int
  split: str


def read_windows(path: str | os.PathLike, config: HicMapsConfig,
                 sizes: Mapping[str, int]) -> list[Window]:
  """Windows of a BED (``chrom start end [split]``), checked against ``config``."""
  path = os.fspath(path)
  windows = []
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith(("#", "track", "browser")):
      continue
    fields = line.split()
    if len(fields) < 3:
      raise InputFormatError(path, number, f"expected chrom, start, end; got {len(fields)} "
                                           "field(s)")
    start, end = text.ascii_int(fields[1]), text.ascii_int(fields[2])
    if start is None or end is None or start < 0:
      raise InputFormatError(path, number, f"start/end {fields[1]!r}, {fields[2]!r} are "
                                           "not non-negative integers")
    if end - start != config.seq_length:
      raise InputFormatError(path, number, f"window is {end - start} bp; seq_length is "
                                           f"{config.seq_length}")
    if start % config.resolution:
      raise InputFormatError(path, number, f"start {start} is not a multiple of the "
                                           f"{config.resolution}-bp bins")
    chrom = genome_lib.match_chromosome(fields[0], sizes)
    if chrom is None:
      raise InputFormatError(path, number, f"chromosome {fields[0]!r} is not in every "
                                           "contact matrix and the FASTA")
    if end > sizes[chrom]:
      raise InputFormatError(path, number, f"window ends at {end}, past {chrom}'s "
                                           f"{sizes[chrom]} bp")
    split = fields[3] if len(fields) > 3 and fields[3] in SPLITS else config.split_of(chrom)
    if split is not None:
      windows.append(Window(chrom, start, end, split))
  return windows


def tile_windows(config: HicMapsConfig, sizes: Mapping[str, int]) -> list[Window]:
  """``seq_length`` windows every ``stride`` bp over each chromosome, in input order."""
  windows = []
  for chrom, size in sizes.items():
    split = config.split_of(chrom)
    if split is None:
      continue
    for start in range(0, size - config.seq_length + 1, config.stride):
      windows.append(Window(chrom, start, start + config.seq_length, split))
  return windows


class WindowReader:
  """Opens the FASTA and matrices once; reads one window's record."""

  def __init__(self, config: HicMapsConfig):
    self.config = config
    self.genome = genome_lib.Genome(config.fasta)
    self.matrices = [contact_maps.ContactMatrix(t.path, config.resolution,
                                                config.hic_normalization)
                     for t in config.targets]

  def shared_sizes(self) -> dict[str, int]:
    """``{FASTA chromosome: length}`` of chromosomes in the FASTA and every matrix."""
    sizes = {}
    for chrom, length in self.genome.sizes.items():
      names = [genome_lib.match_chromosome(chrom, m.chromosomes) for m in self.matrices]
      if all(names):
        sizes[chrom] = min([length] + [m.chromosomes[n]
                                       for m, n in zip(self.matrices, names)])
    return sizes

  def example(self, window: Window) -> tuple[dict[str, Any], float]:
    """The record of ``window`` and its largest filtered fraction over targets."""
    config = self.config
    columns, worst = [], 0.0
    for target, matrix in zip(config.targets, self.matrices):
      chrom = genome_lib.match_chromosome(window.chrom, matrix.chromosomes)
      balanced, counts = matrix.fetch(chrom, window.start, window.end)
      crop = slice(config.crop_bins, config.total_bins - config.crop_bins)
      filtered = np.isnan(balanced[crop, crop]).all(axis=0)
      worst = max(worst, float(filtered.mean()))
      if filtered.all():
        columns.append(np.full(config.n_pairs, np.nan, np.float32))
        continue
      columns.append(contact_maps.akita_targets(balanced, counts,
                                                config.preprocessing(target)))
    sequence = one_hot_dna(self.genome.fetch(window.chrom, window.start, window.end))
    return {"sequence": sequence, "target": np.stack(columns, -1),
            "chrom": window.chrom, "start": window.start}, worst

  def close(self) -> None:
    self.genome.close()


class HicMaps(tfds.core.GeneratorBasedBuilder):
  """Sequence windows and Akita-preprocessed contact-map triangles from real files."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS: list[HicMapsConfig] = []

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    raw = tfds.features.Encoding.BYTES
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.seq_length, 4),
                                             dtype=np.uint8, encoding=raw),
            "target": tfds.features.Tensor(shape=(config.n_pairs, len(config.targets)),
                                           dtype=np.float32, encoding=raw),
            "chrom": tfds.features.Text(),
            "start": tfds.features.Scalar(dtype=np.int64),
        }),
        supervised_keys=("sequence", "target"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            seq_length=config.seq_length,
            bin_size=config.resolution,
            n_bins=config.n_bins,
            crop_bins=config.crop_bins,
            diagonal_offset=config.diagonal_offset,
            n_pairs=config.n_pairs,
            target_names=[t.name for t in config.targets],
            preprocessing={
                "clip": [t.clip for t in config.targets],
                "kernel_stddev": config.kernel_stddev,
                "mask_filtered_bins": config.mask_filtered_bins,
                "max_filtered_fraction": config.max_filtered_fraction,
                "hic_normalization": config.hic_normalization,
                "coarsegrain_cutoff": contact_maps.COARSEGRAIN_CUTOFF,
                "distance_bin_ratio": contact_maps.DISTANCE_BIN_RATIO},
            sources={"fasta": config.fasta, "targets": [t.path for t in config.targets],
                     "windows_bed": config.windows_bed},
            valid_chroms=list(config.valid_chroms),
            test_chroms=list(config.test_chroms),
            exclude_chroms=list(config.exclude_chroms),
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Local files named by the config.
    config = self.builder_config
    reader = WindowReader(config)  # Also checks that every file opens.
    try:
      sizes = reader.shared_sizes()
    finally:
      reader.close()
    if not sizes:
      raise ValueError("hic_maps: no chromosome is in the FASTA and every contact matrix")
    windows = (read_windows(config.windows_bed, config, sizes) if config.windows_bed
               else tile_windows(config, sizes))
    by_split = {split: [w for w in windows if w.split == split] for split in SPLITS}
    empty = [s for s in SPLITS if not by_split[s]]
    if empty:  # TFDS cannot write an empty split.
      raise ValueError(f"hic_maps: split(s) {empty} have no windows; check valid_chroms="
                       f"{list(config.valid_chroms)}, test_chroms={list(config.test_chroms)}"
                       f", exclude_chroms={list(config.exclude_chroms)} (and the BED's "
                       f"split column) against the chromosomes {sorted(sizes)}")
    self.info.metadata["examples"] = {}
    return {split: self._generate_examples(by_split[split], split) for split in SPLITS}

  def _generate_examples(self, windows: Sequence[Window], split: str
                         ) -> Iterator[tuple[int, dict]]:
    reader = WindowReader(self.builder_config)
    dropped = 0
    try:
      for index, window in enumerate(windows):
        example, filtered = reader.example(window)
        if filtered > self.builder_config.max_filtered_fraction:
          dropped += 1
          continue
        yield index, example
    finally:
      reader.close()
    self.info.metadata["examples"][split] = {"windows": len(windows),
                                             "dropped_filtered": dropped}
