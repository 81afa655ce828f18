"""Greedy in-silico evolution: the best single substitution per round, found by ISM.

The baseline that gradient-based design is compared with: hill climbing by the single
mutation the model predicts to help most, as the in-silico evolution of random promoters
in Vaishnav et al., Nature 2022. Each round runs saturation mutagenesis
(``genereg_jax.interpret.ism``, fast where ``fast`` describes the model's trunk) of every
sequence under the objective, keeps only the substitutions that satisfy the constraints
(``constraints.feasible_substitutions``: fixed positions untouched, GC kept in range, no
forbidden match added) and applies the best one where it raises the score. A sequence
that no substitution improves stays (a local optimum); the run stops early when none
improves.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np

from genereg_jax.design import constraints as constraints_lib
from genereg_jax.design.objectives import Objective
from genereg_jax.design.seqprop import Designs
from genereg_jax.design.seqprop import evaluate
from genereg_jax.interpret import mutagenesis

Array = jax.Array


def random_start(n: int, length: int, constraints: constraints_lib.Constraints,
                 alphabet: int = 4, seed: int = 0, tries: int = 100) -> np.ndarray:
  """``n`` uniform random one-hot sequences with the fixed letters, projected into the
  GC range, redrawn (up to ``tries`` times) while they hold a forbidden motif: evolution
  never adds a match but does not seek to remove one."""
  rng = np.random.default_rng(seed)
  x = np.zeros((n, length, alphabet), np.float32)
  redraw = np.arange(n)
  for _ in range(tries):
    logits = rng.normal(size=(len(redraw), length, alphabet)).astype(np.float32)
    drawn = constraints.apply_fixed(np.eye(alphabet, dtype=np.float32)[logits.argmax(-1)])
    x[redraw] = constraints_lib.project_gc(drawn, logits, constraints)
    redraw = redraw[constraints_lib.motif_hits(x[redraw], constraints) > 0]
    if not len(redraw):
      break
  return x


def evolve(fn: Callable[[Array], Array], objective: Objective, x: np.ndarray,
           constraints: constraints_lib.Constraints | None = None, rounds: int = 20,
           fast=None, batch_size: int | None = None,
           progress: Callable[[int], None] | None = None) -> Designs:
  """Greedy evolution of the one-hot ``x float[N, L, A]`` for ``rounds`` rounds.

  Args:
    fn: jax-traceable ``float[B, L, A] -> float[B, T]``.
    objective: ``genereg_jax.design.objectives`` (higher is better).
    fast, batch_size: passed to ``interpret.ism`` (``fast`` must then compute
      ``objective(fn(x))[:, None]``).
    progress: called with the number of rounds done after each round.
  """
  constraints = constraints or constraints_lib.Constraints()
  score_fn = _ScoreFn(fn, objective)  # one object, so ISM's jit compiles once
  x = np.array(x, np.float32)
  history = []
  for i in range(rounds):
    mutants = np.asarray(mutagenesis.ism(score_fn, x, fast=fast, batch_size=batch_size))[..., 0]
    current = np.asarray(score_fn(x))[:, 0]
    history.append(float(current.mean()))
    mutants = np.where(constraints_lib.feasible_substitutions(x, constraints), mutants, -np.inf)
    flat = mutants.reshape(len(x), -1).argmax(axis=1)
    best = mutants.reshape(len(x), -1)[np.arange(len(x)), flat]
    better = np.flatnonzero(best > current + 1e-7 * np.maximum(1, np.abs(current)))
    position, letter = np.divmod(flat[better], x.shape[-1])
    x[better, position] = np.eye(x.shape[-1], dtype=np.float32)[letter]
    if progress is not None:
      progress(i + 1)
    if not len(better):
      break
  return evaluate(fn, objective, x, constraints, history)


class _ScoreFn:
  """``objective(fn(x))[:, None]``, hashable by identity (a jit static argument)."""

  def __init__(self, fn, objective):
    self.fn, self.objective = fn, objective

  def __call__(self, x):
    return self.objective(self.fn(x))[:, None]
