r"""DeepSEA (Zhou & Troyanskaya 2015) on the embedded synthetic JASPAR-motif data.

  python -m experiments.train --config=deepsea --workdir=/tmp/deepsea
  python -m experiments.train --config=deepsea:tiny --workdir=/tmp/deepsea_tiny

The model is the paper's (3 convs 320/480/960 ×8, max-pool 4, dropout 0.2/0.2/0.5,
dense 925; 52.8 M parameters at 919 outputs) with one output per synthetic label; the
synthetic windows are peak-centred like DeepSEA's (motifs in the central 200 bp).
On the 2-core CPU reference machine the 1,500 steps of 64 take ~45 min and reach a test
mean AUROC of 0.66 (single-motif labels first; grammar labels need longer training);
``:tiny`` (small model, 200 bp) trains in about a minute.
Variants: ``tiny``; ``real``, the published 919-label DeepSEA bundle (build it first:
``python -m data_builders.build --dataset=deepsea --manual_dir=<deepsea_train>``) with
Selene's SGD recipe for these files. ``get_sweep`` sweeps the learning rate
(``experiments.sweep``).
"""

import ml_collections

from data_builders.synthetic_motifs import synthetic_motifs


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  if variant not in ("default", "tiny", "real"):
    raise ValueError(
        f"deepsea config: unknown variant {variant!r}; valid: default, tiny, real")
  config = ml_collections.ConfigDict()
  config.seed = 0

  # Data: the embedded synthetic set, built on first use (~10 s).
  config.dataset = ml_collections.ConfigDict(dict(
      name="synthetic_motifs/default", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=True))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 64
  config.eval_batch_size = 256
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=False, max_shift=0))
  config.data_workers = 0

  # Model: the paper's architecture; one output per label of the dataset.
  config.model_name = "deepsea"
  config.model_preset = "paper"
  config.model = ml_collections.ConfigDict(dict(num_outputs=len(synthetic_motifs.LABEL_NAMES)))
  config.compute_dtype = "float32"

  # Task: multi-label BCE; AUROC / AUPRC per label.
  config.task_name = "multilabel_binary"
  config.task = ml_collections.ConfigDict(dict(label_names=synthetic_motifs.LABEL_NAMES))

  # Optimizer. The paper trained with SGD in Torch; Adam converges in one pass over
  # the synthetic set on a CPU, which is what this embedded default is for.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="adam", learning_rate=3e-4, schedule="cosine", warmup_steps=100,
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

  if variant == "tiny":
    config.dataset.name = "synthetic_motifs/tiny"
    config.model_preset = "tiny"
    config.batch_size = 64
    config.eval_batch_size = 128
    config.optimizer.learning_rate = 3e-3
    config.optimizer.warmup_steps = 20
    config.optimizer.end_learning_rate_factor = 0.1
    config.num_train_steps = 600
    config.log_every_steps = 50
    config.eval_every_steps = 200
    config.checkpoint_every_steps = 200
  elif variant == "real":
    # The published bundle (data_builders/deepsea): 4.4M/8,000/455,024 windows of
    # 1,000 bp, 919 labels, reverse complements already included as rows.
    config.dataset.name = "deepsea"
    config.dataset.build_if_missing = False
    config.model.num_outputs = 919
    config.task.label_names = ()  # The 919 names live in the dataset's metadata.
    # Selene's retraining of a DeepSEA-family CNN on these .mat files (Chen et al.,
    # Nat. Methods 2019, manuscript/case2/train_deepsea_mat.yml with SGD from its
    # DeepSEA model file): lr 0.08, momentum 0.9, weight decay 1e-6 (L2 added to the
    # gradient, as torch.optim.SGD does), batch 64, 960,000 steps (~14 passes),
    # validation every 64,000 steps. The DeepSEA Torch scripts (lr 1 decayed as
    # 1/(1 + 8e-7 t), batch 16, kernel max-norm 0.9) need a max-norm projection the
    # optimizer lacks; both average BCE over batch x labels as our task does, and
    # without max-norm the smaller lr is the safe one.
    config.batch_size = 64
    config.optimizer.update(
        name="sgd", learning_rate=0.08, momentum=0.9, nesterov=False,
        weight_decay=1e-6, schedule="constant", warmup_steps=0, clip_norm=0.0)
    config.num_train_steps = 960_000
    config.log_every_steps = 1_000
    config.eval_every_steps = 64_000
    config.checkpoint_every_steps = 16_000
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return [{"optimizer.learning_rate": lr} for lr in (3e-4, 1e-3, 3e-3)]
