"""Prototypical networks (Snell, Swersky & Zemel, NeurIPS 2017) as a training mode of the
trainer: episodic N-way k-shot training, few-shot evaluation on held-out classes.

A config turns it on with ``config.meta`` (``experiments/configs/protonet_motifs.py``):

  config.model_name = "prototypical"   # any registered trunk, cut before its output
  config.model = dict(trunk="deepbind", trunk_preset="tiny", ...)
  config.task_name = "class_prototypes"
  config.meta = dict(algorithm="protonet", task_key="label", heldout_tasks=(30, ..., 44),
                     ways=5, shots=5, queries=5, eval_episodes=100)

Each step is one episode (Algorithm 1): ``ways`` classes drawn from the training
classes (every ``task_key`` value of the train split but ``heldout_tasks``), ``shots``
support and ``queries`` query examples of each, disjoint. The batch is the episode,
class-major (support rows first within each class) with a ``support`` mask; the loss
(`genereg_jax.tasks.class_prototypes`) is the softmax over negative squared distances
from each query to the class prototypes (support means), the step the trainer's own
jitted, sharded ``train_step``. Episodes come from ``np.random.default_rng([seed,
step])``: a resumed run replays them exactly. The paper trains with more ways than it
tests (e.g. 20-way for 5-way tests); ``ways`` and ``eval_ways`` can differ.

Evaluation: ``eval_episodes`` episodes of ``eval_ways`` held-out classes drawn from the
evaluation split (the same draws at every evaluation), nearest-prototype accuracy over
their queries (``fewshot/accuracy``); the final evaluation also scores the same
episodes with the untrained embedding (``untrained/accuracy``) and with 4-mer frequency
profiles of the sequences (``kmer/accuracy``, an alignment-free baseline that needs no
training), and states chance (``chance`` = 1 / ways).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from genereg_jax.train import meta
from genereg_jax.train import partitioning


def kmer_profiles(one_hot: np.ndarray, k: int = 4) -> np.ndarray:
  """``[batch, 4**k]`` k-mer frequencies of one-hot DNA ``[batch, length, 4]`` (windows
  with an N skipped): the alignment-free embedding the learned one has to beat."""
  one_hot = np.asarray(one_hot)
  codes, known = one_hot.argmax(-1), one_hot.sum(-1) > 0
  length = one_hot.shape[1] - k + 1
  index = sum(codes[:, i:i + length] * 4 ** (k - 1 - i) for i in range(k))
  valid = np.all([known[:, i:i + length] for i in range(k)], axis=0)
  profiles = np.zeros((len(one_hot), 4 ** k), np.float32)
  for row in range(len(one_hot)):
    profiles[row] = np.bincount(index[row][valid[row]], minlength=4 ** k)
  return profiles / np.maximum(profiles.sum(1, keepdims=True), 1)


def sample_episode(rng: np.random.Generator, groups: Mapping[int, np.ndarray],
                   classes: Sequence[int], ways: int, shots: int, queries: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(record indices, class of each row, support mask)`` of one N-way k-shot episode.

  Rows are class-major: ``shots`` support rows, then ``queries`` query rows, per class;
  support and query examples are distinct records.
  """
  if ways > len(classes):
    raise ValueError(f"{ways}-way episodes need {ways} classes; only {len(classes)} given")
  per_class = shots + queries
  small = [c for c in classes if len(groups[c]) < per_class]
  if small:
    raise ValueError(f"classes {small[:10]} have fewer than shots + queries = {per_class} "
                     "examples")
  chosen = rng.choice(np.asarray(classes), ways, replace=False)
  indices = np.concatenate([rng.choice(groups[int(c)], per_class, replace=False)
                            for c in chosen])
  labels = np.repeat(chosen, per_class)
  support = np.tile(np.arange(per_class) < shots, ways).astype(np.float32)
  return indices, labels, support


class ProtoNet:
  """Episodes, the trainer's jitted steps and held-out-class evaluation of one config."""

  def __init__(self, config: ml_collections.ConfigDict):
    from genereg_jax.train import trainer
    self.config, self.settings = config, meta.settings(config)
    self.experiment = trainer.Experiment(config)
    train = config.train_split
    self.sources = {train: trainer.load_split(config, train)}
    self.groups = {train: meta.group_indices(self.sources[train], self.settings.task_key)}
    self.train_classes, self.heldout_classes = meta.split_tasks(
        self.groups[train], self.settings.heldout_tasks, self.settings.task_key)
    self.keys = tuple(config.model_inputs)

  def episode(self, split: str, rng: np.random.Generator, classes: Sequence[int],
              ways: int) -> dict[str, np.ndarray]:
    s = self.settings
    indices, labels, support = sample_episode(rng, self.groups[split], classes, ways,
                                              s.shots, s.queries)
    batch = meta.gather(self.sources[split], indices, self.keys)
    return {**batch, "label": labels.astype(np.int32), "support": support}

  def sample(self, step: int) -> dict[str, jax.Array]:
    rng = np.random.default_rng([self.config.seed, step])
    batch = self.episode(self.config.train_split, rng, self.train_classes, self.settings.ways)
    return partitioning.global_batch(batch, self.experiment.mesh)

  def evaluate(self, eval_step, params, batch_stats, split: str) -> float:
    """Mean nearest-prototype accuracy over the held-out classes' episodes; with
    ``eval_step=None``, of the k-mer profiles of their ``sequence`` instead."""
    from genereg_jax.train import trainer
    s = self.settings
    if split not in self.sources:
      self.sources[split] = trainer.load_split(self.config, split)
      self.groups[split] = meta.group_indices(self.sources[split], s.task_key)
    heldout = [c for c in self.heldout_classes if c in self.groups[split]]
    ways = min(s.eval_ways or s.ways, len(heldout))
    accuracy = self.experiment.task.new_metrics()
    rng = np.random.default_rng([self.config.seed, 104_729])
    for _ in range(s.eval_episodes):
      batch = self.episode(split, rng, heldout, ways)
      if eval_step is None:
        embeddings = kmer_profiles(batch["sequence"])
      else:
        embeddings = partitioning.to_host(eval_step(
            params, batch_stats, partitioning.global_batch(batch, self.experiment.mesh))[0])
      accuracy.update(embeddings, batch)
    return accuracy.compute()["accuracy"]


def train_locked(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
  """Episodic training of ``config`` (``meta.algorithm = "protonet"``) in ``workdir``."""
  protonet = ProtoNet(config)
  s = protonet.settings
  state, shardings, abstract = protonet.experiment.create_state(
      protonet.sources[config.train_split][0])
  eval_step = protonet.experiment.jit_eval_steps(shardings)[None]
  step_fn = protonet.experiment.jit_train_steps(shardings)[None]
  untrained = jax.tree.map(jnp.copy, (state.params, state.batch_stats))

  def evaluate(state, split: str, final: bool) -> dict[str, float]:
    results = {"fewshot/accuracy": protonet.evaluate(eval_step, state.params,
                                                     state.batch_stats, split)}
    if final:
      results["untrained/accuracy"] = protonet.evaluate(eval_step, *untrained, split)
      if "sequence" in protonet.keys:
        results["kmer/accuracy"] = protonet.evaluate(None, None, None, split)
      heldout = len([c for c in protonet.heldout_classes if c in protonet.groups[split]])
      results["chance"] = 1.0 / min(s.eval_ways or s.ways, heldout)
    return results

  return meta.run_loop(config, workdir, state, abstract, step_fn, protonet.sample, evaluate,
                       s.ways * (s.shots + s.queries))
