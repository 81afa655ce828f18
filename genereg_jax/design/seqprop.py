r"""Gradient-based sequence design by Fast SeqProp (Linder & Seelig, BMC Bioinformatics 2021).

The designs are logits ``l float[N, L, A]``. Each step normalises them per sequence and
letter over positions (instance normalisation) with a learned scale and offset per
sequence and letter, ``z = gamma * (l - mean_L l) / std_L l + beta`` (the paper's fix for
SeqProp's vanishing softmax gradients; each design has its own scale and offset, so
designs never interact), samples one one-hot sequence per design from
``softmax(z)`` and runs the model on it with the straight-through estimator: the forward
pass sees the sampled one-hot ``s``, the backward pass the softmax's gradient
(``x = p + stop_gradient(s - p)``). Adam (optax) maximises ``objective(fn(x)) -
penalty(p)`` (``genereg_jax.design.constraints`` for the constraints), one jitted step
at a time. The design returned is the argmax of ``z``, fixed positions set and projected
into the GC range, scored by the model on that one-hot sequence.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.design import constraints as constraints_lib
from genereg_jax.design.objectives import Objective

Array = jax.Array


@dataclasses.dataclass
class Designs:
  """Designed sequences and their predicted scores.

  Attributes:
    x: ``float32[N, L, A]`` one-hot designs.
    scores: ``float32[N]``, the objective on the model's outputs for ``x``.
    outputs: ``float32[N, T]``, the model's outputs for ``x``.
    gc: ``float32[N]``, GC fraction.
    forbidden_hits: ``int[N]``, forbidden-motif matches (0 unless reported otherwise).
    history: mean score per step (SeqProp: of the sampled sequences) or round (evolution).
  """
  x: np.ndarray
  scores: np.ndarray
  outputs: np.ndarray
  gc: np.ndarray
  forbidden_hits: np.ndarray
  history: list[float]


def evaluate(fn: Callable[[Array], Array], objective: Objective, x: np.ndarray,
             constraints: constraints_lib.Constraints, history: list[float],
             batch_size: int = 256) -> Designs:
  """``Designs`` for the one-hot ``x``: the model's outputs, scores and checks."""
  x = np.asarray(x, np.float32)
  outputs = np.concatenate([np.asarray(fn(jnp.asarray(x[i:i + batch_size])), np.float32)
                            for i in range(0, len(x), batch_size)])
  scores = np.asarray(objective(jnp.asarray(outputs)), np.float32)
  return Designs(x, scores, outputs, np.asarray(constraints_lib.gc_fraction(x), np.float32),
                 constraints_lib.motif_hits(x, constraints), list(history))


def normalise(params: dict) -> Array:
  """Fast SeqProp's instance-normalised logits ``z``."""
  logits = params["logits"]
  mean = logits.mean(axis=1, keepdims=True)
  std = jnp.sqrt(logits.var(axis=1, keepdims=True) + 1e-6)
  return params["scale"] * (logits - mean) / std + params["offset"]


def seqprop(fn: Callable[[Array], Array], objective: Objective, n: int, length: int,
            constraints: constraints_lib.Constraints | None = None, alphabet: int = 4,
            steps: int = 300, learning_rate: float = 0.1, seed: int = 0,
            progress: Callable[[int], None] | None = None) -> Designs:
  """Design ``n`` sequences of ``length`` maximising ``objective(fn(x))``.

  Args:
    fn: jax-traceable ``float[B, L, A] -> float[B, T]`` (one-hot in).
    objective: ``genereg_jax.design.objectives`` (higher is better).
    constraints: fixed positions, GC range, forbidden motifs.
    steps: Adam steps.
    learning_rate: Adam's (on the logits, scale and offset).
    progress: called with the number of steps done after each step.
  """
  constraints = constraints or constraints_lib.Constraints()
  key, init_key = jax.random.split(jax.random.PRNGKey(seed))
  params = {"logits": jax.random.normal(init_key, (n, length, alphabet)),
            "scale": jnp.ones((n, 1, alphabet)), "offset": jnp.zeros((n, 1, alphabet))}
  optimizer = optax.adam(learning_rate)
  opt_state = optimizer.init(params)

  def loss(params, key):
    z = normalise(params)
    p = jax.nn.softmax(z)
    sample = jax.nn.one_hot(jax.random.categorical(key, z), alphabet, dtype=p.dtype)
    x = constraints.apply_fixed(p + jax.lax.stop_gradient(sample - p))
    score = objective(fn(x))
    return (constraints_lib.penalty(constraints.apply_fixed(p), constraints)
            - score).sum(), score.mean()

  @functools.partial(jax.jit, donate_argnums=(0, 1))
  def step(params, opt_state, key):
    (_, score), grads = jax.value_and_grad(loss, has_aux=True)(params, key)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, score

  history = []
  for i in range(steps):
    key, step_key = jax.random.split(key)
    params, opt_state, score = step(params, opt_state, step_key)
    history.append(float(score))
    if progress is not None:
      progress(i + 1)
  z = np.asarray(normalise(params))
  x = constraints.apply_fixed(np.eye(alphabet, dtype=np.float32)[z.argmax(-1)])
  x = constraints_lib.project_gc(x, z, constraints)
  return evaluate(fn, objective, x, constraints, history)
