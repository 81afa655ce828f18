r"""TSS windows per cell type from FANTOM5 CAGE TSS BED files, one RNA-seq bigWig per cell
type and a genome FASTA (DeeReCT-TSS, Zhou et al. 2021).

``--manual_dir`` holds one genome FASTA (``.fa``/``.fasta``) and ``cell_types.tsv``, a
tab-separated manifest with a header naming, per cell type, its CAGE TSS BED and RNA-seq
bigWig(s) (paths relative to the manual_dir):

  cell_type   cage_bed                                   rnaseq_bigwig           rnaseq_bigwig_minus
  HepG2       HepG2.CNhs12328.ctss.bed.gz                HepG2.plus.bw           HepG2.minus.bw
  K562        K562.robust_peaks.bed                      K562.bw

(``rnaseq_bigwig_minus`` is optional: without it the one bigWig, unstranded, serves both
strands). CAGE BED files are read in either FANTOM5 layout:

* CTSS BED6 (``<sample>.ctss.bed.gz``): ``chrom start end name tag_count strand``, one
  1-bp TSS per line (``start``, 0-based);
* robust / permissive peaks BED9 (``hg19.cage_peak_phase1and2combined_coord.bed.gz``):
  ``chrom start end chr1:564571..564600,+ score strand thickStart thickEnd rgb``; the
  peak's representative TSS is ``thickStart`` (FANTOM5's 1-bp dominant position).

Lines starting with ``track``, ``browser`` or ``#`` are skipped; a score below
``min_score`` drops the TSS. Records, read on the TSS's strand (minus-strand windows
reverse-complemented, their coverage reversed, so the TSS is at ``window // 2`` and
transcription runs left to right, as the release's ``encode_seq``/``encode_cov``):

* label 1: each CAGE TSS of the cell type;
* label 0, *used elsewhere*: a TSS of another cell type with none of this cell type
  within ``tolerant_distance`` (100 bp, the release's positive radius): usage differs by
  cell type, which is the point;
* label 0, *background*: per TSS, ``background_per_tss`` positions 300-5,000 bp up- or
  downstream on the same strand, farther than ``tolerant_distance`` from every TSS of the
  cell type (the release's far-from-TSS negatives of its scanned regions).

Fields: ``sequence [window, 4]``, ``coverage [window]`` (bigWig values, missing = 0),
``label``, ``cell_type`` (index into the manifest's order; metadata ``cell_types`` names
them), ``chrom``, ``position`` (0-based TSS), ``strand``. Chromosomes
``valid_chromosomes`` / ``test_chromosomes`` form those splits, the rest train.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.files import InputFormatError

MANIFEST = "cell_types.tsv"
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")
BACKGROUND_RANGE = (300, 5000)


class FantomFormatError(InputFormatError):
  """A CAGE BED line or manifest row that is not in a FANTOM5 layout."""


@dataclasses.dataclass(frozen=True)
class Tss:
  chrom: str
  position: int  # 0-based.
  strand: str
  score: float


def _open_text(path: str):
  return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def read_tss_bed(path: str, min_score: float = 0.0) -> list[Tss]:
  """TSSs of a FANTOM5 CTSS BED6 or peak BED9 file (see the module docstring)."""
  sites = []
  with _open_text(path) as lines:
    for number, line in enumerate(lines, 1):
      if not line.strip() or line.startswith(("track", "browser", "#")):
        continue
      fields = line.rstrip("\n").split("\t")
      if len(fields) < 6:
        raise FantomFormatError(path, number, f"{len(fields)} columns; a FANTOM5 CAGE BED "
                                "has 6 (CTSS) or 9 (peaks)")
      try:
        start, end = int(fields[1]), int(fields[2])
        score = float(fields[4])
        thick = int(fields[6]) if len(fields) >= 8 else None
      except ValueError as e:
        raise FantomFormatError(path, number, f"not a number: {e}") from None
      strand = fields[5]
      if strand not in "+-" or len(strand) != 1:
        raise FantomFormatError(path, number, f"strand {strand!r}; expected + or -")
      if end <= start:
        raise FantomFormatError(path, number, f"end {end} <= start {start}")
      if thick is not None and not start <= thick < end:
        raise FantomFormatError(path, number, f"thickStart {thick} outside {start}-{end}")
      if score < min_score:
        continue
      position = thick if thick is not None else (start if strand == "+" else end - 1)
      sites.append(Tss(fields[0], position, strand, score))
  return sites


@dataclasses.dataclass(frozen=True)
class CellType:
  name: str
  cage_bed: str
  bigwig: str
  bigwig_minus: str | None = None


def read_manifest(manual_dir: str) -> list[CellType]:
  """The rows of ``cell_types.tsv`` with paths made absolute (files must exist)."""
  path = os.path.join(manual_dir, MANIFEST)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"{manual_dir} needs {MANIFEST} (cell_type, cage_bed, "
                            "rnaseq_bigwig[, rnaseq_bigwig_minus]); see fantom_tss")
  rows = []
  with open(path) as f:
    reader = csv.DictReader(f, delimiter="\t")
    missing = {"cell_type", "cage_bed", "rnaseq_bigwig"} - set(reader.fieldnames or ())
    if missing:
      raise FantomFormatError(path, 1, f"header lacks {sorted(missing)}")
    for number, row in enumerate(reader, 2):
      files = [row["cage_bed"], row["rnaseq_bigwig"]] + (
          [row["rnaseq_bigwig_minus"]] if row.get("rnaseq_bigwig_minus") else [])
      files = [os.path.join(manual_dir, f) for f in files]
      for f in files:
        if not os.path.isfile(f):
          raise FantomFormatError(path, number, f"no file {f}")
      rows.append(CellType(row["cell_type"], *files))
  if not rows:
    raise FantomFormatError(path, None, "no cell types")
  return rows


class _Positions:
  """Sorted TSS positions per (chrom, strand), for 'is there one within d bp'."""

  def __init__(self, sites: Sequence[Tss]):
    keys = {(s.chrom, s.strand) for s in sites}
    self.sorted = {k: np.sort([s.position for s in sites if (s.chrom, s.strand) == k])
                   for k in keys}

  def near(self, chrom: str, strand: str, position: int, distance: int) -> bool:
    positions = self.sorted.get((chrom, strand))
    if positions is None or not len(positions):
      return False
    i = np.searchsorted(positions, position)
    return any(abs(int(positions[j]) - position) <= distance
               for j in (i - 1, i) if 0 <= j < len(positions))


def _coverage(bigwig, chrom: str, start: int, end: int) -> np.ndarray:
  """bigWig values over ``[start, end)``; missing data and off-chromosome bases are 0."""
  values = np.zeros(end - start, np.float32)
  length = bigwig.chroms().get(chrom)
  if length is None:
    return values
  lo, hi = max(start, 0), min(end, length)
  if hi > lo:
    values[lo - start:hi - start] = np.nan_to_num(
        np.asarray(bigwig.values(chrom, lo, hi, numpy=True), np.float32))
  return values


def tss_windows(cell_types: Sequence[CellType], genome: genome_lib.Genome, *,
                window: int = 1001, tolerant_distance: int = 100, min_score: float = 0.0,
                background_per_tss: int = 1, valid_chromosomes: Sequence[str] = ("chr8",),
                test_chromosomes: Sequence[str] = ("chr9",), seed: int = 0
                ) -> Iterator[tuple[str, str, dict]]:
  """``(key, split, record)`` for every window of every cell type."""
  import pyBigWig  # Only this builder needs it.
  half = window // 2
  sites = [read_tss_bed(c.cage_bed, min_score) for c in cell_types]
  sites = [[s for s in group if genome.chromosome(s.chrom)] for group in sites]
  everywhere = {(s.chrom, s.position, s.strand) for group in sites for s in group}

  def split_of(chrom: str) -> str:
    name = genome_lib.without_chr(chrom)
    if name in {genome_lib.without_chr(c) for c in test_chromosomes}:
      return "test"
    if name in {genome_lib.without_chr(c) for c in valid_chromosomes}:
      return "valid"
    return "train"

  for index, (cell, own) in enumerate(zip(cell_types, sites)):
    rng = np.random.default_rng([seed, index])
    positions = _Positions(own)
    plus = pyBigWig.open(cell.bigwig)
    minus = pyBigWig.open(cell.bigwig_minus) if cell.bigwig_minus else plus
    try:

      def record(chrom, position, strand, label, kind):
        fasta_chrom = genome.chromosome(chrom)
        start, end = position - half, position + window - half
        text = genome.fetch(fasta_chrom, start, end).upper()
        coverage = _coverage(plus if strand == "+" else minus, chrom, start, end)
        if strand == "-":
          text, coverage = text.translate(_COMPLEMENT)[::-1], coverage[::-1]
        return (f"{cell.name}:{chrom}:{position}:{strand}:{kind}", split_of(chrom), {
            "sequence": encoding.one_hot_dna(text), "coverage": coverage.copy(),
            "label": np.int32(label), "cell_type": np.int32(index), "chrom": chrom,
            "position": np.int64(position), "strand": strand})

      for site in own:
        yield record(site.chrom, site.position, site.strand, 1, "tss")
        for n in range(background_per_tss):
          for _ in range(20):
            offset = int(rng.integers(*BACKGROUND_RANGE)) * (1 if rng.random() < 0.5 else -1)
            position = site.position + offset
            size = genome.sizes[genome.chromosome(site.chrom)]
            if half <= position < size - half and not positions.near(
                site.chrom, site.strand, position, tolerant_distance):
              yield record(site.chrom, position, site.strand, 0, f"background{n}")
              break
      for chrom, position, strand in sorted(everywhere):
        if not positions.near(chrom, strand, position, tolerant_distance):
          yield record(chrom, position, strand, 0, "elsewhere")
    finally:
      plus.close()
      if minus is not plus:
        minus.close()


@dataclasses.dataclass(eq=False)
class FantomTSSConfig(tfds.core.BuilderConfig):
  """Window, positive radius, score cut-off, negatives and held-out chromosomes."""
  window: int = 1001
  tolerant_distance: int = 100
  min_score: float = 0.0
  background_per_tss: int = 1
  valid_chromosomes: tuple[str, ...] = ("chr8",)
  test_chromosomes: tuple[str, ...] = ("chr9",)
  seed: int = 0


class FantomTSS(tfds.core.GeneratorBasedBuilder):
  """1,001-bp windows + RNA-seq coverage labelled TSS / not, per cell type (FANTOM5)."""

  name = "fantom_tss"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [FantomTSSConfig(name="default", description="DeeReCT-TSS windows.")]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _info(self) -> tfds.core.DatasetInfo:
    window = self.builder_config.window
    features = tfds.features.FeaturesDict({
        "sequence": tfds.features.Tensor(shape=(window, 4), dtype=np.uint8),
        "coverage": tfds.features.Tensor(shape=(window,), dtype=np.float32),
        "label": tfds.features.Scalar(dtype=np.int32),
        "cell_type": tfds.features.Scalar(dtype=np.int32),
        "chrom": tfds.features.Text(), "position": tfds.features.Scalar(dtype=np.int64),
        "strand": tfds.features.Text()})
    return tfds.core.DatasetInfo(builder=self, description=__doc__, features=features,
                                 disable_shuffling=True,
                                 metadata=tfds.core.MetadataDict())

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    cell_types = read_manifest(manual_dir)
    fastas = sorted(os.path.join(manual_dir, f) for f in os.listdir(manual_dir)
                    if f.lower().endswith((".fa", ".fasta", ".fa.gz", ".fasta.gz")))
    if len(fastas) != 1:
      raise FileNotFoundError(f"{manual_dir} needs exactly one genome FASTA; found {fastas}")
    self.info.metadata.update(cell_types=[c.name for c in cell_types],
                              window=self.builder_config.window)
    config = self.builder_config
    records: dict[str, list] = {"train": [], "valid": [], "test": []}
    with genome_lib.Genome(fastas[0]) as genome:
      for key, split, record in tss_windows(
          cell_types, genome, window=config.window,
          tolerant_distance=config.tolerant_distance, min_score=config.min_score,
          background_per_tss=config.background_per_tss,
          valid_chromosomes=config.valid_chromosomes,
          test_chromosomes=config.test_chromosomes, seed=config.seed):
        records[split].append((key, record))
    # A split with no records (a small input) is left out: TFDS cannot write it empty.
    return {split: self._generate_examples(rows) for split, rows in records.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
