"""Synthetic polyadenylation sites with a known cis grammar: PAS labels, site pairs, usage.

The embedded default for the polyadenylation models (DESIGN.md, decision 8). SYNTHETIC,
and says so: a simplified version of the mammalian 3'-end signal (Proudfoot, Genes Dev
2011; Tian & Graber, WIREs RNA 2012), on an i.i.d. background of GC fraction 0.4.

Grammar of one site, around its cleavage site ``c``:

* a PAS hexamer (``HEXAMER_STRENGTH``: AATAAA, ATTAAA and the ten weaker variants of the
  Dragon/Omni datasets, each with a relative strength) starting ``d`` nt upstream of
  ``c``; its contribution is ``w(hexamer) * exp(-((d - 21) / 6)^2)``, strongest at the
  canonical ~21 nt and fading by 10 or 30 nt;
* a GU-rich downstream element (one of ``DSE_ELEMENTS``) starting 5-25 nt after ``c``:
  + ``DSE_STRENGTH``;

so a site's strength is ``s = hexamer term + DSE term``. The background is scrubbed of
every hexamer variant and of the GU cores ``TGTGT``/``GTGTG`` outside planted elements,
so the planted ones are the whole truth.

Configs:

* ``pas`` / ``pas_mouse`` / ``tiny_pas`` (DeeReCT-PolyA; the Dragon layout): 206-nt
  windows with a hexamer at 100-105. Positives (label 1) are sites: the hexamer at
  ``d`` in [16, 28] and a DSE 5-25 nt past ``c``. Negatives (label 0), as the paper's,
  hold the same hexamers at the same place but are not sites: no DSE (half) or a DSE
  upstream of the hexamer (half, a position decoy). ``pas_mouse`` draws hexamers with
  another mix (``MOUSE_HEXAMER_MIX``) and seed, for the species variant.
* ``usage`` / ``tiny_usage`` (DeeReCT-APA): genes of 2-``max_pas`` sites in genomic order,
  each a window of ``window`` nt with ``c`` at its centre; a site lacks a hexamer with
  probability 0.15 and a DSE with 0.4. Usage is ``softmax_i(USAGE_SLOPE * s_i +
  DISTAL_BONUS * i)``: strength plus a preference for distal sites that only a model
  seeing the site's position in the set can learn. Records: ``sequence [max_pas, window,
  4]`` (zeros past the gene's sites), ``pas_mask``, ``usage``, ``strength``.
* ``pairs`` / ``tiny_pairs`` (Leung et al. 2018): two sites of such a gene, proximal
  first, whose usages differ by more than 0.05 (DeeReCT-APA's comparison rule);
  ``label`` 1 when the proximal one is used more.

Example ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

SPLITS = ("train", "valid", "test")
#: Relative strength of each hexamer (ranked as their use at human sites, Beaudoing et
#: al., Genome Res 2000; Tian et al., NAR 2005); the 12 of the Dragon/Omni datasets.
HEXAMER_STRENGTH = {
    "AATAAA": 1.0, "ATTAAA": 0.8, "AGTAAA": 0.5, "TATAAA": 0.45, "CATAAA": 0.4,
    "GATAAA": 0.4, "AATATA": 0.4, "AATACA": 0.35, "AATAGA": 0.35, "ACTAAA": 0.35,
    "AAGAAA": 0.3, "AAAAAG": 0.3,
}
HEXAMERS = tuple(HEXAMER_STRENGTH)
#: Hexamer frequencies at sites: AATAAA ~ 55%, ATTAAA ~ 15%, the rest shared.
HUMAN_HEXAMER_MIX = np.array([0.55, 0.15] + [0.03] * 10)
#: The mouse variant: more weak variants (a different mix, as the species differ).
MOUSE_HEXAMER_MIX = np.array([0.45, 0.17] + [0.038] * 10)
DSE_ELEMENTS = ("GTGTGTGTTT", "TTGTGTGTGT", "GTGTGTTGTG", "TGTGTGTTGT")
DSE_STRENGTH = 0.6
HEXAMER_OPTIMUM, HEXAMER_WIDTH = 21.0, 6.0
USAGE_SLOPE, DISTAL_BONUS = 3.0, 0.4
GC_FRACTION = 0.4
_SCRUB = re.compile("(?=(" + "|".join(HEXAMERS + ("TGTGT", "GTGTG")) + "))")
_BASES = np.frombuffer(b"ACGT", np.uint8)


def hexamer_term(hexamer: str | None, distance: int) -> float:
  """``w(hexamer) * exp(-((d - 21) / 6)^2)``; 0 without a hexamer."""
  if hexamer is None:
    return 0.0
  return HEXAMER_STRENGTH[hexamer] * float(
      np.exp(-((distance - HEXAMER_OPTIMUM) / HEXAMER_WIDTH) ** 2))


def background(rng: np.random.Generator, length: int) -> bytearray:
  probabilities = np.array([1 - GC_FRACTION, GC_FRACTION, GC_FRACTION, 1 - GC_FRACTION]) / 2
  return bytearray(_BASES[rng.choice(4, length, p=probabilities)].tobytes())


def plant_and_scrub(rng: np.random.Generator, sequence: bytearray,
                    elements: list[tuple[int, str]]) -> str:
  """Writes ``(start, text)`` elements, then mutates background bases until no hexamer
  variant or GU core is left outside them."""
  protected = np.zeros(len(sequence), bool)
  for start, text in elements:
    sequence[start:start + len(text)] = text.encode()
    protected[start:start + len(text)] = True
  for _ in range(1000):
    text = sequence.decode()
    hits = [(m.start(), len(m.group(1))) for m in _SCRUB.finditer(text)]
    hits = [(s, n) for s, n in hits if not protected[s:s + n].all()]
    if not hits:
      return text
    for start, size in hits:
      free = [i for i in range(start, start + size) if not protected[i]]
      i = free[rng.integers(len(free))]
      sequence[i] = int(rng.choice([b for b in _BASES if b != sequence[i]]))
  raise RuntimeError("background could not be scrubbed")  # Never seen.


def one_hot(text: str) -> np.ndarray:
  codes = np.frombuffer(text.encode(), np.uint8)
  return (codes[:, None] == _BASES[None, :]).astype(np.uint8)


@dataclasses.dataclass
class Site:
  """One synthetic site: its window and the truth it was built from."""
  sequence: str
  strength: float
  hexamer: str | None
  distance: int | None
  dse_start: int | None


def sample_site(rng: np.random.Generator, window: int, mix: np.ndarray = HUMAN_HEXAMER_MIX,
                p_hexamer: float = 0.85, p_dse: float = 0.6) -> Site:
  """A site window with the cleavage site at ``window // 2`` (``usage``/``pairs``)."""
  cleavage = window // 2
  elements, hexamer, distance, dse_start = [], None, None, None
  if rng.random() < p_hexamer:
    hexamer = HEXAMERS[rng.choice(len(HEXAMERS), p=mix / mix.sum())]
    distance = int(rng.integers(10, 36))
    elements.append((cleavage - distance, hexamer))
  if rng.random() < p_dse:
    dse_start = cleavage + int(rng.integers(5, 26))
    elements.append((dse_start, DSE_ELEMENTS[rng.integers(len(DSE_ELEMENTS))]))
  text = plant_and_scrub(rng, background(rng, window), elements)
  strength = hexamer_term(hexamer, distance or 0) + DSE_STRENGTH * (dse_start is not None)
  return Site(text, strength, hexamer, distance, dse_start)


def pas_window(rng: np.random.Generator, positive: bool,
               mix: np.ndarray = HUMAN_HEXAMER_MIX) -> dict[str, Any]:
  """A 206-nt Dragon-layout window, hexamer at 100-105 (``pas`` configs)."""
  hexamer = HEXAMERS[rng.choice(len(HEXAMERS), p=mix / mix.sum())]
  distance = int(rng.integers(16, 29))
  cleavage = 100 + distance
  elements = [(100, hexamer)]
  dse = DSE_ELEMENTS[rng.integers(len(DSE_ELEMENTS))]
  dse_start = -1
  if positive:
    dse_start = cleavage + int(rng.integers(5, 26))
  elif rng.random() < 0.5:  # Position decoy: the element on the wrong side.
    dse_start = int(rng.integers(40, 80))
  if dse_start >= 0:
    elements.append((dse_start, dse))
  text = plant_and_scrub(rng, background(rng, 206), elements)
  return {"sequence": one_hot(text), "label": np.int32(positive), "hexamer": hexamer,
          "dse_start": np.int32(dse_start)}


def sample_gene(rng: np.random.Generator, config: "SyntheticPolyAConfig") -> list[Site]:
  count = int(rng.integers(2, config.max_pas + 1))
  return [sample_site(rng, config.window) for _ in range(count)]


def gene_usage(strengths: np.ndarray) -> np.ndarray:
  """``softmax_i(USAGE_SLOPE * s_i + DISTAL_BONUS * i)`` over a gene's sites."""
  logits = USAGE_SLOPE * strengths + DISTAL_BONUS * np.arange(len(strengths))
  weights = np.exp(logits - logits.max())
  return weights / weights.sum()


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([seed, SPLITS.index(split), index])


@dataclasses.dataclass(eq=False)
class SyntheticPolyAConfig(tfds.core.BuilderConfig):
  """Kind and size of a ``synthetic_polya`` build.

  Attributes:
    kind: ``"pas"`` (labelled windows), ``"usage"`` (genes) or ``"pairs"``.
    window: nt per site (206 for ``pas``).
    max_pas: most sites per gene (``usage``/``pairs``).
    num_train, num_valid, num_test: examples per split.
    species: ``"human"`` or ``"mouse"`` hexamer mix (``pas``).
    seed: first entry of every example's RNG seed.
  """
  kind: str = "pas"
  window: int = 206
  max_pas: int = 6
  num_train: int = 16000
  num_valid: int = 2000
  num_test: int = 2000
  species: str = "human"
  seed: int = 0

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


class SyntheticPolyA(tfds.core.GeneratorBasedBuilder):
  """Planted PAS hexamers and GU-rich elements: PAS labels, site pairs, gene usage."""

  name = "synthetic_polya"  # Not TFDS's default spelling of the class, synthetic_poly_a.
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticPolyAConfig(name="pas", description="206-nt Dragon-layout windows, human mix."),
      SyntheticPolyAConfig(name="pas_mouse", species="mouse", seed=1,
                           description="206-nt windows, mouse hexamer mix."),
      SyntheticPolyAConfig(name="tiny_pas", num_train=3000, num_valid=500, num_test=500,
                           description="pas, small, for tests."),
      SyntheticPolyAConfig(name="usage", kind="usage", window=455, num_train=4000,
                           num_valid=500, num_test=500,
                           description="Genes of 2-6 sites, 455-nt windows (DeeReCT-APA)."),
      SyntheticPolyAConfig(name="tiny_usage", kind="usage", window=120, max_pas=4,
                           num_train=1500, num_valid=200, num_test=200,
                           description="Genes of 2-4 sites, 120-nt windows, for tests."),
      SyntheticPolyAConfig(name="pairs", kind="pairs", window=400, num_train=8000,
                           num_valid=1000, num_test=1000,
                           description="Site pairs, 400-nt windows (Leung et al. 2018)."),
      SyntheticPolyAConfig(name="tiny_pairs", kind="pairs", window=120, num_train=3000,
                           num_valid=400, num_test=400,
                           description="Site pairs, 120-nt windows, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "pas"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    window = config.window
    if config.kind == "pas":
      features = {"sequence": tfds.features.Tensor(shape=(window, 4), dtype=np.uint8),
                  "label": tfds.features.Scalar(dtype=np.int32),
                  "hexamer": tfds.features.Text(),
                  "dse_start": tfds.features.Scalar(dtype=np.int32)}
    elif config.kind == "usage":
      features = {
          "sequence": tfds.features.Tensor(shape=(config.max_pas, window, 4), dtype=np.uint8),
          "pas_mask": tfds.features.Tensor(shape=(config.max_pas,), dtype=np.float32),
          "usage": tfds.features.Tensor(shape=(config.max_pas,), dtype=np.float32),
          "strength": tfds.features.Tensor(shape=(config.max_pas,), dtype=np.float32),
          "gene_id": tfds.features.Text()}
    else:
      features = {"sequence": tfds.features.Tensor(shape=(2, window, 4), dtype=np.uint8),
                  "label": tfds.features.Scalar(dtype=np.int32),
                  "usage": tfds.features.Tensor(shape=(2,), dtype=np.float32),
                  "strength": tfds.features.Tensor(shape=(2,), dtype=np.float32)}
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            kind=config.kind, window=window, max_pas=config.max_pas,
            hexamer_strength=HEXAMER_STRENGTH, dse_elements=list(DSE_ELEMENTS),
            dse_strength=DSE_STRENGTH, usage_slope=USAGE_SLOPE, distal_bonus=DISTAL_BONUS,
            synthetic=True))

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    mix = MOUSE_HEXAMER_MIX if config.species == "mouse" else HUMAN_HEXAMER_MIX
    for index in range(config.num_examples(split)):
      rng = example_rng(config.seed, split, index)
      if config.kind == "pas":
        yield str(index), pas_window(rng, positive=bool(index % 2), mix=mix)
      elif config.kind == "usage":
        yield str(index), gene_record(sample_gene(rng, config), config.max_pas,
                                      config.window, f"synthetic_{split}_{index}")
      else:
        yield str(index), pair_record(rng, config)


def gene_record(sites: list[Site], max_pas: int, window: int, gene_id: str) -> dict:
  """A padded ``usage`` record of one gene's sites (in order)."""
  strengths = np.array([s.strength for s in sites])
  usage = gene_usage(strengths)
  record = {"sequence": np.zeros((max_pas, window, 4), np.uint8),
            "pas_mask": np.zeros(max_pas, np.float32), "usage": np.zeros(max_pas, np.float32),
            "strength": np.zeros(max_pas, np.float32), "gene_id": gene_id}
  for i, site in enumerate(sites):
    record["sequence"][i] = one_hot(site.sequence)
  record["pas_mask"][:len(sites)] = 1
  record["usage"][:len(sites)] = usage
  record["strength"][:len(sites)] = strengths
  return record


def pair_record(rng: np.random.Generator, config: SyntheticPolyAConfig) -> dict:
  """Two sites of one gene, proximal first, usages differing by > 0.05."""
  while True:
    sites = sample_gene(rng, config)
    usage = gene_usage(np.array([s.strength for s in sites]))
    i, j = sorted(rng.choice(len(sites), 2, replace=False))
    if abs(usage[i] - usage[j]) > 0.05:
      return {"sequence": np.stack([one_hot(sites[i].sequence), one_hot(sites[j].sequence)]),
              "label": np.int32(usage[i] > usage[j]),
              "usage": np.array([usage[i], usage[j]], np.float32),
              "strength": np.array([sites[i].strength, sites[j].strength], np.float32)}
