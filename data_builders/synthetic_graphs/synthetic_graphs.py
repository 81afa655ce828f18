"""Synthetic GraphReg regions: CAGE driven by enhancers in 3D contact but linearly far.

The embedded default (DESIGN.md, decision 8) for Epi-GraphReg and Seq-GraphReg
(Karbalayghareh et al., Genome Res. 2022): one example is one region of linear DNA cut
into 5-kb nodes, stored as GraphReg stores its 6-Mb windows (``epi`` 100-bp tracks,
``cage`` 5-kb sums, the contact graph as an edge list, ``tss`` flags), plus the truth
that proves the graph is used. Regions are 1.2 Mb (240 nodes) instead of 6 Mb so the
proof trains on 2 CPU cores in minutes; ``data_builders.graphreg`` reads real data at
the paper's size. Motifs are JASPAR CORE (pyjaspar), planted with the helpers of
``synthetic_motifs`` / ``synthetic_coverage``.

Generative model, per region of ``n_nodes`` nodes of ``node_size`` bp:

  TADs       consecutive domains of ``tad_nodes`` (uniform) nodes; a forward CTCF
             (MA0139) in each domain's first node and a reverse one in its last
             (convergent anchors, Rao et al., Cell 2014) with a corner loop between.
  genes      each node holds a promoter with probability ``gene_density`` (at most
             one TSS per node): two NFYA CCAAT boxes 6-20 bp apart, TSS 50 bp
             downstream; strength P = product of their occupancies (sites drawn at
             >= 70% of the consensus score, so P is 0.8-1 for most genes and the
             variance of CAGE comes from the enhancers).
  enhancers  each other node holds, with probability ``enhancer_density``, 1-3
             liver motifs (HNF4A, FOXA2, CEBPB): activity A = (sum of occupancies)^2;
             else with ``decoy_density`` a decoy (GATA1/SPI1/TP53: bound, accessible,
             inactive, A = 0).
  loops      each gene, with probability ``loop_probability``, loops to 1 or 2
             enhancer/decoy nodes ``far_bp``-``max_loop_bp`` away (strength s ~
             U(0.5, 1.5)); plus ``random_loops_per_mb`` loops between random far
             nodes and the corner loops of TADs spanning >= ``far_bp`` (s = 1).
             Which far element a gene loops to is random: nothing in 1D says which.

Occupancy is ``synthetic_coverage.motif_occupancy`` (half-bound at 60% of the
consensus log-odds). A gene's output is

  R = P (basal + L + D),   L = sum_{enhancers within local_window_bp} A / (1 + d / h)
                           D = sum_{loops from its node} s * sum_{elements there} A

(h = ``half_contact_bp``; ``far_bp`` > ``local_window_bp`` so L and D never share an
enhancer). ``cage`` of a node is Poisson(``cage_scale`` R + ``cage_background``).
A TSS node is ``contact_dependent`` when D >= half of basal + L + D: its CAGE is set
mostly by enhancers > ``far_bp`` away that only the contact graph points to.

Epigenomic tracks (Poisson counts per 100-bp bin; ``epi_tracks`` order):
  DNase     peaks (sd 150 bp) of 60 P at promoters, 60 sqrt(A) at enhancers, 30 x
            mean occupancy at decoys, 42 o at CTCF sites.
  H3K27ac   two lobes 500 bp either side (sd 400 bp) of 100 log(1 + A) at enhancers
            and 100 log(1 + 4 P) at promoters.
  H3K4me3   two lobes 300 bp either side of the TSS (sd 300 bp), 150 P, promoters only.
A promoter's own marks reflect its intrinsic strength P, not its output R, so a 1D
model must guess D.

Contacts: expected counts between nodes i != j at d = |i - j| nodes are
``contact_depth / (1 + d)`` (the 1/d decay of Hi-C, Lieberman-Aiden et al., Science
2009), x ``tad_enrichment`` inside a TAD, x (1 + ``loop_enrichment`` s) on a loop;
observed counts are Poisson. Edges are the pairs called significant at ``FDR <=
edge_fdr`` against their diagonal's mean (``graphreg.edges.significant_pairs``, a
small HiC-DC+), both directions, padded to ``max_edges``; missed loops and spurious
edges happen as with real data.

Features (``n = n_nodes``; GraphReg's interface, shared with ``data_builders.graphreg``):
``epi`` float32 [n * node_size / epi_bin_size, 3] raw counts, ``cage`` float32 [n],
``edges`` int32 [max_edges, 2] (source, target; both directions; padding (0, 0)) with
``edge_mask`` uint8 [max_edges], ``tss`` uint8 [n], ``sequence`` uint8 [n * node_size, 4]
(``include_sequence`` configs), and the truth: ``contact_dependent`` uint8 [n],
``expected_cage``, ``promoter_strength`` (P), ``local_input`` (L), ``distal_input`` (D)
float32 [n], ``loops`` int32 [m, 2] with ``loop_strength`` float32 [m], ``dropped_edges``
and ``gc``. Metadata: ``node_size``, ``epi_bin_size``, ``n_nodes``, ``max_edges``,
``epi_tracks``, ``region_bp``, ``seq_length`` (0 without sequence), ``scored_nodes``
([0, n]: every node is scored), ``far_bp``, ``generative_model``, ``motifs``.

Oracles (``oracle_correlations``: Pearson of log1p(cage) on TSS nodes). On the first
50 test regions of ``default`` (1,462 TSS nodes, 475 contact-dependent), knowing every
term gives R = 0.993 on TSS nodes and 0.996 on contact-dependent ones; replacing D by
its mean over the train genes (1.70; the best guess of a 1D model, as loops are
random) gives 0.665 and 0.619. On ``tiny`` (8 test regions): 0.991 / 0.989 vs 0.523
/ 0.471. The gap is reachable from the stored features: least squares on log1p node
sums of ``epi`` (own node, +-4 nodes, sums over +-100/300/600 kb, their products with
H3K4me3) gets R = 0.52 on TSS / 0.44 on contact-dependent nodes of those 50 regions
(trained on 200); adding the sums over each node's ``edges`` neighbours gets 0.81 / 0.72.

Everything is deterministic: region ``index`` of ``split`` draws from
``np.random.default_rng([seed, split_id, index])``; the background sequence is drawn
last, so configs differing only in ``include_sequence`` hold the same regions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import special
import tensorflow_datasets as tfds
from pyjaspar import jaspardb

from data_builders.graphreg import edges as graph_edges
from data_builders.synthetic_coverage import synthetic_coverage as sc
from data_builders.synthetic_motifs import synthetic_motifs as sm

SPLITS: tuple[str, ...] = sm.SPLITS
EPI_TRACKS: tuple[str, ...] = ("DNase", "H3K27ac", "H3K4me3")
CELL_TYPE = "liver"
ENHANCER_MOTIFS: tuple[str, ...] = sc.CELL_TYPE_MOTIFS[CELL_TYPE]
DECOY_MOTIFS: tuple[str, ...] = sc.DECOY_MOTIFS
MOTIF_IDS: dict[str, str] = {
    name: sm.MOTIF_IDS[name]
    for name in (sc.PROMOTER_MOTIF, sc.INSULATOR_MOTIF, *ENHANCER_MOTIFS, *DECOY_MOTIFS)}
# Elements keep this far from node edges so a TSS stays in its element's node.
NODE_MARGIN_BP = 300
PROMOTER_BASAL = 0.25
CONTACT_DEPENDENT_FRACTION = 0.5
LOOP_STRENGTH = (0.5, 1.5)
# Epigenomic peaks: (total per unit, sd bp, lobe offset bp); background per 100 bp.
DNASE_PEAK = (60.0, 150.0)
DECOY_ACCESSIBILITY = 0.5
CTCF_ACCESSIBILITY = 0.7
H3K27AC_LOBES = (100.0, 400.0, 500.0)
PROMOTER_ACETYLATION = 4.0
H3K4ME3_LOBES = (150.0, 300.0, 300.0)
EPI_BACKGROUND_PER_100BP: dict[str, float] = {"DNase": 0.4, "H3K27ac": 0.8,
                                              "H3K4me3": 0.3}


@dataclasses.dataclass(eq=False)
class SyntheticGraphsConfig(tfds.core.BuilderConfig):
  """Geometry, grammar, contact model and size of one ``synthetic_graphs`` build.

  Attributes:
    n_nodes: nodes per region.
    node_size: bp per node (GraphReg: 5,000).
    epi_bin_size: bp per epigenomic bin (GraphReg: 100).
    include_sequence: store the one-hot DNA (Seq-GraphReg) or not (Epi-GraphReg).
    num_train / num_valid / num_test: regions per split.
    seed: first entry of every region's seed.
    gc_range: (low, high) of the uniform per-region background GC.
    gene_density / enhancer_density / decoy_density: per-node probabilities.
    tad_nodes: (min, max) nodes per TAD.
    far_bp: least loop distance; contact-dependent genes depend on enhancers this far.
    max_loop_bp: largest gene-enhancer loop distance.
    local_window_bp: farthest enhancer acting by linear proximity.
    half_contact_bp: distance at which a local enhancer's weight halves.
    loop_probability: chance that a gene loops to far elements.
    max_loops_per_gene: 1 + Binomial(max - 1, 1/2) loops for a looping gene.
    random_loops_per_mb: extra loops between random far nodes, per Mb.
    cage_scale / cage_background: expected CAGE = scale R + background per node.
    contact_depth: expected contacts at distance 1 node outside TADs and loops.
    tad_enrichment / loop_enrichment: contact multipliers (see module docstring).
    edge_fdr: Benjamini-Hochberg level of an edge.
    max_edges: stored directed edges per region (padded; weakest pairs dropped).
  """

  n_nodes: int = 240
  node_size: int = 5_000
  epi_bin_size: int = 100
  include_sequence: bool = False
  num_train: int = 400
  num_valid: int = 50
  num_test: int = 50
  seed: int = 0
  gc_range: tuple[float, float] = (0.38, 0.42)
  gene_density: float = 0.12
  enhancer_density: float = 0.25
  decoy_density: float = 0.1
  tad_nodes: tuple[int, int] = (20, 80)
  far_bp: int = 100_000
  max_loop_bp: int = 600_000
  local_window_bp: int = 20_000
  half_contact_bp: float = 10_000.0
  loop_probability: float = 0.6
  max_loops_per_gene: int = 2
  random_loops_per_mb: float = 4.0
  cage_scale: float = 50.0
  cage_background: float = 1.0
  contact_depth: float = 200.0
  tad_enrichment: float = 1.5
  loop_enrichment: float = 8.0
  edge_fdr: float = 0.01
  max_edges: int = 1_024

  def __post_init__(self):
    problems = []
    if self.node_size % self.epi_bin_size:
      problems.append(f"node_size {self.node_size} is not a multiple of epi_bin_size "
                      f"{self.epi_bin_size}")
    if self.node_size < 4 * NODE_MARGIN_BP:
      problems.append(f"node_size {self.node_size} < {4 * NODE_MARGIN_BP} bp")
    if not self.local_window_bp < self.far_bp < self.max_loop_bp:
      problems.append("need local_window_bp < far_bp < max_loop_bp")
    if self.far_bp // self.node_size + 1 >= self.n_nodes:
      problems.append(f"{self.n_nodes} nodes leave no room for loops of >= {self.far_bp} "
                      "bp")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      problems.append("every split needs at least one region")
    if not 1 <= self.tad_nodes[0] <= self.tad_nodes[1]:
      problems.append(f"tad_nodes {self.tad_nodes} must be 1 <= min <= max")
    if self.max_edges % 2:
      problems.append(f"max_edges {self.max_edges} must be even (both directions)")
    if problems:
      raise ValueError(f"SyntheticGraphsConfig {self.name!r}: " + "; ".join(problems))

  @property
  def region_bp(self) -> int:
    """bp per region."""
    return self.n_nodes * self.node_size

  @property
  def bins_per_node(self) -> int:
    """Epigenomic bins per node (GraphReg: 50)."""
    return self.node_size // self.epi_bin_size

  def num_examples(self, split: str) -> int:
    """Regions in ``split`` (one of ``SPLITS``)."""
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


BUILDER_CONFIGS = [
    SyntheticGraphsConfig(
        name="default", description="Epi-GraphReg: 1.2 Mb regions, 240 nodes of 5 kb, "
        "no sequence, 400/50/50 regions."),
    SyntheticGraphsConfig(
        name="sequence", include_sequence=True, num_train=120, num_valid=20, num_test=20,
        description="Seq-GraphReg: the first 120/20/20 regions of default with their "
        "1.2 Mb one-hot sequence."),
    SyntheticGraphsConfig(
        name="tiny", n_nodes=40, include_sequence=True, num_train=24, num_valid=8,
        num_test=8, tad_nodes=(8, 16), far_bp=40_000, max_loop_bp=150_000,
        local_window_bp=10_000, half_contact_bp=5_000.0, random_loops_per_mb=10.0,
        max_edges=256,
        description="For tests: 200 kb regions, 40 nodes of 5 kb, with sequence, "
        "far = 40 kb, 24/8/8 regions."),
]


# ---------------------------------------------------------------------------
# Layout: TADs, elements, loops
# ---------------------------------------------------------------------------


def sample_tads(rng: np.random.Generator, config: SyntheticGraphsConfig) -> np.ndarray:
  """``int64[k + 1]`` TAD boundaries in nodes, from 0 to ``n_nodes``."""
  bounds = [0]
  while bounds[-1] < config.n_nodes:
    size = int(rng.integers(config.tad_nodes[0], config.tad_nodes[1] + 1))
    bounds.append(min(bounds[-1] + size, config.n_nodes))
  return np.array(bounds, np.int64)


def _block(kind: str, rng: np.random.Generator, widths: Mapping[str, int],
           strand: int | None = None) -> tuple[list[tuple[str, int, int]], int]:
  """Motifs ``[(name, strand, offset)]`` of a new element and its strand (random if None)."""
  if strand is None:
    strand = 1 if rng.random() < 0.5 else -1
  if kind == "promoter":
    gap = int(rng.integers(sc.PROMOTER_GAP_BP[0], sc.PROMOTER_GAP_BP[1] + 1))
    width = widths[sc.PROMOTER_MOTIF]
    return [(sc.PROMOTER_MOTIF, strand, 0), (sc.PROMOTER_MOTIF, strand, width + gap)], strand
  if kind == "insulator":
    return [(sc.INSULATOR_MOTIF, strand, 0)], strand
  pool = ENHANCER_MOTIFS if kind == "enhancer" else DECOY_MOTIFS
  size = int(rng.integers(1, 4)) if kind == "enhancer" else int(rng.integers(2, 4))
  block, offset = [], 0
  for i in rng.integers(len(pool), size=size):
    block.append((pool[i], 1 if rng.random() < 0.5 else -1, offset))
    offset += widths[pool[i]] + int(rng.integers(sc.ENHANCER_GAP_BP[0],
                                                 sc.ENHANCER_GAP_BP[1] + 1))
  return block, 1


def _span(block, widths) -> int:
  return max(offset + widths[name] for name, _, offset in block)


@dataclasses.dataclass
class Region:
  """One sampled region before the noise: what every feature is computed from.

  Attributes:
    tads: ``int64[k + 1]`` TAD boundaries (nodes).
    elements: planted elements, region coordinates.
    element_nodes: ``int64[len(elements)]`` node of each element.
    planted: ``[(start, bases uint8[width])]`` motif bases to write into the sequence.
    loops: ``[(i, j, strength)]`` with ``i < j`` (nodes), unique pairs.
    gc: background GC fraction.
  """

  tads: np.ndarray
  elements: list[sc.Element]
  element_nodes: np.ndarray
  planted: list[tuple[int, np.ndarray]]
  loops: list[tuple[int, int, float]]
  gc: float


def _place(rng: np.random.Generator, node: int, span: int, taken: list[tuple[int, int]],
           config: SyntheticGraphsConfig) -> int | None:
  """A start inside ``node`` (margins kept) whose span clears ``taken`` by 50 bp."""
  low = node * config.node_size + NODE_MARGIN_BP
  high = (node + 1) * config.node_size - NODE_MARGIN_BP - span
  for _ in range(32):
    start = int(rng.integers(low, high + 1))
    if all(start + span + 50 <= a or b + 50 <= start for a, b in taken):
      return start
  return None


def sample_region(rng: np.random.Generator, motifs: Mapping[str, sm.PlantedMotif],
                  config: SyntheticGraphsConfig) -> Region:
  """TADs, elements (with their planted motif bases) and loops of one region."""
  widths = {name: m.width for name, m in motifs.items()}
  n = config.n_nodes
  gc = float(rng.uniform(*config.gc_range))
  tads = sample_tads(rng, config)
  draws = rng.random((3, n))
  gene = draws[0] < config.gene_density
  enhancer = ~gene & (draws[1] < config.enhancer_density)
  decoy = ~gene & ~enhancer & (draws[2] < config.decoy_density)
  # (kind, strand or None for random) of the elements of each node.
  kinds: dict[int, list[tuple[str, int | None]]] = {}
  for node in range(n):
    kind = ("promoter" if gene[node] else "enhancer" if enhancer[node]
            else "decoy" if decoy[node] else None)
    kinds[node] = [(kind, None)] if kind else []
  for a, b in zip(tads[:-1], tads[1:]):
    # Convergent CTCF: forward at a TAD's start, reverse at its end.
    kinds[int(a)].append(("insulator", 1))
    if b - a >= 2:
      kinds[int(b) - 1].append(("insulator", -1))

  elements, nodes, planted = [], [], []
  for node in range(n):
    taken: list[tuple[int, int]] = []
    for kind, fixed_strand in kinds[node]:
      block, strand = _block(kind, rng, widths, fixed_strand)
      span = _span(block, widths)
      pad = sc.TSS_OFFSET_BP + 1 if kind == "promoter" else 0
      start = _place(rng, node, span + 2 * pad, taken, config)
      if start is None:
        continue
      start += pad
      taken.append((start - pad, start + span + pad))
      instances, occupancy = [], []
      for name, s, offset in block:
        bases = motifs[name].sample(
            rng, s, sm.STRONG_SITE_FRACTION if kind == "promoter" else 0.0)
        one_hot = np.eye(4, dtype=np.uint8)[bases]
        instances.append(sm.MotifInstance(name, start + offset, s, widths[name]))
        occupancy.append(sc.motif_occupancy(motifs[name], one_hot, s))
        planted.append((start + offset, bases))
      if kind == "promoter":
        anchor = (instances[-1].start + instances[-1].width + sc.TSS_OFFSET_BP
                  if strand > 0 else instances[0].start - sc.TSS_OFFSET_BP - 1)
      else:
        anchor = (start + start + span) // 2
      elements.append(sc.Element(kind, tuple(instances), tuple(occupancy), strand,
                                 int(anchor)))
      nodes.append(node)
  loops = sample_loops(rng, tads, gene, enhancer | decoy, config)
  return Region(tads, elements, np.array(nodes, np.int64), planted, loops, gc)


def sample_loops(rng: np.random.Generator, tads: np.ndarray, gene: np.ndarray,
                 targets: np.ndarray, config: SyntheticGraphsConfig
                 ) -> list[tuple[int, int, float]]:
  """Gene-element loops, random far loops and TAD corner loops, unique pairs."""
  n = config.n_nodes
  far = -(-config.far_bp // config.node_size)  # Nodes at least far_bp apart.
  reach = config.max_loop_bp // config.node_size
  strengths: dict[tuple[int, int], float] = {}

  def add(i: int, j: int, s: float) -> None:
    key = (min(i, j), max(i, j))
    strengths[key] = max(strengths.get(key, 0.0), s)

  for g in np.flatnonzero(gene):
    if rng.random() >= config.loop_probability:
      continue
    distance = np.abs(np.arange(n) - g)
    candidates = np.flatnonzero(targets & (distance >= far) & (distance <= reach))
    if candidates.size == 0:
      continue
    count = 1 + int(rng.binomial(config.max_loops_per_gene - 1, 0.5))
    for j in rng.choice(candidates, size=min(count, candidates.size), replace=False):
      add(int(g), int(j), float(rng.uniform(*LOOP_STRENGTH)))
  for _ in range(int(rng.poisson(config.random_loops_per_mb * config.region_bp / 1e6))):
    i = int(rng.integers(n))
    j = int(rng.integers(n))
    if abs(i - j) >= far:
      add(i, j, float(rng.uniform(*LOOP_STRENGTH)))
  for a, b in zip(tads[:-1], tads[1:]):
    if b - 1 - a >= far:  # Shorter corner loops would blur local and distal input.
      add(int(a), int(b) - 1, 1.0)
  return [(i, j, s) for (i, j), s in sorted(strengths.items())]


# ---------------------------------------------------------------------------
# Truth: gene inputs, CAGE, epigenome, contacts
# ---------------------------------------------------------------------------


def node_activity(region: Region, config: SyntheticGraphsConfig) -> np.ndarray:
  """``[n_nodes]``: summed enhancer activity A of the elements in each node."""
  activity = np.zeros(config.n_nodes)
  for element, node in zip(region.elements, region.element_nodes):
    activity[node] += sc.enhancer_activity(element, CELL_TYPE)
  return activity


def gene_inputs(region: Region, config: SyntheticGraphsConfig
                ) -> dict[str, np.ndarray]:
  """Per node: ``tss``, promoter strength P, local input L and distal input D."""
  n = config.n_nodes
  tss = np.zeros(n, bool)
  strength = np.zeros(n)
  local = np.zeros(n)
  distal = np.zeros(n)
  enhancers = [e for e in region.elements if e.kind == "enhancer"]
  activity = node_activity(region, config)
  partners: dict[int, list[tuple[int, float]]] = {}
  for i, j, s in region.loops:
    partners.setdefault(i, []).append((j, s))
    partners.setdefault(j, []).append((i, s))
  for element, node in zip(region.elements, region.element_nodes):
    if element.kind != "promoter":
      continue
    tss[node] = True
    strength[node] = sc.promoter_strength(element)
    for e in enhancers:
      d = abs(e.centre - element.anchor)
      if d <= config.local_window_bp:
        local[node] += sc.enhancer_activity(e, CELL_TYPE) / (1 + d / config.half_contact_bp)
    distal[node] = sum(s * activity[j] for j, s in partners.get(int(node), []))
  return {"tss": tss, "promoter_strength": strength, "local_input": local,
          "distal_input": distal}


def expected_cage(inputs: Mapping[str, np.ndarray], config: SyntheticGraphsConfig,
                  distal: np.ndarray | None = None) -> np.ndarray:
  """``[n_nodes]`` expected CAGE; ``distal`` replaces D (e.g. by its mean: a 1D oracle)."""
  d = inputs["distal_input"] if distal is None else distal
  output = inputs["promoter_strength"] * (PROMOTER_BASAL + inputs["local_input"] + d)
  return config.cage_scale * np.where(inputs["tss"], output, 0.0) + config.cage_background


def contact_dependent(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
  """TSS nodes whose distal input D is at least half of basal + L + D."""
  total = PROMOTER_BASAL + inputs["local_input"] + inputs["distal_input"]
  return inputs["tss"] & (inputs["distal_input"] >= CONTACT_DEPENDENT_FRACTION * total)


def _binned_gaussian(profile: np.ndarray, centre: float, sd: float, total: float,
                     bin_size: int) -> None:
  """Adds ``total`` spread as a Gaussian (bp) to ``profile`` (bins), 5 sd each side."""
  if total <= 0:
    return
  low = max(0, int((centre - 5 * sd) // bin_size))
  high = min(profile.shape[0], int((centre + 5 * sd) // bin_size) + 1)
  edges = (np.arange(low, high + 1) * bin_size - centre) / (sd * np.sqrt(2))
  profile[low:high] += total * np.diff(special.erf(edges)) / 2


def expected_epi(region: Region, config: SyntheticGraphsConfig) -> np.ndarray:
  """``float64[n_nodes * bins_per_node, len(EPI_TRACKS)]`` noise-free counts."""
  n_bins = config.n_nodes * config.bins_per_node
  profiles = {t: np.full(n_bins, EPI_BACKGROUND_PER_100BP[t] * config.epi_bin_size / 100)
              for t in EPI_TRACKS}
  w = config.epi_bin_size
  for e in region.elements:
    if e.kind == "promoter":
      p = sc.promoter_strength(e)
      accessibility, acetylation = p, np.log1p(PROMOTER_ACETYLATION * p)
      for side in (-1, 1):
        _binned_gaussian(profiles["H3K4me3"], e.anchor + side * H3K4ME3_LOBES[2],
                         H3K4ME3_LOBES[1], H3K4ME3_LOBES[0] * p / 2, w)
    elif e.kind == "enhancer":
      a = sc.enhancer_activity(e, CELL_TYPE)
      accessibility, acetylation = np.sqrt(a), np.log1p(a)
    elif e.kind == "decoy":
      accessibility, acetylation = DECOY_ACCESSIBILITY * float(np.mean(e.occupancy)), 0.0
    else:
      accessibility, acetylation = CTCF_ACCESSIBILITY * e.occupancy[0], 0.0
    _binned_gaussian(profiles["DNase"], e.centre, DNASE_PEAK[1],
                     DNASE_PEAK[0] * accessibility, w)
    for side in (-1, 1):
      _binned_gaussian(profiles["H3K27ac"], e.centre + side * H3K27AC_LOBES[2],
                       H3K27AC_LOBES[1], H3K27AC_LOBES[0] * acetylation / 2, w)
  return np.stack([profiles[t] for t in EPI_TRACKS], axis=1)


def expected_contacts(region: Region, config: SyntheticGraphsConfig) -> np.ndarray:
  """``[n_nodes, n_nodes]`` expected contact counts (diagonal 0)."""
  n = config.n_nodes
  index = np.arange(n)
  distance = np.abs(index[:, None] - index[None, :])
  domain = np.searchsorted(region.tads, index, side="right")
  same_tad = domain[:, None] == domain[None, :]
  contacts = config.contact_depth / (1 + distance)
  contacts = contacts * np.where(same_tad, config.tad_enrichment, 1.0)
  for i, j, s in region.loops:
    contacts[i, j] *= 1 + config.loop_enrichment * s
    contacts[j, i] = contacts[i, j]
  np.fill_diagonal(contacts, 0.0)
  return contacts


def observed_contacts(rng: np.random.Generator, expected: np.ndarray) -> np.ndarray:
  """Symmetric Poisson draw of ``expected`` (upper triangle drawn, mirrored)."""
  upper = np.triu(rng.poisson(np.triu(expected, 1)), 1)
  return (upper + upper.T).astype(np.float64)


def sample_example(rng: np.random.Generator, motifs: Mapping[str, sm.PlantedMotif],
                   config: SyntheticGraphsConfig) -> dict[str, Any]:
  """One region's features (see ``SyntheticGraphs._info``)."""
  region = sample_region(rng, motifs, config)
  inputs = gene_inputs(region, config)
  cage_mean = expected_cage(inputs, config)
  cage = rng.poisson(cage_mean).astype(np.float32)
  epi = rng.poisson(expected_epi(region, config)).astype(np.float32)
  counts = observed_contacts(rng, expected_contacts(region, config))
  pairs, _ = graph_edges.significant_pairs(counts, config.edge_fdr)
  edges, edge_mask, dropped = graph_edges.pad_edges(pairs, config.max_edges)
  loops = np.array([(i, j) for i, j, _ in region.loops], np.int32).reshape(-1, 2)
  example = {
      "epi": epi,
      "cage": cage,
      "edges": edges,
      "edge_mask": edge_mask,
      "tss": inputs["tss"].astype(np.uint8),
      "contact_dependent": contact_dependent(inputs).astype(np.uint8),
      "expected_cage": cage_mean.astype(np.float32),
      "promoter_strength": inputs["promoter_strength"].astype(np.float32),
      "local_input": inputs["local_input"].astype(np.float32),
      "distal_input": inputs["distal_input"].astype(np.float32),
      "loops": loops,
      "loop_strength": np.array([s for _, _, s in region.loops], np.float32),
      "dropped_edges": np.int32(dropped),
      "gc": np.float32(region.gc),
  }
  if config.include_sequence:
    # Drawn last so the other features do not depend on include_sequence.
    at = (1 - region.gc) / 2
    bases = rng.choice(4, size=config.region_bp,
                       p=[at, region.gc / 2, region.gc / 2, at]).astype(np.uint8)
    for start, motif_bases in region.planted:
      bases[start:start + motif_bases.size] = motif_bases
    example["sequence"] = np.eye(4, dtype=np.uint8)[bases]
  return example


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """``default_rng([seed, split_id, index])`` of one region."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


def oracle_correlations(examples: Sequence[Mapping[str, Any]], mean_distal: float
                        ) -> dict[str, float]:
  """log1p(cage) Pearson of the full oracle and of a 1D oracle (D -> ``mean_distal``).

  Args:
    examples: records (or ``sample_example`` dicts) with the truth features.
    mean_distal: the 1D oracle's D for every gene (e.g. the train genes' mean D).

  Returns:
    ``{"graph_tss", "graph_dependent", "linear_tss", "linear_dependent"}``.
  """
  cage, full, linear, tss, dependent = [], [], [], [], []
  for ex in examples:
    promoter = np.asarray(ex["promoter_strength"], np.float64)
    local = np.asarray(ex["local_input"], np.float64)
    expected = np.asarray(ex["expected_cage"], np.float64)
    background = expected.min() if expected.size else 0.0
    cage.append(np.asarray(ex["cage"], np.float64))
    full.append(expected)
    scale = np.where(promoter > 0, (expected - background) /
                     np.maximum(promoter * (PROMOTER_BASAL + local +
                                            np.asarray(ex["distal_input"])), 1e-12), 0.0)
    linear.append(scale * promoter * (PROMOTER_BASAL + local + mean_distal) + background)
    tss.append(np.asarray(ex["tss"], bool))
    dependent.append(np.asarray(ex["contact_dependent"], bool))
  cage, full, linear = (np.log1p(np.concatenate(x)) for x in (cage, full, linear))
  tss, dependent = np.concatenate(tss), np.concatenate(dependent)

  def r(prediction, mask):
    if mask.sum() < 3:
      return float("nan")
    return float(np.corrcoef(prediction[mask], cage[mask])[0, 1])

  return {"graph_tss": r(full, tss), "graph_dependent": r(full, dependent),
          "linear_tss": r(linear, tss), "linear_dependent": r(linear, dependent)}


def generative_model(config: SyntheticGraphsConfig) -> dict[str, Any]:
  """The generative model's constants and this build's parameters (JSON-ready)."""
  fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.name not in ("name", "description", "version", "release_notes",
                              "supported_versions", "tags")}
  return {
      **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()},
      "cell_type": CELL_TYPE,
      "enhancer_motifs": list(ENHANCER_MOTIFS),
      "decoy_motifs": list(DECOY_MOTIFS),
      "promoter_motif": sc.PROMOTER_MOTIF,
      "insulator_motif": sc.INSULATOR_MOTIF,
      "promoter_basal": PROMOTER_BASAL,
      "contact_dependent_fraction": CONTACT_DEPENDENT_FRACTION,
      "loop_strength": list(LOOP_STRENGTH),
      "epi_background_per_100bp": dict(EPI_BACKGROUND_PER_100BP),
  }


# ---------------------------------------------------------------------------
# TFDS builder
# ---------------------------------------------------------------------------


class SyntheticGraphs(tfds.core.GeneratorBasedBuilder):
  """GraphReg-format regions whose CAGE depends on far enhancers in contact."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = BUILDER_CONFIGS
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _motifs(self) -> dict[str, sm.PlantedMotif]:
    if not hasattr(self, "_planted_motifs"):
      self._planted_motifs = sm.load_motifs(motif_ids=MOTIF_IDS)
    return self._planted_motifs

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    n = config.n_nodes
    node = lambda dtype: tfds.features.Tensor(shape=(n,), dtype=dtype)  # noqa: E731
    # Large arrays as raw bytes (TFDS would write one int64 per uint8 base); the
    # array_record files compress them (zlib here would cost 1.5 s per 1.2-Mb region).
    raw = tfds.features.Encoding.BYTES
    features = {
        "epi": tfds.features.Tensor(shape=(n * config.bins_per_node, len(EPI_TRACKS)),
                                    dtype=np.float32, encoding=raw),
        "cage": node(np.float32),
        "edges": tfds.features.Tensor(shape=(config.max_edges, 2), dtype=np.int32),
        "edge_mask": tfds.features.Tensor(shape=(config.max_edges,), dtype=np.uint8),
        "tss": node(np.uint8),
        "contact_dependent": node(np.uint8),
        "expected_cage": node(np.float32),
        "promoter_strength": node(np.float32),
        "local_input": node(np.float32),
        "distal_input": node(np.float32),
        "loops": tfds.features.Tensor(shape=(None, 2), dtype=np.int32),
        "loop_strength": tfds.features.Tensor(shape=(None,), dtype=np.float32),
        "dropped_edges": tfds.features.Scalar(dtype=np.int32),
        "gc": tfds.features.Scalar(dtype=np.float32),
    }
    if config.include_sequence:
      features["sequence"] = tfds.features.Tensor(shape=(config.region_bp, 4),
                                                  dtype=np.uint8, encoding=raw)
    motifs = self._motifs()
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict(features),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            node_size=config.node_size,
            epi_bin_size=config.epi_bin_size,
            n_nodes=n,
            max_edges=config.max_edges,
            epi_tracks=list(EPI_TRACKS),
            region_bp=config.region_bp,
            seq_length=config.region_bp if config.include_sequence else 0,
            scored_nodes=[0, n],
            far_bp=config.far_bp,
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
      yield index, sample_example(example_rng(config.seed, split, index), motifs, config)
