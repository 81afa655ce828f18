r"""BPNet (Avsec et al., Nat Genet 2021) on the embedded synthetic ChIP-nexus profiles.

  python -m experiments.train --config=bpnet --workdir=/tmp/bpnet
  python -m experiments.train --config=bpnet:tiny --workdir=/tmp/bpnet_tiny

Four tasks (Oct4, Sox2, Nanog, Klf4) x two strands from ``synthetic_profiles``
(JASPAR motifs planted under a known binding grammar, footprint-shaped
stranded reads, a control track; built on first use). The model is bpnet-lite's
architecture (64 filters, 8 dilated layers, profile kernel 75) with the
paper's heads: one count per strand, control tracks as input. The loss is
BPNet's (``genereg_jax.tasks.profile``) with lambda = 10 as in the official
BPNet code. Variants:

  synthetic (default)  1,000 bp in / 500 bp out, 8,000 training windows;
                       2,500 steps of 64 take ~40 min on the 2-core CPU
                       reference machine (70 examples/s). After 400 steps:
                       test profile JSD 0.59, count Pearson 0.51.
  tiny                 400 bp in / 200 bp out, 16 filters x 5 layers; 1,500
                       steps in ~2 min on that CPU: test profile JSD 0.59,
                       NLL 514, count Pearson 0.69 / Spearman 0.73.

Reference points on these sets (test/valid split): predicting uniform
profiles and the mean count gives JSD 0.74 (tiny) / 0.76 (default); the
generating rates themselves give JSD 0.56 / 0.58 and count Pearson 0.95 /
0.97 (Poisson noise is the rest).

For the mESC ChIP-nexus data of the paper see ``bpnet_mesc``.
"""

import ml_collections

from experiments.configs import _base

from data_builders.synthetic_profiles import synthetic_profiles

VARIANTS = ("synthetic", "tiny")


# BPNet's optimizer (bpnet9.gin, the official BPNet code): Keras Adam at 4e-3, constant,
# no clipping. The MNLL's gradient grows with read depth; Adam absorbs it.
BPNET_OPTIMIZER = dict(learning_rate=4e-3, schedule="constant", warmup_steps=0,
                       end_learning_rate_factor=1.0, clip_norm=0.0)


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "synthetic"
  _base.check_variant("bpnet", variant, VARIANTS)
  n_tracks = len(synthetic_profiles.TRACK_NAMES)
  # bpnet-lite's trunk; one count per track as in the paper; the output window is the
  # middle 500 bp (trim 250 on each side). Reverse complement swaps strands through the
  # task's strand_pair; shifting the sequence alone would misalign it from the profile,
  # so max_shift = 0. The task is a multinomial NLL per strand + lambda x log-count MSE;
  # BPNet early-stops on validation loss (here: the best checkpoint by valid/loss).
  config = _base.base_config(
      dataset="synthetic_profiles/default", model_inputs=("sequence", "control"),
      batch_size=64, eval_batch_size=128, reverse_complement=True,  # bpnet-lite's batch.
      model_name="bpnet.BPNet", model_preset="bpnet_lite",
      model=dict(n_outputs=n_tracks, n_count_outputs=n_tracks,
                 n_control_tracks=len(synthetic_profiles.CONTROL_NAMES), trimming=250),
      task_name="profile", task=profile_task(synthetic_profiles.TRACK_NAMES,
                                             synthetic_profiles.STRAND_PAIR,
                                             synthetic_profiles.CONTROL_STRAND_PAIR),
      optimizer=BPNET_OPTIMIZER, num_train_steps=2500, best_metric="valid/loss",
      best_mode="min")

  if variant == "tiny":
    config.dataset.name = "synthetic_profiles/tiny"
    config.model_preset = "tiny"
    config.model.update(n_filters=16, n_layers=5, trimming=100)
    config.num_train_steps = 1500
  return config


def profile_task(track_names, strand_pair=None, control_strand_pair=None) -> dict:
  """The ``profile`` task's fields: lambda = 10 (bpnet9.gin), (+, -) strand pairs."""
  return dict(count_weight=10.0, tracks_per_task=2,
              strand_pair=ml_collections.FieldReference(strand_pair, tuple),
              control_strand_pair=ml_collections.FieldReference(control_strand_pair, tuple),
              track_names=tuple(track_names),
              jsd_smoothing=ml_collections.FieldReference(None, tuple))


def get_sweep(arg: str | None = None) -> list[dict]:
  """Count-loss weight around BPNet's lambda = 10 (three trials)."""
  del arg
  return [{"task.count_weight": w} for w in (3.0, 10.0, 30.0)]
