r"""scATAC-seq peaks x cells from an AnnData ``.h5ad`` + genome FASTA (scBasset, SCALE).

  python -m data_builders.build --dataset=scatac_peaks/h5ad --manual_dir=DIR
  python -m data_builders.build --dataset=scatac_peaks/h5ad_cells --manual_dir=DIR

``DIR`` holds one ``.h5ad`` (cells x peaks; counts or 0/1, dense or sparse ``X``) and,
for ``h5ad``, one genome FASTA (``.fa``/``.fasta``[``.gz``]) whose chromosome names
match the peaks' (with or without ``chr``). Peak coordinates come from ``var`` columns
``chr``/``chrom``/``seqnames`` + ``start`` + ``end`` or from var names ``chr1:100-600``
(`genereg_jax.data.singlecell.peak_intervals`); counts are binarised.

Two record layouts, as the two models read the matrix:

* **peak-major** (``synthetic``, ``tiny``, ``h5ad``; scBasset, Yuan & Kelley, Nat.
  Methods 2022, ``scbasset_preprocess.py``): one record per peak, ``sequence`` the
  ``seq_len`` bp (1,344) centred on the peak and ``label`` its 0/1 accessibility in
  every cell (``[num_cells]`` uint8, cells in AnnData order). Peaks are split at
  random 90% / 5% / 5% (fixed seed), as scBasset holds out peaks, not cells.
* **cell-major** (``cells``, ``tiny_cells``, ``h5ad_cells``; SCALE, Xiong et al.,
  Nat. Commun. 2019): one record per cell, ``counts`` its binary peak vector
  (``[num_peaks]`` uint8) and ``label`` the code of its obs label column (the first
  of ``cell_type``, ``celltype``, ``label``, ``labels``, ``cluster``, ``leiden``; -1
  without one; names in the metadata ``label_names``). SCALE is unsupervised and
  embeds every cell, so ``train`` holds all cells; ``valid`` and ``test`` are every
  10th cell (offsets 0 and 5), for monitoring the clustering against the labels.

``synthetic``/``cells`` and ``tiny``/``tiny_cells`` are built from
``synthetic_singlecell.simulate_atac`` (6 cell types, 1,200 cells, 6,000 peaks of 1,344
bp; 3 types, 90 cells, 2,000 peaks of 344 bp), its truth in the metadata
(``cell_labels``, ``label_names``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import singlecell
from data_builders.synthetic_singlecell import synthetic_singlecell

SPLITS = ("train", "valid", "test")
#: Fractions of peaks held out for validation and test (scBasset's split).
HELD_OUT_FRACTION = 0.05
FASTA_SUFFIXES = (".fa", ".fasta", ".fa.gz", ".fasta.gz", ".fna", ".fna.gz")


def find_inputs(manual_dir: str, fasta: bool = True) -> tuple[str, str | None]:
  """``(h5ad, fasta)`` paths in ``manual_dir``: exactly one of each (FASTA if asked)."""
  names = sorted(os.listdir(manual_dir))
  h5ads = [os.path.join(manual_dir, n) for n in names if n.lower().endswith(".h5ad")]
  fastas = [os.path.join(manual_dir, n) for n in names if n.lower().endswith(FASTA_SUFFIXES)]
  if len(h5ads) != 1 or (fasta and len(fastas) != 1):
    raise FileNotFoundError(
        f"{manual_dir} needs one .h5ad" + (" and one genome FASTA" if fasta else "")
        + f"; found {h5ads}" + (f" and {fastas}" if fasta else ""))
  return h5ads[0], (fastas[0] if fasta else None)


def genome_fetcher(path: str) -> Callable[[str, int, int], str]:
  """``fetch(chrom, start, end)`` on a FASTA, matching ``chr`` spellings."""
  genome = genome_lib.Genome(path)

  def fetch(chrom: str, start: int, end: int) -> str:
    name = genome.chromosome(chrom)
    if name is None:
      raise ValueError(f"peak chromosome {chrom!r} is not in {path}")
    return genome.fetch(name, start, end)
  return fetch


def dict_fetcher(contigs: dict[str, str]) -> Callable[[str, int, int], str]:
  """``fetch`` on in-memory contigs (the synthetic genome), N-padded off the ends."""
  def fetch(chrom: str, start: int, end: int) -> str:
    text = contigs[chrom]
    inside = text[max(start, 0):max(min(end, len(text)), 0)]
    return "N" * max(-start, 0) + inside + "N" * max(end - max(start, len(text)), 0)
  return fetch


def peak_split(num_peaks: int, seed: int = 0) -> np.ndarray:
  """``[num_peaks]`` split index (0 train, 1 valid, 2 test), 90/5/5 at random."""
  held = max(1, int(round(HELD_OUT_FRACTION * num_peaks)))
  order = np.random.default_rng([seed, 1344]).permutation(num_peaks)
  split = np.zeros(num_peaks, np.int8)
  split[order[:held]] = 1
  split[order[held:2 * held]] = 2
  return split


def peak_records(adata, fetch: Callable[[str, int, int], str], seq_len: int,
                 path: str = "<anndata>") -> Iterator[tuple[int, str, dict]]:
  """``(peak index, split, record)``: the centred sequence and accessibility per cell."""
  intervals = singlecell.peak_intervals(adata, path)
  by_peak = singlecell.binary_accessibility(adata).T.tocsr()
  split = peak_split(len(intervals))
  for index, (chrom, start, end) in enumerate(intervals):
    window_start, window_end = singlecell.centred_window(start, end, seq_len)
    label = np.zeros(adata.n_obs, np.uint8)
    label[by_peak.indices[by_peak.indptr[index]:by_peak.indptr[index + 1]]] = 1
    yield index, SPLITS[split[index]], {
        "sequence": encoding.one_hot_dna(fetch(chrom, window_start, window_end)),
        "label": label}


def cell_records(adata, labels: np.ndarray) -> Iterator[tuple[int, str, dict]]:
  """``(cell index, split, record)``: every cell in train; every 10th in valid/test."""
  by_cell = singlecell.binary_accessibility(adata)
  for index in range(adata.n_obs):
    counts = np.zeros(adata.n_vars, np.uint8)
    counts[by_cell.indices[by_cell.indptr[index]:by_cell.indptr[index + 1]]] = 1
    record = {"counts": counts, "label": np.int32(labels[index])}
    yield index, "train", record
    if index % 10 in (0, 5):
      yield index, "valid" if index % 10 == 0 else "test", record


@dataclasses.dataclass(eq=False)
class ScatacPeaksConfig(tfds.core.BuilderConfig):
  """Layout and source of a ``scatac_peaks`` build.

  Attributes:
    layout: ``"peaks"`` (scBasset) or ``"cells"`` (SCALE).
    source: ``"synthetic"`` or ``"h5ad"`` (``manual_dir``).
    seq_len: bp per peak window (peak-major).
    num_types, num_cells, num_peaks, seed: the simulation's (synthetic).
  """
  layout: str = "peaks"
  source: str = "synthetic"
  seq_len: int = 1344
  num_types: int = 6
  num_cells: int = 1200
  num_peaks: int = 6000
  seed: int = 0


def synthetic_anndata(config: ScatacPeaksConfig):
  """The simulated ``(adata, contigs)`` a synthetic config is built from (for outputs)."""
  return synthetic_singlecell.simulate_atac(config.num_types, config.num_cells,
                                            config.num_peaks, config.seq_len, config.seed)


_TINY = dict(seq_len=344, num_types=3, num_cells=90, num_peaks=2000)


class ScatacPeaks(tfds.core.GeneratorBasedBuilder):
  """scATAC peaks: peak-major (sequence + per-cell accessibility) or cell-major."""

  name = "scatac_peaks"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      ScatacPeaksConfig(name="synthetic", description="Simulated: 6 types, 1,200 cells, "
                        "6,000 peaks of 1,344 bp; peak-major."),
      ScatacPeaksConfig(name="tiny", description="Simulated: 3 types, 90 cells, 2,000 peaks "
                        "of 344 bp; peak-major.", **_TINY),
      ScatacPeaksConfig(name="cells", layout="cells", description="synthetic, cell-major."),
      ScatacPeaksConfig(name="tiny_cells", layout="cells", description="tiny, cell-major.",
                        **_TINY),
      ScatacPeaksConfig(name="h5ad", source="h5ad",
                        description="manual_dir .h5ad + FASTA; peak-major, 1,344 bp."),
      ScatacPeaksConfig(name="h5ad_cells", source="h5ad", layout="cells",
                        description="manual_dir .h5ad; cell-major."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    if config.layout == "peaks":
      features = {"sequence": tfds.features.Tensor(shape=(config.seq_len, 4), dtype=np.uint8),
                  "label": tfds.features.Tensor(shape=(None,), dtype=np.uint8)}
    else:
      features = {"counts": tfds.features.Tensor(shape=(None,), dtype=np.uint8),
                  "label": tfds.features.Scalar(dtype=np.int32)}
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
        disable_shuffling=True, metadata=tfds.core.MetadataDict())

  def _load(self, dl_manager):
    config = self.builder_config
    if config.source == "synthetic":
      adata, contigs = synthetic_anndata(config)
      return adata, dict_fetcher(contigs), "<synthetic>"
    path, fasta = find_inputs(os.fspath(dl_manager.manual_dir), config.layout == "peaks")
    return (singlecell.read_h5ad(path), genome_fetcher(fasta) if fasta else None, path)

  def _split_generators(self, dl_manager):
    config = self.builder_config
    adata, fetch, path = self._load(dl_manager)
    labels, names = singlecell.cell_labels(adata)
    self.info.metadata.update(dict(
        layout=config.layout, num_cells=int(adata.n_obs), num_peaks=int(adata.n_vars),
        seq_len=config.seq_len, label_names=list(names), cell_labels=labels.tolist(),
        synthetic=config.source == "synthetic"))
    source = (peak_records(adata, fetch, config.seq_len, path) if config.layout == "peaks"
              else cell_records(adata, labels))
    rows: dict[str, list] = {split: [] for split in SPLITS}
    for key, split, record in source:
      rows[split].append((key, record))
    return {split: self._generate_examples(r) for split, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
