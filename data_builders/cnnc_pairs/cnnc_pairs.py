r"""Gene pairs as CNNC's 2D expression histograms (Yuan & Bar-Joseph, PNAS 2019).

  python -m data_builders.build --dataset=cnnc_pairs/h5ad --manual_dir=DIR

``DIR`` holds one expression AnnData ``.h5ad`` (cells x genes, counts or normalised
values; gene names in ``var_names``) and one gene-pair table (``.txt``/``.tsv``, CNNC's
``data/*_gene_pairs_*.txt`` format: ``gene_a gene_b label`` per line, label 0 no
interaction, 1 a regulates b, 2 b regulates a). Each pair becomes CNNC's input
(`genereg_jax.data.singlecell.expression_histogram`): the 32 x 32 histogram of
``log10(x + 0.01)`` of the two genes across cells, normalised as
``(log10(H / n + 1e-4) + 4) / 4``. Records: ``histogram [32, 32]`` float32, ``label``,
``gene_a``, ``gene_b``; pairs split 80/10/10 at random (fixed seed); class names in
the metadata. (CNNC cross-validates by TF so no TF is in two folds; with one random
split, a gene may appear in pairs of several splits.)

``synthetic`` (400 modules of a regulator and two Hill-activated targets, 1,000 cells;
1,200 pairs) and ``tiny`` (60 modules, 300 cells; 180 pairs) come from
``synthetic_singlecell.simulate_expression``.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds
from scipy import sparse

from genereg_jax.data import singlecell
from data_builders.synthetic_singlecell import synthetic_singlecell

SPLITS = ("train", "valid", "test")
CLASS_NAMES = ("none", "a_regulates_b", "b_regulates_a")
BINS = 32


def find_inputs(manual_dir: str) -> tuple[str, str]:
  """``(h5ad, pair table)`` in ``manual_dir``: exactly one of each."""
  names = sorted(os.listdir(manual_dir))
  h5ads = [os.path.join(manual_dir, n) for n in names if n.lower().endswith(".h5ad")]
  tables = [os.path.join(manual_dir, n) for n in names
            if n.lower().endswith((".txt", ".tsv"))]
  if len(h5ads) != 1 or len(tables) != 1:
    raise FileNotFoundError(f"{manual_dir} needs one .h5ad and one gene-pair .txt/.tsv; "
                            f"found {h5ads} and {tables}")
  return h5ads[0], tables[0]


def pair_records(adata, pairs: list[tuple[int, int, int]], seed: int = 0):
  """``(index, split, record)`` of every ``(gene_a, gene_b, label)`` index triple."""
  matrix = adata.X
  columns = (sparse.csc_matrix(matrix) if sparse.issparse(matrix)
             else np.asarray(matrix))

  def column(j: int) -> np.ndarray:
    values = columns[:, j]
    return np.asarray(values.todense()).ravel() if sparse.issparse(values) else values

  order = np.random.default_rng([seed, 32]).permutation(len(pairs))
  split = np.zeros(len(pairs), np.int8)
  held = max(1, len(pairs) // 10)
  split[order[:held]], split[order[held:2 * held]] = 1, 2
  names = adata.var_names
  for index, (a, b, label) in enumerate(pairs):
    yield index, SPLITS[split[index]], {
        "histogram": singlecell.expression_histogram(column(a), column(b), BINS),
        "label": np.int32(label), "gene_a": str(names[a]), "gene_b": str(names[b])}


@dataclasses.dataclass(eq=False)
class CnncPairsConfig(tfds.core.BuilderConfig):
  """``source``: ``"synthetic"`` or ``"h5ad"``; the simulation's size (synthetic)."""
  source: str = "synthetic"
  num_modules: int = 400
  num_cells: int = 1000
  seed: int = 0


class CnncPairs(tfds.core.GeneratorBasedBuilder):
  """Gene-pair expression histograms labelled by interaction and direction."""

  name = "cnnc_pairs"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      CnncPairsConfig(name="synthetic", description="400 simulated modules, 1,000 cells."),
      CnncPairsConfig(name="tiny", num_modules=60, num_cells=300,
                      description="60 simulated modules, 300 cells."),
      CnncPairsConfig(name="h5ad", source="h5ad",
                      description="manual_dir expression .h5ad + gene-pair table."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "histogram": tfds.features.Tensor(shape=(BINS, BINS), dtype=np.float32),
            "label": tfds.features.Scalar(dtype=np.int32),
            "gene_a": tfds.features.Text(), "gene_b": tfds.features.Text()}),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(class_names=list(CLASS_NAMES), bins=BINS))

  def _split_generators(self, dl_manager):
    config = self.builder_config
    if config.source == "synthetic":
      adata, named = synthetic_singlecell.simulate_expression(
          config.num_modules, config.num_cells, config.seed)
      lookup = {g: i for i, g in enumerate(adata.var_names)}
      pairs = [(lookup[a], lookup[b], label) for a, b, label in named]
    else:
      path, table = find_inputs(os.fspath(dl_manager.manual_dir))
      adata = singlecell.read_h5ad(path)
      pairs = singlecell.gene_pairs(table, list(adata.var_names))
    rows: dict[str, list] = {s: [] for s in SPLITS}
    for key, split, record in pair_records(adata, pairs, config.seed):
      rows[split].append((key, record))
    return {s: self._generate_examples(r) for s, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
