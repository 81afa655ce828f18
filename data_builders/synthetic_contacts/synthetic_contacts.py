"""Synthetic contact maps from loop extrusion between planted convergent CTCF motifs.

The embedded default (DESIGN.md, decision 8) for contact-map models — Akita
(Fudenberg et al., Nat. Methods 2020) and Orca's 1-Mb model (Zhou, Nat. Genet. 2022):
DNA with JASPAR CTCF MA0139 sites planted on both strands, and the log
observed/expected map that cohesin loop extrusion between them would give, stored in
Akita's target form (``target`` float32 ``[n_pairs, n_targets]``, the upper triangle
``np.triu_indices(n_bins, diagonal_offset)`` of the cropped map, NaN for filtered bins;
``sequence`` uint8 ``[seq_length, 4]`` as in ``synthetic_coverage``).

Generative model, per example:

  sequence   i.i.d. background (GC uniform in ``gc_range``) with 2 + Poisson
             (``mean_ctcf_sites`` - 2) CTCF sites at random non-overlapping positions,
             each on a random strand; a fraction ``strong_site_fraction`` drawn as strong
             matches (>= 70% of the consensus log-odds), the rest raw PFM draws. A site's
             occupancy o is ``synthetic_coverage.motif_occupancy`` of its planted bases
             (logistic in the PWM score, half-bound at 60% of consensus).
  extrusion  ``n_cohesins`` cohesins load uniformly over the window and each leg
             extrudes an Exp(``processivity_bp`` / 2) distance (Fudenberg et al., Cell
             Rep. 2016; Sanborn et al., PNAS 2015). The left leg stops at the first
             forward-strand CTCF it meets, the right leg at the first reverse-strand
             one, each with probability o (CTCF halts cohesin from the side its
             N-terminus faces, so loops join convergent sites; Rao et al., Cell 2014;
             de Wit et al., Mol. Cell 2015). Its two ends (L, R) are brought together.
  contacts   contact probability P(s) = 1 / (1 + s) at separation s bins (Hi-C's
             ~1/s decay; Lieberman-Aiden et al., Science 2009), averaged over cells
             that each hold ``seq_length / separation_bp`` loops whose effects add:
             ``C = P(|i - j|) + (seq_length / separation_bp) mean_loops [P(s_eff) -
             P(|i - j|)]`` with ``s_eff = min(|i - j|, |i - L| + |j - R|, |i - R| +
             |j - L|)`` the separation through the loop base. Pairs inside a loop come
             closer (a TAD), its anchors touch (a dot at convergent CTCFs), stripes run
             from anchors that stop one leg; pairs across an anchor do not
             (insulation).
  targets    one map per ``targets`` entry (processivity and loop fraction of a
             "cell type": ``wild_type``, and ``wapl_depleted`` with 3x processivity,
             as WAPL loss lengthens loops; Haarhuis et al., Cell 2017). Reads are Poisson
             with mean ``depth x C``; a fraction ``filtered_bin_rate`` of bins is
             filtered (NaN rows and columns, as balancing drops sparse bins); then Akita's
             preprocessing exactly as for real data (``genereg_jax.data.contact_maps``:
             adaptive coarse-grain, observed/expected, log, clip 2, crop, triangle;
             filtered bins stay NaN).

The oracle: the same CTCF sites extruded again, independently, with 4 x ``n_cohesins``
cohesins, and that noise-free map ``depth x C`` preprocessed alike: what the sequence
determines, without the example's cohesin sampling or read noise. ``oracle_map_pearson``
(mean over test maps of its map Pearson R with the stored target, NaN entries skipped),
wild_type / wapl_depleted: default 0.835 / 0.936 (all 200 test maps), tiny 0.818 /
0.926 (16), akita 0.787 / 0.924 (first 4), orca_1mb 0.910 / 0.964 (first 8), dense
0.971 / 0.991 (all 100). A sequence model's map Pearson is bounded by about these values.

``dense`` is what the akita / orca_1mb ``synthetic`` configs train on: ``default``'s
56 x 56 map and loop lengths in bins, from 16,384 bp in 256-bp bins, with 12 sites per
example on average (3x ``default``'s per bp), all strong, and 10x the reads. On
``default`` a model must find the 19-bp motif in 512-bp bins through a weak map signal,
and Akita's blocks stayed near map Pearson 0.05 for 600 steps; on ``dense`` they reach
0.47 on valid maps in 400 steps of 4 (README "Contact maps"). (With 400 cohesins per
map, two extrusions of the same sites agreed only to R = 0.63 on wild_type: hence the
thousands of cohesins, grouped into distinct loops to stay cheap.)

Cost (2 cores shared, load ~20): default ~0.24 s per example (a full build of 2,400
examples ~10-15 min), tiny ~0.06 s, akita ~5.9 s (320 examples, ~30 min; the 1-Mb
contact average over distinct loops dominates), orca_1mb ~1.0 s, dense ~0.2 s (load ~20;
the oracle's 4x extrusion doubles it).

Everything is deterministic: example ``index`` of ``split`` draws from
``np.random.default_rng([seed, split_id, index])`` and has key ``index``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import tensorflow_datasets as tfds
from pyjaspar import jaspardb

from data_builders.synthetic_coverage import synthetic_coverage as sc
from data_builders.synthetic_motifs import synthetic_motifs as sm
from genereg_jax.data import contact_maps
from genereg_jax.nn import conv2d

SPLITS: tuple[str, ...] = sm.SPLITS
CTCF = "CTCF"
MOTIF_IDS = {CTCF: sm.MOTIF_IDS[CTCF]}  # JASPAR MA0139
STRONG_SITE_SCORE = sm.STRONG_SITE_FRACTION


@dataclasses.dataclass(frozen=True)
class CellType:
  """One target's extrusion: mean loop size and mean distance between cohesins."""

  name: str
  processivity_bp: float
  separation_bp: float


def _cell_types(processivity_bp: float) -> tuple[CellType, ...]:
  # Processivity / separation = 2, within the range where Fudenberg et al. (2016) see
  # TADs; WAPL loss triples processivity on the same cohesins.
  return (CellType("wild_type", processivity_bp, processivity_bp / 2),
          CellType("wapl_depleted", 3 * processivity_bp, processivity_bp / 2))


@dataclasses.dataclass(eq=False)
class SyntheticContactsConfig(tfds.core.BuilderConfig):
  """One ``synthetic_contacts`` build: geometry, extrusion, noise, size.

  Attributes:
    seq_length: bp per example.
    bin_size: bp per map bin.
    crop_bins: bins cropped at each side of the map (the sequence is not cropped).
    diagonal_offset: diagonals left out of the triangle.
    targets: the cell types, one target column each.
    num_train, num_valid, num_test: examples per split.
    seed: first entry of every example's seed.
    gc_range: (low, high) of the per-example background GC.
    mean_ctcf_sites: mean planted CTCF sites per example (at least 2).
    strong_site_fraction: fraction of sites drawn as strong matches.
    n_cohesins: extrusion events simulated per map.
    depth: reads of a pixel with contact probability 1 (about twice those one bin off
      the diagonal).
    filtered_bin_rate: probability that a bin is filtered (NaN).
  """

  seq_length: int = 32_768
  bin_size: int = 512
  crop_bins: int = 4
  diagonal_offset: int = 2
  targets: tuple[CellType, ...] = _cell_types(8_192)
  num_train: int = 2_000
  num_valid: int = 200
  num_test: int = 200
  seed: int = 0
  gc_range: tuple[float, float] = (0.38, 0.42)
  mean_ctcf_sites: float = 8.0
  strong_site_fraction: float = 0.7
  n_cohesins: int = 4_000
  depth: float = 1_000.0
  filtered_bin_rate: float = 0.02

  def __post_init__(self):
    if self.seq_length % self.bin_size:
      raise ValueError(f"seq_length {self.seq_length} is not a multiple of bin_size "
                       f"{self.bin_size}")
    if self.n_bins - self.diagonal_offset < 2:
      raise ValueError(f"crop_bins {self.crop_bins} and diagonal_offset "
                       f"{self.diagonal_offset} leave no map of {self.total_bins} bins")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      raise ValueError("every split needs at least one example")
    if self.mean_ctcf_sites < 2:
      raise ValueError("mean_ctcf_sites must be >= 2")

  @property
  def total_bins(self) -> int:
    """Bins of the whole window, before cropping."""
    return self.seq_length // self.bin_size

  @property
  def n_bins(self) -> int:
    """Bins per side of the stored (cropped) map."""
    return self.total_bins - 2 * self.crop_bins

  @property
  def n_pairs(self) -> int:
    """Entries of the stored triangle."""
    return conv2d.num_pairs(self.n_bins, self.diagonal_offset)

  @property
  def preprocessing(self) -> contact_maps.AkitaPreprocessing:
    return contact_maps.AkitaPreprocessing(diagonal_offset=self.diagonal_offset,
                                           crop_bins=self.crop_bins)

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid,
            "test": self.num_test}[split]


BUILDER_CONFIGS = [
    SyntheticContactsConfig(
        name="default",
        description="32,768 bp, 64 bins of 512 bp, crop 4 -> 56 bins, offset 2 (1,485 "
                    "pairs), 2 targets, 2,000/200/200 examples; trains on 2 CPU cores in "
                    "minutes."),
    SyntheticContactsConfig(
        name="tiny", seq_length=8_192, bin_size=256, crop_bins=2,
        targets=_cell_types(2_048), num_train=128, num_valid=16, num_test=16,
        mean_ctcf_sites=5.0, n_cohesins=2_000,
        description="8,192 bp, 32 bins of 256 bp, crop 2 -> 28 bins, offset 2 (351 "
                    "pairs), 2 targets, 128/16/16 examples, for tests."),
    # What the akita/orca_1mb `synthetic` configs train on: the default's 56 x 56 map
    # from half the DNA (256-bp bins, loops of the same 16 bins), every site a strong
    # match, 3x the sites per bp and 10x the reads. On `default` the models stay near
    # map r 0.05 for hundreds of steps; here Akita's blocks find CTCF within 300 (README).
    SyntheticContactsConfig(
        name="dense", seq_length=16_384, bin_size=256, targets=_cell_types(4_096),
        num_train=1_000, num_valid=100, num_test=100, mean_ctcf_sites=12.0,
        strong_site_fraction=1.0, depth=10_000.0,
        description="16,384 bp, 64 bins of 256 bp, crop 4 -> 56 bins, offset 2 (1,485 "
                    "pairs), 2 targets, 1,000/100/100 examples; 12 strong CTCF sites "
                    "per example on average, depth 10,000: learnable on 2 CPU cores."),
    SyntheticContactsConfig(
        name="akita", seq_length=1_048_576, bin_size=2_048, crop_bins=32,
        targets=_cell_types(160_000), num_train=256, num_valid=32, num_test=32,
        mean_ctcf_sites=40.0, n_cohesins=1_000, depth=5_000.0,
        description="Akita geometry: 1,048,576 bp, 512 bins of 2,048 bp, crop 32 -> 448 "
                    "bins, offset 2 (99,681 pairs), 2 targets, 256/32/32 examples."),
    # Orca's 1-Mb model: 250 x 250 bins of 4 kb, whole map; 4x Akita's reads per pixel
    # (bins twice as wide).
    SyntheticContactsConfig(
        name="orca_1mb", seq_length=1_000_000, bin_size=4_000, crop_bins=0,
        diagonal_offset=0, targets=_cell_types(160_000), num_train=256, num_valid=32,
        num_test=32, mean_ctcf_sites=40.0, n_cohesins=1_000, depth=20_000.0,
        description="Orca 1-Mb geometry: 1,000,000 bp, 250 bins of 4 kb, no crop, offset "
                    "0 (31,375 pairs), 2 targets, 256/32/32 examples."),
]


# ---------------------------------------------------------------------------
# The generative model
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CtcfSite:
  """A planted CTCF motif: ``[start, start + width)`` on ``strand``, its occupancy."""

  start: int
  width: int
  strand: int
  occupancy: float

  @property
  def centre(self) -> float:
    return self.start + self.width / 2


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """``default_rng([seed, split_id, index])`` of one example."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


def plant_sites(rng: np.random.Generator, motif: sm.PlantedMotif,
                config: SyntheticContactsConfig) -> tuple[np.ndarray, list[CtcfSite]]:
  """Background bases with CTCF sites: ``(uint8 one-hot [L, 4], sites by start)``."""
  gc = rng.uniform(*config.gc_range)
  at = (1 - gc) / 2
  bases = rng.choice(4, size=config.seq_length, p=[at, gc / 2, gc / 2, at]).astype(np.uint8)
  n_sites = 2 + rng.poisson(config.mean_ctcf_sites - 2)
  slots = config.seq_length // (2 * motif.width)
  starts = np.sort(rng.choice(slots, size=min(n_sites, slots), replace=False))
  starts = starts * 2 * motif.width + rng.integers(0, motif.width, size=starts.size)
  placed = []
  for start in starts:
    strand = int(rng.choice((-1, 1)))
    strong = rng.random() < config.strong_site_fraction
    bases[start:start + motif.width] = motif.sample(
        rng, strand, STRONG_SITE_SCORE if strong else 0.0)
    placed.append((int(start), strand))
  one_hot = np.eye(4, dtype=np.uint8)[bases]
  sites = [CtcfSite(start, motif.width, strand,
                    sc.motif_occupancy(motif, one_hot[start:start + motif.width], strand))
           for start, strand in placed]
  return one_hot, sites


def extrude(rng: np.random.Generator, sites: list[CtcfSite], cell: CellType,
            config: SyntheticContactsConfig) -> np.ndarray:
  """Loop ends ``[n_cohesins, 2]`` (left, right) in bin units, from the model above."""
  n = config.n_cohesins
  load = rng.uniform(0, config.seq_length, size=n)
  reach = rng.exponential(cell.processivity_bp / 2, size=(n, 2))
  position = np.array([s.centre for s in sites])
  strand = np.array([s.strand for s in sites])
  bound = rng.random((n, len(sites))) < np.array([s.occupancy for s in sites])
  left_end, right_end = load - reach[:, 0], load + reach[:, 1]
  # The nearest bound site of the halting orientation within each leg's reach.
  stops_left = bound & (strand > 0) & (position < load[:, None]) & \
      (position >= left_end[:, None])
  stops_right = bound & (strand < 0) & (position > load[:, None]) & \
      (position <= right_end[:, None])
  left = np.where(stops_left.any(1), np.where(stops_left, position, -np.inf).max(1),
                  left_end)
  right = np.where(stops_right.any(1), np.where(stops_right, position, np.inf).min(1),
                   right_end)
  return np.stack([left, right], -1) / config.bin_size


def contact_probability(loops: np.ndarray, cell: CellType,
                        config: SyntheticContactsConfig) -> np.ndarray:
  """Noise-free ``[n, n]`` contact map ``C`` averaged over cells (module docstring)."""
  centre = np.arange(config.total_bins, dtype=np.float32) + 0.5
  separation = np.abs(centre[:, None] - centre[None, :])
  background = 1 / (1 + separation)
  # Loop ends to the nearest bin edge (the map's resolution): each distinct loop is
  # computed once, so thousands of cohesins cost about as much as a few hundred.
  ends, weight = np.unique(np.round(loops), axis=0, return_counts=True)
  gain = np.zeros_like(separation)
  through = np.empty_like(separation)
  # float32 and in place: 2.3x faster on Akita's 512 x 512 maps (this loop is the cost).
  for (left, right), w in zip(ends.astype(np.float32), weight):
    np.add(np.abs(centre - left)[:, None], np.abs(centre - right)[None, :], out=through)
    np.minimum(through, through.T, out=through)  # either end first
    np.minimum(through, separation, out=through)
    through += 1
    np.reciprocal(through, out=through)
    through -= background
    through *= w
    gain += through
  loops_per_cell = config.seq_length / cell.separation_bp
  return (background + loops_per_cell * gain / weight.sum()).astype(np.float64)


def observe(rng: np.random.Generator, expected: np.ndarray,
            config: SyntheticContactsConfig) -> tuple[np.ndarray, np.ndarray]:
  """Poisson reads and filtered bins: ``(balanced with NaN rows, raw counts)``."""
  upper = np.triu(rng.poisson(config.depth * expected).astype(np.float64))
  counts = upper + np.triu(upper, 1).T
  filtered = rng.random(expected.shape[0]) < config.filtered_bin_rate
  counts[filtered, :] = counts[:, filtered] = 0
  balanced = counts.copy()
  balanced[filtered, :] = balanced[:, filtered] = np.nan
  return balanced, counts


def sample_example(rng: np.random.Generator, motif: sm.PlantedMotif,
                   config: SyntheticContactsConfig, with_oracle: bool = False
                   ) -> dict[str, Any]:
  """One example: the record's features; with ``with_oracle`` also ``oracle``, the
  preprocessed noise-free maps ``[n_pairs, n_targets]`` (NaN where ``target`` is) of the
  same CTCF sites with an independent extrusion of 4 x ``n_cohesins`` cohesins: what
  the sequence determines, without this example's cohesin sampling or reads."""
  one_hot, sites = plant_sites(rng, motif, config)
  # Spawned, so the record's own draws are the same with or without the oracle.
  oracle_rng = rng.spawn(1)[0] if with_oracle else None
  oracle_config = dataclasses.replace(config, n_cohesins=4 * config.n_cohesins)
  targets, oracles = [], []
  for cell in config.targets:
    expected = contact_probability(extrude(rng, sites, cell, config), cell, config)
    balanced, counts = observe(rng, expected, config)
    targets.append(contact_maps.akita_targets(balanced, counts, config.preprocessing))
    if with_oracle:
      mean = contact_probability(extrude(oracle_rng, sites, cell, oracle_config), cell,
                                 config)
      noiseless = np.where(np.isnan(balanced), np.nan, config.depth * mean)
      oracle = contact_maps.akita_targets(noiseless, np.full_like(mean, np.inf),
                                          config.preprocessing)
      oracles.append(np.where(np.isnan(targets[-1]), np.nan, oracle))
  example = {
      "sequence": one_hot,
      "target": np.stack(targets, -1).astype(np.float32),
      "ctcf_start": np.array([s.start for s in sites], np.int32),
      "ctcf_strand": np.array([s.strand for s in sites], np.int8),
      "ctcf_occupancy": np.array([s.occupancy for s in sites], np.float32),
  }
  if with_oracle:
    example["oracle"] = np.stack(oracles, -1).astype(np.float32)
  return example


def oracle_map_pearson(config: SyntheticContactsConfig, split: str = "test",
                       limit: int | None = None,
                       motif: sm.PlantedMotif | None = None) -> np.ndarray:
  """Per-target mean over maps of Pearson(noise-free map, stored target)."""
  motif = motif or sm.load_motifs(motif_ids=MOTIF_IDS)[CTCF]
  scores = []
  for index in range(min(config.num_examples(split), limit or np.inf)):
    example = sample_example(example_rng(config.seed, split, index), motif, config,
                             with_oracle=True)
    row = []
    for t in range(len(config.targets)):
      x, y = example["oracle"][:, t], example["target"][:, t]
      keep = np.isfinite(x) & np.isfinite(y)
      row.append(np.corrcoef(x[keep], y[keep])[0, 1])
    scores.append(row)
  return np.nanmean(np.array(scores), axis=0)


def generative_model(config: SyntheticContactsConfig) -> dict[str, Any]:
  """This build's generative constants, for the dataset metadata."""
  return {
      "ctcf_motif": MOTIF_IDS[CTCF],
      "mean_ctcf_sites": config.mean_ctcf_sites,
      "strong_site_fraction": config.strong_site_fraction,
      "strong_site_score_fraction": STRONG_SITE_SCORE,
      "occupancy_midpoint": sc.OCCUPANCY_MIDPOINT,
      "occupancy_slope": sc.OCCUPANCY_SLOPE,
      "n_cohesins": config.n_cohesins,
      "targets": [dataclasses.asdict(c) for c in config.targets],
      "contact_decay": "1 / (1 + s)",
      "depth": config.depth,
      "filtered_bin_rate": config.filtered_bin_rate,
      "gc_range": list(config.gc_range),
  }


# ---------------------------------------------------------------------------
# TFDS builder
# ---------------------------------------------------------------------------


class SyntheticContacts(tfds.core.GeneratorBasedBuilder):
  """Akita-format contact maps from loop extrusion between planted CTCF motifs."""

  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {
      "1.0.0": "First release: default, tiny and Akita-size configs.",
      "1.1.0": "Thousands of cohesins per map (near the extrusion steady state); "
               "orca_1mb config.",
  }
  BUILDER_CONFIGS = BUILDER_CONFIGS
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _motif(self) -> sm.PlantedMotif:
    if not hasattr(self, "_ctcf"):
      self._ctcf = sm.load_motifs(motif_ids=MOTIF_IDS)[CTCF]
    return self._ctcf

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    motif = self._motif()
    # Raw bytes: TFDS's default writes one int64 per uint8 base (array_record compresses).
    raw = tfds.features.Encoding.BYTES
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.seq_length, 4),
                                             dtype=np.uint8, encoding=raw),
            "target": tfds.features.Tensor(shape=(config.n_pairs, len(config.targets)),
                                           dtype=np.float32, encoding=raw),
            "ctcf_start": tfds.features.Sequence(np.int32),
            "ctcf_strand": tfds.features.Sequence(np.int8),
            "ctcf_occupancy": tfds.features.Sequence(np.float32),
        }),
        supervised_keys=("sequence", "target"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            seq_length=config.seq_length,
            bin_size=config.bin_size,
            n_bins=config.n_bins,
            crop_bins=config.crop_bins,
            diagonal_offset=config.diagonal_offset,
            n_pairs=config.n_pairs,
            target_names=[c.name for c in config.targets],
            preprocessing=dataclasses.asdict(config.preprocessing),
            generative_model=generative_model(config),
            motifs={CTCF: {"matrix_id": motif.matrix_id, "width": motif.width}},
            jaspar_release=jaspardb().release,
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    config = self.builder_config
    motif = self._motif()
    for index in range(config.num_examples(split)):
      yield index, sample_example(example_rng(config.seed, split, index), motif, config)
