r"""Basset (Kelley et al. 2016) on the embedded synthetic JASPAR-motif data, 600 bp.

  python -m experiments.train --config=basset --workdir=/tmp/basset
  python -m experiments.train --config=basset:tiny --workdir=/tmp/basset_tiny

The model is the paper's (convs 300×19, 200×11, 200×7 with batch norm, max-pool 3/4/4,
two dense layers of 1,000 with batch norm and dropout 0.3; 4.1 M parameters at 164
outputs) with one output per synthetic label, on ``synthetic_motifs/len600`` (Basset's
600 bp window; built on first use). ``:tiny`` (32 kernels per convolution, dense 64,
200 bp, 600 steps) takes about a minute on the 2-core CPU reference machine and reached
a test mean AUROC of 0.64 (``deepsea:tiny``: 0.65 in the same budget).
Variants: ``tiny``; ``bed`` (one DHS peak BED per cell type via data_builders.intervals). ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in ("default", "tiny", "bed"):
    raise ValueError(f"basset config: unknown variant {variant!r}; valid: default, tiny, bed")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: the embedded synthetic set at Basset's 600 bp, built on first use.
  config.dataset = ml_collections.ConfigDict(dict(
      name="synthetic_motifs/len600", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=True))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 64  # The paper used 128.
  config.eval_batch_size = 256
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=False, max_shift=0))
  config.data_workers = 0

  # Model: the paper's architecture; one output per label of the dataset.
  config.model_name = "basset"
  config.model_preset = "paper"
  config.model = ml_collections.ConfigDict(dict(num_outputs=len(synthetic_motifs.LABEL_NAMES)))
  config.compute_dtype = "float32"

  # Task: multi-label BCE; AUROC / AUPRC per label.
  config.task_name = "multilabel_binary"
  config.task = ml_collections.ConfigDict(dict(label_names=synthetic_motifs.LABEL_NAMES))

  # Optimizer. The paper trained with RMSprop in Torch; Adam converges in one pass over
  # the synthetic set on a CPU, which is what this embedded default is for.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=1e-3, schedule="cosine", warmup_steps=100,
      end_learning_rate_factor=0.01, clip_norm=1.0, weight_decay=0.0, momentum=0.9,
      nesterov=False, b1=0.9, b2=0.999, eps=1e-8, grad_accum_steps=1))
  config.num_train_steps = 1500

  # Mesh and parameter placement: every device on "data" (data parallel).
  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"),)

  # Logging, evaluation, checkpoints.
  config.log_every_steps = 50
  config.eval_every_steps = 500
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 500
  config.keep_checkpoints = 3
  config.best_metric = "valid/auroc"
  config.best_mode = "max"

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
    config.dataset.name = "synthetic_motifs/tiny"
    config.model_preset = "tiny"
    config.eval_batch_size = 128
    config.optimizer.learning_rate = 3e-3
    config.optimizer.warmup_steps = 20
    config.optimizer.end_learning_rate_factor = 0.1
    config.num_train_steps = 600
    config.eval_every_steps = 200
    config.checkpoint_every_steps = 200
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return [{"optimizer.learning_rate": lr} for lr in (3e-4, 1e-3, 3e-3)]
