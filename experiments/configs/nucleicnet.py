r"""NucleicNet (Lam et al. 2019): which RNA constituent binds each protein-surface grid point.

  python -m experiments.train --config=nucleicnet --workdir=/tmp/nucleicnet
  python -m experiments.train --config=nucleicnet:tiny --workdir=/tmp/nucleicnet_tiny
  python -m data_builders.build --dataset=nucleicnet_grids/mmcif --manual_dir=DIR  # *.cif[.gz]
  python -m experiments.train --config=nucleicnet:mmcif --workdir=/tmp/nucleicnet_pdb

The released model (``genereg_jax.models.nucleicnet``, paper preset: 32 residual blocks
of shell convolutions) over the shell environments of ``nucleicnet_grids`` grid points
(6 shells x 34 FEATURE-style properties; the paper's 80), seven classes (base A/C/G/U,
ribose, phosphate, non-binding; ``grid_points``: accuracy, macro MCC, AUROC per class).
The released training (``Models/*/hparams.yaml``): AdamW, learning rate 5e-4, weight
decay 0.03, batches of 1,024, dropout 0.7, Gaussian input noise SD 1, label smoothing
0.36, cyclic cosine schedule; here AdamW with the same rate, decay and dropout, batches
of 256, one cosine decay, no label smoothing, and no input noise on the synthetic
points (their counts are exact; noise of one SD hides the rule).

Variants: default (``nucleicnet_grids/synthetic``, 27,000 points whose labels follow a
known rule of the inner shells; built on first use), ``tiny`` (4,500 points, the tiny
preset, seconds), ``mmcif`` (real complexes from ``--manual_dir``; non-binding points
down-weighted 0.2 in the loss, as they dominate), ``mmcif_voxels`` (the same complexes
as 8 A cubes of element counts around each point, ``nucleicnet_grids/mmcif_voxels``,
through the model's 3-D-convolution ``voxel`` preset; ours, not the paper's).

Measured (2-core CPU, ``nucleicnet_grids`` 1.0.0, test split of 5,000 / 1,000 points;
per class in ``CLASSES`` order A, C, G, U, ribose, phosphate, non-binding):

* default (3,000 steps of 256, 38 min at load 10-30, ~360 examples/s): accuracy 0.993,
  macro MCC 0.989, AUROC 0.999; MCC per class 0.986 0.985 0.984 0.985 0.995 0.996
  0.992; AUROC per class 0.999 1.000 0.998 0.996 1.000 1.000 1.000.
* ``:tiny`` (600 steps of 128, 1m45s at load ~11): accuracy 0.977, macro MCC 0.972,
  AUROC 0.9995; MCC per class 0.964 0.979 0.977 0.978 0.968 0.970 0.968.

The rule is exact (a perfect model scores 1.0); the majority class is 0.39 of points.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

CLASSES = ("A", "C", "G", "U", "ribose", "phosphate", "nonsite")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("nucleicnet", variant, ("default", "tiny", "mmcif", "mmcif_voxels"))
  config = _base.base_config(
      dataset="nucleicnet_grids/synthetic", model_name="nucleicnet", model_preset="paper",
      model=model_config("nucleicnet", "paper", input_noise=0.0), task_name="grid_points",
      task=dict(classes=CLASSES, class_weights=None), model_inputs=("environment",),
      batch_size=256, eval_batch_size=1000,
      optimizer=dict(name="adamw", learning_rate=5e-4, weight_decay=0.03, warmup_steps=100),
      num_train_steps=3000, log_every_steps=100, eval_every_steps=1000,
      checkpoint_every_steps=1000, best_metric="valid/mcc")
  if variant == "tiny":
    config.dataset.name = "nucleicnet_grids/tiny"
    config.model_preset = "tiny"
    config.model = model_config("nucleicnet", "tiny")
    config.batch_size = 128
    config.optimizer.update(learning_rate=3e-3, warmup_steps=20)
    config.num_train_steps = 600
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=300)
  elif variant in ("mmcif", "mmcif_voxels"):
    _base.use_manual_dataset(config, f"nucleicnet_grids/{variant}", num_train_steps=20000,
                             every_steps=2000)
    config.model.input_noise = 1.0  # The released value, on standardised real features.
    config.task.class_weights = (1.0,) * (len(CLASSES) - 1) + (0.2,)
    if variant == "mmcif_voxels":
      config.model_preset = "voxel"
      config.model = model_config("nucleicnet", "voxel")
      config.model_inputs = ("voxels",)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning rates around the released 5e-4."""
  del arg
  return _base.learning_rate_sweep(2e-4, 5e-4, 1e-3)
