r"""CNNC (Yuan & Bar-Joseph, PNAS 2019): gene-pair expression histograms -> relationship.

  python -m experiments.train --config=cnnc --workdir=/tmp/cnnc
  python -m experiments.train --config=cnnc:tiny --workdir=/tmp/cnnc_tiny
  python -m data_builders.build --dataset=cnnc_pairs/h5ad --manual_dir=DIR
  python -m experiments.train --config=cnnc:h5ad --workdir=/tmp/cnnc_h5ad

The paper's model (`genereg_jax.models.cnnc`: three VGG-like conv stages 32/64/128, a
512-unit dense layer, softmax over 3 classes) and optimiser (SGD, learning rate 0.01,
Nesterov momentum 0.9) on CNNC's normalised 32 x 32 histograms (``cnnc_pairs``): the
default ``cnnc_pairs/synthetic`` (400 simulated regulator-target modules over 1,000
cells: pairs with no interaction, a -> b, b -> a), ``:tiny`` ``cnnc_pairs/tiny`` with
the ``tiny`` preset, ``:h5ad`` an expression AnnData + CNNC gene-pair table. Task
``multiclass``: accuracy, one-vs-rest AUROC, MCC.
Measured on the 2-core CPU machine, shared (load ~30): ``:tiny`` (400 steps of 32 pairs,
~3 min) reached test accuracy 0.889, one-vs-rest AUROC 0.991 on 18 held-out pairs
(valid: 1.000 / 1.000 on 18; chance accuracy ~0.33).
Variants: ``tiny``, ``h5ad``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "tiny", "h5ad")
CLASS_NAMES = ("none", "a_regulates_b", "b_regulates_a")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("cnnc", variant, VARIANTS)
  # train_with_labels_three_foldx.py: SGD(lr=0.01, decay=1e-6, momentum=0.9,
  # nesterov=True), batch 1,024; batches of 64 here as the synthetic set has ~1,000 pairs.
  config = _base.base_config(
      dataset="cnnc_pairs/synthetic", model_name="cnnc", model_preset="paper",
      model=model_config("cnnc", "paper"), model_inputs=("histogram",),
      task_name="multiclass", task=dict(class_names=CLASS_NAMES), batch_size=64,
      eval_batch_size=128,
      optimizer=dict(name="sgd", learning_rate=0.01, momentum=0.9, nesterov=True,
                     schedule="constant", warmup_steps=0),
      num_train_steps=3000, log_every_steps=100, eval_every_steps=500,
      checkpoint_every_steps=500, best_metric="valid/accuracy")
  if variant == "tiny":
    config.dataset.name = "cnnc_pairs/tiny"
    config.model_preset = "tiny"
    config.model = model_config("cnnc", "tiny")
    config.batch_size = 32
    config.num_train_steps = 400
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=200)
  elif variant == "h5ad":
    _base.use_manual_dataset(config, "cnnc_pairs/h5ad", num_train_steps=20_000,
                             every_steps=1000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-3, 1e-2, 3e-2)
