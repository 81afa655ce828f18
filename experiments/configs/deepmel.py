r"""DeepMEL (Minnoye et al., Genome Research 2020): 500-bp regions -> 24 cisTopic topics.

  python -m experiments.train --config=deepmel --workdir=/tmp/deepmel
  python -m experiments.train --config=deepmel:tiny --workdir=/tmp/deepmel_tiny
  python -m data_builders.build --dataset=deepmel_topics --manual_dir=DIR  # table + FASTA
  python -m experiments.train --config=deepmel:real --workdir=/tmp/deepmel_real

The DanQ-like CNN + BiLSTM on both strands (`genereg_jax.models.deepmel`, 3.45 M
parameters) with binary cross-entropy per topic (multilabel; AUROC/AUPRC per topic),
Adam at 1e-3, batch 128 (ours). The default trains on the embedded
``synthetic_expression/topics`` (24 topics of planted 8-mer sets on either strand;
``topic_oracle`` is the truth); ``:real`` reads ``deepmel_topics`` (a cisTopic
region-topic table + FASTA; build first). Measured on the 2-core CPU machine, shared
(load 35-40): ``:tiny`` (16 filters of 12, BiLSTM 16, 200-bp regions, 4 topics, 3,000
steps of 64, ~10 min) reached test AUROC 0.985 / AUPRC 0.986 on synthetic_expression
1.1.0 (a 1,000-step schedule stopped at 0.795: the LSTM needs the longer run).
Variants: ``tiny``, ``real``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("deepmel", variant, ("default", "tiny", "real"))
  config = _base.base_config(
      dataset="synthetic_expression/topics", model_name="deepmel", model_preset="paper",
      model=model_config("deepmel", "paper"), task_name="multilabel_binary", task=dict(),
      batch_size=128, num_train_steps=3000, log_every_steps=100, eval_every_steps=1000,
      checkpoint_every_steps=1000, best_metric="valid/auroc")
  if variant == "tiny":
    config.dataset.name = "synthetic_expression/tiny_topics"
    config.model_preset = "tiny"
    config.model = model_config("deepmel", "tiny")
    config.batch_size = 64
    config.num_train_steps = 3000
    _base.use_full_eval(config, log_every_steps=100, eval_every_steps=1000)
  elif variant == "real":
    _base.use_manual_dataset(config, "deepmel_topics", num_train_steps=50_000,
                             every_steps=2000)
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
