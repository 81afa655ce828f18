"""Synthetic two-species coverage tracks driven by planted JASPAR motifs.

The embedded default (DESIGN.md, decision 8) for long-range coverage models —
Basenji2 (Kelley, PLoS Comput. Biol. 2020) and Enformer (Avsec et al., Nat.
Methods 2021): long sequences with binned CAGE-, DNase- and H3K27ac-like
tracks, stored exactly as the real Basenji/Enformer data (``sequence``
uint8 ``[seq_length, 4]``, ``target`` float16 ``[target_length, num_targets]``,
the centre bins after cropping ``crop_bp`` at each end). Two "species" share
the grammar but differ in background GC and in their tracks (human 6, mouse
3), mirroring the human and mouse heads. Motifs and their sampling come from
``data_builders.synthetic_motifs`` (JASPAR CORE vertebrates via pyjaspar).

Generative model. Each example has an i.i.d. background (GC drawn from the
species' ``gc_range``) and non-overlapping elements, at least
``min_spacing_bp`` apart, built from planted motifs:

  promoter   two NFYA CCAAT boxes on the same strand, 6-20 bp apart (tandem
             CCAAT boxes, as NF-Y binds in cell-cycle promoters; Mantovani,
             Nucleic Acids Res. 1998); the TSS lies 50 bp downstream on that
             strand. At least one per example.
  enhancer   1-4 motifs 4-30 bp apart drawn from one cell type's set (liver:
             HNF4A, FOXA2, CEBPB; esc: SOX2, POU5F1) or from both.
  decoy      2-3 motifs of unmeasured cell types (GATA1, SPI1, TP53), half
             with one lone NFYA box: no signal in any track.
  insulator  one CTCF site on either strand.

Every planted motif has an occupancy from its PWM log-odds score s against
a uniform background: ``sigmoid((s - 0.6 max) / (0.08 max))`` with ``max``
the consensus score, so a motif at 60% of consensus is half-bound. For cell
type c, an enhancer's activity is ``A_c = (sum of occupancies of c's
motifs)^2`` (cooperativity: two bound motifs are worth four times one) and a
promoter's strength P is the product of its two NFYA occupancies. Promoter
output in cell type c is

  R_c = P (b + sum_e A_c(e) [d <= window] / (1 + d / h) prod_k (1 - 0.8 o_k))

with basal output b (``promoter_basal``, 1) and enhancers e at distance d
from the TSS: contact falls as 1/d like Hi-C
contact frequency (Lieberman-Aiden et al., Science 2009), halving at
``half_contact_bp`` h (human 10 kb), and each CTCF insulator k between
enhancer and TSS, with occupancy o_k, blocks 80% of it (Dixon et al., Nature
2012):
enhancers up to ``enhancer_window_bp`` (human 20 kb) away raise promoter
output, so models that see farther predict CAGE better. Expected counts per
base, then summed per ``pool_width`` bin, on top of a uniform background:

  CAGE     20 R_c at the TSS, Gaussian with sd 10 bp (sharp, one bin)
  DNase    60 x accessibility at the element centre, sd ``dnase_width_bp``:
           P at promoters, sqrt(A_c) at enhancers, 0.7 o at insulators
  H3K27ac  200 log(1 + R_c or A_c) around active promoters and enhancers,
           two Gaussians ``histone_offset_bp`` either side of the centre with
           sd ``histone_width_bp`` (broad, nucleosome-depleted middle)

and ``target`` is a Poisson draw of each bin's expected count, kept for the
centre ``target_length`` bins. Tracks are unstranded (``strand_pair`` is the
identity). Chance motif matches in the background carry no signal: only
planted elements, recorded per example, are the truth.

Paired enhancers (the ``*_distal`` configs, version 1.1.0). In the 1.0.0
configs every promoter sums ~8 enhancers scattered over the window, so its
boost varies little from gene to gene: replacing each boost by its mean keeps
CAGE Pearson R at 0.85 of 0.997, and a model that reads the promoter alone
is hard to beat. The distal configs plant, right after each promoter and
with probability ``paired_enhancer_p``, one enhancer for it whose centre
lies ``paired_distance_bp`` (10-20 kb) from the TSS on a side where it fits,
keep few other enhancers, and lower the basal output ``promoter_basal``, so
that a gene's CAGE follows enhancers 10-20 kb away, out of reach of any local
window, more than its promoter (``DISTAL_*`` below). The grammar, ``R_c`` and the tracks are
unchanged; ``element_partner`` records, for each promoter, the index of its
paired enhancer (-1: none; -1 for other elements), so that in-silico
deletions (``experiments/enhancer_deletion.py``) know which enhancer drives
which gene.

Everything is deterministic: example ``index`` of ``split`` draws from
``np.random.default_rng([seed, species_id, split_id, index])`` (species_id
0 human, 1 mouse) and has key ``index``; records are written unshuffled.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds
from pyjaspar import jaspardb

from data_builders.synthetic_motifs import synthetic_motifs as sm

SPECIES: tuple[str, ...] = ("human", "mouse")
SPLITS: tuple[str, ...] = sm.SPLITS
CELL_TYPES: tuple[str, ...] = ("liver", "esc")
ASSAYS: tuple[str, ...] = ("CAGE", "DNASE", "H3K27ac")
ELEMENT_KINDS: tuple[str, ...] = ("promoter", "enhancer", "decoy", "insulator")

# Enhancer grammar: which motifs drive which cell type.
CELL_TYPE_MOTIFS: dict[str, tuple[str, ...]] = {
    "liver": ("HNF4A", "FOXA2", "CEBPB"),
    "esc": ("SOX2", "POU5F1"),
}
DECOY_MOTIFS: tuple[str, ...] = ("GATA1", "SPI1", "TP53")
PROMOTER_MOTIF = "NFYA"
INSULATOR_MOTIF = "CTCF"

HUMAN_TRACKS: tuple[str, ...] = ("CAGE:liver", "CAGE:esc", "DNASE:liver",
                                 "DNASE:esc", "H3K27ac:liver", "H3K27ac:esc")
MOUSE_TRACKS: tuple[str, ...] = ("CAGE:liver", "DNASE:liver", "H3K27ac:liver")
TRACK_KINDS: dict[str, str] = {"CAGE": "cage", "DNASE": "dnase",
                               "H3K27ac": "histone"}

# Occupancy: half-bound at OCCUPANCY_MIDPOINT of the consensus score, with a
# logistic slope of OCCUPANCY_SLOPE x consensus score.
OCCUPANCY_MIDPOINT = 0.6
OCCUPANCY_SLOPE = 0.08
PROMOTER_GAP_BP = (6, 20)
ENHANCER_GAP_BP = (4, 30)
TSS_OFFSET_BP = 50
CAGE_WIDTH_BP = 10.0
PROMOTER_BASAL = 1.0
CTCF_INSULATION = 0.8
INSULATOR_ACCESSIBILITY = 0.7
# Expected counts per unit activity (peak totals) and background per kb.
SIGNAL_SCALE: dict[str, float] = {"CAGE": 20.0, "DNASE": 60.0,
                                  "H3K27ac": 200.0}
BACKGROUND_PER_KB: dict[str, float] = {"CAGE": 0.4, "DNASE": 4.0,
                                       "H3K27ac": 8.0}
ENHANCER_KIND_P = {"liver": 0.4, "esc": 0.4, "mixed": 0.2}
ENHANCER_SIZE_P = (0.2, 0.35, 0.3, 0.15)  # 1, 2, 3 or 4 motifs


def parse_track(identifier: str) -> tuple[str, str]:
  """``"CAGE:liver" -> ("CAGE", "liver")``, checked against the grammar."""
  assay, _, cell_type = identifier.partition(":")
  if assay not in ASSAYS or cell_type not in CELL_TYPES:
    raise ValueError(f"track {identifier!r} is not ASSAY:CELL_TYPE with ASSAY "
                     f"in {ASSAYS} and CELL_TYPE in {CELL_TYPES}")
  return assay, cell_type


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class SyntheticCoverageConfig(tfds.core.BuilderConfig):
  """One species' ``synthetic_coverage`` build: geometry, grammar, size.

  Attributes:
    species: ``"human"`` or ``"mouse"`` (part of every example's seed).
    tracks: ``"ASSAY:cell_type"`` identifiers, the target columns in order.
    seq_length: bp per example.
    pool_width: bp per target bin.
    crop_bins: bins dropped at each end of the targets.
    num_train: examples in ``train``.
    num_valid: examples in ``valid``.
    num_test: examples in ``test``.
    seed: first entry of every example's seed.
    gc_range: (low, high) of the uniform per-example background GC.
    mean_promoters: mean promoters per example (1 + Poisson(mean - 1)).
    mean_enhancers: mean enhancers per example (Poisson).
    mean_decoys: mean decoy clusters per example (Poisson).
    mean_insulators: mean CTCF insulators per example (Poisson).
    min_spacing_bp: least bp between two elements' motifs.
    enhancer_window_bp: farthest enhancer-TSS distance with an effect.
    half_contact_bp: enhancer-TSS distance at which contact halves.
    dnase_width_bp: sd of DNase peaks.
    histone_width_bp: sd of each of the two H3K27ac lobes.
    histone_offset_bp: distance of each lobe from the element centre.
    promoter_basal: a promoter's output without enhancers, in units of P.
    paired_enhancer_p: probability that a promoter gets its own enhancer
      (0: none, the 1.0.0 grammar; the sampler then draws nothing extra).
    paired_distance_bp: (low, high) TSS-to-centre distance of a paired
      enhancer, uniform.
  """

  species: str = "human"
  tracks: tuple[str, ...] = HUMAN_TRACKS
  seq_length: int = 24_576
  pool_width: int = 128
  crop_bins: int = 16
  num_train: int = 2_000
  num_valid: int = 200
  num_test: int = 200
  seed: int = 0
  gc_range: tuple[float, float] = (0.38, 0.42)
  mean_promoters: float = 2.0
  mean_enhancers: float = 8.0
  mean_decoys: float = 2.0
  mean_insulators: float = 1.0
  min_spacing_bp: int = 300
  enhancer_window_bp: int = 20_000
  half_contact_bp: float = 10_000.0
  dnase_width_bp: float = 60.0
  histone_width_bp: float = 800.0
  histone_offset_bp: float = 500.0
  promoter_basal: float = PROMOTER_BASAL
  paired_enhancer_p: float = 0.0
  paired_distance_bp: tuple[int, int] = (10_000, 20_000)

  def __post_init__(self):
    if self.species not in SPECIES:
      raise ValueError(f"species {self.species!r} not in {SPECIES}")
    for track in self.tracks:
      parse_track(track)
    if len(set(self.tracks)) != len(self.tracks):
      raise ValueError(f"repeated tracks in {self.tracks}")
    if self.seq_length % self.pool_width:
      raise ValueError(f"seq_length {self.seq_length} is not a multiple of "
                       f"pool_width {self.pool_width}")
    if self.target_length < 1:
      raise ValueError(f"crop_bins {self.crop_bins} leaves no bins of "
                       f"{self.seq_length // self.pool_width}")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      raise ValueError("every split needs at least one example")
    if self.mean_promoters < 1:
      raise ValueError("mean_promoters must be >= 1 (one promoter is always "
                       "planted)")
    low, high = self.gc_range
    if not 0 < low <= high < 1:
      raise ValueError(f"gc_range {self.gc_range} must satisfy 0 < low <= "
                       "high < 1")
    if not 0 <= self.paired_enhancer_p <= 1:
      raise ValueError(f"paired_enhancer_p {self.paired_enhancer_p} is not a "
                       "probability")
    near, far = self.paired_distance_bp
    if self.pairs_enhancers and not 0 < near <= far <= self.enhancer_window_bp:
      raise ValueError(f"paired_distance_bp {self.paired_distance_bp} must "
                       f"satisfy 0 < low <= high <= enhancer_window_bp "
                       f"({self.enhancer_window_bp})")

  @property
  def pairs_enhancers(self) -> bool:
    """Whether promoters get their own enhancers (and records say which)."""
    return self.paired_enhancer_p > 0

  @property
  def num_bins(self) -> int:
    """Bins of the whole sequence before cropping."""
    return self.seq_length // self.pool_width

  @property
  def target_length(self) -> int:
    """Bins stored per example: the centre after cropping."""
    return self.num_bins - 2 * self.crop_bins

  @property
  def crop_bp(self) -> int:
    """bp at each end of the sequence not covered by targets."""
    return self.crop_bins * self.pool_width

  def num_examples(self, split: str) -> int:
    """Number of examples of ``split`` (one of ``SPLITS``)."""
    return {"train": self.num_train, "valid": self.num_valid,
            "test": self.num_test}[split]


def _tiny(species: str, tracks: tuple[str, ...],
          gc_range: tuple[float, float]) -> SyntheticCoverageConfig:
  return SyntheticCoverageConfig(
      name=f"tiny_{species}", species=species, tracks=tracks,
      gc_range=gc_range,
      description=(f"{species}, 2,048 bp, 48 bins of 32 bp, 512/64/64 "
                   "examples, for tests."),
      seq_length=2_048, pool_width=32, crop_bins=8, num_train=512,
      num_valid=64, num_test=64, mean_promoters=1.0, mean_enhancers=3.0,
      mean_decoys=1.0, mean_insulators=0.5, min_spacing_bp=48,
      enhancer_window_bp=1_536, half_contact_bp=768.0, dnase_width_bp=16.0,
      histone_width_bp=96.0, histone_offset_bp=64.0)


HUMAN_GC = (0.38, 0.42)
MOUSE_GC = (0.45, 0.49)
# The *_distal grammar: a paired enhancer for most promoters, 1.5 promoters and
# 0.5 other enhancers per example on average, and a low basal output, so that
# enhancers 10-20 kb away, more than the promoter, set a gene's CAGE. Test
# genes (experiments/enhancer_deletion.py --truth): promoter strength alone
# reaches CAGE R 0.31-0.42 at TSS bins (1.0.0: 0.65), the expected CAGE 0.98-0.99;
# deleting a gene's own enhancer takes 35% of the mean CAGE (median 59% in the
# enhancer's own cell type; 36% with 2 promoters and 1 other enhancer).
DISTAL_PAIRED_P = 0.8
DISTAL_MEAN_PROMOTERS = 1.5
DISTAL_MEAN_ENHANCERS = 0.5
DISTAL_BASAL = 0.2
BUILDER_CONFIGS = [
    SyntheticCoverageConfig(
        name="human", species="human", tracks=HUMAN_TRACKS, gc_range=HUMAN_GC,
        description="human: 24,576 bp, 160 bins of 128 bp, 6 tracks, "
                    "2,000/200/200 examples."),
    SyntheticCoverageConfig(
        name="mouse", species="mouse", tracks=MOUSE_TRACKS, gc_range=MOUSE_GC,
        description="mouse: 24,576 bp, 160 bins of 128 bp, 3 tracks, "
                    "2,000/200/200 examples."),
    _tiny("human", HUMAN_TRACKS, HUMAN_GC),
    _tiny("mouse", MOUSE_TRACKS, MOUSE_GC),
    # Borzoi's 32-bp resolution (Linder et al. 2025) with the grammar and seeds of
    # "human"/"mouse"; a sixth of the bins cropped per side (Borzoi: 5,120 of
    # 16,384).
    *(SyntheticCoverageConfig(
        name=f"{species}_32bp", species=species, tracks=tracks, gc_range=gc,
        pool_width=32, crop_bins=128,
        description=f"{species}: 24,576 bp, 512 bins of 32 bp, {len(tracks)} tracks, "
                    "2,000/200/200 examples (Borzoi's resolution).")
      for species, tracks, gc in (("human", HUMAN_TRACKS, HUMAN_GC),
                                  ("mouse", MOUSE_TRACKS, MOUSE_GC))),
    # Enhancer-driven genes (module docstring, "Paired enhancers"): the geometry
    # of "human"/"mouse", most CAGE from one enhancer 10-20 kb from its TSS.
    *(SyntheticCoverageConfig(
        name=f"{species}_distal", species=species, tracks=tracks, gc_range=gc,
        version="1.1.0", release_notes={
            "1.1.0": "Paired enhancers 10-20 kb from their promoters; "
                     "element_partner."},
        mean_promoters=DISTAL_MEAN_PROMOTERS, mean_enhancers=DISTAL_MEAN_ENHANCERS,
        promoter_basal=DISTAL_BASAL,
        paired_enhancer_p=DISTAL_PAIRED_P,
        description=f"{species}: 24,576 bp, 160 bins of 128 bp, {len(tracks)} tracks, "
                    "2,000/200/200 examples; each promoter driven by its own "
                    "enhancer 10-20 kb away.")
      for species, tracks, gc in (("human", HUMAN_TRACKS, HUMAN_GC),
                                  ("mouse", MOUSE_TRACKS, MOUSE_GC))),
]


# ---------------------------------------------------------------------------
# Elements and the generative model
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Element:
  """One planted regulatory element.

  Attributes:
    kind: one of ``ELEMENT_KINDS``.
    motifs: its planted motifs, sorted by start.
    occupancy: occupancy of each motif in ``[0, 1]`` (``motif_occupancy``).
    strand: promoter direction (+1: TSS downstream of the motifs on the
      forward strand) or the CTCF strand; +1 for enhancers and decoys.
    anchor: the TSS for promoters, else the centre of the motifs (bp).
  """

  kind: str
  motifs: tuple[sm.MotifInstance, ...]
  occupancy: tuple[float, ...]
  strand: int
  anchor: int

  @property
  def start(self) -> int:
    """First bp of the first motif."""
    return self.motifs[0].start

  @functools.cached_property
  def end(self) -> int:
    """One past the last bp of the last motif."""
    return max(m.start + m.width for m in self.motifs)

  @functools.cached_property
  def centre(self) -> float:
    """Midpoint of ``[start, end)``."""
    return (self.start + self.end) / 2


def motif_occupancy(motif: sm.PlantedMotif, window: np.ndarray,
                    strand: int) -> float:
  """Fraction bound of a ``[width, 4]`` one-hot site read on ``strand``.

  ``sigmoid((score - OCCUPANCY_MIDPOINT max) / (OCCUPANCY_SLOPE max))`` with
  ``score`` the log2-odds against a uniform background and ``max`` the
  consensus score.
  """
  best = float(motif.log_odds().max(axis=1).sum())
  score = motif.score(window, strand)
  return float(1 / (1 + np.exp(-(score - OCCUPANCY_MIDPOINT * best)
                               / (OCCUPANCY_SLOPE * best))))


def cell_type_drive(element: Element, cell_type: str) -> float:
  """Summed occupancy of ``cell_type``'s motifs in the element."""
  motifs = CELL_TYPE_MOTIFS[cell_type]
  return float(sum(o for m, o in zip(element.motifs, element.occupancy)
                   if m.name in motifs))


def enhancer_activity(element: Element, cell_type: str) -> float:
  """``A_c``: squared drive of an enhancer or decoy (0 for other kinds)."""
  if element.kind not in ("enhancer", "decoy"):
    return 0.0
  return cell_type_drive(element, cell_type)**2


def promoter_strength(element: Element) -> float:
  """``P``: product of the occupancies of a promoter's two CCAAT boxes."""
  if element.kind != "promoter":
    return 0.0
  return float(np.prod(element.occupancy))


def contact(enhancer: Element, promoter: Element,
            insulators: Sequence[Element],
            config: SyntheticCoverageConfig) -> float:
  """Weight of an enhancer on a promoter: 1/d contact times insulation."""
  distance = abs(enhancer.centre - promoter.anchor)
  if distance > config.enhancer_window_bp:
    return 0.0
  weight = 1 / (1 + distance / config.half_contact_bp)
  low, high = sorted((enhancer.centre, promoter.anchor))
  for insulator in insulators:
    if low < insulator.centre < high:
      weight *= 1 - CTCF_INSULATION * insulator.occupancy[0]
  return weight


def promoter_output(promoter: Element, elements: Sequence[Element],
                    cell_type: str, config: SyntheticCoverageConfig) -> float:
  """``R_c``: a promoter's output in ``cell_type`` given the other elements."""
  insulators = [e for e in elements if e.kind == "insulator"]
  boost = sum(enhancer_activity(e, cell_type)
              * contact(e, promoter, insulators, config)
              for e in elements if e.kind == "enhancer")
  return promoter_strength(promoter) * (config.promoter_basal + boost)


def element_activity(element: Element, elements: Sequence[Element],
                     cell_type: str, config: SyntheticCoverageConfig) -> float:
  """``R_c`` for promoters, ``A_c`` for enhancers and decoys, ``o`` for CTCF."""
  if element.kind == "promoter":
    return promoter_output(element, elements, cell_type, config)
  if element.kind == "insulator":
    return element.occupancy[0]
  return enhancer_activity(element, cell_type)


def _add_gaussian(profile: np.ndarray, centre: float, sd: float,
                  total: float) -> None:
  """Adds ``total`` counts spread as a Gaussian, truncated at 5 sd."""
  if total <= 0:
    return
  low = max(0, int(np.floor(centre - 5 * sd)))
  high = min(profile.shape[0], int(np.ceil(centre + 5 * sd)) + 1)
  if low >= high:
    return
  x = np.arange(low, high) + 0.5
  density = np.exp(-0.5 * ((x - centre) / sd)**2) / (sd * np.sqrt(2 * np.pi))
  profile[low:high] += total * density


def expected_coverage(elements: Sequence[Element],
                      config: SyntheticCoverageConfig) -> np.ndarray:
  """Noise-free expected counts of every bin, before cropping.

  Removing elements from ``elements`` is an in-silico deletion: e.g. without
  the enhancers every promoter falls to its basal output.

  Args:
    elements: the planted elements (``sample_layout`` or
      ``elements_from_record``).
    config: geometry, tracks and length scales.

  Returns:
    ``float64[num_bins, len(config.tracks)]``.
  """
  activity = {(i, c): element_activity(e, elements, c, config)
              for i, e in enumerate(elements) for c in CELL_TYPES}
  columns = []
  for track in config.tracks:
    assay, cell_type = parse_track(track)
    profile = np.full(config.seq_length, BACKGROUND_PER_KB[assay] / 1000)
    scale = SIGNAL_SCALE[assay]
    for i, element in enumerate(elements):
      value = activity[i, cell_type]
      if assay == "CAGE" and element.kind == "promoter":
        _add_gaussian(profile, element.anchor + 0.5, CAGE_WIDTH_BP,
                      scale * value)
      elif assay == "DNASE":
        if element.kind == "promoter":
          accessibility = promoter_strength(element)
        elif element.kind == "insulator":
          accessibility = INSULATOR_ACCESSIBILITY * value
        else:
          accessibility = np.sqrt(value)
        _add_gaussian(profile, element.centre, config.dnase_width_bp,
                      scale * accessibility)
      elif assay == "H3K27ac" and element.kind in ("promoter", "enhancer"):
        for side in (-1, 1):
          _add_gaussian(profile,
                        element.centre + side * config.histone_offset_bp,
                        config.histone_width_bp,
                        scale * np.log1p(value) / 2)
    columns.append(profile.reshape(config.num_bins, config.pool_width).sum(1))
  return np.stack(columns, axis=1)


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

# An element's motifs at offsets from its start: (name, strand, offset).
_Block = list[tuple[str, int, int]]


def _strand(rng: np.random.Generator) -> int:
  return 1 if rng.random() < 0.5 else -1


def _cluster(rng: np.random.Generator, names: Sequence[str],
             widths: Mapping[str, int]) -> _Block:
  """Motifs in the given order and random strands, ENHANCER_GAP_BP apart."""
  block, offset = [], 0
  for name in names:
    block.append((name, _strand(rng), offset))
    offset += widths[name] + int(rng.integers(ENHANCER_GAP_BP[0],
                                              ENHANCER_GAP_BP[1] + 1))
  return block


def _element_block(kind: str, rng: np.random.Generator,
                   widths: Mapping[str, int]) -> tuple[_Block, int]:
  """The motifs of one new element of ``kind`` and its strand."""
  if kind == "promoter":
    strand = _strand(rng)
    gap = int(rng.integers(PROMOTER_GAP_BP[0], PROMOTER_GAP_BP[1] + 1))
    width = widths[PROMOTER_MOTIF]
    return [(PROMOTER_MOTIF, strand, 0),
            (PROMOTER_MOTIF, strand, width + gap)], strand
  if kind == "enhancer":
    kinds = list(ENHANCER_KIND_P)
    which = kinds[rng.choice(len(kinds), p=list(ENHANCER_KIND_P.values()))]
    pool = (sum(CELL_TYPE_MOTIFS.values(), ()) if which == "mixed"
            else CELL_TYPE_MOTIFS[which])
    size = 1 + int(rng.choice(len(ENHANCER_SIZE_P), p=ENHANCER_SIZE_P))
    names = [pool[i] for i in rng.integers(len(pool), size=size)]
    return _cluster(rng, names, widths), 1
  if kind == "decoy":
    size = int(rng.integers(2, 4))
    names = [DECOY_MOTIFS[i] for i in rng.integers(len(DECOY_MOTIFS),
                                                   size=size)]
    if rng.random() < 0.5:
      names.insert(int(rng.integers(len(names) + 1)), PROMOTER_MOTIF)
    return _cluster(rng, names, widths), 1
  if kind == "insulator":
    strand = _strand(rng)
    return [(INSULATOR_MOTIF, strand, 0)], strand
  raise ValueError(f"unknown element kind {kind!r}; known: {ELEMENT_KINDS}")


def _place(rng: np.random.Generator, free: np.ndarray, span: int,
           margin: int, tries: int = 64) -> int | None:
  """Uniform start whose span plus ``margin`` each side is free; None if none.

  Rejection sampling (uniform over the valid starts), then an exhaustive
  search when the sequence is nearly full.
  """
  length = free.shape[0]
  if span > length:
    return None
  for start in rng.integers(length - span + 1, size=tries):
    if free[max(start - margin, 0):start + span + margin].all():
      return int(start)
  taken = np.concatenate([[0], np.cumsum(~free)])
  starts = np.arange(length - span + 1)
  low = np.maximum(starts - margin, 0)
  high = np.minimum(starts + span + margin, length)
  candidates = np.flatnonzero(taken[high] == taken[low])
  if candidates.size == 0:
    return None
  return int(candidates[rng.integers(candidates.size)])


# One element of a layout: kind, strand, its motifs as (name, strand, start),
# and the layout index of the enhancer paired with it (-1: none).
_Placed = tuple[str, int, list[tuple[str, int, int]], int]


def _place_paired(rng: np.random.Generator, free: np.ndarray, span: int,
                  margin: int, tss: int, config: SyntheticCoverageConfig,
                  tries: int = 64) -> int | None:
  """Start of a paired enhancer whose centre lies ``paired_distance_bp`` from
  ``tss`` on a random side, with ``margin`` free around it; None if none fits.

  Rejection sampling: near the middle of the sequence only the nearer
  distances fit (24,576 bp allow ~12 kb either side of the centre).
  """
  near, far = config.paired_distance_bp
  for _ in range(tries):
    centre = tss + _strand(rng) * int(rng.integers(near, far + 1))
    start = centre - span // 2
    if (start >= 0 and start + span <= free.shape[0]
        and free[max(start - margin, 0):start + span + margin].all()):
      return start
  return None


def sample_layout(rng: np.random.Generator, widths: Mapping[str, int],
                  config: SyntheticCoverageConfig) -> list[_Placed]:
  """Where the elements go: ``[(kind, strand, [(motif, strand, start)], partner)]``.

  Promoters are placed first, so the first always fits, each followed by its
  paired enhancer when the config pairs them (``partner`` is that
  enhancer's index in the returned list, else -1); an element with no room
  left is dropped. Sorted by start.
  """
  counts = {
      "promoter": 1 + int(rng.poisson(config.mean_promoters - 1)),
      "enhancer": int(rng.poisson(config.mean_enhancers)),
      "decoy": int(rng.poisson(config.mean_decoys)),
      "insulator": int(rng.poisson(config.mean_insulators)),
  }
  free = np.ones(config.seq_length, dtype=bool)
  layout = []
  for kind in ELEMENT_KINDS:
    for _ in range(counts[kind]):
      block, strand = _element_block(kind, rng, widths)
      span = max(offset + widths[name] for name, _, offset in block)
      # Promoters keep their TSS inside the sequence and clear of neighbours.
      pad = TSS_OFFSET_BP + 1 if kind == "promoter" else 0
      start = _place(rng, free, span + 2 * pad,
                     max(config.min_spacing_bp - pad, 0))
      if start is None:
        continue
      start += pad
      free[max(start - pad, 0):start + span + pad] = False
      layout.append([kind, strand,
                     [(name, s, start + offset) for name, s, offset in block], -1])
      # No draw at all when the config does not pair: 1.0.0 builds are unchanged.
      if not (kind == "promoter" and config.pairs_enhancers
              and rng.random() < config.paired_enhancer_p):
        continue
      tss = (start + span + TSS_OFFSET_BP if strand > 0
             else start - TSS_OFFSET_BP - 1)
      block, _ = _element_block("enhancer", rng, widths)
      span = max(offset + widths[name] for name, _, offset in block)
      paired = _place_paired(rng, free, span, config.min_spacing_bp, tss, config)
      if paired is None:
        continue
      free[paired:paired + span] = False
      layout[-1][3] = len(layout)
      layout.append(["enhancer", 1, [(name, s, paired + offset)
                                     for name, s, offset in block], -1])
  order = sorted(range(len(layout)), key=lambda i: layout[i][2][0][2])
  rank = {old: new for new, old in enumerate(order)}
  return [(kind, strand, planted, rank[partner] if partner >= 0 else -1)
          for kind, strand, planted, partner in (layout[i] for i in order)]


def build_elements(layout: Sequence[_Placed],
                   one_hot: np.ndarray,
                   motifs: Mapping[str, sm.PlantedMotif]) -> list[Element]:
  """Elements of a layout with motif occupancies read from ``one_hot``."""
  elements = []
  for kind, strand, planted, _ in layout:
    instances = tuple(sm.MotifInstance(name, start, s, motifs[name].width)
                      for name, s, start in planted)
    occupancy = tuple(
        motif_occupancy(motifs[m.name], one_hot[m.start:m.start + m.width],
                        m.strand) for m in instances)
    if kind == "promoter":
      anchor = (instances[-1].start + instances[-1].width + TSS_OFFSET_BP
                if strand > 0 else instances[0].start - TSS_OFFSET_BP - 1)
    else:
      anchor = int((instances[0].start +
                    max(m.start + m.width for m in instances)) // 2)
    elements.append(Element(kind, instances, occupancy, strand, int(anchor)))
  return elements


def sample_example(rng: np.random.Generator,
                   motifs: Mapping[str, sm.PlantedMotif],
                   config: SyntheticCoverageConfig) -> dict[str, Any]:
  """One example: background, planted elements, Poisson targets.

  Args:
    rng: the example's generator (see ``example_rng``).
    motifs: ``synthetic_motifs.load_motifs()``.
    config: the build's configuration.

  Returns:
    The feature dict written by the builder: ``sequence`` uint8[L, 4],
    ``target`` float16[target_length, num_targets], ``gc`` float32, per
    element (sorted by start) ``element_kind``, ``element_start``,
    ``element_end``, ``element_anchor``, ``element_strand`` and
    ``element_activity`` float32[n, len(CELL_TYPES)] (see
    ``element_activity``), and per motif ``motif_name``, ``motif_start``,
    ``motif_strand``, ``motif_occupancy`` and ``motif_element`` (index of
    its element). Configs that pair enhancers also record
    ``element_partner`` int32[n] (``sample_layout``).
  """
  widths = {name: m.width for name, m in motifs.items()}
  gc = rng.uniform(*config.gc_range)
  at = (1 - gc) / 2
  bases = rng.choice(4, size=config.seq_length,
                     p=[at, gc / 2, gc / 2, at]).astype(np.uint8)
  layout = sample_layout(rng, widths, config)
  for _, _, planted, _ in layout:
    for name, strand, start in planted:
      bases[start:start + widths[name]] = motifs[name].sample(rng, strand)
  one_hot = np.eye(4, dtype=np.uint8)[bases]
  elements = build_elements(layout, one_hot, motifs)

  expected = expected_coverage(elements, config)
  centre = expected[config.crop_bins:config.crop_bins + config.target_length]
  target = rng.poisson(centre).astype(np.float16)

  all_motifs = [(i, m, o) for i, e in enumerate(elements)
                for m, o in zip(e.motifs, e.occupancy)]
  return {
      "sequence": one_hot,
      "target": target,
      "gc": np.float32(gc),
      "element_kind": [e.kind for e in elements],
      "element_start": np.array([e.start for e in elements], np.int32),
      "element_end": np.array([e.end for e in elements], np.int32),
      "element_anchor": np.array([e.anchor for e in elements], np.int32),
      "element_strand": np.array([e.strand for e in elements], np.int8),
      "element_activity": np.array(
          [[element_activity(e, elements, c, config) for c in CELL_TYPES]
           for e in elements], np.float32).reshape(-1, len(CELL_TYPES)),
      "motif_name": [m.name for _, m, _ in all_motifs],
      "motif_start": np.array([m.start for _, m, _ in all_motifs], np.int32),
      "motif_strand": np.array([m.strand for _, m, _ in all_motifs], np.int8),
      "motif_occupancy": np.array([o for _, _, o in all_motifs], np.float32),
      "motif_element": np.array([i for i, _, _ in all_motifs], np.int32),
      **({"element_partner": np.array([p for *_, p in layout], np.int32)}
         if config.pairs_enhancers else {}),
  }


def _as_str(value: str | bytes) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def elements_from_record(record: Mapping[str, Any],
                         widths: Mapping[str, int] | None = None
                         ) -> list[Element]:
  """The ``Element``s of a written record (or a ``sample_example`` dict).

  Args:
    record: a record with the ``element_*`` and ``motif_*`` features.
    widths: ``{motif: width}``; by default from pyjaspar's default release.

  Returns:
    The elements, with the recorded occupancies, in record order.
  """
  if widths is None:
    widths = sm.motif_widths()
  grouped: dict[int, list[tuple[sm.MotifInstance, float]]] = {}
  for name, start, strand, occupancy, index in zip(
      record["motif_name"], record["motif_start"], record["motif_strand"],
      record["motif_occupancy"], record["motif_element"]):
    name = _as_str(name)
    grouped.setdefault(int(index), []).append(
        (sm.MotifInstance(name, int(start), int(strand), widths[name]),
         float(occupancy)))
  elements = []
  for i, kind in enumerate(record["element_kind"]):
    members = grouped[i]
    elements.append(Element(
        _as_str(kind), tuple(m for m, _ in members),
        tuple(o for _, o in members), int(record["element_strand"][i]),
        int(record["element_anchor"][i])))
  return elements


def example_rng(seed: int, species: str, split: str,
                index: int) -> np.random.Generator:
  """``default_rng([seed, species_id, split_id, index])`` of one example."""
  return np.random.default_rng(
      [seed, SPECIES.index(species), SPLITS.index(split), index])


def track_table(config: SyntheticCoverageConfig) -> list[dict[str, Any]]:
  """Per-track metadata, like Basenji's ``targets.txt``."""
  table = []
  for index, identifier in enumerate(config.tracks):
    assay, cell_type = parse_track(identifier)
    table.append({"index": index, "identifier": identifier, "assay": assay,
                  "cell_type": cell_type, "kind": TRACK_KINDS[assay],
                  "strand_pair": index,
                  "description": f"synthetic {assay} {cell_type} "
                                 f"({config.species})"})
  return table


def generative_model(config: SyntheticCoverageConfig) -> dict[str, Any]:
  """The generative model's constants and this build's length scales."""
  return {
      "cell_type_motifs": {k: list(v) for k, v in CELL_TYPE_MOTIFS.items()},
      "decoy_motifs": list(DECOY_MOTIFS),
      "promoter_motif": PROMOTER_MOTIF,
      "insulator_motif": INSULATOR_MOTIF,
      "promoter_gap_bp": list(PROMOTER_GAP_BP),
      "enhancer_gap_bp": list(ENHANCER_GAP_BP),
      "tss_offset_bp": TSS_OFFSET_BP,
      "occupancy_midpoint": OCCUPANCY_MIDPOINT,
      "occupancy_slope": OCCUPANCY_SLOPE,
      "promoter_basal": config.promoter_basal,
      "ctcf_insulation": CTCF_INSULATION,
      "insulator_accessibility": INSULATOR_ACCESSIBILITY,
      "signal_scale": dict(SIGNAL_SCALE),
      "background_per_kb": dict(BACKGROUND_PER_KB),
      "cage_width_bp": CAGE_WIDTH_BP,
      "enhancer_window_bp": config.enhancer_window_bp,
      "half_contact_bp": config.half_contact_bp,
      "dnase_width_bp": config.dnase_width_bp,
      "histone_width_bp": config.histone_width_bp,
      "histone_offset_bp": config.histone_offset_bp,
      "mean_elements": {"promoter": config.mean_promoters,
                        "enhancer": config.mean_enhancers,
                        "decoy": config.mean_decoys,
                        "insulator": config.mean_insulators},
      "min_spacing_bp": config.min_spacing_bp,
      # Only the distal configs: the 1.0.0 builds' metadata stays as it was.
      **({"paired_enhancer_p": config.paired_enhancer_p,
          "paired_distance_bp": list(config.paired_distance_bp)}
         if config.pairs_enhancers else {}),
  }


# ---------------------------------------------------------------------------
# TFDS builder
# ---------------------------------------------------------------------------


class SyntheticCoverage(tfds.core.GeneratorBasedBuilder):
  """Basenji-format coverage tracks from motifs planted under a known model."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release: human 6 / mouse 3 tracks."}
  BUILDER_CONFIGS = BUILDER_CONFIGS
  DEFAULT_BUILDER_CONFIG_NAME = "human"

  def _motifs(self) -> dict[str, sm.PlantedMotif]:
    # Kept on the instance, not the module, so nothing global is cached.
    if not hasattr(self, "_planted_motifs"):
      self._planted_motifs = sm.load_motifs()
    return self._planted_motifs

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    motifs = self._motifs()
    tracks = track_table(config)
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.seq_length, 4),
                                             dtype=np.uint8),
            "target": tfds.features.Tensor(
                shape=(config.target_length, len(config.tracks)),
                dtype=np.float16),
            "gc": tfds.features.Scalar(dtype=np.float32),
            "element_kind": tfds.features.Sequence(tfds.features.Text()),
            "element_start": tfds.features.Sequence(np.int32),
            "element_end": tfds.features.Sequence(np.int32),
            "element_anchor": tfds.features.Sequence(np.int32),
            "element_strand": tfds.features.Sequence(np.int8),
            "element_activity": tfds.features.Sequence(
                tfds.features.Tensor(shape=(len(CELL_TYPES),),
                                     dtype=np.float32)),
            "motif_name": tfds.features.Sequence(tfds.features.Text()),
            "motif_start": tfds.features.Sequence(np.int32),
            "motif_strand": tfds.features.Sequence(np.int8),
            "motif_occupancy": tfds.features.Sequence(np.float32),
            "motif_element": tfds.features.Sequence(np.int32),
            **({"element_partner": tfds.features.Sequence(np.int32)}
               if config.pairs_enhancers else {}),
        }),
        supervised_keys=("sequence", "target"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            species=config.species,
            seq_length=config.seq_length,
            pool_width=config.pool_width,
            crop_bp=config.crop_bp,
            target_length=config.target_length,
            num_targets=len(config.tracks),
            targets=tracks,
            track_names=list(config.tracks),
            track_kinds=[t["kind"] for t in tracks],
            strand_pair=list(range(len(config.tracks))),
            cell_types=list(CELL_TYPES),
            gc_range=list(config.gc_range),
            generative_model=generative_model(config),
            motifs={name: {"matrix_id": m.matrix_id, "width": m.width}
                    for name, m in motifs.items()},
            jaspar_release=jaspardb().release,
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[int, dict]]:
    config = self.builder_config
    motifs = self._motifs()
    for index in range(config.num_examples(split)):
      rng = example_rng(config.seed, config.species, split, index)
      yield index, sample_example(rng, motifs, config)
