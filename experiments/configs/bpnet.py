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

from data_builders.synthetic_profiles import synthetic_profiles

VARIANTS = ("synthetic", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "synthetic"
  if variant not in VARIANTS:
    raise ValueError(f"bpnet config: unknown variant {variant!r}; valid: "
                     f"{', '.join(VARIANTS)}")
  n_tracks = len(synthetic_profiles.TRACK_NAMES)
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: the embedded synthetic profiles, built on first use (~40 s).
  config.dataset = ml_collections.ConfigDict(dict(
      name="synthetic_profiles/default",
      data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str),
      build_if_missing=True))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence", "control")
  config.batch_size = 64  # bpnet-lite's batch size.
  config.eval_batch_size = 128
  # Reverse complement swaps strands through the task's strand_pair. Shifting
  # the sequence alone would misalign it from the profile, so max_shift = 0.
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=True,
                                                  max_shift=0))
  config.data_workers = 0

  # Model: bpnet-lite's trunk; one count per track as in the paper; the
  # output window is the middle 500 bp (trim 250 on each side).
  config.model_name = "bpnet.BPNet"
  config.model_preset = "bpnet_lite"
  config.model = ml_collections.ConfigDict(dict(
      n_outputs=n_tracks, n_count_outputs=n_tracks,
      n_control_tracks=len(synthetic_profiles.CONTROL_NAMES), trimming=250))
  config.compute_dtype = "float32"

  # Task: multinomial NLL per strand + lambda x log-count MSE.
  config.task_name = "profile"
  config.task = ml_collections.ConfigDict(dict(
      count_weight=10.0,  # bpnet9.gin, the official BPNet code: lambda = 10.
      tracks_per_task=2,
      strand_pair=synthetic_profiles.STRAND_PAIR,
      control_strand_pair=synthetic_profiles.CONTROL_STRAND_PAIR,
      track_names=synthetic_profiles.TRACK_NAMES,
      jsd_smoothing=ml_collections.FieldReference(None, tuple)))

  # Optimizer: BPNet's (bpnet9.gin: Keras Adam, lr 4e-3, constant, no
  # clipping). The MNLL's gradient grows with read depth; Adam absorbs it.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=4e-3, schedule="constant", warmup_steps=0,
      end_learning_rate_factor=1.0, clip_norm=0.0, weight_decay=0.0,
      momentum=0.9, nesterov=False, b1=0.9, b2=0.999, eps=1e-8,
      grad_accum_steps=1))
  config.num_train_steps = 2500

  # Mesh and parameter placement: data parallel.
  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"),)

  # Logging, evaluation, checkpoints; BPNet early-stops on validation loss.
  config.log_every_steps = 50
  config.eval_every_steps = 500
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 500
  config.keep_checkpoints = 3
  config.best_metric = "valid/loss"
  config.best_mode = "min"

  if variant == "tiny":
    config.dataset.name = "synthetic_profiles/tiny"
    config.model_preset = "tiny"
    config.model.update(n_filters=16, n_layers=5, trimming=100)
    config.num_train_steps = 1500
    config.eval_every_steps = 500
    config.checkpoint_every_steps = 500
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Count-loss weight around BPNet's lambda = 10 (three trials)."""
  del arg
  return [{"task.count_weight": w} for w in (3.0, 10.0, 30.0)]
