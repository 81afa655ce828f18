r"""Single-cell CpG methylation for DeepCpG: per-cell Bismark coverage files + genome FASTA.

Configs:

* ``manual`` reads ``manual_dir``: one genome FASTA (``*.fa``/``*.fasta``[``.gz``]) and
  one Bismark coverage file per cell (``*.cov``/``*.cov.gz``: chromosome, start, end,
  methylation %, count methylated, count unmethylated; `genereg_jax.data.bismark`), the
  cells in file-name order (any number; train with ``--config.model.num_cells=<cells>``).
  Both strands of a CpG are merged; a CpG is an example when at least one cell observed
  it. Chromosomes split as we read DeepCpG's Methods: 1, 3, 5, 7, 9, 11 train, 2, 4, 6,
  8, 10, 12 test, the rest valid (``chr`` prefix optional).
* ``synthetic`` / ``tiny`` write a SYNTHETIC genome and coverage files in exactly that
  format (under the build's download directory), then read them back the same way. The
  truth (`methylation_truth`): chromosomes are tiled by domains of ``domain_bp``
  whose state is methylated or not for each of two cell types, and each cell flips a
  domain with probability ``cell_flip`` (cell-specific, shared by the domain's CpGs);
  a CpG inside a planted CRE motif (``TGACGTCA``, whose centre is a CpG) is mostly
  unmethylated in every cell. So the DNA window, the neighbours in the same cell and the
  other cells of the same type all carry information. Each cell observes a fraction
  ``coverage`` of the CpGs with 1-3 reads drawn from the truth, on a random strand.
  Chromosomes ``chr1``-``chr4`` train, ``chr5`` valid, ``chr6`` test.

Records: ``sequence uint8[window, 4]`` (the CpG's ``C`` at ``window // 2``),
``cpg_state``/``cpg_dist float32[cells, 2k]`` (`bismark.neighbour_features`), ``label
int32[cells]`` (1 methylated, 0 not, -1 unobserved in that cell), ``truth
float32[cells]`` (synthetic only; -1 otherwise), ``chrom``, ``position`` (1-based).
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import bismark
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib

SPLITS = ("train", "valid", "test")
#: DeepCpG's chromosome split as we read Angermueller et al. 2017, Methods (a config field
#: would be the place for another).
TRAIN_CHROMOSOMES = ("1", "3", "5", "7", "9", "11")
TEST_CHROMOSOMES = ("2", "4", "6", "8", "10", "12")
#: The synthetic split.
SYNTHETIC_SPLIT = {"chr1": "train", "chr2": "train", "chr3": "train", "chr4": "train",
                   "chr5": "valid", "chr6": "test"}
CRE_MOTIF = "TGACGTCA"  # CREB's site; its central CG is the planted CpG.
DOMAIN_LOGIT, MOTIF_LOGIT = 2.5, -5.0
_BASES = np.frombuffer(b"ACGT", np.uint8)


def split_of(chrom: str) -> str:
  """DeepCpG's split of a real chromosome."""
  name = genome_lib.without_chr(chrom)
  return "train" if name in TRAIN_CHROMOSOMES else "test" if name in TEST_CHROMOSOMES else "valid"


@dataclasses.dataclass(eq=False)
class BismarkCpgConfig(tfds.core.BuilderConfig):
  """Inputs and sizes of a ``bismark_cpg`` build.

  Attributes:
    synthetic: generate the files (True) or read ``manual_dir``.
    window: DNA window in bp (DeepCpG: 1,001).
    k: observed neighbours per side and cell (DeepCpG ``cpg_wlen`` 50: 25).
    num_cells, chrom_length, cpg_gap, domain_bp, cell_flip, coverage, motif_fraction:
      the synthetic genome and cells (see the module docstring).
    seed: synthetic RNG seed.
  """
  synthetic: bool = False
  window: int = 1001
  k: int = 25
  num_cells: int = 16
  chrom_length: int = 200_000
  cpg_gap: int = 120
  domain_bp: int = 3000
  cell_flip: float = 0.1
  coverage: float = 0.3
  motif_fraction: float = 0.3
  seed: int = 0


def _scrubbed_background(rng: np.random.Generator, length: int) -> bytearray:
  """Random bases with every CG turned into CA, so planted CpGs are the only ones."""
  sequence = _BASES[rng.choice(4, length, p=[0.3, 0.2, 0.2, 0.3])].copy()
  cg = np.flatnonzero((sequence[:-1] == ord("C")) & (sequence[1:] == ord("G")))
  sequence[cg + 1] = ord("A")
  return bytearray(sequence.tobytes())


def methylation_truth(rng: np.random.Generator, cpgs: np.ndarray, motif: np.ndarray,
                      config: BismarkCpgConfig) -> np.ndarray:
  """``P(methylated) float[cpgs, cells]``: domain state per cell type with cell flips,
  lowered at CRE motifs (module docstring)."""
  # Domains of fixed size at a random phase per chromosome.
  domain = (cpgs + rng.integers(0, config.domain_bp)) // config.domain_bp
  num_domains = int(domain.max()) + 1
  type_state = rng.random((num_domains, 2)) < 0.5
  cell_type = np.arange(config.num_cells) % 2
  state = type_state[:, cell_type]  # [domains, cells]
  flips = rng.random(state.shape) < config.cell_flip
  state = state ^ flips
  logits = np.where(state[domain], DOMAIN_LOGIT, -DOMAIN_LOGIT) + MOTIF_LOGIT * motif[:, None]
  return 1.0 / (1.0 + np.exp(-logits))


def write_synthetic(directory: str, config: BismarkCpgConfig) -> dict[str, np.ndarray]:
  """Writes ``genome.fa`` and ``cell_XX.cov.gz``; returns the truth per chromosome."""
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(config.seed)
  truths, covs = {}, [[] for _ in range(config.num_cells)]
  with open(os.path.join(directory, "genome.fa"), "w") as fasta:
    for chrom in SYNTHETIC_SPLIT:
      sequence = _scrubbed_background(rng, config.chrom_length)
      gaps = rng.integers(config.cpg_gap // 3, 2 * config.cpg_gap, config.chrom_length)
      starts = np.cumsum(gaps)
      starts = starts[(starts > 10) & (starts < config.chrom_length - 10)]
      motif = rng.random(len(starts)) < config.motif_fraction
      for start, has_motif in zip(starts, motif):  # ``start``: 0-based C of the CpG.
        if has_motif:
          sequence[start - 3:start + 5] = CRE_MOTIF.encode()
        else:
          sequence[start:start + 2] = b"CG"
      # Gaps of >= cpg_gap // 3 >= 8 bp keep planted motifs from overlapping CpGs.
      cpgs = starts + 1  # 1-based.
      truth = methylation_truth(rng, cpgs, motif, config)
      truths[chrom] = truth
      fasta.write(f">{chrom}\n")
      text = sequence.decode()
      fasta.writelines(text[i:i + 60] + "\n" for i in range(0, len(text), 60))
      for cell in range(config.num_cells):
        observed = np.flatnonzero(rng.random(len(cpgs)) < config.coverage)
        reads = rng.integers(1, 4, len(observed))
        methylated = rng.binomial(reads, truth[observed, cell])
        minus = rng.random(len(observed)) < 0.5  # Minus-strand calls sit on the G.
        for position, n, m, on_minus in zip(cpgs[observed], reads, methylated, minus):
          position = position + on_minus
          covs[cell].append(f"{chrom}\t{position}\t{position}\t{100 * m / n:.6g}\t{m}\t{n - m}\n")
  for cell, lines in enumerate(covs):
    with gzip.open(os.path.join(directory, f"cell_{cell:02d}.cov.gz"), "wt") as f:
      f.writelines(lines)
  return truths


def _find(directory: str, suffixes: tuple[str, ...]) -> list[str]:
  return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                if f.endswith(suffixes))


def cell_name(path: str) -> str:
  name = os.path.basename(path)
  for suffix in (".gz", ".cov", ".bismark"):
    name = name.removesuffix(suffix)
  return name


def cpg_records(fasta: str, cov_files: list[str], config: BismarkCpgConfig,
                split_of_chrom, truths: dict[str, np.ndarray] | None = None
                ) -> Iterator[tuple[str, str, dict]]:
  """``(key, split, record)`` for every CpG observed in at least one cell."""
  cells = [bismark.read_coverage(path) for path in cov_files]
  half = config.window // 2
  with genome_lib.Genome(fasta) as genome:
    for chrom in genome.sizes:
      cpgs = bismark.cpg_positions(genome.sequence(chrom))
      per_cell = []
      for calls in cells:
        name = next((c for c in calls if genome.chromosome(c) == chrom), None)
        per_cell.append(bismark.merge_strands(calls[name], cpgs) if name else
                        bismark.CpgCalls(*(np.zeros(0, np.int64),) * 3))
      targets = np.unique(np.concatenate([c.position for c in per_cell]))
      if not len(targets):
        continue
      labels = np.full((len(targets), len(cells)), -1, np.int32)
      states = np.empty((len(targets), len(cells), 2 * config.k), np.float32)
      dists = np.empty_like(states)
      for j, calls in enumerate(per_cell):
        index = np.searchsorted(targets, calls.position)
        labels[index, j] = calls.state.astype(np.int32)
        states[:, j], dists[:, j] = bismark.neighbour_features(targets, calls, config.k)
      truth = None
      if truths is not None:
        truth = truths[chrom][np.searchsorted(cpgs, targets)].astype(np.float32)
      split = split_of_chrom(chrom)
      for i, position in enumerate(targets):
        start = int(position) - 1 - half  # 0-based start with the C at ``half``.
        yield f"{chrom}:{position}", split, {
            "sequence": encoding.one_hot_dna(genome.fetch(chrom, start, start + config.window)),
            "cpg_state": states[i], "cpg_dist": dists[i], "label": labels[i],
            "truth": truth[i] if truth is not None else np.full(len(cells), -1, np.float32),
            "chrom": chrom, "position": np.int64(position)}


class BismarkCpg(tfds.core.GeneratorBasedBuilder):
  """Per-CpG DNA windows + per-cell neighbour states and labels (DeepCpG)."""

  name = "bismark_cpg"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      BismarkCpgConfig(name="synthetic", synthetic=True,
                       description="Synthetic domains + CRE motifs, 16 cells, k 25."),
      BismarkCpgConfig(name="tiny", synthetic=True, num_cells=6, k=4, chrom_length=40_000,
                       description="Synthetic, 6 cells, k 4, for tests."),
      BismarkCpgConfig(name="manual", description="Bismark .cov per cell + FASTA in "
                       "manual_dir (any number of cells)."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    # Real data: as many cells as .cov files (the model's num_cells must match).
    n, k2 = (config.num_cells if config.synthetic else None), 2 * config.k
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.window, 4), dtype=np.uint8),
            "cpg_state": tfds.features.Tensor(shape=(n, k2), dtype=np.float32),
            "cpg_dist": tfds.features.Tensor(shape=(n, k2), dtype=np.float32),
            "label": tfds.features.Tensor(shape=(n,), dtype=np.int32),
            "truth": tfds.features.Tensor(shape=(n,), dtype=np.float32),
            "chrom": tfds.features.Text(),
            "position": tfds.features.Scalar(dtype=np.int64)}),
        metadata=tfds.core.MetadataDict(k=config.k,
                                        window=config.window, max_dist=bismark.MAX_DIST,
                                        synthetic=config.synthetic))

  def _split_generators(self, dl_manager):
    config = self.builder_config
    truths = None
    if config.synthetic:
      directory = os.path.join(os.fspath(dl_manager.download_dir),
                               f"bismark_cpg_{config.name}_{config.seed}")
      truths = write_synthetic(directory, config)
      split_of_chrom = SYNTHETIC_SPLIT.get
    else:
      directory = os.fspath(dl_manager.manual_dir)
      split_of_chrom = split_of
    fastas = _find(directory, (".fa", ".fasta", ".fa.gz", ".fasta.gz"))
    covs = _find(directory, (".cov", ".cov.gz"))
    if len(fastas) != 1 or not covs:
      raise FileNotFoundError(f"{directory} needs one genome FASTA and one Bismark .cov"
                              f"[.gz] per cell; found {fastas} and {len(covs)} .cov files")
    records: dict[str, list] = {split: [] for split in SPLITS}
    for key, split, record in cpg_records(fastas[0], covs, config, split_of_chrom, truths):
      records[split].append((key, record))
    return {split: self._generate_examples(rows) for split, rows in records.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
