r"""Basset (Kelley et al. 2016) on the embedded synthetic JASPAR-motif data, 600 bp.

  python -m experiments.train --config=basset --workdir=/tmp/basset
  python -m experiments.train --config=basset:tiny --workdir=/tmp/basset_tiny

The model is the paper's (convs 300×19, 200×11, 200×7 with batch norm, max-pool 3/4/4,
two dense layers of 1,000 with batch norm and dropout 0.3; 4.1 M parameters at 164
outputs) with one output per synthetic label, on ``synthetic_motifs/len600`` (Basset's
600 bp window; built on first use). ``:tiny`` (32 kernels per convolution, dense 64,
200 bp, 600 steps) takes about a minute on the 2-core CPU reference machine and reached
a test mean AUROC of 0.69 on synthetic_motifs 1.2.0 (``deepsea:tiny``: 0.76 in the same
budget, with its first-layer bias at -1).
Variants: ``tiny``; ``bed`` (one DHS peak BED per cell type via data_builders.intervals). ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("basset", variant, ("default", "tiny", "bed"))
  # The paper's architecture with one output per synthetic label, at Basset's 600 bp.
  # The paper trained with RMSprop in Torch (batch 128); Adam converges in one pass over
  # the synthetic set on a CPU, which is what this embedded default is for.
  config = _base.base_config(
      dataset="synthetic_motifs/len600", model_name="basset", model_preset="paper",
      model=dict(num_outputs=len(synthetic_motifs.LABEL_NAMES)),
      task_name="multilabel_binary", task=dict(label_names=synthetic_motifs.LABEL_NAMES))

  if variant == "bed":
    # Multi-cell-type DHS from one peak BED per cell type (Basset used 164), built with
    #   python -m data_builders.intervals.make --name=basset_dhs --fasta=hg19.fa \
    #     --bed=<cell1>.bed ... --bed=<cell164>.bed --window=600 --valid=chr7 --test=chr8,chr9
    # Set --config.model.num_outputs to the number of BED files if it is not 164.
    config.dataset.name = "intervals/basset_dhs"
    config.dataset.build_if_missing = False
    config.model.num_outputs = 164
    config.task.label_names = ()
    config.num_train_steps = 100_000
    config.eval_every_steps = 5_000
    config.checkpoint_every_steps = 1_000
  if variant == "tiny":
    _base.use_tiny_synthetic_motifs(config, learning_rate=3e-3)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
