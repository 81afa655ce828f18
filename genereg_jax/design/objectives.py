"""What a design maximises: a scalar per sequence from a model's outputs ``[B, T]``.

Each objective maps the outputs of a jax-traceable ``fn(x: float[B, L, A]) -> float[B, T]``
(e.g. ``genereg_jax.interpret.readout``'s readout of a checkpoint) to ``float[B]``, higher
is better, as the design objectives of Fast SeqProp (Linder & Seelig, BMC Bioinformatics
2021): maximise one output (APARENT's proximal isoform usage, a label's probability), hit
a target value (a given expression level), or contrast two outputs (high in one cell type,
low in another; Gosai et al. 2023's cell-type-specific enhancers).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

Array = jax.Array
LOGIT_EPS = 1e-7


@dataclasses.dataclass(frozen=True)
class Objective:
  """A named ``outputs float[B, T] -> float[B]`` (higher is better).

  Attributes:
    kind: ``"maximise"``, ``"target"`` or ``"contrast"``.
    target: the output column scored.
    value: the value ``"target"`` aims at.
    other: the column ``"contrast"`` subtracts.
    weight: how much of ``other`` is subtracted.
    logit: score probabilities ``p`` (sigmoid outputs) as ``log(p / (1 - p))``: a
      sigmoid reaches 1.0 in float32 near logit 17, where every strong design would tie
      at 1 (capped at ``log(1 / LOGIT_EPS)``, about 16).
  """
  kind: str
  target: int
  value: float = 0.0
  other: int | None = None
  weight: float = 1.0
  logit: bool = False

  def __call__(self, outputs: Array) -> Array:
    if self.logit:
      outputs = jnp.log(outputs + LOGIT_EPS) - jnp.log1p(LOGIT_EPS - outputs)
    y = outputs[:, self.target]
    if self.kind == "maximise":
      return y
    if self.kind == "target":
      return -jnp.square(y - self.value)
    if self.kind == "contrast":
      return y - self.weight * outputs[:, self.other]
    raise ValueError(f"unknown objective kind {self.kind!r}")

  def describe(self, names: tuple[str, ...] | None = None) -> str:
    """E.g. ``maximise CTCF`` or ``contrast HepG2 - 1 x K562``."""
    name = lambda i: (f"logit({names[i] if names else i})" if self.logit
                      else names[i] if names else str(i))
    if self.kind == "maximise":
      return f"maximise {name(self.target)}"
    if self.kind == "target":
      return f"-({name(self.target)} - {self.value:g})^2"
    return f"{name(self.target)} - {self.weight:g} x {name(self.other)}"


def maximise(target: int, logit: bool = False) -> Objective:
  """``outputs[:, target]``."""
  return Objective("maximise", int(target), logit=logit)


def target_value(target: int, value: float, logit: bool = False) -> Objective:
  """``-(outputs[:, target] - value)^2``: 0 at the value."""
  return Objective("target", int(target), value=float(value), logit=logit)


def contrast(target: int, other: int, weight: float = 1.0, logit: bool = False) -> Objective:
  """``outputs[:, target] - weight * outputs[:, other]`` (e.g. two cell types)."""
  if int(target) == int(other):
    raise ValueError(f"contrast needs two different outputs, got {target} twice")
  return Objective("contrast", int(target), other=int(other), weight=float(weight),
                   logit=logit)
