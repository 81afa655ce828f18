r"""Cuperus et al. (Genome Research 2017): yeast 5' UTR -> growth-selection expression.

  python -m experiments.train --config=cuperus_utr --workdir=/tmp/cuperus_utr
  python -m experiments.train --config=cuperus_utr:tiny --workdir=/tmp/cuperus_utr_tiny
  python -m data_builders.build --dataset=cuperus_utr --manual_dir=DIR  # Random_UTRs.csv
  python -m experiments.train --config=cuperus_utr:real --workdir=/tmp/cuperus_utr_real
  python -m experiments.design --workdir=/tmp/cuperus_utr_tiny --target=0 --n=100 \
      --out=/tmp/utr_designs.fa

Three convolutions of 128 x 13 + a dense layer (`genereg_jax.models.cuperus_utr`, sizes
there) regressing the UTR's log2 growth enrichment (MSE; Adam, as the notebook; batch 64
ours). The default trains on the embedded ``synthetic_expression/utr`` (Kozak context,
upstream AUGs in and out of frame, GC penalty; ``utr_oracle`` is the truth); ``:real``
reads the released ``Random_UTRs.csv`` (``cuperus_utr``, build first). Designs of the
trained model are scored by the oracle in ``experiments/benchmarks/design_oracle.py
--family=utr`` (README.md, "Expression, UTRs and polyadenylation"). Measured on the
2-core CPU machine, shared (load 20-40): ``:tiny`` (16 filters of 9, 1,500 steps of 64,
~5.5 min) reached test Pearson 0.971 (r^2 0.943; the noisy targets' ceiling is 0.984)
on synthetic_expression 1.0.0 (``utr`` is unchanged in 1.1.0); its 100 SeqProp designs
all reach the oracle's maximum, 1.60, above every one of the 4,000 training UTRs.
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("cuperus_utr", variant, ("default", "tiny", "real"))
  config = _base.base_config(
      dataset="synthetic_expression/utr", model_name="cuperus_utr", model_preset="paper",
      model=model_config("cuperus_utr", "paper"), task_name="expression", task=dict(),
      batch_size=64, num_train_steps=3000, log_every_steps=100, eval_every_steps=500,
      checkpoint_every_steps=500, best_metric="valid/pearson")
  if variant == "tiny":
    config.dataset.name = "synthetic_expression/tiny_utr"
    config.model_preset = "tiny"
    config.model = model_config("cuperus_utr", "tiny")
    config.num_train_steps = 1500
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=500)
  elif variant == "real":
    _base.use_manual_dataset(config, "cuperus_utr", num_train_steps=30_000, every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around Adam's 1e-3 (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
