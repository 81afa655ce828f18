r"""A trained model's output as ``fn(x: float[B, L, 4]) -> float[B, T]`` for attribution.

The attribution methods explain one scalar per sequence, ``fn(x)[:, target]``. A
``genereg_jax.predict.Predictor`` (a restored checkpoint with its tasks) gives every
head's task predictions under the names ``predict`` writes (``"predictions"``,
``"human"``, ``"profile_probs"`` ...); ``predictor_readout`` picks one of them and, when
it has positions (coverage bins, base-resolution profiles), sums the target track over
them, the usual scalar for attributing a window's total signal (for a profile
normalised over positions, attribute its counts output instead: the sum is constant).
Targets are given by name (the task's or dataset's label/track names) or index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class Readout:
  """``fn`` and what its last axis means.

  Attributes:
    fn: ``float[B, L, 4] -> float[B, T]``, jax-traceable, variables bound.
    output: the output's name.
    names: the ``T`` target names (indices as strings where there are no names).
  """
  fn: Callable[[Array], Array]
  output: str
  names: tuple[str, ...]


def resolve_target(names: Sequence[str], target: str | int) -> int:
  """Index of ``target`` (a name, or an index into ``names``); the error lists the names."""
  names = [str(n) for n in names]
  text = str(target)
  if text in names:
    return names.index(text)
  if text.lstrip("-").isdigit() and -len(names) <= int(text) < len(names):
    return int(text) % len(names)
  shown = ", ".join(names[:50]) + (f" ... ({len(names)} in all)" if len(names) > 50 else "")
  raise ValueError(f"unknown target {text!r}; valid targets (names or 0..{len(names) - 1}): "
                   f"{shown}")


def predictor_readout(predictor: Any, output: str | None = None) -> Readout:
  """The ``Readout`` of one of ``predictor``'s outputs (see the module docstring).

  Args:
    predictor: a ``genereg_jax.predict.Predictor``.
    output: an output name; may be omitted when the model has one output.
  """
  from genereg_jax.predict import flatten_outputs
  experiment, state = predictor.experiment, predictor.state
  model, tasks, inputs = experiment.model, experiment.tasks, experiment.inputs
  variables = {"params": state.params,
               **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
  # Inputs besides the sequence are zeros shaped like the training example's (the
  # Predictor only allows them with zero_missing_inputs).
  extra = {k: np.asarray(v) for k, v in getattr(predictor, "_extra", {}).items()}

  def outputs(x):
    batch = {predictor.sequence_key: x,
             **{k: jnp.broadcast_to(v, (x.shape[0], *v.shape)) for k, v in extra.items()}}
    raw = model.apply(variables, **{k: batch[k] for k in inputs}, train=False)
    return flatten_outputs({head: task.predictions(raw) for head, task in tasks.items()})

  probe = jax.ShapeDtypeStruct((1, predictor.input_length, 4), jnp.float32)
  shapes = jax.eval_shape(outputs, probe)
  if output is None:
    if len(shapes) != 1:
      raise ValueError(f"the model has several outputs; choose one of {sorted(shapes)}")
    output = next(iter(shapes))
  if output not in shapes:
    raise ValueError(f"unknown output {output!r}; valid outputs: {sorted(shapes)}")

  def fn(x):
    y = outputs(x)[output].astype(jnp.float32)
    if y.ndim == 1:
      return y[:, None]
    return y.reshape(y.shape[0], -1, y.shape[-1]).sum(axis=1)

  size = shapes[output].shape[-1] if len(shapes[output].shape) > 1 else 1
  return Readout(fn, output, tuple(predictor.output_names(output, size)))
