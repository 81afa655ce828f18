r"""Pseudobulk peaks: single cells aggregated by a label into per-cluster peak labels.

  python -m data_builders.build --dataset=pseudobulk/h5ad --manual_dir=DIR
  python -m experiments.train --config=basset_pseudobulk:h5ad --workdir=/tmp/pb \
      --config.model.num_outputs=<number of groups>

The bulk route to scATAC (Basset/DeepSEA trained on cluster-level accessibility, as
in Cusanovich et al., Cell 2018, and the pseudobulk baselines of scBasset): the cells
of an AnnData ``.h5ad`` (cells x peaks) are grouped by an ``obs`` label column (the
first of ``cell_type``, ``celltype``, ``label``, ``labels``, ``cluster``, ``leiden``);
a peak is open in a group when the fraction of the group's cells with a fragment in it
is at least 1.5 times the group's mean over peaks (and 5%;
`genereg_jax.data.singlecell.pseudobulk`). ``DIR`` holds the ``.h5ad`` and one genome
FASTA, read as ``scatac_peaks`` reads them. Records: ``sequence`` (Basset's 600 bp
centred on the peak), ``label`` (``[groups]`` 0/1), ``fraction`` (``[groups]``, the
fraction of the group's cells open there); label names (the groups) in the metadata.
Peaks are split 90/5/5 as ``scatac_peaks``.

``synthetic`` aggregates ``scatac_peaks/synthetic``'s simulated cells by their true
type (6 groups), ``tiny`` ``scatac_peaks/tiny``'s (3 groups, 300 bp windows).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import singlecell
from data_builders.scatac_peaks import scatac_peaks

#: A peak is open in a group at this enrichment over the group's mean accessibility.
FOLD = 1.5


@dataclasses.dataclass(eq=False)
class PseudobulkConfig(tfds.core.BuilderConfig):
  """``source``: ``"synthetic"`` (a ``scatac_peaks`` config's simulation) or ``"h5ad"``."""
  source: str = "synthetic"
  simulation: str = "synthetic"
  window: int = 600


class Pseudobulk(tfds.core.GeneratorBasedBuilder):
  """Basset-style multi-label peaks from single cells grouped by a label."""

  name = "pseudobulk"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      PseudobulkConfig(name="synthetic", description="scatac_peaks/synthetic by cell type."),
      PseudobulkConfig(name="tiny", simulation="tiny", window=300,
                       description="scatac_peaks/tiny by cell type, 300 bp."),
      PseudobulkConfig(name="h5ad", source="h5ad", description="manual_dir .h5ad + FASTA."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    window = self.builder_config.window
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(window, 4), dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(None,), dtype=np.uint8),
            "fraction": tfds.features.Tensor(shape=(None,), dtype=np.float32)}),
        disable_shuffling=True, metadata=tfds.core.MetadataDict())

  def _split_generators(self, dl_manager):
    config = self.builder_config
    if config.source == "synthetic":
      simulation = next(c for c in scatac_peaks.ScatacPeaks.BUILDER_CONFIGS
                        if c.name == config.simulation)
      adata, contigs = scatac_peaks.synthetic_anndata(simulation)
      fetch, path = scatac_peaks.dict_fetcher(contigs), "<synthetic>"
    else:
      path, fasta = scatac_peaks.find_inputs(os.fspath(dl_manager.manual_dir))
      adata, fetch = singlecell.read_h5ad(path), scatac_peaks.genome_fetcher(fasta)
    groups, names = singlecell.cell_labels(adata)
    if not names:
      raise ValueError(f"{path}: obs has none of the label columns "
                       f"{singlecell.LABEL_COLUMNS} to group cells by")
    labels, fractions = singlecell.pseudobulk(singlecell.binary_accessibility(adata), groups,
                                              len(names), FOLD)
    self.info.metadata.update(dict(label_names=list(names), window=config.window,
                                   fold=FOLD, num_cells=int(adata.n_obs)))
    split = scatac_peaks.peak_split(adata.n_vars)
    rows: dict[str, list] = {s: [] for s in scatac_peaks.SPLITS}
    for index, (chrom, start, end) in enumerate(singlecell.peak_intervals(adata, path)):
      window_start, window_end = singlecell.centred_window(start, end, config.window)
      rows[scatac_peaks.SPLITS[split[index]]].append((index, {
          "sequence": encoding.one_hot_dna(fetch(chrom, window_start, window_end)),
          "label": labels[index], "fraction": fractions[index]}))
    return {s: self._generate_examples(r) for s, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
