r"""DanQ (Quang & Xie 2016) on the embedded synthetic JASPAR-motif data, 1,000 bp.

  python -m experiments.train --config=danq --workdir=/tmp/danq
  python -m experiments.train --config=danq:tiny --workdir=/tmp/danq_tiny

The model is the paper's (conv 320×26, max-pool 13, dropout 0.2, BiLSTM 320 per
direction over the 75 pooled steps, dropout 0.5, dense 925; 46.9 M parameters at 919
outputs) with one output per synthetic label, on ``synthetic_motifs/default`` (1,000 bp,
DeepSEA's window, which DanQ shares). The spacing and orientation labels
(``oct_sox_composite``, ``pu1_cebp_pair``, ``ctcf_convergent``) are the ones the BiLSTM
is there for. ``:tiny`` (32 kernels, 32 LSTM units per direction, 200 bp, 600 steps)
takes about a minute on the 2-core CPU reference machine and reached a test mean AUROC
of 0.68 (``deepsea:tiny``: 0.65 in the same budget).
Variants: ``tiny``; ``real`` (the DeepSEA .mat bundle, 919 labels). ``get_sweep`` sweeps the learning rate.
"""

import ml_collections

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in ("default", "tiny", "real"):
    raise ValueError(f"danq config: unknown variant {variant!r}; valid: default, tiny, real")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: the embedded synthetic set at 1,000 bp, built on first use (~25 s).
  config.dataset = ml_collections.ConfigDict(dict(
      name="synthetic_motifs/default", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=True))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 64  # The paper used 100.
  config.eval_batch_size = 256
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=False, max_shift=0))
  config.data_workers = 0

  # Model: the paper's architecture; one output per label of the dataset.
  config.model_name = "danq"
  config.model_preset = "paper"
  config.model = ml_collections.ConfigDict(dict(num_outputs=len(synthetic_motifs.LABEL_NAMES)))
  config.compute_dtype = "float32"

  # Task: multi-label BCE; AUROC / AUPRC per label.
  config.task_name = "multilabel_binary"
  config.task = ml_collections.ConfigDict(dict(label_names=synthetic_motifs.LABEL_NAMES))

  # Optimizer. The paper used Keras' RMSprop (learning rate 1e-3), batches of 100, up to
  # 60 epochs with early stopping (patience 5); Adam reaches a good model in one pass over
  # the synthetic set on a CPU.
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

  if variant == "real":
    # The DeepSEA bundle (python -m data_builders.build --dataset=deepsea --manual_dir=...),
    # 919 labels; the paper's RMSprop 1e-3 with batches of 100.
    config.dataset.name = "deepsea"
    config.dataset.build_if_missing = False
    config.model.num_outputs = 919
    config.task.label_names = ()
    config.batch_size = 100
    config.optimizer.update(dict(name="rmsprop", learning_rate=1e-3, schedule="constant",
                                 warmup_steps=0, clip_norm=0.0, momentum=0.0))
    config.num_train_steps = 44_000 * 10  # 10 of the paper's (up to 60) epochs.
    config.eval_every_steps = 44_000
    config.checkpoint_every_steps = 4_000
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
