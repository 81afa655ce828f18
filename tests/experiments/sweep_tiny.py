r"""``deepbind:tiny`` cut to 4 steps, with a sweep and a search space: the Optuna sweep tests.

  python -m experiments.sweep --engine=optuna --config=tests/experiments/sweep_tiny.py \
      --workdir=/tmp/s --config.dataset.data_dir=<a data_dir with synthetic_motifs/tiny>

Evaluates (one batch) and checkpoints every 2 steps at a constant rate, so a trial reports
to the pruner at step 2 and finishes at step 4 within seconds.
"""

import ml_collections

from experiments import configs
from experiments.configs import _base

HOPELESS_RATE = 1e-9  # Adam moves no weight visibly: the loss stays where it starts.


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  del arg
  config = configs.get_config("deepbind:tiny")
  config.dataset.build_if_missing = False
  config.update_from_flattened_dict({
      "num_train_steps": 4, "eval_every_steps": 2, "checkpoint_every_steps": 2,
      "log_every_steps": 2, "batch_size": 16, "eval_batch_size": 64, "max_eval_batches": 1,
      "final_eval_splits": (), "optimizer.warmup_steps": 0,
      "optimizer.schedule": "constant"})
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  del arg
  return _base.learning_rate_sweep(1e-3, 3e-3, 1e-2)


def get_search_space(arg: str | None = None) -> dict[str, tuple]:
  del arg
  return {"optimizer.learning_rate": ("categorical", [1e-2, HOPELESS_RATE])}
