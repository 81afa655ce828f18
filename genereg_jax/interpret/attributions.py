r"""Gradient attributions: saliency, input × gradient, integrated gradients.

Each explains the scalar ``f_t(x) = fn(x)[:, target]`` of every input in a batch
(examples are independent, so one gradient of the batch sum gives all of them):

* **Saliency** (Simonyan, Vedaldi & Zisserman, ICLR workshop 2014): ``∇f_t(x)``, signed
  (captum's ``Saliency`` takes its absolute value by default; genomics keeps the sign).
* **Input × gradient** (Shrikumar et al. 2016): ``x ⊙ ∇f_t(x)``; on one-hot DNA, the
  gradient at the bases present.
* **Integrated gradients** (Sundararajan, Taly & Yan, ICML 2017): ``(x - x0) ⊙ ∫_0^1
  ∇f_t(x0 + α (x - x0)) dα`` for a baseline ``x0`` (zeros by default), with captum's
  discretisation ``method="riemann_trapezoid"``: ``α_k = linspace(0, 1, n_steps)`` and
  weights ``1/n_steps``, halved at both ends. Those weights sum to ``1 - 1/n_steps``,
  not 1 — captum's choice, kept so the numbers are captum's — so ``sum(attr)`` is
  about ``(1 - 1/n) (f_t(x) - f_t(x0))``. ``"riemann_left"``, ``"riemann_right"``,
  ``"riemann_middle"`` are captum's other Riemann sums (``α_k = k/n``, ``(k+1)/n``,
  ``(k+½)/n``, weights ``1/n``). All steps' gradients run as one batch under jit, or
  ``steps_per_batch`` at a time to bound memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

IG_METHODS = ("riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


def single_output(fn: Callable[[Array], Any]) -> Callable[[Array], Array]:
  """``fn`` returning its one array ``[batch, outputs]``; anything else is an error."""
  def wrapped(x):
    leaves = jax.tree.leaves(fn(x))
    if len(leaves) != 1:
      raise ValueError(f"fn must return one array [batch, outputs], got {len(leaves)}")
    return leaves[0]
  return wrapped


def _target_sum(fn: Callable[[Array], Any], target: int) -> Callable[[Array], Array]:
  """``x -> sum_b fn(x)[b, target]``: its gradient is every example's gradient."""
  fn = single_output(fn)
  return lambda x: fn(x)[:, target].sum()


@functools.partial(jax.jit, static_argnums=(0, 2))
def _gradient(fn, x, target):
  return jax.grad(_target_sum(fn, target))(x)


def saliency(fn: Callable[[Array], Any], x: Array, target: int) -> Array:
  """Signed gradient ``∇ fn(x)[:, target]``, ``float[B, L, A]`` (Simonyan et al. 2014)."""
  return _gradient(fn, jnp.asarray(x), int(target))


def input_x_gradient(fn: Callable[[Array], Any], x: Array, target: int) -> Array:
  """``x ⊙ ∇ fn(x)[:, target]``, ``float[B, L, A]`` (Shrikumar et al. 2016)."""
  x = jnp.asarray(x)
  return x * _gradient(fn, x, int(target))


def riemann_steps(n_steps: int, method: str = "riemann_trapezoid"
                  ) -> tuple[np.ndarray, np.ndarray]:
  """captum's ``(alphas, weights)`` for a Riemann sum of ``n_steps`` over [0, 1]."""
  if method not in IG_METHODS:
    raise ValueError(f"unknown integration method {method!r}; valid: {IG_METHODS}")
  if n_steps < 2:
    raise ValueError(f"n_steps must be at least 2, got {n_steps}")
  weights = np.full(n_steps, 1.0 / n_steps)
  if method == "riemann_trapezoid":
    alphas = np.linspace(0.0, 1.0, n_steps)
    weights[0] /= 2
    weights[-1] /= 2
  else:
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    alphas = (np.arange(n_steps) + offset) / n_steps
  return alphas.astype(np.float32), weights.astype(np.float32)


@functools.partial(jax.jit, static_argnums=(0, 3, 6))
def _integrated(fn, x, baseline, target, alphas, weights, steps_per_batch):
  gradient = jax.grad(_target_sum(fn, target))
  difference = x - baseline

  def step(alpha_weight):
    alpha, weight = alpha_weight
    return weight * gradient(baseline + alpha * difference)

  # Each step's gradient is a batch of its own: all steps vectorised together, or
  # steps_per_batch at a time (lax.map over vectorised chunks).
  if steps_per_batch is None:
    gradients = jax.vmap(step)((alphas, weights))
  else:
    gradients = jax.lax.map(step, (alphas, weights), batch_size=steps_per_batch)
  return difference * gradients.sum(axis=0)


def integrated_gradients(fn: Callable[[Array], Any], x: Array, target: int,
                         baseline: Array | None = None, n_steps: int = 50,
                         method: str = "riemann_trapezoid",
                         steps_per_batch: int | None = None) -> Array:
  """Integrated gradients (Sundararajan et al. 2017) with captum's discretisation.

  Args:
    fn: jax-traceable ``float[B, L, A] -> float[B, T]``.
    x: ``float[B, L, A]`` inputs.
    target: index into ``fn``'s last axis.
    baseline: ``float[B, L, A]`` (or broadcastable); zeros when None.
    n_steps: points of the Riemann sum.
    method: one of ``IG_METHODS``; ``"riemann_trapezoid"`` is captum's default.
    steps_per_batch: steps evaluated together (memory bound); all when None.

  Returns:
    ``float[B, L, A]`` attributions.
  """
  x = jnp.asarray(x)
  baseline = jnp.zeros_like(x) if baseline is None else jnp.broadcast_to(
      jnp.asarray(baseline, x.dtype), x.shape)
  alphas, weights = riemann_steps(n_steps, method)
  if steps_per_batch is not None and steps_per_batch >= n_steps:
    steps_per_batch = None
  return _integrated(fn, x, baseline, int(target), jnp.asarray(alphas),
                     jnp.asarray(weights), steps_per_batch)
