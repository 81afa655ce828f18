r"""Leung, Delong & Frey 2018: which of two polyadenylation sites of a gene is used more.

  python -m experiments.train --config=leung_pas --workdir=/tmp/leung_pas
  python -m experiments.train --config=leung_pas:tiny --workdir=/tmp/leung_pas_tiny
  python -m data_builders.build --dataset=apa_usage/pairs --manual_dir=DIR
  python -m experiments.train --config=leung_pas:real --workdir=/tmp/leung_pas_real

The Siamese strength network + comparator (`genereg_jax.models.leung_pas`; sizes assumed,
see there) trained with the pairwise (Bradley-Terry) loss on ``synthetic_polya/pairs``:
two sites of a gene, proximal first, label 1 when the proximal site is used more;
usage follows site strength plus a distal preference the comparator's bias absorbs.
Evaluation is the paper's pairwise ranking: accuracy and AUROC of "proximal used more"
over pairs whose usages differ by > 0.05. ``:real`` reads ``apa_usage/pairs`` (pairs
from a 3'-end usage table + site sequences; build it first).
Measured on the 2-core CPU machine, shared (load 16-27): ``:tiny`` (16/16 filters,
120-nt windows, 1,500 steps of 64, ~8.5 min) reached test accuracy 0.875 and AUROC 0.953
on synthetic_polya 1.0.0 (the proximal site wins 32% of test pairs, so always answering
"distal" scores 0.68).
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("leung_pas", variant, ("default", "tiny", "real"))
  config = _base.base_config(
      dataset="synthetic_polya/pairs", model_name="leung_pas", model_preset="paper",
      model=model_config("leung_pas", "paper"), task_name="pairwise", task=dict(), batch_size=64,
      num_train_steps=3000, log_every_steps=100, eval_every_steps=1000,
      checkpoint_every_steps=1000, best_metric="valid/auroc")
  if variant == "tiny":
    config.dataset.name = "synthetic_polya/tiny_pairs"
    config.model_preset = "tiny"
    config.model = model_config("leung_pas", "tiny")
    config.num_train_steps = 1500
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=500)
  elif variant == "real":
    _base.use_manual_dataset(config, "apa_usage/pairs", num_train_steps=20_000,
                             every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
