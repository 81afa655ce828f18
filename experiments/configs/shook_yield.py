r"""Shook et al. (Plant Methods 2021): yield from the season's weather, LSTM + temporal
attention, with the genotype's cluster and maturity group.

  python -m experiments.train --config=shook_yield --workdir=/tmp/shook
  python -m experiments.train --config=shook_yield:tiny --workdir=/tmp/shook_tiny
  python -m data_builders.build --dataset=weather_yield/manual --manual_dir=DIR
  python -m experiments.train --config=shook_yield:real --workdir=/tmp/shook_real

`genereg_jax.models.shook` (two LSTM layers of 64, additive attention over the 214
days) on the embedded ``weather_yield/synthetic`` trials (200 seasons x 40 records,
7 daily variables, 20 genotype clusters; yield loses to heat and drought inside a
flowering window set by the maturity group, with a cluster-specific sensitivity: a
weather x genotype interaction; valid/test seasons are never seen in training).
Metrics: Pearson r with observed yield and with the noiseless expected yield
(``pearson_truth``). ``:real`` reads ``weather.csv`` + ``trials.tsv``.
Measured (2-core CPU, load ~40; 1,500 steps of 64, 16 min): test r 0.604 with yield
(best validation r 0.760 at step 500, then overfitting the 160 training seasons), below a
ridge on cluster, maturity group and monthly weather means (test r 0.797): on this
synthetic set the additive weather effect dominates the weather x genotype term.
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "tiny", "real")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("shook_yield", variant, VARIANTS)
  config = _base.base_config(
      dataset="weather_yield/synthetic", model_name="shook", model_preset="paper",
      model=model_config("shook", "paper", num_clusters=20), task_name="phenotype",
      task=dict(truth_key="expected_yield", trait_names=("yield",)),
      model_inputs=("weather", "genotype_cluster", "maturity_group"), batch_size=64,
      num_train_steps=3000, eval_every_steps=500, checkpoint_every_steps=500,
      best_metric="valid/pearson")
  if variant == "tiny":
    config.dataset.name = "weather_yield/tiny"
    config.model_preset = "tiny"
    config.model = model_config("shook", "tiny", num_clusters=6)
    config.batch_size = 32
    config.optimizer.update(learning_rate=3e-3, warmup_steps=20)
    config.num_train_steps = 600
    _base.use_full_eval(config, log_every_steps=50, eval_every_steps=200)
  elif variant == "real":
    config.task.truth_key = None
    _base.use_manual_dataset(config, "weather_yield/manual", num_train_steps=20_000,
                             every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
