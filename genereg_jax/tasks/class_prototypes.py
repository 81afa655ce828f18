"""Prototypical-network loss (Snell, Swersky & Zemel, NeurIPS 2017): classify query
examples by their distance to class prototypes, the mean embedding of each class's
support examples.

Outputs are ``{"embedding": [batch, features]}`` (`genereg_jax.models.prototypical`); the
batch holds ``label`` (class ids, any integers) and ``support`` (1 for the support rows
that define the prototypes, 0 for the queries). An episode from
`genereg_jax.train.protonets` is one batch; a plain batch without ``support`` (e.g. a
timed train step) takes its first half as the support. For query ``i`` the logits are
``-d(f(x_i), c_k)`` over the classes ``k`` with support rows, ``d`` the squared Euclidean
distance (the paper's choice; ``"cosine"`` is its alternative), and the loss is their
cross-entropy against the query's class (Eq. 2), averaged over the queries whose class
has a prototype. Metric: ``accuracy`` of the nearest prototype over all queries.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics

DISTANCES = ("squared_euclidean", "cosine")


def prototype_logits(embeddings, labels, support, distance: str = "squared_euclidean", xp=jnp):
  """``(logits [batch, batch], target [batch, batch])`` over prototype columns.

  Column ``j`` stands for the class of support row ``j`` when ``j`` is that class's
  first support row (other columns are -inf); ``target[i, j]`` marks the column of
  row ``i``'s class. ``xp`` is ``jax.numpy`` (losses) or ``numpy`` (host metrics).
  """
  if distance not in DISTANCES:
    raise ValueError(f"unknown distance {distance!r}; valid: {list(DISTANCES)}")
  embeddings = embeddings.astype(xp.float32)
  same = labels[:, None] == labels[None, :]
  # Row j's prototype: the mean of the support rows of j's class.
  in_support = same & (support[None, :] > 0)
  prototypes = (in_support.astype(xp.float32) @ embeddings) / xp.maximum(
      in_support.sum(1), 1)[:, None]
  earlier = xp.tril(same & (support[None, :] > 0) & (support[:, None] > 0), -1).any(1)
  column = (support > 0) & ~earlier
  if distance == "cosine":
    unit = lambda x: x / xp.maximum(xp.linalg.norm(x, axis=-1, keepdims=True), 1e-6)
    scores = unit(embeddings) @ unit(prototypes).T
  else:
    scores = -(xp.sum(embeddings ** 2, -1)[:, None] - 2 * embeddings @ prototypes.T
               + xp.sum(prototypes ** 2, -1)[None, :])
  logits = xp.where(column[None, :], scores, -1e30)
  return logits, same & column[None, :]


def _support(batch, xp=jnp):
  labels = batch["label"]
  if "support" in batch:
    return xp.asarray(batch["support"])
  return (xp.arange(labels.shape[0]) < labels.shape[0] // 2).astype(xp.float32)


class ClassPrototypes(base.Task):
  """Prototypical-network loss on an episode; nearest-prototype accuracy."""

  def __init__(self, distance: str = "squared_euclidean"):
    if distance not in DISTANCES:
      raise ValueError(f"unknown distance {distance!r}; valid: {list(DISTANCES)}")
    self.distance = distance
    self.target_keys = ("label",)

  def loss(self, outputs, batch):
    labels, support = batch["label"], _support(batch)
    logits, target = prototype_logits(outputs["embedding"], labels, support, self.distance)
    log_probs = jax.nn.log_softmax(logits, axis=1)
    valid = (support <= 0) & target.any(1)
    if "example_mask" in batch:
      valid = valid & (batch["example_mask"] > 0)
    per_query = -jnp.sum(jnp.where(target, log_probs, 0.0), axis=1)
    weight = valid.sum()
    return jnp.sum(jnp.where(valid, per_query, 0.0)) / jnp.maximum(weight, 1), weight

  def predictions(self, outputs):
    return outputs["embedding"]

  def new_metrics(self) -> "PrototypeAccuracy":
    return PrototypeAccuracy(self.distance)


class PrototypeAccuracy:
  """Nearest-prototype accuracy over the queries of each batch (an episode)."""

  def __init__(self, distance: str = "squared_euclidean"):
    self.distance = distance
    self.correct = metrics.Mean()

  def update(self, predictions: Any, batch: base.Batch) -> None:
    labels = np.asarray(batch["label"])
    support = np.asarray(_support(batch, np))
    logits, target = prototype_logits(np.asarray(predictions), labels, support,
                                      self.distance, xp=np)
    queries = (support <= 0) & target.any(1)
    if queries.any():
      hits = target[np.arange(len(labels)), logits.argmax(1)][queries]
      self.correct.update(float(hits.mean()), float(queries.sum()))

  def merge(self, other: "PrototypeAccuracy") -> "PrototypeAccuracy":
    self.correct.merge(other.correct)
    return self

  def compute(self) -> dict[str, float]:
    return {"accuracy": float(self.correct.compute())}


Task = ClassPrototypes
