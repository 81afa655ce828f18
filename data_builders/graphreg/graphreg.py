r"""GraphReg regions from real files: bigWig tracks, a contact map or loops, a GTF.

Reads what GraphReg's data preparation reads (Karbalayghareh et al., Genome Res.
2022; github.com/karbalayghareh/GraphReg ``utils/data_read.py``, ``hic_to_graph.py``,
``find_tss.py``, ``data_write.py``) and writes one example per genomic region:

  epi        float32 ``[n_nodes * node_size / epi_bin_size, n_epi]`` epigenomic
             bigWigs (DNase/ATAC, H3K27ac, H3K4me3 ...) in 100-bp bins, raw (GraphReg's
             Epi models take log2(x + 1); that is the model's choice)
  cage       float32 ``[n_nodes]`` CAGE bigWig(s) in 5-kb bins (several files, e.g.
             the two strands, are added)
  edges      int32 ``[max_edges, 2]`` + ``edge_mask`` uint8: node pairs joined in the
             contact graph, both directions, no self-loops, padded
  tss        uint8 ``[n_nodes]``: the node holds an annotated TSS; ``genes`` the gene
             names there joined by ``+`` (as ``find_tss.py`` keeps them)
  sequence   uint8 ``[n_nodes * node_size, 4]`` one-hot (N = 0), with a FASTA only
  chrom, start (0-based, may be negative: tiles pad the chromosome ends)

Regions: a BED of regions, each exactly ``n_nodes * node_size`` bp and starting on a
node boundary, or (default) GraphReg's tiling: 6-Mb windows (1,200 nodes of 5 kb)
every 2 Mb, the first starting 2 Mb before the chromosome, so that the middle 2 Mb
(nodes 400-800, ``scored_nodes``: the only nodes GraphReg's loss sees) tile each
chromosome once; signal off the chromosome is 0 and sequence N.

bigWigs are binned with ``epi_stat``/``cage_stat`` (``sum`` of per-base values, as
GraphReg does for Basenji's ``bam_cov`` bigWigs; ``mean`` or ``max`` for ``bamCoverage``
files already binned); missing values are 0 and negatives (minus-strand CAGE) are
taken as absolute values.

Edges, from one of:
  a contact matrix  ``.cool``, ``.mcool`` or ``.hic`` (read with hictkpy at
                    ``node_size`` resolution, ``normalization`` NONE/weight/KR/...):
                    ``edge_rule`` ``fdr`` (default; raw counts tested against their
                    diagonal's mean, Benjamini-Hochberg at ``edge_fdr``, 0.1 as the
                    GraphReg README recommends for HiC-DC+), ``threshold``
                    (``contacts >= contact_threshold``) or ``top_k`` (each node's
                    ``top_k`` strongest partners); see ``graphreg.edges``.
  a loop BEDPE      ``chr1 s1 e1 chr2 s2 e2 ...`` (FitHiChIP's interaction files, header
                    ``chr1 s1 e1 chr2 s2 e2 cc ... P-Value_Bias Q-Value_Bias``); loops
                    with ``Q-Value_Bias`` (or a ``qvalue``/``fdr`` column) above
                    ``loop_fdr`` are dropped; anchors map to the nodes of their midpoints.
Pairs closer than ``min_edge_distance`` nodes are not edges (1: all but self-loops).

TSSs: the 5' end of each gene's principal transcript in a GTF
(``genereg_jax.data.gene_annotation.read_gtf``, ``gene_types`` protein_coding by
default).

Splits hold out chromosomes: ``valid_chromosomes`` (default chr1, chr11) and
``test_chromosomes`` (chr2, chr12), GraphReg's first fold (valid ``[i, i + 10]``, test
``[i + 1, i + 11]``, i = 1). Malformed region BED or BEDPE lines raise
``InputFormatError`` naming ``path:line``; unreadable bigWig or contact files name the
file.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from data_builders.graphreg import edges as graph_edges
from genereg_jax.data import gene_annotation
from genereg_jax.data import text as text_files
from genereg_jax.data.bed import BedFormatError
from genereg_jax.data.encoding import one_hot_dna
from genereg_jax.data.genome import Genome, match_chromosome
from genereg_jax.files import InputFormatError

SPLITS: tuple[str, ...] = ("train", "valid", "test")
BIN_STATS: tuple[str, ...] = ("sum", "mean", "max")
MATRIX_SUFFIXES: tuple[str, ...] = (".cool", ".mcool", ".hic")
# Columns of a BEDPE's q-value, FitHiChIP's first.
Q_VALUE_COLUMNS: tuple[str, ...] = ("Q-Value_Bias", "qvalue", "q_value", "fdr", "FDR")
# Tiled by default: numbered chromosomes and X (GraphReg trains on the autosomes).
PRIMARY_CHROMOSOME = re.compile(r"^(chr)?([0-9]+|X)$")
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class BedpeFormatError(InputFormatError):
  """A malformed BEDPE line; ``str(error)`` is ``path:line: problem``."""


@dataclasses.dataclass(eq=False)
class GraphRegConfig(tfds.core.BuilderConfig):
  """What to build: tracks, contacts, annotation, geometry, graph rule, splits.

  Attributes:
    epi_bigwigs: epigenomic bigWigs, one per track.
    epi_names: their names (default: file stems).
    cage_bigwigs: CAGE bigWigs, added together (e.g. plus and minus strand).
    contacts: a ``.cool``/``.mcool``/``.hic`` file, or "" when ``loops`` is given.
    loops: a loop BEDPE (FitHiChIP), or "" when ``contacts`` is given.
    gtf: the gene annotation (GENCODE/Ensembl GTF).
    fasta: genome FASTA; stores ``sequence`` when given.
    regions: a BED of regions; "" tiles the chromosomes as GraphReg does.
    chromosomes: chromosomes to tile (default: the numbered ones and X of the first
      epi bigWig, which a contact matrix also holds).
    n_nodes / node_size / epi_bin_size: geometry (GraphReg: 1,200 x 5 kb, 100 bp).
    scored_nodes: ``(first, end)`` nodes of the loss; tiles step by its width.
    epi_stat / cage_stat: ``sum``, ``mean`` or ``max`` per bin.
    gene_types: GTF gene types kept (None: all).
    edge_rule: ``fdr``, ``threshold`` or ``top_k`` (contact matrices).
    edge_fdr / contact_threshold / top_k: the rule's parameter.
    normalization: hictkpy normalization of the matrix (``NONE`` = raw counts, which
      the ``fdr`` rule needs; ``weight`` for balanced coolers, ``KR``/``SCALE``/``VC``
      for .hic).
    loop_fdr: largest q-value of a BEDPE loop kept (FitHiChIP's default 0.01).
    min_edge_distance: least node distance of an edge.
    max_edges: stored directed edges per region (weakest pairs dropped past it).
    valid_chromosomes / test_chromosomes: held-out chromosomes.
  """

  epi_bigwigs: tuple[str, ...] = ()
  epi_names: tuple[str, ...] | None = None
  cage_bigwigs: tuple[str, ...] = ()
  contacts: str = ""
  loops: str = ""
  gtf: str = ""
  fasta: str = ""
  regions: str = ""
  chromosomes: tuple[str, ...] = ()
  n_nodes: int = 1_200
  node_size: int = 5_000
  epi_bin_size: int = 100
  scored_nodes: tuple[int, int] = (400, 800)
  epi_stat: str = "sum"
  cage_stat: str = "sum"
  gene_types: tuple[str, ...] | None = ("protein_coding",)
  edge_rule: str = "fdr"
  edge_fdr: float = 0.1
  contact_threshold: float = 1.0
  top_k: int = 10
  normalization: str = "NONE"
  loop_fdr: float = 0.01
  min_edge_distance: int = 1
  max_edges: int = 16_384
  valid_chromosomes: tuple[str, ...] = ("chr1", "chr11")
  test_chromosomes: tuple[str, ...] = ("chr2", "chr12")

  def __post_init__(self):
    for name in ("epi_bigwigs", "cage_bigwigs", "chromosomes", "valid_chromosomes",
                 "test_chromosomes", "scored_nodes"):
      setattr(self, name, tuple(getattr(self, name)))
    for name in ("contacts", "loops", "gtf", "fasta", "regions"):
      setattr(self, name, os.fspath(getattr(self, name)))
    if self.epi_names is not None:
      self.epi_names = tuple(self.epi_names)
    if self.gene_types is not None:
      self.gene_types = tuple(self.gene_types)
    problems = []
    if not _CONFIG_NAME.match(self.name or ""):
      problems.append(f"name {self.name!r} must be letters, digits, '_', '.' or '-'")
    if not self.epi_bigwigs:
      problems.append("no epigenomic bigWig given")
    if not self.cage_bigwigs:
      problems.append("no CAGE bigWig given")
    if bool(self.contacts) == bool(self.loops):
      problems.append("give exactly one of contacts (.cool/.mcool/.hic) and loops (BEDPE)")
    if self.contacts and not self.contacts.lower().endswith(MATRIX_SUFFIXES):
      problems.append(f"contacts {self.contacts!r} must end in one of {MATRIX_SUFFIXES}")
    if not self.gtf:
      problems.append("no GTF given")
    if self.epi_names is not None and len(self.epi_names) != len(self.epi_bigwigs):
      problems.append(f"{len(self.epi_names)} epi_names for {len(self.epi_bigwigs)} bigWigs")
    if self.node_size % self.epi_bin_size:
      problems.append(f"node_size {self.node_size} is not a multiple of epi_bin_size "
                      f"{self.epi_bin_size}")
    first, end = self.scored_nodes
    if not 0 <= first < end <= self.n_nodes:
      problems.append(f"scored_nodes {self.scored_nodes} must lie in [0, {self.n_nodes}]")
    for name in ("epi_stat", "cage_stat"):
      if getattr(self, name) not in BIN_STATS:
        problems.append(f"{name} {getattr(self, name)!r} not in {BIN_STATS}")
    if self.edge_rule not in graph_edges.EDGE_RULES:
      problems.append(f"edge_rule {self.edge_rule!r} not in {graph_edges.EDGE_RULES}")
    if self.max_edges < 2 or self.max_edges % 2:
      problems.append(f"max_edges {self.max_edges} must be even and >= 2")
    both = sorted(set(self.valid_chromosomes) & set(self.test_chromosomes))
    if both:
      problems.append(f"chromosomes {both} are in both valid and test")
    if problems:
      raise ValueError(f"GraphRegConfig {self.name!r}: " + "; ".join(problems))

  @property
  def region_bp(self) -> int:
    """bp per region (GraphReg: 6 Mb)."""
    return self.n_nodes * self.node_size

  @property
  def track_names(self) -> list[str]:
    """Names of the ``epi`` columns."""
    if self.epi_names is not None:
      return list(self.epi_names)
    return [bigwig_stem(p) for p in self.epi_bigwigs]

  def split_of(self, chrom: str) -> str:
    """``train``, ``valid`` or ``test`` (``chr`` prefix optional on either side)."""
    if match_chromosome(chrom, self.valid_chromosomes):
      return "valid"
    if match_chromosome(chrom, self.test_chromosomes):
      return "test"
    return "train"

  def as_dict(self) -> dict[str, Any]:
    """The build parameters, JSON-ready (``info.metadata['config']``)."""
    skip = {"name", "description", "version", "release_notes", "supported_versions", "tags"}
    return {f.name: (list(v) if isinstance(v, tuple) else v)
            for f in dataclasses.fields(self) if f.name not in skip
            for v in (getattr(self, f.name),)}


def bigwig_stem(path: str) -> str:
  name = os.path.basename(path)
  for suffix in (".bigWig", ".bigwig", ".bw"):
    if name.endswith(suffix):
      return name[:-len(suffix)]
  return name


# ---------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Region:
  """``[start, start + region_bp)`` of ``chrom`` (start may be negative)."""

  chrom: str
  start: int


def read_regions(path: str, config: GraphRegConfig) -> list[Region]:
  """Regions of a BED (``chrom start end``), each one region long, node-aligned."""
  regions = []
  for number, line in text_files.numbered_lines(path, BedFormatError):
    fields = line.split()
    if not fields or fields[0].startswith(("#", "track", "browser")):
      continue
    if len(fields) < 3:
      raise BedFormatError(path, number, f"need chrom, start, end; got {line.strip()!r}")
    try:
      start, end = int(fields[1]), int(fields[2])
    except ValueError:
      raise BedFormatError(path, number, f"start/end {fields[1]!r}/{fields[2]!r} are not "
                           "integers") from None
    if end - start != config.region_bp:
      raise BedFormatError(path, number, f"region is {end - start} bp; GraphReg regions "
                           f"are n_nodes x node_size = {config.region_bp} bp")
    if start % config.node_size:
      raise BedFormatError(path, number, f"start {start} is not a multiple of node_size "
                           f"{config.node_size} (the contact map's bins)")
    regions.append(Region(fields[0], start))
  return regions


def tile_regions(sizes: Mapping[str, int], config: GraphRegConfig) -> list[Region]:
  """GraphReg's tiling: windows whose scored nodes tile each chromosome once."""
  first, end = config.scored_nodes
  step = (end - first) * config.node_size
  regions = []
  for chrom, size in sizes.items():
    scored = 0
    while scored < size:
      regions.append(Region(chrom, scored - first * config.node_size))
      scored += step
  return regions


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def open_bigwig(path: str):
  """A pyBigWig handle; ``InputFormatError`` if the file is not a bigWig."""
  import pyBigWig  # pylint: disable=g-import-not-at-top  # building only.
  if not os.path.isfile(path):
    raise InputFormatError(path, None, "bigWig file not found")
  try:
    handle = pyBigWig.open(path)
  except RuntimeError:
    handle = None
  if handle is None or not handle.isBigWig():
    raise InputFormatError(path, None, "not a bigWig file")
  return handle


def binned_bigwig(handle, chrom: str, start: int, end: int, bin_size: int,
                  stat: str) -> np.ndarray:
  """``float32[(end - start) // bin_size]``: ``stat`` of |values| per bin; 0 off-chromosome."""
  out = np.zeros(end - start, np.float64)
  name = match_chromosome(chrom, handle.chroms())
  if name is not None:
    length = handle.chroms(name)
    low, high = max(start, 0), min(end, length)
    if high > low:
      values = handle.values(name, low, high, numpy=True)
      values[np.isnan(values)] = 0.0  # In place: nan_to_num's inf checks cost 3x more.
      np.abs(values, out=out[low - start:high - start])
  bins = out.reshape(-1, bin_size)
  reduced = {"sum": bins.sum, "mean": bins.mean, "max": bins.max}[stat](axis=1)
  return reduced.astype(np.float32)


class ContactMatrix:
  """A ``.cool``/``.mcool``/``.hic`` at ``node_size`` resolution (hictkpy)."""

  def __init__(self, path: str, resolution: int, normalization: str):
    import hictkpy  # pylint: disable=g-import-not-at-top  # building only.
    if not os.path.isfile(path):
      raise InputFormatError(path, None, "contact file not found")
    try:
      self._file = hictkpy.File(path, resolution)
    except RuntimeError as e:
      raise InputFormatError(path, None, f"cannot read a {resolution}-bp contact matrix: "
                             f"{str(e).splitlines()[0]}") from None
    if self._file.resolution() != resolution:
      raise InputFormatError(path, None, f"resolution {self._file.resolution()} bp, but "
                             f"nodes are {resolution} bp")
    self.path = path
    self.resolution = resolution
    self.normalization = normalization
    self.sizes = dict(self._file.chromosomes())

  def region(self, chrom: str, start: int, n: int) -> np.ndarray:
    """``float64[n, n]`` contacts of ``n`` bins from ``start``; NaN off the chromosome."""
    out = np.full((n, n), np.nan)
    name = match_chromosome(chrom, self.sizes)
    if name is None:
      return out
    length = self.sizes[name]
    low, high = max(start, 0), min(start + n * self.resolution, length)
    if high <= low:
      return out
    matrix = self._file.fetch(f"{name}:{low}-{high}", normalization=self.normalization,
                              count_type="float").to_numpy()
    offset = (low - start) // self.resolution
    size = matrix.shape[0]
    out[offset:offset + size, offset:offset + size] = matrix
    return out


@dataclasses.dataclass
class Loops:
  """BEDPE loops per chromosome: ``{chrom: int64[m, 2]}`` anchor midpoints."""

  path: str
  anchors: dict[str, np.ndarray]

  def pairs(self, chrom: str, start: int, config: GraphRegConfig) -> np.ndarray:
    """Unique node pairs ``i < j`` of the loops inside ``[start, start + region_bp)``."""
    name = match_chromosome(chrom, self.anchors)
    if name is None:
      return np.zeros((0, 2), np.int32)
    nodes = (self.anchors[name] - start) // config.node_size
    inside = ((nodes >= 0) & (nodes < config.n_nodes)).all(axis=1)
    nodes = np.sort(nodes[inside], axis=1)
    nodes = nodes[nodes[:, 1] - nodes[:, 0] >= max(config.min_edge_distance, 1)]
    return np.unique(nodes, axis=0).astype(np.int32)


def read_loops(path: str, loop_fdr: float) -> Loops:
  """Intra-chromosomal loops of a BEDPE, q-value filtered when a q column exists."""
  anchors: dict[str, list[tuple[int, int]]] = {}
  q_column = None
  seen_data = False
  for number, line in text_files.numbered_lines(path, BedpeFormatError):
    fields = line.rstrip("\n\r").split("\t") if "\t" in line else line.split()
    if not fields or not fields[0] or fields[0].startswith(("track", "browser")):
      continue
    if not seen_data and (fields[0].startswith("#") or not _is_int(fields[1:2])):
      # A header (FitHiChIP's "chr1 s1 e1 chr2 s2 e2 cc ...") or a comment.
      header = [f.lstrip("#") for f in fields]
      q_column = next((header.index(c) for c in Q_VALUE_COLUMNS if c in header), q_column)
      continue
    if fields[0].startswith("#"):
      continue
    seen_data = True
    if len(fields) < 6:
      raise BedpeFormatError(path, number, f"need chr1 s1 e1 chr2 s2 e2; got "
                             f"{len(fields)} columns")
    if not _is_int(fields[1:3] + fields[4:6]):
      raise BedpeFormatError(path, number, f"anchor coordinates {fields[1:3] + fields[4:6]} "
                             "are not integers")
    s1, e1, s2, e2 = (int(fields[i]) for i in (1, 2, 4, 5))
    if s1 < 0 or e1 < s1 or s2 < 0 or e2 < s2:
      raise BedpeFormatError(path, number, "negative or reversed anchor")
    if q_column is not None:
      try:
        q = float(fields[q_column])
      except (ValueError, IndexError):
        raise BedpeFormatError(path, number, f"q-value column {q_column + 1} is not a "
                               "number") from None
      if q > loop_fdr:
        continue
    if fields[0] != fields[3]:
      continue  # GraphReg's graphs are per chromosome.
    anchors.setdefault(fields[0], []).append(((s1 + e1) // 2, (s2 + e2) // 2))
  return Loops(path, {c: np.array(v, np.int64) for c, v in anchors.items()})


def _is_int(values: Sequence[str]) -> bool:
  return bool(values) and all(re.fullmatch(r"-?\d+", v) for v in values)


def tss_table(transcripts: Sequence[gene_annotation.Transcript]
              ) -> dict[str, tuple[np.ndarray, list[str]]]:
  """``{chrom: (sorted TSS positions, gene names)}``: 5' ends of the transcripts."""
  by_chrom: dict[str, list[tuple[int, str]]] = {}
  for t in transcripts:
    tss = t.tx_start if t.strand == "+" else t.tx_end - 1
    by_chrom.setdefault(t.chrom, []).append((tss, t.gene_name or t.gene_id))
  table = {}
  for chrom, entries in by_chrom.items():
    entries.sort()
    table[chrom] = (np.array([p for p, _ in entries], np.int64), [g for _, g in entries])
  return table


def region_tss(table, chrom: str, start: int, config: GraphRegConfig
               ) -> tuple[np.ndarray, list[str]]:
  """``(tss uint8[n_nodes], genes per node joined by '+')`` of one region."""
  tss = np.zeros(config.n_nodes, np.uint8)
  genes = [""] * config.n_nodes
  name = match_chromosome(chrom, table)
  if name is None:
    return tss, genes
  positions, names = table[name]
  low, high = np.searchsorted(positions, [start, start + config.region_bp])
  for position, gene in zip(positions[low:high], names[low:high]):
    node = int((position - start) // config.node_size)
    tss[node] = 1
    genes[node] = f"{genes[node]}+{gene}" if genes[node] else gene
  return tss, genes


# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------


class Graphreg(tfds.core.GeneratorBasedBuilder):
  """GraphReg regions from bigWigs, a contact map or loops, and a GTF."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "bigWig epi/CAGE, .cool/.mcool/.hic or BEDPE edges, GTF TSS."}
  BUILDER_CONFIGS: list[GraphRegConfig] = []

  def _config(self) -> GraphRegConfig:
    config = self.builder_config
    if not isinstance(config, GraphRegConfig):
      raise ValueError("the graphreg builder needs a GraphRegConfig; build one with: "
                       "python -m data_builders.graphreg.make --help")
    return config

  def _info(self) -> tfds.core.DatasetInfo:
    config = self._config()
    n = config.n_nodes
    raw = tfds.features.Encoding.BYTES  # array_record compresses; int64 lists would not.
    features = {
        "epi": tfds.features.Tensor(
            shape=(n * config.node_size // config.epi_bin_size, len(config.epi_bigwigs)),
            dtype=np.float32, encoding=raw),
        "cage": tfds.features.Tensor(shape=(n,), dtype=np.float32),
        "edges": tfds.features.Tensor(shape=(config.max_edges, 2), dtype=np.int32),
        "edge_mask": tfds.features.Tensor(shape=(config.max_edges,), dtype=np.uint8),
        "tss": tfds.features.Tensor(shape=(n,), dtype=np.uint8),
        "genes": tfds.features.Sequence(tfds.features.Text(), length=n),
        "dropped_edges": tfds.features.Scalar(dtype=np.int32),
        "chrom": tfds.features.Text(),
        "start": tfds.features.Scalar(dtype=np.int64),
    }
    if config.fasta:
      features["sequence"] = tfds.features.Tensor(shape=(config.region_bp, 4),
                                                  dtype=np.uint8, encoding=raw)
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
            epi_tracks=config.track_names,
            region_bp=config.region_bp,
            seq_length=config.region_bp if config.fasta else 0,
            scored_nodes=list(config.scored_nodes),
            config=config.as_dict(),
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is read from the config's local files.
    config = self._config()
    first = open_bigwig(config.epi_bigwigs[0])
    sizes = dict(first.chroms())
    first.close()
    edge_source = (ContactMatrix(config.contacts, config.node_size, config.normalization)
                   if config.contacts else read_loops(config.loops, config.loop_fdr))
    if config.regions:
      regions = read_regions(config.regions, config)
    else:
      chosen = config.chromosomes or tuple(
          c for c in sizes if PRIMARY_CHROMOSOME.match(c) and
          (not config.contacts or match_chromosome(c, edge_source.sizes)))
      missing = [c for c in chosen if match_chromosome(c, sizes) is None]
      if missing:
        raise ValueError(f"chromosomes {missing} are not in {config.epi_bigwigs[0]}")
      regions = tile_regions({c: sizes[match_chromosome(c, sizes)] for c in chosen}, config)
    by_split: dict[str, list[Region]] = {s: [] for s in SPLITS}
    for region in regions:
      by_split[config.split_of(region.chrom)].append(region)
    self.info.metadata["splits"] = {s: {"regions": len(r),
                                        "chromosomes": sorted({x.chrom for x in r})}
                                    for s, r in by_split.items()}
    tss = tss_table(gene_annotation.read_gtf(config.gtf, config.gene_types))
    return {split: self._generate_examples(regions, edge_source, tss)
            for split, regions in by_split.items() if regions}

  def _generate_examples(self, regions: Sequence[Region], edge_source, tss
                         ) -> Iterator[tuple[int, dict[str, Any]]]:
    config = self._config()
    epi = [open_bigwig(p) for p in config.epi_bigwigs]
    cage = [open_bigwig(p) for p in config.cage_bigwigs]
    genome = Genome(config.fasta) if config.fasta else None
    for key, region in enumerate(regions):
      end = region.start + config.region_bp
      pairs = self._pairs(edge_source, region)
      edges, edge_mask, dropped = graph_edges.pad_edges(pairs, config.max_edges)
      node_tss, genes = region_tss(tss, region.chrom, region.start, config)
      example = {
          "epi": np.stack([binned_bigwig(h, region.chrom, region.start, end,
                                         config.epi_bin_size, config.epi_stat)
                           for h in epi], axis=1),
          "cage": sum(binned_bigwig(h, region.chrom, region.start, end, config.node_size,
                                    config.cage_stat) for h in cage),
          "edges": edges,
          "edge_mask": edge_mask,
          "tss": node_tss,
          "genes": genes,
          "dropped_edges": np.int32(dropped),
          "chrom": region.chrom,
          "start": np.int64(region.start),
      }
      if genome is not None:
        chrom = genome.chromosome(region.chrom)
        bases = (genome.fetch(chrom, region.start, end) if chrom is not None
                 else "N" * config.region_bp)
        example["sequence"] = one_hot_dna(bases)
      yield key, example
    for handle in epi + cage:
      handle.close()
    if genome is not None:
      genome.close()

  def _pairs(self, edge_source, region: Region) -> np.ndarray:
    config = self._config()
    if isinstance(edge_source, Loops):
      return edge_source.pairs(region.chrom, region.start, config)
    matrix = edge_source.region(region.chrom, region.start, config.n_nodes)
    if config.edge_rule == "fdr":
      pairs, _ = graph_edges.significant_pairs(matrix, config.edge_fdr,
                                               config.min_edge_distance)
    elif config.edge_rule == "threshold":
      pairs, _ = graph_edges.threshold_pairs(matrix, config.contact_threshold,
                                             config.min_edge_distance)
    else:
      pairs, _ = graph_edges.top_k_pairs(matrix, config.top_k, config.min_edge_distance)
    return pairs
