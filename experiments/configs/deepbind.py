r"""DeepBind (Alipanahi et al. 2015) on the embedded synthetic JASPAR-motif data, 200 bp.

  python -m experiments.train --config=deepbind --workdir=/tmp/deepbind
  python -m experiments.train --config=deepbind:tiny --workdir=/tmp/deepbind_tiny

The model is the paper's DNA model (16 motif detectors of 24, learned rectification
thresholds, max + average pooling, 32 hidden ReLU units; 2,641 parameters per protein)
in reverse-complement mode, with one output per synthetic label sharing the detectors
(DeepBind trained one model per protein). It reads ``synthetic_motifs/len200``:
DeepBind's 101 bp ChIP-seq windows are too short for the grammar's decoys (PU.1-C/EBP
pairs >= 100 bp apart), and global pooling makes the model length-agnostic. Global
pooling also discards where motifs are: the spacing and orientation labels
(``oct_sox_composite``, ``pu1_cebp_pair``, ``ctcf_convergent``) are reachable only
through which motifs co-occur on a strand and through detectors wide enough to span a
composite site, the gap DeepSEA/DanQ-style models close. On the 2-core CPU reference
machine the default run (3,000 steps of 64) takes ~5 min and reached a test mean AUROC
of 0.84 (NFYA and GATA1 stayed near chance); ``:tiny`` (16 detectors of 12, 1,000 steps
on ``synthetic_motifs/tiny``) takes about a minute and reached 0.82.
Variants: ``tiny``. ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in ("default", "tiny"):
    raise ValueError(f"deepbind config: unknown variant {variant!r}; valid: default, tiny")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: the embedded synthetic set at 200 bp, built on first use.
  config.dataset = ml_collections.ConfigDict(dict(
      name="synthetic_motifs/len200", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=True))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 64  # As in the paper.
  config.eval_batch_size = 256
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=False, max_shift=0))
  config.data_workers = 0

  # Model: the paper's DNA model, both strands (max), one output per label. The paper
  # calibrated dropout per protein (keep probability 0.5, 0.75 or 1); with 13 labels
  # sharing 16 detectors, none (keep 1) works best on the synthetic set.
  config.model_name = "deepbind"
  config.model_preset = "paper"
  config.model = ml_collections.ConfigDict(dict(
      num_outputs=len(synthetic_motifs.LABEL_NAMES), strands="max", dropout_rate=0.0))
  config.compute_dtype = "float32"

  # Task: multi-label BCE; AUROC / AUPRC per label.
  config.task_name = "multilabel_binary"
  config.task = ml_collections.ConfigDict(dict(label_names=synthetic_motifs.LABEL_NAMES))

  # Optimizer. The paper used SGD with momentum, batches of 64 and 20,000 steps, with the
  # learning rate (0.0005-0.05), dropout and initial weights calibrated per protein by
  # random search; Adam needs no calibration on the synthetic set.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=3e-3, schedule="cosine", warmup_steps=100,
      end_learning_rate_factor=0.01, clip_norm=1.0, weight_decay=0.0, momentum=0.9,
      nesterov=False, b1=0.9, b2=0.999, eps=1e-8, grad_accum_steps=1))
  config.num_train_steps = 3000

  # Mesh and parameter placement: every device on "data" (data parallel).
  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"),)

  # Logging, evaluation, checkpoints.
  config.log_every_steps = 100
  config.eval_every_steps = 1000
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 1000
  config.keep_checkpoints = 3
  config.best_metric = "valid/auroc"
  config.best_mode = "max"

  if variant == "tiny":
    config.dataset.name = "synthetic_motifs/tiny"
    config.model_preset = "tiny"
    config.eval_batch_size = 128
    config.optimizer.learning_rate = 1e-2
    config.optimizer.warmup_steps = 20
    config.optimizer.end_learning_rate_factor = 0.1
    config.num_train_steps = 1000
    config.log_every_steps = 50
    config.eval_every_steps = 200
    config.checkpoint_every_steps = 200
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return [{"optimizer.learning_rate": lr} for lr in (1e-3, 3e-3, 1e-2)]
