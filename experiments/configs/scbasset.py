r"""scBasset (Yuan & Kelley, Nat. Methods 2022): peak sequence -> accessibility in every cell.

  python -m experiments.train --config=scbasset --workdir=/tmp/scbasset
  python -m experiments.train --config=scbasset:tiny --workdir=/tmp/scbasset_tiny
  python -m experiments.scbasset_outputs --config=scbasset:tiny --workdir=/tmp/scbasset_tiny \
      --output=/tmp/scbasset_tiny/cells.h5ad --motifs=GATA1,HNF4A,SPI1,CTCF
  python -m data_builders.build --dataset=scatac_peaks/h5ad --manual_dir=DIR
  python -m experiments.train --config=scbasset:h5ad --workdir=/tmp/scbasset_h5ad \
      --config.model.num_cells=<cells in the .h5ad>

The paper's model (`genereg_jax.models.scbasset`: Basenji trunk, 32-d bottleneck, one
output per cell) trained with the paper's optimiser (Adam, learning rate 0.01, beta_1
0.95, beta_2 0.9995; batches of 128 peaks; reverse complement and +-3 bp shifts) on
every (peak, cell) pair (task ``cell_accessibility``). ``:synthetic`` (the default)
reads ``scatac_peaks/synthetic`` (6 cell types driven by JASPAR motifs, 1,200 cells,
6,000 peaks of 1,344 bp; built on first use), ``:tiny`` ``scatac_peaks/tiny`` (3
types, 90 cells, 2,000 peaks of 344 bp) with the ``tiny`` preset, ``:h5ad`` a real
``.h5ad`` + FASTA built with ``scatac_peaks/h5ad``. The embeddings (the cell layer's
kernel) are scored by ``experiments.scbasset_outputs``: Leiden clusters of their
neighbour graph against the known cell types (ARI/NMI).
Measured on the 2-core CPU machine, shared (load ~30): ``:tiny``, 600 steps of 32 peaks
(~2.5 min), test pooled AUROC 0.796 and mean per-peak AUROC 0.778 (chance 0.5; 0.56
with the first 800-peak draft of the data); ``scbasset_outputs`` on it: Leiden clusters
of ``X_scbasset`` against the 3 planted types ARI 1.000, NMI 1.000; TF activity (JASPAR
consensus inserted into 100 shuffled peaks, z-scored over cells) peaks in each motif's
own type: GATA1 +1.35 in GATA1 cells (-0.58, -0.77 in the others), HNF4A +1.13 (-1.17,
+0.04), SPI1 +1.40 (-0.63, -0.77). CTCF, open in every type, still gets a pattern (+1.36
in SPI1 cells): a z-score across cells spreads whatever differences there are.
The paper model (4.5 M + 33 per cell) is too slow for the CPU at this size; the train-
step benchmark is in README "Single-cell".
Variants: ``synthetic`` (default), ``tiny``, ``h5ad``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "synthetic", "tiny", "h5ad")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("scbasset", variant, VARIANTS)
  config = _base.base_config(
      dataset="scatac_peaks/synthetic", model_name="scbasset", model_preset="paper",
      model=model_config("scbasset", "paper", num_cells=1200),
      task_name="cell_accessibility", task=dict(), batch_size=128, eval_batch_size=128,
      reverse_complement=True, max_shift=3,
      # scbasset_train.py: Adam(learning_rate=0.01, beta_1=0.95, beta_2=0.9995).
      optimizer=dict(learning_rate=0.01, b1=0.95, b2=0.9995, warmup_steps=100),
      num_train_steps=4000, log_every_steps=50, eval_every_steps=500,
      checkpoint_every_steps=500, best_metric="valid/auroc")
  if variant == "tiny":
    config.dataset.name = "scatac_peaks/tiny"
    config.model_preset = "tiny"
    config.model = model_config("scbasset", "tiny")
    config.batch_size = 32
    config.optimizer.update(warmup_steps=20)  # The paper's learning rate, 0.01.
    config.num_train_steps = 600
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=200)
  elif variant == "h5ad":
    _base.use_manual_dataset(config, "scatac_peaks/h5ad", num_train_steps=50_000,
                             every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-3, 1e-2, 3e-2)
