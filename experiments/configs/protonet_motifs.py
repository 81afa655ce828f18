r"""Prototypical networks (Snell et al. 2017) on motif-pair classes: few-shot classification
of sequences by which two TF motifs they carry.

  python -m experiments.train --config=protonet_motifs --workdir=/tmp/protonet_motifs
  python -m experiments.train --config=protonet_motifs:tiny --workdir=/tmp/protonet_tiny

The embedding is DeepBind's trunk (Alipanahi et al. 2015: 16 detectors of 24, max + mean
pooling, 32 hidden ReLUs; `genereg_jax.models.prototypical` takes the input of its
output layer) on the embedded ``synthetic_tss/motif_pairs`` data: 45 classes, one per
pair of the ten JASPAR motifs of ``synthetic_motifs``, 200 bp. Classes 0-29 train
(10-way 5-shot episodes with 5 queries per class, the paper's "train with more ways
than you test"); classes 30-44 are held out and scored in 5-way 5-shot episodes
(``fewshot/accuracy``) against the same episodes embedded by the untrained network
(``untrained/accuracy``) and chance (0.2). Held-out classes are new pairs of motifs the
training classes contain, the few-shot generalisation prototypes are meant for.
See README "TSS usage and meta-learning" for the measured ``:tiny`` numbers.
Variants: ``tiny``.
"""

import ml_collections

from experiments.configs import _base
from experiments.configs import model_config

VARIANTS = ("default", "tiny")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  variant = arg or "default"
  _base.check_variant("protonet_motifs", variant, VARIANTS)
  # Adam at 1e-3, as the paper (halved every 2,000 episodes there; cosine here).
  config = _base.base_config(
      dataset="synthetic_tss/motif_pairs", model_name="prototypical", model_preset="paper",
      model=model_config("prototypical", "paper", trunk="deepbind"),
      task_name="class_prototypes", task=dict(), batch_size=100, eval_batch_size=100,
      num_train_steps=2000, log_every_steps=100, eval_every_steps=500,
      checkpoint_every_steps=500, best_metric="valid/fewshot/accuracy")
  config.meta = ml_collections.ConfigDict(dict(
      algorithm="protonet", task_key="label", heldout_tasks=tuple(range(30, 45)), ways=10,
      eval_ways=5, shots=5, queries=5, eval_episodes=100))
  if variant == "tiny":
    config.dataset.name = "synthetic_tss/tiny_motif_pairs"
    config.model_preset = "tiny"
    config.model = model_config("prototypical", "tiny", trunk="deepbind")
    config.num_train_steps = 300
    config.optimizer.warmup_steps = 20
    config.meta.eval_episodes = 50
    config.eval_every_steps = config.checkpoint_every_steps = 150
  return config


def get_sweep(arg: str | None = None) -> list[dict]:
  """Learning-rate sweep around the default (three trials)."""
  del arg
  return _base.learning_rate_sweep(3e-4, 1e-3, 3e-3)
