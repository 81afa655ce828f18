r"""Pangolin (Zeng & Li, Genome Biology 2022): per-tissue splice-site probability and usage.

  python -m data_builders.build --dataset=spliceai_gencode/gencode_usage --manual_dir=/data/raw
  python -m experiments.train --config=pangolin --workdir=W \
      --config.dataset.manual_dir=/data/raw
  python -m experiments.train --config=pangolin:synthetic --workdir=W    # GPU
  python -m experiments.train --config=pangolin:tiny --workdir=/tmp/p    # ~2 min on CPU

The default trains the paper's network (SpliceAI-10k's trunk: 32 channels, 4 x 4
residual units, kernels 11/11/21/41, dilations 1/4/10/25; a 2-class P(splice) head and a
sigmoid usage head for each of heart, liver, brain and testis) on 5,000-nt blocks with
5,000 nt of context on each side of GENCODE principal transcripts, with per-tissue usage
from ``usage.tsv`` in ``manual_dir`` (``spliceai_gencode/gencode_usage``; BUILD.md says
how to make it from RNA-seq), test chromosomes 1, 3, 5, 7, 9. The recipe is the released
training code's multi-output stage (``tkzeng/Pangolin_train``, ``train/train_multiple.py``):
AdamW at 5e-4 (PyTorch defaults: weight decay 0.01, betas 0.9/0.999, eps 1e-8), batch
12, ``CosineAnnealingWarmRestarts(T_0=2 epochs, T_mult=2)`` stepped every batch, 14
epochs (cycles of 2, 4 and 8), loss summed over tissues of cross-entropy on P(splice)
plus binary cross-entropy on usage (the ``splice_usage`` task). Deviations: one species
(the paper pooled human, rhesus, mouse and rat RNA-seq), principal-transcript bounds
rather than gene bounds, a gene-hash validation split rather than a random 10% of
blocks, and the released models' second stage (from the epoch-6 checkpoint, 4 epochs
fine-tuned on each single output, 5 seeds each, averaged) is not run.

Variants:
  synthetic  the same model and recipe on ``synthetic_splicing/usage`` (designed genes;
             SYNTHETIC per-tissue usage derived from each site's strength; built on
             first use); a GPU run.
  tiny       Pangolin ``tiny`` (16 channels, 80 nt of context) on
             ``synthetic_splicing/tiny_usage``: 400 steps of batch 64 in about two
             minutes on 2 shared CPU cores (65 s of CPU time); measured test top-k
             accuracy 0.91, PR-AUC 0.95, usage Spearman 0.62 (means over tissues).
"""

import ml_collections

from experiments.configs import _base, model_config

# Train blocks of the GENCODE principal transcripts off chromosomes 1/3/5/7/9 less the
# 10% held out (as spliceai_10k); 1,825 for synthetic_splicing/usage.
_GENCODE_TRAIN_BLOCKS = 143_800
_SYNTHETIC_TRAIN_BLOCKS = 1_825
# Pangolin_train train/train_multiple.py: 14 epochs, warm restarts after 2 then 4 epochs.
_EPOCHS, _FIRST_CYCLE_EPOCHS = 14, 2


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("pangolin", variant, ("default", "synthetic", "tiny"))
  # Data: SpliceAI blocks plus usage [block, tissue] (0 at non-sites, -1 unknown);
  # minus-strand genes are already reverse-complemented, as in spliceai_10k. The model
  # returns logits (the released softmax/sigmoid are in the task). One tissue list for
  # the heads and the task, which checks it against the dataset's. Optimizer:
  # torch.optim.AdamW(lr=5e-4) with its defaults and per-batch SGDR; batch 12
  # (Pangolin_train: BATCH_SIZE = 12).
  tissues = ml_collections.FieldReference(("heart", "liver", "brain", "testis"))
  steps_per_epoch = _GENCODE_TRAIN_BLOCKS // 12
  config = _base.base_config(
      dataset="spliceai_gencode/gencode_usage", build_if_missing=False, batch_size=12,
      eval_batch_size=24, model_name="pangolin", model_preset="paper",
      model=model_config("pangolin", "paper", output="logits"),
      task_name="splice_usage", task=dict(tissues=tissues),
      optimizer=dict(name="adamw", learning_rate=5e-4, weight_decay=0.01,
                     schedule="cosine_restarts",
                     restart_steps=_FIRST_CYCLE_EPOCHS * steps_per_epoch,
                     restart_multiplier=2.0, warmup_steps=0, end_learning_rate_factor=0.0,
                     clip_norm=0.0),
      num_train_steps=_EPOCHS * steps_per_epoch, log_every_steps=200,
      eval_every_steps=steps_per_epoch, checkpoint_every_steps=2000,
      best_metric="valid/loss", best_mode="min")
  config.model.tissues = tissues
  config.max_eval_batches = 100  # A capped valid pass each epoch.

  if variant == "synthetic":
    config.dataset.name = "synthetic_splicing/usage"
    config.dataset.build_if_missing = True
    steps_per_epoch = _SYNTHETIC_TRAIN_BLOCKS // config.batch_size
    config.optimizer.restart_steps = _FIRST_CYCLE_EPOCHS * steps_per_epoch
    config.num_train_steps = _EPOCHS * steps_per_epoch
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=2 * steps_per_epoch)
  elif variant == "tiny":
    config.dataset.name = "synthetic_splicing/tiny_usage"
    config.dataset.build_if_missing = True
    config.model_preset = "tiny"
    config.model = model_config("pangolin", "tiny", output="logits")
    config.model.tissues = tissues
    # A rate fit for 400 steps; restarts after 100 steps, then one 300-step cycle.
    config.optimizer.update(dict(learning_rate=3e-3, restart_steps=100, restart_multiplier=3.0))
    _base.use_tiny_batches(config, num_train_steps=400)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning rates around the released code's 5e-4 (three trials)."""
  del arg
  return [{"optimizer.learning_rate": lr} for lr in (2e-4, 5e-4, 1e-3)]
