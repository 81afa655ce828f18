"""Synthetic promoters with a planted, position-dependent core-promoter grammar.

The embedded default for the promoter models (DESIGN.md, decision 8). SYNTHETIC, and says
so: a simplified version of the metazoan core promoter (Juven-Gershon & Kadonaga, Dev Biol
2010; Carninci et al., Nat Genet 2006 for the TATA vs CpG classes) and of the sigma70
bacterial promoter (Harley & Reynolds, NAR 1987).

Eukaryote grammar, around a TSS at ``t`` (the window's +1):

* a TATA box (``TATA_BOXES``) starting ``d`` nt upstream: ``W_TATA * exp(-((d - 30) / 3)^2)``
  -- strongest at the canonical -30, gone by -22 or -38;
* an initiator (``INITIATORS``, YYANWYY with its A on +1) starting ``o`` nt from its
  canonical -2: ``W_INR * exp(-o^2)`` -- only the exact place counts;
* a CpG island over -150..+50: ``W_CPG * clip((CpG observed/expected - 0.45) / 0.3, 0, 1)``
  (the depleted background, ~0.15, scores 0; an island, ~1, the full weight);

``strength = sum of the three`` (`eukaryote_strength`, the oracle; it reads any sequence).
Promoters are built as TATA + Inr (a "TATA" promoter) or CpG island + Inr (a "CpG"
promoter), never one element alone, so their strength is at least ``PROMOTER_THRESHOLD``
= 1 and a single element's is below it (the oracle agrees with the planted labels on
more than 99% of windows; the rest are background CpG or island draws at the edges).
The background has GC fraction 0.42 with CpG depleted to 15% (as in mammalian
genomes) and is scrubbed of TATA boxes and initiators outside planted elements, so the
planted elements are the whole truth. *Decoys* are the single elements a careless model
takes for a promoter: an orphan CpG island, a TATA box without an Inr, an Inr alone.

Prokaryote grammar (sigma70), TSS at ``t``: a -35 box TTGACA and a -10 box TATAAT
separated by a 17 +- 1 nt spacer, the -10 box ending 7 nt before the TSS; strength
``W_10 [-10 box in place] + W_35 * exp(-((spacer - 17) / 2)^2)`` (best -35 box), so only
both boxes at the right spacing reach 1. Decoys: one box only,
or both with a spacer of 11-13 or 22-24.

Configs:

* ``eukaryote`` / ``tiny_eukaryote`` (CNNProm, 251 bp, TSS at index 200) and
  ``prokaryote`` / ``tiny_prokaryote`` (81 bp, TSS at 60): half positives, half
  negatives, a third of the negatives decoys and the rest background (the papers'
  "random genomic fragments").
* ``promid`` / ``tiny_promid`` (DeeReCT-PromID, 600 bp, TSS at 200): promoter windows
  against background windows only -- the paper's *initial* negative set, which the hard-
  negative rounds then extend with what a genome scan calls wrongly.

Records: ``sequence [length, 4]``, ``label`` (1 promoter), ``kind`` (``tata``, ``cpg``,
``sigma70``, ``background`` or ``decoy_<element>``), ``strength`` (the oracle's).
Example ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``.

`synthetic_genome` / `write_genome` make the genome to scan: chromosomes of background
with promoters planted on both strands at known TSSs and decoys between them, written as
a FASTA and a BED6 of the TSSs (``name`` = kind, ``score`` = 1000 x strength).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.files import atomic_write

SPLITS = ("train", "valid", "test")
TATA_BOXES = ("TATAAAAG", "TATAAATA", "TATATAAG", "TATAAAGG")
INITIATORS = ("TCAGTCT", "TCATTCC", "CCAGTCC", "TTAGTCT")  # YYANWYY, A at index 2 (+1).
W_TATA, W_INR, W_CPG = 0.7, 0.5, 0.8
TATA_OPTIMUM, TATA_WIDTH = 30.0, 3.0
INR_OFFSET = 2  # The initiator starts 2 nt before the TSS (its A is the +1).
CPG_REGION = (-150, 50)
CPG_FLOOR, CPG_SATURATION = 0.45, 0.75
PROMOTER_THRESHOLD = 1.0
BOX_35, BOX_10 = "TTGACA", "TATAAT"
W_35, W_10 = 0.5, 0.7
BACKGROUND_GC = 0.42
CPG_KEEP = 0.15  # Background CpGs kept (mammalian CpG depletion).
_SCRUB = re.compile("(?=(TATAAA|TATATA|" + "|".join(INITIATORS) + "|TTGACA|TATAAT))")
_BASES = np.frombuffer(b"ACGT", np.uint8)
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(text: str) -> str:
  return text.translate(_COMPLEMENT)[::-1]


def background(rng: np.random.Generator, length: int) -> bytearray:
  """GC 0.42, CpG depleted: most C of a CG becomes T (as deamination does)."""
  at, gc = (1 - BACKGROUND_GC) / 2, BACKGROUND_GC / 2
  codes = _BASES[rng.choice(4, length, p=[at, gc, gc, at])].copy()
  cg = np.flatnonzero((codes[:-1] == ord("C")) & (codes[1:] == ord("G")))
  codes[cg[rng.random(len(cg)) > CPG_KEEP]] = ord("T")
  return bytearray(codes.tobytes())


def cpg_island(rng: np.random.Generator, length: int) -> str:
  """GC 0.65 with CpG at its expected frequency (observed/expected ~ 1)."""
  return _BASES[rng.choice(4, length, p=[0.175, 0.325, 0.325, 0.175])].tobytes().decode()


def plant_and_scrub(rng: np.random.Generator, sequence: bytearray,
                    elements: list[tuple[int, str]]) -> str:
  """Writes ``(start, text)`` elements, then mutates unprotected bases until no TATA box,
  initiator or sigma70 box is left outside them."""
  protected = np.zeros(len(sequence), bool)
  for start, text in elements:
    sequence[start:start + len(text)] = text.encode()
    protected[start:start + len(text)] = True
  for _ in range(1000):
    hits = [(m.start(), len(m.group(1))) for m in _SCRUB.finditer(sequence.decode())]
    hits = [(s, n) for s, n in hits if not protected[s:s + n].all()]
    if not hits:
      return sequence.decode()
    for start, size in hits:
      free = [i for i in range(start, start + size) if not protected[i]]
      i = free[rng.integers(len(free))]
      sequence[i] = int(rng.choice([b for b in _BASES if b != sequence[i]]))
  raise RuntimeError("background could not be scrubbed")  # Never seen.


def cpg_ratio(text: str) -> float:
  """CpG observed / expected (Gardiner-Garden & Frommer 1987): CG count x length / (C x G)."""
  c, g = text.count("C"), text.count("G")
  return text.count("CG") * len(text) / (c * g) if c and g else 0.0


def eukaryote_strength(text: str, tss: int) -> float:
  """The oracle: TATA + Inr + CpG terms (module docstring) of a TSS at index ``tss``.

  Reads any sequence (designed ones too): each term takes its best-placed occurrence.
  """
  tata = 0.0
  for box in TATA_BOXES:
    for m in re.finditer(f"(?={box})", text):
      tata = max(tata, W_TATA * float(np.exp(-(((tss - m.start()) - TATA_OPTIMUM)
                                                / TATA_WIDTH) ** 2)))
  inr = 0.0
  for motif in INITIATORS:
    for m in re.finditer(f"(?={motif})", text):
      inr = max(inr, W_INR * float(np.exp(-float(m.start() - (tss - INR_OFFSET)) ** 2)))
  region = text[max(tss + CPG_REGION[0], 0):max(tss + CPG_REGION[1], 0)]
  cpg = W_CPG * float(np.clip((cpg_ratio(region) - CPG_FLOOR) / (CPG_SATURATION - CPG_FLOOR),
                              0, 1)) if region else 0.0
  return tata + inr + cpg


def prokaryote_strength(text: str, tss: int) -> float:
  """The sigma70 oracle: the -10 box ending 7 nt before the TSS, plus the best-spaced -35
  box (spacer 17 +- 1 scores ~0.8 of ``W_35``, 11-13 or 22-24 almost nothing)."""
  ten = tss - 7 - len(BOX_10)
  strength = W_10 * (text[ten:ten + len(BOX_10)] == BOX_10)
  best = 0.0
  for m in re.finditer(f"(?={BOX_35})", text[:max(ten, 0)]):
    spacer = ten - (m.start() + len(BOX_35))
    best = max(best, W_35 * float(np.exp(-((spacer - 17) / 2) ** 2)))
  return strength + best


def eukaryote_elements(rng: np.random.Generator, tss: int, kind: str) -> list[tuple[int, str]]:
  """Planted elements of one promoter or decoy ``kind`` around ``tss``.

  ``tata``/``cpg`` promoters; decoys ``decoy_cpg`` (orphan island), ``decoy_tata``,
  ``decoy_inr``.
  """
  elements = []
  if kind in ("cpg", "decoy_cpg"):
    start = tss + CPG_REGION[0]
    elements.append((start, cpg_island(rng, CPG_REGION[1] - CPG_REGION[0])))
  if kind in ("tata", "decoy_tata"):
    d = int(rng.integers(29, 32))
    elements.append((tss - d, TATA_BOXES[rng.integers(len(TATA_BOXES))]))
  if kind in ("tata", "cpg", "decoy_inr"):
    elements.append((tss - INR_OFFSET, INITIATORS[rng.integers(len(INITIATORS))]))
  return elements


def prokaryote_elements(rng: np.random.Generator, tss: int, kind: str) -> list[tuple[int, str]]:
  ten = tss - 7 - len(BOX_10)
  if kind == "decoy_35":
    return [(ten - 17 - len(BOX_35), BOX_35)]
  if kind == "decoy_10":
    return [(ten, BOX_10)]
  spacer = int(rng.integers(16, 19)) if kind == "sigma70" else int(
      rng.choice([11, 12, 13, 22, 23, 24]))
  return [(ten, BOX_10), (ten - spacer - len(BOX_35), BOX_35)]


def one_hot(text: str) -> np.ndarray:
  codes = np.frombuffer(text.encode(), np.uint8)
  return (codes[:, None] == _BASES[None, :]).astype(np.uint8)


def window(rng: np.random.Generator, length: int, tss: int, kind: str,
           prokaryote: bool = False) -> tuple[str, float]:
  """A ``length``-nt window of ``kind`` with its TSS at index ``tss`` and its strength."""
  if kind == "background":
    elements = []
  elif prokaryote:
    elements = prokaryote_elements(rng, tss, kind)
  else:
    elements = eukaryote_elements(rng, tss, kind)
  text = plant_and_scrub(rng, background(rng, length), elements)
  strength = (prokaryote_strength if prokaryote else eukaryote_strength)(text, tss)
  return text, strength


EUKARYOTE_DECOYS = ("decoy_cpg", "decoy_tata", "decoy_inr")
PROKARYOTE_DECOYS = ("decoy_35", "decoy_10", "decoy_spacer")


def sample_kind(rng: np.random.Generator, positive: bool, prokaryote: bool,
                decoy_fraction: float) -> str:
  if positive:
    return "sigma70" if prokaryote else ("tata" if rng.random() < 0.35 else "cpg")
  if rng.random() < decoy_fraction:
    decoys = PROKARYOTE_DECOYS if prokaryote else EUKARYOTE_DECOYS
    return decoys[rng.integers(len(decoys))]
  return "background"


@dataclasses.dataclass(frozen=True)
class Tss:
  """A planted TSS of the synthetic genome (0-based position of the +1 base)."""
  chrom: str
  position: int
  strand: str
  kind: str
  strength: float


def synthetic_genome(seed: int = 0, num_chromosomes: int = 4, length: int = 200_000,
                     promoters: int = 40, decoys: int = 40, spacing: int = 2000
                     ) -> tuple[dict[str, str], list[Tss]]:
  """Chromosomes ``chr1..`` of background with ``promoters`` planted TSSs each (both
  strands) and ``decoys`` decoys, every element at least ``spacing`` nt from the next.

  Returns ``({chrom: sequence}, TSSs sorted by chromosome and position)``.
  """
  sequences, sites = {}, []
  for c in range(num_chromosomes):
    rng = np.random.default_rng([seed, 99, c])
    chrom = f"chr{c + 1}"
    slots = np.arange(spacing, length - spacing, spacing)
    if len(slots) < promoters + decoys:
      raise ValueError(f"{promoters} promoters + {decoys} decoys need {promoters + decoys} "
                       f"slots {spacing} nt apart; a {length}-nt chromosome has {len(slots)}")
    chosen = np.sort(rng.choice(slots, promoters + decoys, replace=False))
    kinds = np.array(["promoter"] * promoters + ["decoy"] * decoys)[
        rng.permutation(promoters + decoys)]
    text = background(rng, length)
    elements, planted = [], []
    for position, role in zip(chosen, kinds):
      position = int(position + rng.integers(-spacing // 4, spacing // 4))
      strand = "+" if rng.random() < 0.5 else "-"
      kind = sample_kind(rng, role == "promoter", False, decoy_fraction=1.0)
      # Plant on the + strand of a local window, then place it on the chromosome.
      local = eukaryote_elements(rng, 300, kind)
      for start, element in local:
        if strand == "+":
          elements.append((position - 300 + start, element))
        else:  # Mirror: local index i sits at position + 300 - i - len + 1 ... on "-".
          elements.append((position + 300 - start - len(element) + 1,
                           reverse_complement(element)))
      planted.append((position, strand, kind))
    text = plant_and_scrub(rng, text, elements)
    sequences[chrom] = text
    for position, strand, kind in planted:
      if kind.startswith("decoy"):
        continue
      local = stranded_window(text, position, strand, 600, 200)
      sites.append(Tss(chrom, position, strand, kind, eukaryote_strength(local, 200)))
  return sequences, sites


def stranded_window(text: str, tss: int, strand: str, length: int, tss_index: int) -> str:
  """The ``length``-nt window read 5'->3' on ``strand`` whose index ``tss_index`` is the
  genomic base ``tss`` (N beyond the ends)."""
  start = tss - tss_index if strand == "+" else tss - (length - 1 - tss_index)
  padded = "N" * max(0, -start) + text[max(start, 0):start + length]
  padded += "N" * (length - len(padded))
  return padded if strand == "+" else reverse_complement(padded)


def write_genome(directory: str, seed: int = 0, **kwargs) -> tuple[str, str]:
  """Writes ``genome.fa`` (60 nt per line) and ``tss.bed`` (BED6) of `synthetic_genome`
  into ``directory``; returns their paths. Existing files are kept (same seed, same
  genome)."""
  os.makedirs(directory, exist_ok=True)
  fasta, bed = os.path.join(directory, "genome.fa"), os.path.join(directory, "tss.bed")
  if os.path.exists(fasta) and os.path.exists(bed):
    return fasta, bed
  sequences, sites = synthetic_genome(seed, **kwargs)
  with atomic_write(fasta) as f:
    for chrom, text in sequences.items():
      f.write(f">{chrom}\n")
      f.writelines(text[i:i + 60] + "\n" for i in range(0, len(text), 60))
  with atomic_write(bed) as f:
    for s in sites:
      f.write(f"{s.chrom}\t{s.position}\t{s.position + 1}\t{s.kind}\t"
              f"{min(1000, round(1000 * s.strength))}\t{s.strand}\n")
  return fasta, bed


@dataclasses.dataclass(eq=False)
class SyntheticPromotersConfig(tfds.core.BuilderConfig):
  """Kind and size of a ``synthetic_promoters`` build.

  Attributes:
    organism: ``"eukaryote"`` or ``"prokaryote"`` grammar.
    window: nt per window; tss_index: the TSS's index in it.
    decoy_fraction: fraction of negatives that are decoys (the rest background).
    num_train, num_valid, num_test: examples per split (half positives).
    seed: first entry of every example's RNG seed.
  """
  organism: str = "eukaryote"
  window: int = 251
  tss_index: int = 200
  decoy_fraction: float = 1 / 3
  num_train: int = 12000
  num_valid: int = 1500
  num_test: int = 1500
  seed: int = 0

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


class SyntheticPromoters(tfds.core.GeneratorBasedBuilder):
  """Planted TATA / Inr / CpG (or sigma70) promoters, decoys and background windows."""

  name = "synthetic_promoters"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticPromotersConfig(name="eukaryote", description="251-bp windows (CNNProm)."),
      SyntheticPromotersConfig(name="tiny_eukaryote", num_train=2000, num_valid=400,
                               num_test=400, description="eukaryote, small, for tests."),
      SyntheticPromotersConfig(name="prokaryote", organism="prokaryote", window=81,
                               tss_index=60, description="81-bp sigma70 windows (CNNProm)."),
      SyntheticPromotersConfig(name="tiny_prokaryote", organism="prokaryote", window=81,
                               tss_index=60, num_train=2000, num_valid=400, num_test=400,
                               description="prokaryote, small, for tests."),
      SyntheticPromotersConfig(name="promid", window=600, tss_index=200, decoy_fraction=0.0,
                               num_train=6000, num_valid=1000, num_test=1000,
                               description="600-bp windows, background negatives (PromID)."),
      SyntheticPromotersConfig(name="tiny_promid", window=600, tss_index=200,
                               decoy_fraction=0.0, num_train=1500, num_valid=300,
                               num_test=300, description="promid, small, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "eukaryote"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.window, 4), dtype=np.uint8),
            "label": tfds.features.Scalar(dtype=np.int32),
            "kind": tfds.features.Text(),
            "strength": tfds.features.Scalar(dtype=np.float32)}),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            organism=config.organism, window=config.window, tss_index=config.tss_index,
            promoter_threshold=PROMOTER_THRESHOLD, label_names=["promoter"],
            synthetic=True))

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    config = self.builder_config
    prokaryote = config.organism == "prokaryote"
    for index in range(config.num_examples(split)):
      rng = np.random.default_rng([config.seed, SPLITS.index(split), index])
      kind = sample_kind(rng, bool(index % 2), prokaryote, config.decoy_fraction)
      text, strength = window(rng, config.window, config.tss_index, kind, prokaryote)
      yield str(index), {"sequence": one_hot(text), "label": np.int32(index % 2),
                         "kind": kind, "strength": np.float32(strength)}
