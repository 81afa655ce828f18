r"""Prototypical networks (Snell et al. 2017) on motif-pair classes: few-shot classification
of sequences by which two TF motifs they carry.

  python -m experiments.train --config=protonet_motifs --workdir=/tmp/protonet_motifs
  python -m experiments.train --config=protonet_motifs:tiny --workdir=/tmp/protonet_tiny

The embedding is DeepBind's trunk (Alipanahi et al. 2015: 16 detectors of 24, max + mean
pooling, 32 hidden ReLUs; `genereg_jax.models.prototypical` takes the input of its
output layer) on the embedded ``synthetic_tss/motif_pairs`` data: 45 classes, one per
pair of the ten JASPAR motifs of ``synthetic_motifs``, 200 bp. 30 classes train
(10-way 5-shot episodes with 5 queries per class, the paper's "train with more ways
than you test"); every third class (15) is held out and scored in 5-way 5-shot episodes
(``fewshot/accuracy``) against the same episodes embedded by the untrained network
(``untrained/accuracy``), by 4-mer profiles (``kmer/accuracy``) and chance (0.2). Held-out classes are new pairs of motifs the
training classes contain, the few-shot generalisation prototypes are meant for.
Measured on the 2-core CPU (load ~40), default, 1,000 episodes (~2 min): held-out test
accuracy 0.631 in 5-way 5-shot episodes, vs 0.376 with 4-mer profiles, 0.217 with the
untrained embedding, chance 0.2. ``:tiny`` (100 bp, 16-d embedding, 300 episodes, under
a minute): 0.674 vs 4-mer 0.509, untrained 0.193.
Variants: ``tiny``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("protonet_motifs", variant, VARIANTS)
  # Adam (the paper's optimizer) at 3e-3 with cosine decay (the paper: 1e-3 halved
  # every 2,000 episodes). No dropout in the trunk: DeepBind's 0.5 on 32 pooled
  # features left the distances too noisy to learn from in this budget.
  config = _base.base_config(
      dataset="synthetic_tss/motif_pairs", model_name="prototypical", model_preset="paper",
      model=model_config("prototypical", "paper", trunk="deepbind",
                         trunk_kwargs=(("dropout_rate", 0.0),)),
      task_name="class_prototypes", task=dict(), batch_size=100, eval_batch_size=100,
      optimizer=dict(learning_rate=3e-3), num_train_steps=1000, log_every_steps=100,
      eval_every_steps=500, checkpoint_every_steps=500, best_metric="valid/fewshot/accuracy")
  # Every third class held out: new pairs of motifs that training classes contain.
  config.meta = ml_collections.ConfigDict(dict(
      algorithm="protonet", task_key="label", heldout_tasks=tuple(range(2, 45, 3)), ways=10,
      eval_ways=5, shots=5, queries=5, eval_episodes=100))
  if variant == "tiny":
    config.dataset.name = "synthetic_tss/tiny_motif_pairs"
    config.model_preset = "tiny"
    config.model = model_config("prototypical", "tiny", trunk="deepbind",
                                trunk_kwargs=(("dropout_rate", 0.0),))
    config.num_train_steps = 300
    config.optimizer.warmup_steps = 20
    config.meta.eval_episodes = 50
    config.eval_every_steps = config.checkpoint_every_steps = 150
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
