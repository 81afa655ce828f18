r"""Basset (Kelley et al. 2016) on pseudobulk scATAC: one output per cell group.

  python -m experiments.train --config=basset_pseudobulk --workdir=/tmp/basset_pb
  python -m experiments.train --config=basset_pseudobulk:tiny --workdir=/tmp/basset_pb_tiny
  python -m data_builders.build --dataset=pseudobulk/h5ad --manual_dir=DIR
  python -m experiments.train --config=basset_pseudobulk:h5ad --workdir=/tmp/basset_pb_h5ad \
      --config.model.num_outputs=<number of groups>

The ``basset`` config (the paper's model, Adam, multi-label BCE with AUROC/AUPRC per
label) on the ``pseudobulk`` builder: the cells of an scATAC AnnData grouped by a label
column, a peak open in a group when enriched 1.5-fold over the group's mean (Basset's
600 bp centred on each peak). ``:default`` aggregates ``scatac_peaks/synthetic``'s 6
simulated cell types, ``:tiny`` ``scatac_peaks/tiny``'s 3 (300 bp, Basset's tiny preset),
``:h5ad`` a real ``.h5ad`` + FASTA.
Measured on the 2-core CPU machine, shared (load ~30): ``:tiny`` (Basset's tiny preset,
600 steps of 64, ~3 min) reached test mean AUROC 0.667 over the 3 groups (valid 0.616;
the valid loss rises after step 200: 720 training peaks are few for Basset, where
scBasset's single-cell labels on the same peaks reached 0.796).
Variants: ``tiny``, ``h5ad``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import basset

VARIANTS = ("default", "tiny", "h5ad")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("basset_pseudobulk", variant, VARIANTS)
  config = basset.get_config("tiny" if variant == "tiny" else None)
  config.dataset.name = {"default": "pseudobulk/synthetic", "tiny": "pseudobulk/tiny",
                         "h5ad": "pseudobulk/h5ad"}[variant]
  config.model.num_outputs = 3 if variant == "tiny" else 6
  config.task.label_names = ()  # The groups, from the dataset's metadata.
  if variant == "h5ad":
    _base.use_manual_dataset(config, "pseudobulk/h5ad", num_train_steps=20_000,
                             every_steps=2000)
  return config


get_sweep = basset.get_sweep
