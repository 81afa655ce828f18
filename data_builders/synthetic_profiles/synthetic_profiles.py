"""Synthetic ChIP-nexus profiles from planted JASPAR motifs (BPNet-style data).

The embedded default for base-resolution models (DESIGN.md, decision 8): four
"tasks" named after the mESC pluripotency factors of BPNet (Avsec et al., Nat
Genet 2021) -- Oct4, Sox2, Nanog, Klf4 -- each with a plus- and a minus-strand
read track, produced by motifs planted in random DNA. It is synthetic and says
so; its purpose is that BPNet trains out of the box and that interpretation
(contribution scores, TF-MoDISco) can be checked against the planted truth.

Motifs: JASPAR CORE vertebrate matrices from pyjaspar's offline database
(default release), latest version of each base ID, sampled column by column
with the ``synthetic_motifs`` pseudocount:

  POU5F1 MA1115, SOX2 MA0143, OCT4_SOX2 (Pou5f1::Sox2 composite) MA0142,
  NANOG MA2339, KLF4 MA0039.

Binding grammar (``BINDING``): each motif is bound by its factor with strength
1; the Oct4-Sox2 composite element is bound by Oct4 and Sox2 (strength 1 each)
and, indirectly, by Nanog and Klf4 (0.3 each), as BPNet found Nanog and Klf4
ChIP-nexus signal at Oct4-Sox2 motifs. Occupancy is a function of sequence
alone: every position and strand is scored with each motif's log2-odds PWM
and occupied with probability ``1 / (1 + exp(-1.5 (score - (best - 3.5))))``
(a Boltzmann-like curve in bits, half-occupied 3.5 bits below the
consensus); sites below ``MIN_OCCUPANCY`` are ignored. Planted instances
are PFM samples within 3 bits of the consensus, so they are bound; chance
matches in the background bind too, as they would in a cell, and so can the
Oct and Sox halves of a composite element.

Footprints (ChIP-nexus-like): exonuclease stops pile plus-strand reads at the
upstream edge of the bound protein and minus-strand reads at the downstream
edge. A factor covers ``d5`` bp beyond the motif's 5' end and ``d3`` beyond
its 3' end in the motif's own orientation (``FOOTPRINTS``). Each strand gets
``SIGNAL_READS`` expected reads per unit occupancy: 65% in a sharp Gaussian
(sigma 1.5 bp) at the edge and 35% in a one-sided exponential tail (decay
10 bp) running away from the motif, so the motif itself is a read-free
footprint between the two strand peaks.

Background and control: a smooth per-example bias track (three Gaussian
bumps, mean 1 over the input window) scaled by a per-example depth
``bg_scale`` (log-uniform in [0.5, 2]) gives every track ``BACKGROUND_RATE``
reads/bp/strand and the two control strands ``CONTROL_RATE`` reads/bp over the
whole input window, so the control tells a model the background depth.
Observed reads are Poisson draws of background + signal.

Examples: 25% carry no planted motif (background windows); the rest carry
1-4 non-overlapping instances (footprints included) drawn with
``MOTIF_WEIGHTS``, each placed uniformly with its footprint edges at least
``EDGE_MARGIN`` bp inside the output window, on a random strand. Features:

  sequence      uint8[input_length, 4] one-hot A,C,G,T
  profile       float32[output_length, 8] reads, (Oct4 +, Oct4 -, Sox2 +, ...)
  control       float32[input_length, 2] control reads (+, -)
  motif_name / motif_start / motif_strand / motif_occupancy
                planted instances, starts in input coordinates (chance
                sites that also bind are not listed; ``bound_sites`` finds
                every site)
  bg_scale      float32 background depth

The output window is centred: ``[output_offset, output_offset +
output_length)`` of the input with ``output_offset = (input_length -
output_length) // 2``. Everything is deterministic: example ``index`` of
``split`` uses ``np.random.default_rng([seed, split_id, index])``; records are
written unshuffled, so data-source position ``i`` is example ``i``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds
from pyjaspar import jaspardb

from data_builders.synthetic_motifs import synthetic_motifs
from data_builders.synthetic_motifs.synthetic_motifs import PlantedMotif
from genereg_jax.data.encoding import one_hot_dna

TASKS: tuple[str, ...] = ("Oct4", "Sox2", "Nanog", "Klf4")
STRANDS: tuple[str, ...] = ("plus", "minus")
TRACK_NAMES: tuple[str, ...] = tuple(f"{t}/{s}" for t in TASKS for s in STRANDS)
STRAND_PAIR: tuple[int, ...] = tuple(i + 1 if i % 2 == 0 else i - 1
                                     for i in range(len(TRACK_NAMES)))
CONTROL_NAMES: tuple[str, ...] = ("control/plus", "control/minus")
CONTROL_STRAND_PAIR: tuple[int, ...] = (1, 0)
SPLITS: tuple[str, ...] = ("train", "valid", "test")

# Our motif name -> JASPAR CORE base ID (latest version is used).
MOTIF_IDS: dict[str, str] = {
    "POU5F1": "MA1115",
    "SOX2": "MA0143",
    "OCT4_SOX2": "MA0142",
    "NANOG": "MA2339",
    "KLF4": "MA0039",
}
MOTIF_NAMES: tuple[str, ...] = tuple(MOTIF_IDS)

# Which tasks bind which motif, and how strongly.
BINDING: dict[str, dict[str, float]] = {
    "POU5F1": {"Oct4": 1.0},
    "SOX2": {"Sox2": 1.0},
    "OCT4_SOX2": {"Oct4": 1.0, "Sox2": 1.0, "Nanog": 0.3, "Klf4": 0.3},
    "NANOG": {"Nanog": 1.0},
    "KLF4": {"Klf4": 1.0},
}
MOTIF_WEIGHTS: dict[str, float] = {
    "POU5F1": 0.15, "SOX2": 0.15, "OCT4_SOX2": 0.25, "NANOG": 0.25,
    "KLF4": 0.20,
}
BACKGROUND_FRACTION = 0.25
MAX_MOTIFS = 4
# Occupancy 1 / (1 + exp(-OCCUPANCY_SLOPE * (score - (best score -
# HALF_OCCUPANCY_BITS)))), scores in bits.
HALF_OCCUPANCY_BITS = 3.5
OCCUPANCY_SLOPE = 1.5
# Planted instances score within this many bits of the consensus.
PLANTED_WITHIN_BITS = 3.0
MIN_OCCUPANCY = 0.05


@dataclasses.dataclass(frozen=True)
class Footprint:
  """Protein extent beyond the motif, in the motif's own orientation.

  Attributes:
    d5: bp covered beyond the motif's 5' end.
    d3: bp covered beyond the motif's 3' end.
  """

  d5: int
  d3: int


FOOTPRINTS: dict[str, Footprint] = {
    "Oct4": Footprint(4, 6),
    "Sox2": Footprint(3, 5),
    "Nanog": Footprint(6, 4),
    "Klf4": Footprint(2, 4),
}
SIGNAL_READS = 40.0
SHARP_FRACTION = 0.65
SHARP_SIGMA = 1.5
TAIL_DECAY = 10.0
BACKGROUND_RATE = 0.03
CONTROL_RATE = 0.1
BG_SCALE_RANGE = (0.5, 2.0)
EDGE_MARGIN = 12
# Gap kept between footprints of neighbouring instances.
SPACER = 2

_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


def load_motifs(release: str | None = None) -> dict[str, PlantedMotif]:
  """The five matrices of ``MOTIF_IDS`` from pyjaspar's offline database.

  Args:
    release: a JASPAR release such as ``"JASPAR2026"``; None is pyjaspar's
      default.

  Returns:
    ``{name: PlantedMotif}`` in ``MOTIF_NAMES`` order.
  """
  return synthetic_motifs.load_motifs(release, MOTIF_IDS)


# ---------------------------------------------------------------------------
# Footprint profiles.
# ---------------------------------------------------------------------------


def footprint_edges(start: int, width: int, strand: int,
                    footprint: Footprint) -> tuple[int, int]:
  """First and last bp covered by a factor bound to ``[start, start + width)``."""
  left, right = ((footprint.d5, footprint.d3) if strand > 0
                 else (footprint.d3, footprint.d5))
  return start - left, start + width - 1 + right


def strand_shapes(left: int, right: int, positions: np.ndarray) -> np.ndarray:
  """``[len(positions), 2]`` read densities of one bound factor (each sums to 1).

  Plus-strand reads pile at ``left`` with a tail upstream, minus-strand reads
  at ``right`` with a tail downstream.
  """
  x = positions.astype(np.float64)
  keep = 1.0 - np.exp(-1.0 / TAIL_DECAY)
  sharp_norm = 1.0 / (np.sqrt(2 * np.pi) * SHARP_SIGMA)
  plus = SHARP_FRACTION * sharp_norm * np.exp(
      -0.5 * ((x - left) / SHARP_SIGMA) ** 2)
  plus += (1 - SHARP_FRACTION) * np.where(
      x <= left, keep * np.exp(-(left - x) / TAIL_DECAY), 0.0)
  minus = SHARP_FRACTION * sharp_norm * np.exp(
      -0.5 * ((x - right) / SHARP_SIGMA) ** 2)
  minus += (1 - SHARP_FRACTION) * np.where(
      x >= right, keep * np.exp(-(x - right) / TAIL_DECAY), 0.0)
  return np.stack([plus, minus], axis=-1)


def expected_signal(names: Sequence[str], starts: Sequence[int],
                    strands: Sequence[int], occupancies: Sequence[float],
                    widths: Mapping[str, int], output_offset: int,
                    output_length: int) -> np.ndarray:
  """Noise-free motif-driven reads ``[output_length, 8]`` (no background).

  Args:
    names: planted motif names (``MOTIF_NAMES``).
    starts: motif starts in input coordinates.
    strands: +1 / -1 per motif.
    occupancies: per-instance factors multiplying ``BINDING`` strengths.
    widths: ``{name: width}``.
    output_offset: first input position of the output window.
    output_length: bp in the output window.

  Returns:
    Expected reads per position and track, in ``TRACK_NAMES`` order.
  """
  positions = np.arange(output_offset, output_offset + output_length)
  signal = np.zeros((output_length, len(TRACK_NAMES)))
  for name, start, strand, occupancy in zip(names, starts, strands,
                                            occupancies):
    for task, strength in BINDING[name].items():
      left, right = footprint_edges(int(start), widths[name], int(strand),
                                    FOOTPRINTS[task])
      t = TASKS.index(task)
      signal[:, 2 * t:2 * t + 2] += (SIGNAL_READS * strength * occupancy
                                     * strand_shapes(left, right, positions))
  return signal


def bias_track(rng: np.random.Generator, length: int) -> np.ndarray:
  """A smooth positive track of mean 1: a floor plus three Gaussian bumps."""
  x = np.arange(length, dtype=np.float64)
  track = np.full(length, 0.5)
  for _ in range(3):
    centre = rng.uniform(0, length)
    width = rng.uniform(0.05, 0.15) * length
    track += rng.uniform(0.5, 2.0) * np.exp(-0.5 * ((x - centre) / width) ** 2)
  return track / track.mean()


# ---------------------------------------------------------------------------
# Occupancy from sequence.
# ---------------------------------------------------------------------------


def motif_scores(bases: np.ndarray, motif: PlantedMotif) -> np.ndarray:
  """``[n_starts, 2]`` log2-odds of every window on the + and - strand.

  Args:
    bases: base indices (0..3 = A,C,G,T) of a sequence.
    motif: the PWM.

  Returns:
    Scores of ``bases[i:i + width]`` read on strand +1 (column 0) and -1.
  """
  log_odds = motif.log_odds()
  width = motif.width
  windows = np.lib.stride_tricks.sliding_window_view(bases, width)
  columns = np.arange(width)
  plus = log_odds[columns, windows].sum(axis=1)
  # The reverse strand reads the complement (3 - base) from the far end.
  minus = log_odds[columns[::-1], 3 - windows].sum(axis=1)
  return np.stack([plus, minus], axis=1)


def occupancy(score, motif: PlantedMotif):
  """Fraction of time a site of ``score`` bits is bound."""
  half = motif.log_odds().max(axis=1).sum() - HALF_OCCUPANCY_BITS
  return 1.0 / (1.0 + np.exp(-OCCUPANCY_SLOPE * (np.asarray(score) - half)))


def bound_sites(bases: np.ndarray, motifs: Mapping[str, PlantedMotif]
                ) -> list[tuple[str, int, int, float]]:
  """Every ``(name, start, strand, occupancy)`` with occupancy >= MIN_OCCUPANCY."""
  sites = []
  for name, motif in motifs.items():
    occupied = occupancy(motif_scores(bases, motif), motif)
    for start, column in zip(*np.nonzero(occupied >= MIN_OCCUPANCY)):
      sites.append((name, int(start), 1 if column == 0 else -1,
                    float(occupied[start, column])))
  return sites


def sample_strong_instance(rng: np.random.Generator, motif: PlantedMotif,
                           strand: int, tries: int = 200) -> np.ndarray:
  """A PFM sample within ``PLANTED_WITHIN_BITS`` of the consensus score."""
  best_score = motif.log_odds().max(axis=1).sum()
  best, best_value = None, -np.inf
  for _ in range(tries):
    indices = motif.sample(rng, strand)
    value = motif_scores(indices, motif)[0, 0 if strand > 0 else 1]
    if value >= best_score - PLANTED_WITHIN_BITS:
      return indices
    if value > best_value:
      best, best_value = indices, value
  return best


# ---------------------------------------------------------------------------
# Sampling.
# ---------------------------------------------------------------------------


def _extent(name: str, width: int, strand: int) -> tuple[int, int]:
  """Offsets (from the motif start) of the widest footprint of any binder."""
  lo, hi = 0, width - 1
  for task in BINDING[name]:
    left, right = footprint_edges(0, width, strand, FOOTPRINTS[task])
    lo, hi = min(lo, left), max(hi, right)
  return lo, hi


def sample_example(rng: np.random.Generator, motifs: Mapping[str, PlantedMotif],
                   input_length: int, output_length: int,
                   gc_range: tuple[float, float]) -> dict[str, Any]:
  """One example: background DNA, planted motifs, Poisson profiles, control.

  Args:
    rng: the example's generator (``example_rng``).
    motifs: ``load_motifs()``.
    input_length: bp of sequence (and control).
    output_length: bp of the centred profile window.
    gc_range: (low, high) of the uniform background GC fraction.

  Returns:
    The feature dict the builder writes (see the module docstring).
  """
  widths = {name: m.width for name, m in motifs.items()}
  offset = (input_length - output_length) // 2
  gc = rng.uniform(*gc_range)
  at = (1 - gc) / 2
  bases = rng.choice(4, size=input_length,
                     p=[at, gc / 2, gc / 2, at]).astype(np.uint8)

  n_motifs = (0 if rng.random() < BACKGROUND_FRACTION
              else int(rng.integers(1, MAX_MOTIFS + 1)))
  weights = np.array([MOTIF_WEIGHTS[n] for n in MOTIF_NAMES])
  occupied = np.zeros(input_length, bool)
  planted = []
  for _ in range(n_motifs):
    name = MOTIF_NAMES[rng.choice(len(MOTIF_NAMES), p=weights / weights.sum())]
    strand = 1 if rng.random() < 0.5 else -1
    lo, hi = _extent(name, widths[name], strand)
    # Footprint edges EDGE_MARGIN bp inside the output window.
    first = offset + EDGE_MARGIN - lo
    last = offset + output_length - 1 - EDGE_MARGIN - hi
    if last < first:
      raise ValueError(f"output_length {output_length} is too short for a "
                       f"{name} footprint with {EDGE_MARGIN} bp margins.")
    starts = np.arange(first, last + 1)
    free = np.array([not occupied[s + lo - SPACER:s + hi + 1 + SPACER].any()
                     for s in starts])
    if not free.any():
      continue
    start = int(rng.choice(starts[free]))
    occupied[start + lo:start + hi + 1] = True
    planted.append((start, name, strand))
  planted.sort()
  for start, name, strand in planted:
    bases[start:start + widths[name]] = sample_strong_instance(
        rng, motifs[name], strand)

  sites = bound_sites(bases, motifs)
  site_occupancy = {(n, s, d): o for n, s, d, o in sites}
  names = [p[1] for p in planted]
  starts = np.array([p[0] for p in planted], np.int32)
  strands = np.array([p[2] for p in planted], np.int8)
  occupancies = np.array([site_occupancy.get((n, int(s), int(d)), 0.0)
                          for n, s, d in zip(names, starts, strands)],
                         np.float32)
  bg_scale = float(np.exp(rng.uniform(*np.log(BG_SCALE_RANGE))))
  bias = bias_track(rng, input_length)
  background = BACKGROUND_RATE * bg_scale * bias[offset:offset + output_length]
  rates = np.repeat(background[:, None], len(TRACK_NAMES), axis=1)
  if sites:
    rates = rates + expected_signal(*zip(*sites), widths, offset,
                                    output_length)
  control_rates = np.repeat((CONTROL_RATE * bg_scale * bias)[:, None], 2, 1)
  return {
      "sequence": one_hot_dna(_BASES[bases].tobytes()),
      "profile": rng.poisson(rates).astype(np.float32),
      "control": rng.poisson(control_rates).astype(np.float32),
      "motif_name": names,
      "motif_start": starts,
      "motif_strand": strands,
      "motif_occupancy": occupancies,
      "bg_scale": np.float32(bg_scale),
  }


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """The generator of one example: ``default_rng([seed, split_id, index])``."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


# ---------------------------------------------------------------------------
# TFDS builder.
# ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class SyntheticProfilesConfig(tfds.core.BuilderConfig):
  """Geometry, size and randomness of a ``synthetic_profiles`` build.

  Attributes:
    input_length: bp of sequence and control per example.
    output_length: bp of the centred profile window.
    num_train: examples in ``train``.
    num_valid: examples in ``valid``.
    num_test: examples in ``test``.
    seed: first entry of every example's RNG seed.
    gc_range: (low, high) of the per-example background GC fraction.
  """

  input_length: int = 1000
  output_length: int = 500
  num_train: int = 8_000
  num_valid: int = 1_000
  num_test: int = 1_000
  seed: int = 0
  gc_range: tuple[float, float] = (0.35, 0.55)

  def __post_init__(self):
    if self.output_length < 60 or self.output_length > self.input_length:
      raise ValueError(f"need 60 <= output_length <= input_length, got "
                       f"{self.output_length} and {self.input_length}.")
    if (self.input_length - self.output_length) % 2:
      raise ValueError("input_length - output_length must be even so the "
                       "output window is centred.")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      raise ValueError("every split needs at least one example.")
    low, high = self.gc_range
    if not 0 < low <= high < 1:
      raise ValueError(f"gc_range {self.gc_range} must satisfy 0 < low <= "
                       "high < 1.")

  def num_examples(self, split: str) -> int:
    """Number of examples of ``split`` (one of ``SPLITS``)."""
    return {"train": self.num_train, "valid": self.num_valid,
            "test": self.num_test}[split]


class SyntheticProfiles(tfds.core.GeneratorBasedBuilder):
  """Stranded ChIP-nexus-like profiles of four factors from planted motifs."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release: 5 JASPAR motifs, 4 tasks x 2 "
                            "strands, control track."}
  BUILDER_CONFIGS = [
      SyntheticProfilesConfig(
          name="default",
          description="1,000 bp in, 500 bp out; 8,000/1,000/1,000 examples."),
      SyntheticProfilesConfig(
          name="tiny", description="400 bp in, 200 bp out; 4,000/400/400.",
          input_length=400, output_length=200, num_train=4_000,
          num_valid=400, num_test=400),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _motifs(self) -> dict[str, PlantedMotif]:
    # On the instance, not the module, so nothing global is cached.
    if not hasattr(self, "_planted_motifs"):
      self._planted_motifs = load_motifs()
    return self._planted_motifs

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    motifs = self._motifs()
    zlib = tfds.features.Encoding.ZLIB
    n_in, n_out = config.input_length, config.output_length
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(n_in, 4), dtype=np.uint8,
                                             encoding=zlib),
            "profile": tfds.features.Tensor(
                shape=(n_out, len(TRACK_NAMES)), dtype=np.float32,
                encoding=zlib),
            "control": tfds.features.Tensor(
                shape=(n_in, len(CONTROL_NAMES)), dtype=np.float32,
                encoding=zlib),
            "motif_name": tfds.features.Sequence(tfds.features.Text()),
            "motif_start": tfds.features.Sequence(np.int32),
            "motif_strand": tfds.features.Sequence(np.int8),
            "motif_occupancy": tfds.features.Sequence(np.float32),
            "bg_scale": tfds.features.Scalar(dtype=np.float32),
        }),
        supervised_keys=("sequence", "profile"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            tasks=list(TASKS),
            track_names=list(TRACK_NAMES),
            strand_pair=list(STRAND_PAIR),
            control_names=list(CONTROL_NAMES),
            control_strand_pair=list(CONTROL_STRAND_PAIR),
            input_length=n_in,
            output_length=n_out,
            output_offset=(n_in - n_out) // 2,
            binding={k: dict(v) for k, v in BINDING.items()},
            footprints={k: dataclasses.asdict(v)
                        for k, v in FOOTPRINTS.items()},
            motifs={name: {"matrix_id": m.matrix_id, "width": m.width,
                           "probabilities": m.probabilities.round(6).tolist()}
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
      yield index, sample_example(example_rng(config.seed, split, index),
                                  motifs, config.input_length,
                                  config.output_length, config.gc_range)
