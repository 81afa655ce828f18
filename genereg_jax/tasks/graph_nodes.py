"""CAGE per graph node: GraphReg's Poisson loss and its TSS-node evaluation.

GraphReg (Karbalayghareh et al., Genome Res. 2022) predicts one CAGE rate per 5-kb node
of a region, ``[batch, nodes]`` (``genereg_jax.models.graphreg``), against the dataset's
``cage`` sums. The loss is the Poisson NLL ``ŷ - y log(ŷ + ε)`` (the authors' loss
without its constant ``log Γ(y + 1)``; as ``coverage.poisson_nll``) averaged over the
scored nodes: nodes ``scored_nodes = (first, end)`` of each region, by default the
dataset's ``scored_nodes`` metadata (``graphreg``: 400-800, the middle 2 Mb of each
6-Mb window, because the windows overlap by 4 Mb, as the paper scores them), else the
middle ``center_fraction`` (1.0: every node); and, with ``loss_on="tss"``, only the nodes holding a TSS. Padding rows
(``example_mask``) are ignored.

Metrics, over every scored node of the evaluated set (streamed, mergeable):

* ``pearsonr_tss`` — Pearson R of ``log2(y + 1)`` vs ``log2(ŷ + 1)`` on TSS nodes, the
  paper's evaluation (it also reports the subsets with >= some CAGE; not here);
* ``pearsonr_contact_dependent`` — the same on the nodes the dataset marks as depending
  on distal contacts (``contact_key``; the synthetic data's known truth), the genes a
  graph model should win on; ``pearsonr_not_contact_dependent`` on the other TSS nodes;
* ``pearsonr_all`` (every scored node), ``spearmanr_tss``, ``n_tss`` and
  ``n_contact_dependent``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from genereg_jax.tasks import base, metrics
from genereg_jax.tasks.coverage import POISSON_EPSILON, poisson_nll

LOSS_NODES = ("all", "tss")


def center_mask(num_nodes: int, center_fraction: float) -> np.ndarray:
  """``[nodes]`` bool: the middle ``round(nodes * center_fraction)`` nodes."""
  if not 0 < center_fraction <= 1:
    raise ValueError(f"center_fraction must be in (0, 1], got {center_fraction}")
  kept = max(1, int(round(num_nodes * center_fraction)))
  start = (num_nodes - kept) // 2
  index = np.arange(num_nodes)
  return (index >= start) & (index < start + kept)


class GraphNodes(base.Task):
  """Poisson loss per node + Pearson R of log CAGE on TSS / contact-dependent nodes.

  Args:
    cage_key: batch key of the ``[batch, nodes]`` CAGE targets.
    tss_key: batch key of the ``[batch, nodes]`` TSS flags.
    contact_key: batch key of the contact-dependent flags (synthetic data), or None.
    scored_nodes: ``(first, end)`` nodes scored; None: the dataset metadata's
      ``scored_nodes`` if any, else ``center_fraction``.
    center_fraction: fraction of middle nodes scored when no ``scored_nodes``.
    loss_on: ``"all"`` scored nodes (paper) or only ``"tss"`` nodes.
    epsilon: added inside the logarithm of the loss.
  """

  def __init__(self, cage_key: str = "cage", tss_key: str = "tss",
               contact_key: str | None = None, scored_nodes=None,
               center_fraction: float = 1.0,
               loss_on: str = "all", epsilon: float = POISSON_EPSILON):
    if loss_on not in LOSS_NODES:
      raise ValueError(f"unknown loss_on {loss_on!r}; valid: {list(LOSS_NODES)}")
    center_mask(3, center_fraction)  # Validates the fraction.
    self.cage_key, self.tss_key, self.contact_key = cage_key, tss_key, contact_key
    self.target_keys = (cage_key, tss_key) + ((contact_key,) if contact_key else ())
    self.center_fraction = float(center_fraction)
    self.scored_nodes = None if scored_nodes is None else tuple(int(n) for n in scored_nodes)
    self.loss_on = loss_on
    self.epsilon = float(epsilon)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    if self.scored_nodes is None and metadata.get("scored_nodes") is not None:
      self.scored_nodes = tuple(int(n) for n in metadata["scored_nodes"])

  def node_mask(self, num_nodes: int) -> np.ndarray:
    """``[nodes]`` bool: the scored nodes."""
    if self.scored_nodes is None:
      return center_mask(num_nodes, self.center_fraction)
    first, end = self.scored_nodes
    if not 0 <= first < end <= num_nodes:
      raise ValueError(f"scored_nodes {self.scored_nodes} do not fit {num_nodes} nodes")
    return (np.arange(num_nodes) >= first) & (np.arange(num_nodes) < end)

  def scored(self, batch: Mapping[str, Any], num_nodes: int):
    """``[batch, nodes]`` weights of the nodes the loss sees."""
    weight = jnp.asarray(self.node_mask(num_nodes), jnp.float32)[None]
    if self.loss_on == "tss":
      weight = weight * (jnp.asarray(batch[self.tss_key]) > 0)
    if "example_mask" in batch:
      weight = weight * jnp.asarray(batch["example_mask"], jnp.float32)[:, None]
    return weight

  def loss(self, outputs, batch):
    predictions = jnp.asarray(outputs, jnp.float32)
    targets = jnp.asarray(batch[self.cage_key], jnp.float32)
    if predictions.shape != targets.shape:
      raise ValueError(f"predictions {tuple(predictions.shape)} and {self.cage_key!r} "
                       f"{tuple(targets.shape)} differ in shape")
    weight = jnp.broadcast_to(self.scored(batch, targets.shape[-1]), targets.shape)
    total = weight.sum()
    nll = poisson_nll(predictions, targets, self.epsilon)
    return (nll * weight).sum() / jnp.maximum(total, 1.0), total

  def predictions(self, outputs):
    return outputs

  def new_metrics(self) -> "NodeCorrelations":
    return NodeCorrelations(self)


@dataclasses.dataclass
class NodeCorrelations:
  """Host accumulator of ``log2(x + 1)`` pairs on scored nodes, with their flags."""
  task: GraphNodes
  _rows: list = dataclasses.field(default_factory=list)

  def update(self, predictions, batch: Mapping[str, Any]) -> None:
    predicted = np.asarray(predictions, np.float64)
    observed = np.asarray(batch[self.task.cage_key], np.float64)
    keep = np.broadcast_to(self.task.node_mask(observed.shape[-1]), observed.shape)
    tss = np.asarray(batch[self.task.tss_key]) > 0
    contact = (np.asarray(batch[self.task.contact_key]) > 0 if self.task.contact_key
               else np.zeros_like(tss))
    self._rows.append(np.stack([np.log2(predicted[keep] + 1), np.log2(observed[keep] + 1),
                                tss[keep], contact[keep] & tss[keep]], axis=1))

  def merge(self, other: "NodeCorrelations") -> "NodeCorrelations":
    self._rows += other._rows
    return self

  def compute(self) -> dict[str, float]:
    if not self._rows:
      raise ValueError("NodeCorrelations.compute() called before any update()")
    predicted, observed, tss, contact = np.concatenate(self._rows).T
    tss, contact = tss > 0, contact > 0
    results = {
        "pearsonr_tss": metrics.pearson_r(predicted[tss], observed[tss]),
        "spearmanr_tss": metrics.spearman_r(predicted[tss], observed[tss]),
        "pearsonr_all": metrics.pearson_r(predicted, observed),
        "n_tss": float(tss.sum()),
    }
    if self.task.contact_key:
      other = tss & ~contact
      results.update(
          pearsonr_contact_dependent=metrics.pearson_r(predicted[contact], observed[contact]),
          pearsonr_not_contact_dependent=metrics.pearson_r(predicted[other], observed[other]),
          n_contact_dependent=float(contact.sum()))
    return results


Task = GraphNodes
