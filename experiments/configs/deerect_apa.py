r"""DeeReCT-APA (Li et al., GPB 2021): usage of every polyadenylation site of a gene.

  python -m experiments.train --config=deerect_apa --workdir=/tmp/deerect_apa
  python -m experiments.train --config=deerect_apa:tiny --workdir=/tmp/deerect_apa_tiny
  python -m data_builders.build --dataset=apa_usage/default \
      --manual_dir=DeeReCT-APA-repo/APA_ML/Parental
  python -m experiments.train --config=deerect_apa:real --workdir=/tmp/deerect_apa_real

The released model (per-PAS CNN 40x12/pool 3, 40x12/pool 4, dense 200, dropout 0.7,
BiLSTM 100 per direction across the gene's sites, masked softmax) with the released
training (Adam 1e-3, batches of 32 genes, model selection by dev MAE) on
``synthetic_polya/usage``: genes of 2-6 sites whose usage is a softmax of site strength
plus a distal preference (only visible to a model that sees a site's place in the set).
``:real`` reads ``apa_usage/default``, built from the DeeReCT-APA repository's usage table
(``parental.pAs.usage.txt``) and per-site sequence table.
Measured on the 2-core CPU machine, shared (load 16-27): ``:tiny`` (16/16 filters of 8,
LSTM 16, 120-nt windows, genes of 2-4 sites; 1,500 steps of 32 genes at Adam 3e-3, ~7
min) reached on the test genes usage Pearson 0.990 / Spearman 0.989, MAE 0.029, top-PAS
accuracy 0.97, pairwise comparison accuracy 0.997 (577 pairs), per-gene ranking
Spearman 0.95 (synthetic_polya 1.0.0; a uniform prediction has top-PAS accuracy ~0.36).
The same run without the BiLSTM (``--config.model.lstm_features=0``: each site scored
alone, still competing through the softmax) reached only Pearson 0.868, top-PAS 0.78,
pair accuracy 0.848, ranking Spearman 0.66: the distal preference of the synthetic truth
is visible only to a model that reads the gene's sites as a set, DeeReCT-APA's point.
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deerect_apa", variant, ("default", "tiny", "real"))
  config = _base.base_config(
      dataset="synthetic_polya/usage", model_name="deerect_apa", model_preset="paper",
      model=model_config("deerect_apa", "paper"), task_name="pas_usage", task=dict(),
      model_inputs=("sequence", "pas_mask"),
      batch_size=32, eval_batch_size=64,
      optimizer=dict(learning_rate=1e-3, schedule="constant", warmup_steps=0, clip_norm=0.0),
      num_train_steps=1250, log_every_steps=50, eval_every_steps=250,
      checkpoint_every_steps=250, best_metric="valid/usage_mae", best_mode="min")
  if variant == "tiny":
    config.dataset.name = "synthetic_polya/tiny_usage"
    config.model_preset = "tiny"
    config.model = model_config("deerect_apa", "tiny")
    config.num_train_steps = 1500
    config.optimizer.learning_rate = 3e-3
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=500)
  elif variant == "real":
    _base.use_manual_dataset(config, "apa_usage/default", num_train_steps=10_000,
                             every_steps=1000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
