r"""APARENT (Bogard et al., Cell 2019): APA reporter -> proximal isoform proportion and
cleavage distribution.

  python -m experiments.train --config=aparent --workdir=/tmp/aparent
  python -m experiments.train --config=aparent:tiny --workdir=/tmp/aparent_tiny
  python -m data_builders.build --dataset=aparent_mpra --manual_dir=DIR  # plasmid df + cuts
  python -m experiments.train --config=aparent:real --workdir=/tmp/aparent_real
  python -m experiments.design --workdir=/tmp/aparent_tiny --output=isoform --target=0 \
      --logit --zero_missing_inputs --n=100 --out=/tmp/aparent_designs.fa

The released model (`genereg_jax.models.aparent`: 96 x 8, pool 2, 128 x 6, dense 256,
library one-hot; 3.2 M parameters at 205 nt) with its loss, 0.5 KL(isoform) + 0.5
KL(cleavage) (`genereg_jax.tasks.isoform_cleavage`). The default trains on the embedded
``synthetic_expression/aparent`` reporters (position-dependent PAS hexamers, DSE and USE
elements, four libraries with offsets; ``isoform_oracle`` is the truth) with Adam at
1e-3, batch 32; ``:real`` reads ``aparent_mpra`` (the reporter CSV + cut matrix; build
first) with the reference's SGD (0.1, Nesterov momentum 0.9) and the distal-PAS flag.
Designs: ``experiments/benchmarks/design_oracle.py --family=aparent``. Measured on the
2-core CPU machine, shared (load 30-40): ``:tiny`` (16/16 filters, 100-nt reporters,
3,000 steps of 64, ~11 min) reached test isoform Pearson 0.855 (the noisy proportions'
ceiling is 0.964), cleavage KL 0.33, mean cut position off by 4.4 nt, on
synthetic_expression 1.1.0; all 100 SeqProp designs (300 steps) score a higher proximal
usage than any training reporter under the model and 88% also under the oracle (README.md,
"Expression, UTRs and polyadenylation").
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("aparent", variant, ("default", "tiny", "real"))
  config = _base.base_config(
      dataset="synthetic_expression/aparent", model_name="aparent", model_preset="paper",
      model=model_config("aparent", "paper"), task_name="isoform_cleavage", task=dict(),
      model_inputs=("sequence", "library"), batch_size=32, num_train_steps=4000,
      log_every_steps=100, eval_every_steps=1000, checkpoint_every_steps=1000,
      best_metric="valid/pearson")
  if variant == "tiny":
    config.dataset.name = "synthetic_expression/tiny_aparent"
    config.model_preset = "tiny"
    config.model = model_config("aparent", "tiny")
    config.batch_size = 64
    config.num_train_steps = 3000
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=500)
  elif variant == "real":
    _base.use_manual_dataset(config, "aparent_mpra", num_train_steps=100_000,
                             every_steps=5000)
    config.model_inputs = ("sequence", "library", "distal_pas")
    # aparent_trainer.py: SGD(lr=0.1, decay=1e-6, momentum=0.9, nesterov=True), batch 32.
    config.optimizer.update(name="sgd", learning_rate=0.1, momentum=0.9, nesterov=True,
                            schedule="constant", warmup_steps=0)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
