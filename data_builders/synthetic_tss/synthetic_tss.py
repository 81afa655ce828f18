"""Synthetic TSS usage in many cell types (meta-learning) and motif-pair classes (few-shot).

The embedded default for DeeReCT-TSS and the few-shot training modes (DESIGN.md,
decision 8). SYNTHETIC, and says so. Regulatory motifs are JASPAR CORE vertebrate
matrices (pyjaspar's offline database, `synthetic_motifs.load_motifs`), planted as
strong sites (>= 0.7 of the consensus log-odds).

``tss`` / ``tiny_tss`` (DeeReCT-TSS, Zhou et al. 2021): windows of ``window`` bp centred
on a candidate position, each read in one of ``num_cell_types`` cell types. A window is
a *promoter* (probability 0.6: an initiator ``TCAGTCT`` with its A at the centre, and a
TATA box (TBP matrix) 31-24 bp upstream with probability 0.5) or *background* (neither).
Either kind carries each of the six regulators ``REGULATORS`` with probability 0.5,
upstream of the centre. All cell types share the grammar; they differ in how they read
the regulators: cell type ``c`` weighs motif ``m`` by ``weights[c, m]`` (two activators
+2, two repressors -1.5, the rest +0.3, a different draw per cell type,
`cell_type_weights`). The TSS is *used* in ``c`` (``label`` 1) when the window is a
promoter and ``0.8 [TATA] + sum_m weights[c, m] [m present] > 1.25`` (about half of the
promoters). The RNA-seq ``coverage`` of ``c`` (reads per base, Poisson around 0.5 as
noise) steps up at half of the used TSSs (a gene expressed enough to show; the other
half look unexpressed); of the windows not used in ``c``, 30% carry flat read-through
from an overlapping gene and 20% a step 30-120 bp off the centre (another TSS nearby).
So coverage alone does not settle the label, the core grammar is the same in every
cell type, and only the regulator weights need to be learnt per cell type: what
Reptile's initialisation should make quick to learn from a few examples of a new one.

``motif_pairs`` / ``tiny_motif_pairs`` (prototypical networks, Snell et al. 2017): one
class per unordered pair of the ten `synthetic_motifs.MOTIF_IDS` matrices (45 classes);
an example is a ``window``-bp uniform background with one strong site of each motif of
its pair, anywhere and on either strand. Configs hold out the last classes for
few-shot evaluation (new combinations of motifs seen in training).

Example ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``;
``tss`` example ``i`` is of cell type ``i % num_cell_types``, ``motif_pairs`` example
``i`` of class ``i % 45``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from data_builders.synthetic_motifs import synthetic_motifs

SPLITS = ("train", "valid", "test")
#: Promoter-proximal regulators (JASPAR base IDs) whose weights differ by cell type.
REGULATORS = {"SP1": "MA0079", "NRF1": "MA0506", "YY1": "MA0095", "NFYA": "MA0060",
              "ELK1": "MA0028", "CREB1": "MA0018"}
TATA_ID = {"TBP": "MA0108"}
INITIATOR = "TCAGTCT"  # Inr consensus YYANWYY; the A is the TSS (+1).
INITIATOR_TSS = 2
ACTIVATOR, REPRESSOR, NEUTRAL = 2.0, -1.5, 0.3
TATA_WEIGHT, USAGE_THRESHOLD = 0.8, 1.25
STRONG_SITE_FRACTION = synthetic_motifs.STRONG_SITE_FRACTION
NOISE_DEPTH, READTHROUGH_RATE, DECOY_RATE = 0.5, 0.3, 0.2
_BASES = np.frombuffer(b"ACGT", np.uint8)


@functools.lru_cache(maxsize=None)
def motifs(which: str) -> dict[str, synthetic_motifs.PlantedMotif]:
  """``"regulators"``, ``"tata"`` or ``"pairs"`` (the ten synthetic_motifs matrices)."""
  ids = {"regulators": REGULATORS, "tata": TATA_ID, "pairs": synthetic_motifs.MOTIF_IDS}
  return synthetic_motifs.load_motifs(motif_ids=ids[which])


def cell_type_weights(num_cell_types: int, seed: int) -> np.ndarray:
  """``[cell types, regulators]``: each row two activators, two repressors, the rest
  neutral, in a random order per cell type (fixed by ``seed``)."""
  rng = np.random.default_rng([seed, 1_000_003])
  count = len(REGULATORS)
  row = np.array([ACTIVATOR] * 2 + [REPRESSOR] * 2 + [NEUTRAL] * (count - 4))
  return np.stack([rng.permutation(row) for _ in range(num_cell_types)])


def pair_classes() -> list[tuple[str, str]]:
  """The 45 unordered motif pairs, in a fixed order (class ``k`` is entry ``k``)."""
  return list(itertools.combinations(synthetic_motifs.MOTIF_NAMES, 2))


def _place(rng: np.random.Generator, occupied: np.ndarray, width: int, low: int,
           high: int) -> int | None:
  """A free start in ``[low, high - width]``, or None after 50 tries (or no room)."""
  if high - width < low:
    return None
  for _ in range(50):
    start = int(rng.integers(low, high - width + 1))
    if not occupied[start:start + width].any():
      occupied[start:start + width] = True
      return start
  return None


def _plant(rng, codes, occupied, motif, low, high) -> bool:
  start = _place(rng, occupied, motif.width, low, high)
  if start is None:
    return False
  strand = 1 if rng.random() < 0.5 else -1
  codes[start:start + motif.width] = motif.sample(rng, strand, STRONG_SITE_FRACTION)
  return True


def one_hot(codes: np.ndarray) -> np.ndarray:
  return np.eye(4, dtype=np.uint8)[codes]


def tss_example(rng: np.random.Generator, cell_type: int, weights: np.ndarray,
                window: int) -> dict[str, Any]:
  """One window read in ``cell_type`` (the ``tss`` record)."""
  centre = window // 2
  codes = rng.integers(0, 4, window).astype(np.uint8)
  occupied = np.zeros(window, bool)
  promoter = rng.random() < 0.6
  tata = False
  if promoter:
    start = centre - INITIATOR_TSS
    codes[start:start + len(INITIATOR)] = np.searchsorted(_BASES, np.frombuffer(
        INITIATOR.encode(), np.uint8))
    occupied[start:start + len(INITIATOR)] = True
    if rng.random() < 0.5:
      tata_motif = motifs("tata")["TBP"]
      codes[centre - 31:centre - 31 + tata_motif.width] = tata_motif.sample(
          rng, 1, STRONG_SITE_FRACTION)
      occupied[centre - 31:centre - 31 + tata_motif.width] = True
      tata = True
  present = np.zeros(len(REGULATORS), np.int32)
  # Regulators sit upstream, clear of the core promoter (the last 40 bp before the TSS).
  low, high = max(0, centre - 300), centre - 40
  for m, motif in enumerate(motifs("regulators").values()):
    if rng.random() < 0.5:
      present[m] = _plant(rng, codes, occupied, motif, low, high)
  score = TATA_WEIGHT * tata + float(weights[cell_type] @ present)
  used = bool(promoter and score > USAGE_THRESHOLD)
  depth = np.full(window, NOISE_DEPTH)
  evidence = rng.random()
  if used and evidence < 0.5:  # Expressed well enough to show: a step at the TSS.
    depth[centre:] += rng.lognormal(np.log(8.0), 0.5)
  elif not used and evidence < READTHROUGH_RATE:  # An overlapping gene, read through.
    depth += rng.lognormal(np.log(8.0), 0.8)
  elif not used and evidence < READTHROUGH_RATE + DECOY_RATE:
    # A step off the centre: another (unlabelled) TSS nearby.
    shift = int(rng.integers(30, 121)) * (1 if rng.random() < 0.5 else -1)
    depth[centre + shift:] += rng.lognormal(np.log(8.0), 0.5)
  return {"sequence": one_hot(codes), "coverage": rng.poisson(depth).astype(np.float32),
          "label": np.int32(used), "cell_type": np.int32(cell_type),
          "promoter": np.int32(promoter), "regulators": present,
          "score": np.float32(score if promoter else 0.0)}


def motif_pair_example(rng: np.random.Generator, label: int, window: int) -> dict[str, Any]:
  """A uniform background with one strong site of each motif of class ``label``."""
  codes = rng.integers(0, 4, window).astype(np.uint8)
  occupied = np.zeros(window, bool)
  table = motifs("pairs")
  for name in pair_classes()[label]:
    if not _plant(rng, codes, occupied, table[name], 0, window):
      raise RuntimeError(f"no room for {name} in {window} bp")  # Never at 100+ bp.
  return {"sequence": one_hot(codes), "label": np.int32(label)}


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([seed, SPLITS.index(split), index])


@dataclasses.dataclass(eq=False)
class SyntheticTSSConfig(tfds.core.BuilderConfig):
  """Kind and size of a ``synthetic_tss`` build.

  Attributes:
    kind: ``"tss"`` (windows x cell types) or ``"motif_pairs"`` (45 classes).
    window: bp per example.
    num_cell_types: cell types (``tss``).
    per_group: ``(train, valid, test)`` examples per cell type or per class.
    seed: first entry of every example's RNG seed (and of the cell-type weights).
  """
  kind: str = "tss"
  window: int = 1001
  num_cell_types: int = 10
  per_group: tuple[int, int, int] = (400, 60, 200)
  seed: int = 0

  @property
  def groups(self) -> int:
    return self.num_cell_types if self.kind == "tss" else len(pair_classes())

  def num_examples(self, split: str) -> int:
    return self.groups * self.per_group[SPLITS.index(split)]


class SyntheticTSS(tfds.core.GeneratorBasedBuilder):
  """Planted TSS grammar read differently by each cell type; motif-pair classes."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticTSSConfig(name="tss", description="1,001-bp windows x 10 cell types."),
      SyntheticTSSConfig(name="tiny_tss", window=301, num_cell_types=6,
                         per_group=(400, 30, 100),
                         description="301-bp windows x 6 cell types, CPU minutes."),
      SyntheticTSSConfig(name="micro_tss", window=161, num_cell_types=3,
                         per_group=(16, 8, 8),
                         description="161-bp windows x 3 cell types, for tests."),
      SyntheticTSSConfig(name="motif_pairs", kind="motif_pairs", window=200,
                         per_group=(60, 10, 40),
                         description="45 motif-pair classes, 200 bp."),
      SyntheticTSSConfig(name="tiny_motif_pairs", kind="motif_pairs", window=100,
                         per_group=(20, 10, 20),
                         description="45 motif-pair classes, 100 bp, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "tss"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    window = config.window
    features = {"sequence": tfds.features.Tensor(shape=(window, 4), dtype=np.uint8),
                "label": tfds.features.Scalar(dtype=np.int32)}
    if config.kind == "tss":
      features.update(
          coverage=tfds.features.Tensor(shape=(window,), dtype=np.float32),
          cell_type=tfds.features.Scalar(dtype=np.int32),
          promoter=tfds.features.Scalar(dtype=np.int32),
          regulators=tfds.features.Tensor(shape=(len(REGULATORS),), dtype=np.int32),
          score=tfds.features.Scalar(dtype=np.float32))
      metadata = dict(
          cell_types=[f"cell_type_{c}" for c in range(config.num_cell_types)],
          regulators=list(REGULATORS),
          cell_type_weights=cell_type_weights(config.num_cell_types, config.seed).tolist(),
          tata_weight=TATA_WEIGHT, usage_threshold=USAGE_THRESHOLD, initiator=INITIATOR)
    else:
      metadata = dict(label_names=["+".join(p) for p in pair_classes()])
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(kind=config.kind, window=window, synthetic=True,
                                        **metadata))

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    weights = cell_type_weights(config.num_cell_types, config.seed)
    for index in range(config.num_examples(split)):
      rng = example_rng(config.seed, split, index)
      if config.kind == "tss":
        yield str(index), tss_example(rng, index % config.num_cell_types, weights,
                                      config.window)
      else:
        yield str(index), motif_pair_example(rng, index % config.groups, config.window)
