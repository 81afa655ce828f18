r"""Multi-omics tables for the fusion models: samples x features per block + a label.

Configs:

* ``manual`` reads ``manual_dir`` (`genereg_jax.data.omics_tables.read_blocks`): a MuData
  ``.h5mu`` (modalities ``expression``, ``methylation``, ``cnv``; label ``obs["label"]``),
  or ``<block>.h5ad`` files, or ``<block>.tsv`` + ``labels.tsv``. Labels 0/1 (NaN:
  missing, -1 in the records). Samples split 80/10/10 by a hash of their id.
* ``xor`` / ``tiny_xor``: a SYNTHETIC cohort written as a ``.h5mu`` (under the build's
  download directory) and read back the same way. Each sample has two hidden factors
  ``u, v ~ N(0, 1)``: ``u`` drives a program of ``program_size`` expression genes, ``v``
  one of as many methylation CpGs (each feature = loading x factor + unit noise); CNV
  segments are copy numbers with no signal. The label is ``(u > 0) XOR (v > 0)``, so no
  block predicts it alone (each block's AUROC is 0.5 in expectation) and only a model
  that combines expression *and* methylation can.

Each block is imputed (training means) and standardised with training statistics
(`omics_tables.impute_and_scale`). Records: one ``float32[features]`` per block,
``label int32[1]``, ``sample``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import omics_tables

SPLITS = ("train", "valid", "test")
BLOCKS = ("expression", "methylation", "cnv")


def split_of_sample(sample: str) -> str:
  """80/10/10 by a stable hash of the sample id."""
  bucket = int(hashlib.sha1(sample.encode()).hexdigest(), 16) % 10
  return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


@dataclasses.dataclass(eq=False)
class OmicsTablesConfig(tfds.core.BuilderConfig):
  """Inputs and sizes of an ``omics_tables`` build.

  Attributes:
    synthetic: generate the XOR cohort (True) or read ``manual_dir``.
    block_names: the blocks (modality / file names).
    label_column: the label's column.
    num_features: features per block (synthetic; None: any, as the files have them).
    program_size, loading: the synthetic programs.
    num_train, num_valid, num_test: synthetic samples per split.
    seed: synthetic RNG seed.
  """
  synthetic: bool = False
  block_names: tuple[str, ...] = BLOCKS
  label_column: str = "label"
  num_features: tuple[int, ...] | None = None
  program_size: int = 10
  loading: float = 1.0
  num_train: int = 2000
  num_valid: int = 500
  num_test: int = 500
  seed: int = 0


def write_xor_cohort(path: str, config: OmicsTablesConfig) -> None:
  """The synthetic ``.h5mu`` (module docstring)."""
  import anndata
  import mudata
  import pandas as pd
  rng = np.random.default_rng(config.seed)
  n = config.num_train + config.num_valid + config.num_test
  u, v = rng.normal(size=n), rng.normal(size=n)
  samples = [f"S{i:05d}" for i in range(n)]
  modalities = {}
  for name, size, factor in zip(config.block_names, config.num_features, (u, v, None)):
    x = rng.normal(size=(n, size)).astype(np.float32)
    if factor is not None:
      x[:, :config.program_size] += config.loading * factor[:, None]
    else:  # CNV: integer copy numbers around 2, no signal.
      x = np.clip(np.round(2 + 0.7 * x), 0, 6).astype(np.float32)
    modalities[name] = anndata.AnnData(
        x, obs=pd.DataFrame(index=samples),
        var=pd.DataFrame(index=[f"{name}_{j}" for j in range(size)]))
  mdata = mudata.MuData(modalities)
  mdata.obs[config.label_column] = ((u > 0) ^ (v > 0)).astype(np.float32)
  mdata.obs["split"] = np.repeat(SPLITS, (config.num_train, config.num_valid, config.num_test))
  mdata.write(path)


class OmicsTables(tfds.core.GeneratorBasedBuilder):
  """Aligned omics blocks per sample with a label (multi-omics fusion)."""

  name = "omics_tables"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      OmicsTablesConfig(name="xor", synthetic=True, num_features=(200, 100, 50),
                        description="Synthetic XOR of an expression and a methylation factor."),
      OmicsTablesConfig(name="tiny_xor", synthetic=True, num_features=(40, 30, 10),
                        program_size=6, num_train=800, num_valid=200, num_test=200,
                        description="xor, small, for tests."),
      OmicsTablesConfig(name="manual", description="A .h5mu / .h5ad / TSV cohort in manual_dir."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "xor"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    sizes = config.num_features or (None,) * len(config.block_names)
    features = {name: tfds.features.Tensor(shape=(size,), dtype=np.float32)
                for name, size in zip(config.block_names, sizes)}
    features.update(label=tfds.features.Tensor(shape=(1,), dtype=np.int32),
                    sample=tfds.features.Text())
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict(features),
        metadata=tfds.core.MetadataDict(block_names=list(config.block_names),
                                        label_names=[config.label_column],
                                        synthetic=config.synthetic))

  def _split_generators(self, dl_manager):
    config = self.builder_config
    if config.synthetic:
      directory = os.path.join(os.fspath(dl_manager.download_dir),
                               f"omics_tables_{config.name}_{config.seed}")
      os.makedirs(directory, exist_ok=True)
      path = os.path.join(directory, "cohort.h5mu")
      write_xor_cohort(path, config)
      split = np.repeat(SPLITS, (config.num_train, config.num_valid, config.num_test))
    else:
      path = os.fspath(dl_manager.manual_dir)
    data = omics_tables.read_blocks(path, tuple(config.block_names), config.label_column)
    if not config.synthetic:
      split = np.asarray([split_of_sample(s) for s in data.samples])
    scaled = omics_tables.impute_and_scale(data.blocks, split == "train")
    labels = np.where(np.isnan(data.labels), -1, data.labels).astype(np.int32)
    rows = {s: [] for s in SPLITS}
    for i, sample in enumerate(data.samples):
      record = {name: scaled[name][i] for name in config.block_names}
      record.update(label=labels[i, :1], sample=sample)
      rows[split[i]].append((sample, record))
    return {s: self._generate_examples(r) for s, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
