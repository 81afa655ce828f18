"""Labelled PAS windows for DeeReCT-PolyA (Xia et al. 2019) from real files.

Configs, each reading ``manual_dir``:

* ``dragon``, ``omni``, ``mouse``: the PAS datasets as the DeeReCT-PolyA repository
  (``likesum/DeeReCT-PolyA``, ``data/``) lays them out. One 206-nt sequence per line
  (100 nt, the PAS hexamer at 100-105, 100 nt; Dragon PolyA Spotter's human set,
  Kalkatawi et al. 2012; Omni human; Xiao et al.'s mouse BL/SP sets), in files whose
  path holds ``pos``/``positive`` or ``neg``/``negative`` and the hexamer:
  ``positive5fold/AATAAA_fold_1.txt`` / ``negatives5fold/negAATAAA_fold_1.txt``
  (Dragon), ``positive/AATAAA.txt`` / ``negative/AATAAA.txt`` (Omni),
  ``bl_mouse/positive/posAATAAA.txt`` / ``.../negative/negAATAAA.txt`` (mouse). Splits as
  the reference's ``data_prep.py``: five folds, three for training, one validation, one
  test -- the files' folds 1-3 / 4 / 5 where named (Dragon), otherwise a fold from a
  CRC32 of the sequence (stable across runs and file orders).
* ``polyasite``: cleavage sites from a PolyASite 2.0 atlas BED (``*.bed[.gz]``: chrom,
  start, end, ``chrom:position:strand`` id, score, strand, ...) or a PolyA_DB-style TSV
  (``*.tsv``/``*.txt`` with columns ``Chromosome``, ``Position``, ``Strand``) plus the
  genome FASTA (``*.fa``/``*.fasta``[``.gz``]) in ``manual_dir``. Positives are built as
  the datasets above were: the strongest hexamer variant starting 10-40 nt upstream of
  the site (sites with none are skipped), and the 206-nt window around it on the
  site's strand. Negatives as DeeReCT-PolyA's: the same hexamer, on the same strand,
  250-5,000 nt upstream of the site and at least ``NEGATIVE_MIN_DISTANCE`` nt from every
  annotated site, one per positive. Folds from the CRC32 of the site id.

Records: ``sequence [206, 4]`` (ACGT one-hot, N zeros), ``label`` (1 PAS), ``hexamer``.
Malformed lines raise `genereg_jax.files.InputFormatError` (``path:line: message``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import zlib
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text
from genereg_jax.files import InputFormatError

WINDOW, HEXAMER_START = 206, 100
#: The hexamers of the Dragon/Omni sets (strongest first) and the mouse set's extra two.
HEXAMERS = ("AATAAA", "ATTAAA", "AGTAAA", "TATAAA", "CATAAA", "GATAAA", "AATATA", "AATACA",
            "AATAGA", "ACTAAA", "AAGAAA", "AAAAAG", "AATGAA", "TTTAAA")
NEGATIVE_MIN_DISTANCE = 300
_HEXAMER_IN_NAME = re.compile(r"(?:^|[^ACGT])([ACGT]{6})(?:[^ACGT]|$)")
_FOLD_IN_NAME = re.compile(r"fold_?(\d+)")
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def split_of_fold(fold: int) -> str:
  """Folds 1-3 train, 4 valid, 5 test (``data_prep.py``: num_folds - 2, num_folds - 1)."""
  return "train" if fold <= 3 else ("valid" if fold == 4 else "test")


def hashed_fold(key: str) -> int:
  return zlib.crc32(key.encode()) % 5 + 1


def file_label(path: str) -> int | None:
  """1 for a positives file, 0 for negatives, None for anything else (README ...)."""
  for part in reversed(os.path.normpath(path).split(os.sep)):
    lower = part.lower()
    if lower.startswith("neg"):
      return 0
    if lower.startswith("pos"):
      return 1
  return None


def read_window_file(path: str) -> Iterator[tuple[int, str]]:
  """``(line number, sequence)`` of a one-window-per-line file, checked."""
  for number, line in text.numbered_lines(path):
    sequence = line.strip().upper()
    if not sequence:
      continue
    if len(sequence) != WINDOW or set(sequence) - set("ACGTN"):
      raise InputFormatError(path, number, f"expected a {WINDOW}-nt A/C/G/T/N sequence, got "
                                           f"{len(sequence)} characters {sequence[:20]!r}...")
    yield number, sequence


def folder_records(manual_dir: str) -> Iterator[tuple[str, str, dict]]:
  """``(key, split, record)`` of every window file under ``manual_dir``."""
  found = False
  for root, dirs, files in os.walk(manual_dir):
    dirs.sort()
    for name in sorted(files):
      path = os.path.join(root, name)
      label = file_label(os.path.relpath(path, manual_dir))
      hexamer = _HEXAMER_IN_NAME.search(name.replace("neg", "_").replace("pos", "_"))
      if label is None or not name.endswith(".txt") or not hexamer:
        continue
      found = True
      hexamer = hexamer.group(1)
      fold = _FOLD_IN_NAME.search(name)
      for number, sequence in read_window_file(path):
        if sequence[HEXAMER_START:HEXAMER_START + 6] != hexamer:
          raise InputFormatError(path, number, f"the file is named for {hexamer} but the "
                                 f"window holds {sequence[100:106]!r} at 100-105")
        split = split_of_fold(int(fold.group(1)) if fold else hashed_fold(sequence))
        key = f"{os.path.relpath(path, manual_dir)}:{number}"
        yield key, split, {"sequence": encoding.one_hot_dna(sequence), "label": label,
                           "hexamer": hexamer}
  if not found:
    raise FileNotFoundError(
        f"no positive/negative window files (e.g. positive/AATAAA.txt, "
        f"negatives5fold/negAATAAA_fold_1.txt) under {manual_dir}")


@dataclasses.dataclass(frozen=True)
class Site:
  chrom: str
  position: int  # 0-based cleavage position.
  strand: str
  key: str


def read_sites(path: str) -> list[Site]:
  """PolyASite 2.0 atlas BED or a PolyA_DB-style TSV (Chromosome, Position, Strand)."""
  sites, columns = [], None
  is_bed = ".bed" in os.path.basename(path)
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith(("#", "track", "browser")):
      continue
    fields = line.rstrip("\r\n").split("\t")
    if is_bed:
      if len(fields) < 6 or fields[5] not in "+-" or len(fields[5]) != 1:
        raise InputFormatError(path, number, "expected BED6+ (chrom, start, end, id, score, "
                                             "strand '+'/'-')")
      start, end = text.ascii_int(fields[1]), text.ascii_int(fields[2])
      if start is None or end is None or end <= start:
        raise InputFormatError(path, number, f"bad start/end {fields[1]!r}, {fields[2]!r}")
      parts = fields[3].split(":")
      position = text.ascii_int(parts[1]) if len(parts) == 3 else None
      if position is None:  # No representative site in the id: the 3'-most base.
        position = end - 1 if fields[5] == "+" else start
      sites.append(Site(fields[0], position, fields[5], fields[3]))
      continue
    if columns is None:
      names = [f.strip().lower() for f in fields]
      try:
        columns = [names.index(n) for n in ("chromosome", "position", "strand")]
      except ValueError:
        raise InputFormatError(path, number, "the header needs Chromosome, Position and "
                                             f"Strand columns; got {fields}") from None
      continue
    try:
      chrom, position, strand = (fields[i].strip() for i in columns)
    except IndexError:
      raise InputFormatError(path, number, f"expected {len(names)} columns") from None
    value = text.ascii_int(position)
    if value is None or strand not in ("+", "-"):
      raise InputFormatError(path, number, f"bad position/strand {position!r} {strand!r}")
    sites.append(Site(chrom, value - 1, strand, f"{chrom}:{value}:{strand}"))  # 1-based.
  return sites


def stranded(genome: genome_lib.Genome, chrom: str, start: int, end: int, strand: str) -> str:
  """Bases ``[start, end)`` read 5'->3' on ``strand``."""
  bases = genome.fetch(chrom, start, end).upper()
  return bases if strand == "+" else bases.translate(_COMPLEMENT)[::-1]


def site_windows(sites: list[Site], genome: genome_lib.Genome,
                 seed: int = 0) -> Iterator[tuple[str, str, dict]]:
  """Positive and negative windows around annotated sites (module docstring)."""
  rng = np.random.default_rng(seed)
  by_strand: dict[tuple[str, str], np.ndarray] = {}
  for site in sites:
    by_strand.setdefault((site.chrom, site.strand), []).append(site.position)
  by_strand = {k: np.sort(v) for k, v in by_strand.items()}

  def near_site(chrom, strand, position):
    positions = by_strand[(chrom, strand)]
    i = np.searchsorted(positions, position)
    return any(abs(positions[j] - position) < NEGATIVE_MIN_DISTANCE
               for j in (i - 1, i) if 0 <= j < len(positions))

  def window_at(chrom, strand, hexamer_5p):
    # 100 nt 5' of the hexamer, the hexamer, 100 nt 3' of it, read on ``strand``;
    # ``hexamer_5p`` is the genomic position of the hexamer's 5' base.
    upstream = HEXAMER_START if strand == "+" else WINDOW - HEXAMER_START - 1
    start = hexamer_5p - upstream
    return stranded(genome, chrom, start, start + WINDOW, strand)

  for site in sites:
    if genome.chromosome(site.chrom) is None:
      continue
    chrom = genome.chromosome(site.chrom)
    upstream = stranded(genome, chrom, site.position - 45, site.position, "+") \
        if site.strand == "+" else stranded(genome, chrom, site.position + 1,
                                            site.position + 46, "-")
    # upstream[i] is the base 45 - i nt upstream of the site (5'->3').
    best = None
    for hexamer in HEXAMERS[:12]:
      hits = [m.start() for m in re.finditer(f"(?={hexamer})", upstream)]
      hits = [45 - h for h in hits if 10 <= 45 - h <= 40]
      if hits:
        best = (hexamer, min(hits, key=lambda d: abs(d - 21)))
        break
    if best is None:
      continue
    hexamer, distance = best
    fold = hashed_fold(site.key)
    sign = 1 if site.strand == "+" else -1
    positive = window_at(chrom, site.strand, site.position - sign * distance)
    yield f"{site.key}:pos", split_of_fold(fold), {
        "sequence": encoding.one_hot_dna(positive), "label": 1, "hexamer": hexamer}
    # A negative: the same hexamer 250-5,000 nt upstream, far from every site.
    region_start = site.position - sign * 5000
    lo, hi = sorted((region_start, site.position - sign * 250))
    region = genome.fetch(chrom, lo, hi).upper()
    if site.strand == "-":
      region = region.translate(_COMPLEMENT)[::-1]
    candidates = [m.start() for m in re.finditer(f"(?={hexamer})", region)]
    rng.shuffle(candidates)
    for offset in candidates:
      # Genomic start of the hexamer's 5' end and the implied window.
      hexamer_5p = lo + offset if site.strand == "+" else hi - 1 - offset
      if near_site(site.chrom, site.strand, hexamer_5p + sign * 21):  # Its would-be site.
        continue
      negative = window_at(chrom, site.strand, hexamer_5p)
      if negative[HEXAMER_START:HEXAMER_START + 6] == hexamer and "N" not in negative:
        yield f"{site.key}:neg", split_of_fold(fold), {
            "sequence": encoding.one_hot_dna(negative), "label": 0, "hexamer": hexamer}
        break


def _find(manual_dir: str, suffixes: tuple[str, ...]) -> list[str]:
  return sorted(os.path.join(manual_dir, f) for f in os.listdir(manual_dir)
                if f.lower().endswith(suffixes))


@dataclasses.dataclass(eq=False)
class PolyASitesConfig(tfds.core.BuilderConfig):
  """``source``: ``"folders"`` (Dragon/Omni/mouse window files) or ``"sites"``."""
  source: str = "folders"


class PolyASites(tfds.core.GeneratorBasedBuilder):
  """206-nt windows around PAS hexamers labelled PAS / not PAS (DeeReCT-PolyA)."""

  name = "polya_sites"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      PolyASitesConfig(name="dragon", description="Dragon human PAS set (5 named folds)."),
      PolyASitesConfig(name="omni", description="Omni human PAS set."),
      PolyASitesConfig(name="mouse", description="Xiao et al. mouse BL/SP PAS sets."),
      PolyASitesConfig(name="polyasite", source="sites",
                       description="PolyASite/PolyA_DB sites + genome FASTA."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(WINDOW, 4), dtype=np.uint8),
            "label": tfds.features.Scalar(dtype=np.int32),
            "hexamer": tfds.features.Text()}),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(window=WINDOW, hexamer_start=HEXAMER_START,
                                        label_names=["pas"]))

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    records: dict[str, list] = {"train": [], "valid": [], "test": []}
    if self.builder_config.source == "folders":
      source = folder_records(manual_dir)
    else:
      site_files = _find(manual_dir, (".bed", ".bed.gz", ".tsv", ".txt", ".tsv.gz", ".txt.gz"))
      fastas = _find(manual_dir, (".fa", ".fasta", ".fa.gz", ".fasta.gz"))
      if not site_files or len(fastas) != 1:
        raise FileNotFoundError(f"{manual_dir} needs a sites BED/TSV and one genome FASTA; "
                                f"found {site_files} and {fastas}")
      sites = [s for path in site_files for s in read_sites(path)]
      genome = genome_lib.Genome(fastas[0])
      source = site_windows(sites, genome)
    for key, split, record in source:
      records[split].append((key, record))
    # A split with no records (a small input) is left out: TFDS cannot write it empty.
    return {split: self._generate_examples(rows) for split, rows in records.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
