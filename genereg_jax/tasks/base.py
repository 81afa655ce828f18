"""The interface every task implements."""

from __future__ import annotations

import abc
from typing import Any, Mapping

import jax

Batch = Mapping[str, Any]


class Task(abc.ABC):
  """Loss + predictions + streaming metrics + target handling for one kind of readout.

  ``loss`` and ``predictions`` run inside the jitted train/eval steps; ``new_metrics``
  returns a host-side accumulator with ``update(predictions, batch)``, ``merge`` and
  ``compute``.
  """

  #: Batch keys holding the targets (and anything else the loss needs).
  target_keys: tuple[str, ...] = ("label",)

  @abc.abstractmethod
  def loss(self, outputs: Any, batch: Batch) -> tuple[jax.Array, jax.Array]:
    """Returns ``(mean loss, weight)``: weight is the number of valid targets."""

  @abc.abstractmethod
  def predictions(self, outputs: Any) -> Any:
    """Model outputs (logits) -> what users read (probabilities, rates ...)."""

  @abc.abstractmethod
  def new_metrics(self) -> Any:
    """A fresh host-side metric accumulator."""

  def eval_predictions(self, outputs: Any, batch: Batch) -> Any:
    """What evaluation hands the metric accumulator: ``predictions`` unless a task's
    readout needs the targets (MLM: the masked tokens' log-likelihoods)."""
    del batch
    return self.predictions(outputs)

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-example model output shape expected for targets of ``target_shape``
    (identity; class-probability tasks add a class axis)."""
    return tuple(target_shape)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Takes what the task needs from the dataset's ``info.metadata`` (e.g. the
    ``strand_pair`` of stranded tracks); settings given in the config win."""

  def reverse_complement_targets(self, example: dict[str, Any]) -> dict[str, Any]:
    """Targets of the reverse-complemented sequence; identity for unstranded labels.

    Positional or stranded tasks (coverage, profiles, splice sites) override this to
    reverse the position axis and swap strand-paired tracks.
    """
    return example
