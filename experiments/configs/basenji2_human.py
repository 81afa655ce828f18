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

from experiments.configs import _base, model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "real"
  _base.check_variant("basenji2_human", variant, ("real", "human_mouse", "tiny"))
  # params_human.json: sgd, learning_rate 0.15, momentum 0.99, clipnorm 2, batch 4.
  config = _base.coverage_config(
      species=("human",), batch_size=4, eval_batch_size=8, model_name="basenji",
      model_preset="paper", model=model_config("basenji", "paper"),
      optimizer=dict(name="sgd", learning_rate=0.15, momentum=0.99, schedule="constant",
                     warmup_steps=0, clip_norm=2.0),
      num_train_steps=500_000, log_every_steps=100, eval_every_steps=10_000,
      checkpoint_every_steps=2_000)

  if variant == "human_mouse":
    config.species = ("human", "mouse")
  elif variant == "tiny":
    config.optimizer.update(name="adam", momentum=0.9)
    _base.use_synthetic_coverage(config, "synthetic_coverage/tiny_{species}",
                                 learning_rate=2e-3, warmup_steps=20, num_train_steps=600,
                                 eval_every_steps=200)
  return config
