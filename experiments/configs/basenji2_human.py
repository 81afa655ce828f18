r"""Basenji2 (Kelley 2020, "Cross-species regulatory sequence activity prediction").

  python -m experiments.train --config=basenji2_human --workdir=/ckpt/basenji2
  python -m experiments.train --config=basenji2_human:tiny --workdir=/tmp/b2

Default: the published model and recipe on the human Basenji2 data
(``python -m data_builders.build --dataset=basenji_barnyard/human --manual_dir=...``):
131,072 bp in, 896 bins of 128 bp, 5,313 human tracks, Poisson loss; SGD with learning
rate 0.15, momentum 0.99, batch 4 and global-norm clipping 2, as in basenji's
``manuscripts/cross2020/params_human.json``. ``human_mouse`` trains both heads in
alternation like the paper's joint model. ``tiny`` runs on the embedded synthetic
coverage data in a minute.
"""

import ml_collections

from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "real"
  if variant not in ("real", "human_mouse", "tiny"):
    raise ValueError(f"basenji2_human: unknown variant {variant!r}; valid: real, human_mouse, "
                     "tiny")
  config = ml_collections.ConfigDict()
  config.seed = 0

  config.species = ("human",)
  config.dataset = ml_collections.ConfigDict(dict(
      name="basenji_barnyard/{species}", data_dir=ml_collections.FieldReference(None, str),
      manual_dir=ml_collections.FieldReference(None, str), build_if_missing=False))
  config.train_split = "train"
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.model_inputs = ("sequence",)
  config.batch_size = 4
  config.eval_batch_size = 8
  config.augment = ml_collections.ConfigDict(dict(reverse_complement=True, max_shift=3))
  config.data_workers = 0

  config.model_name = "basenji"
  config.model_preset = "paper"
  config.model = model_config("basenji", "paper")
  config.compute_dtype = "float32"

  config.task_name = "coverage"
  config.task = ml_collections.ConfigDict(dict(objective="poisson", log_pearson=False))

  # params_human.json: sgd, learning_rate 0.15, momentum 0.99, clipnorm 2, batch 4.
  config.optimizer = ml_collections.ConfigDict(dict(
      name="sgd", learning_rate=0.15, momentum=0.99, nesterov=False, schedule="constant",
      warmup_steps=0, clip_norm=2.0, weight_decay=0.0, grad_accum_steps=1))
  config.num_train_steps = 500_000

  config.mesh_shape = (-1, 1)
  config.logical_axis_rules = (("batch", "data"), ("tracks", "model"))

  config.log_every_steps = 100
  config.eval_every_steps = 10_000
  config.max_eval_batches = ml_collections.FieldReference(None, int)
  config.checkpoint_every_steps = 2_000
  config.keep_checkpoints = 3
  config.best_metric = "valid/human/pearsonr"
  config.best_mode = "max"

  if variant == "human_mouse":
    config.species = ("human", "mouse")
  elif variant == "tiny":
    config.dataset.name = "synthetic_coverage/tiny_{species}"
    config.dataset.build_if_missing = True
    config.model_preset = "tiny"
    config.model = model_config("basenji", "tiny")
    config.batch_size = 8
    config.eval_batch_size = 16
    config.optimizer.update(dict(name="adam", learning_rate=2e-3, warmup_steps=20,
                                 clip_norm=1.0, momentum=0.9))
    config.num_train_steps = 600
    config.eval_every_steps = 200
    config.checkpoint_every_steps = 200
  return config
