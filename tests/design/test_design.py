"""genereg_jax.design on a toy model with a known optimum: a position weight sum."""

import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import design
from genereg_jax.design import constraints as constraints_lib

LENGTH = 16


def _toy(seed=0, length=LENGTH):
  """``fn(x) = [sum(x * W), -sum(x * W)]``: the optimum of output 0 is argmax W per position."""
  weights = np.random.default_rng(seed).normal(size=(length, 4)).astype(np.float32)
  fn = lambda x: jnp.stack([(x * weights).sum((1, 2)), -(x * weights).sum((1, 2))], -1)
  return fn, weights


def _letters(x):
  return ["".join("ACGT"[i] for i in row) for row in np.asarray(x).argmax(-1)]


@pytest.mark.parametrize("method", ["seqprop", "evolve"])
def test_finds_the_known_optimum(method):
  fn, weights = _toy()
  best = weights.max(1).sum()
  if method == "seqprop":
    out = design.seqprop(fn, design.maximise(0), n=3, length=LENGTH, steps=150)
  else:
    x0 = design.random_start(3, LENGTH, design.Constraints(), seed=1)
    out = design.evolve(fn, design.maximise(0), x0, rounds=LENGTH + 1)
  np.testing.assert_array_equal(out.x.argmax(-1), np.tile(weights.argmax(1), (3, 1)))
  np.testing.assert_allclose(out.scores, best, rtol=1e-5)
  np.testing.assert_allclose(out.outputs[:, 1], -best, rtol=1e-5)
  assert out.x.shape == (3, LENGTH, 4) and (out.x.sum(-1) == 1).all()


def test_contrast_and_target_objectives():
  fn, weights = _toy()
  y = jnp.array([[1.0, 3.0], [2.0, -1.0]])
  np.testing.assert_allclose(design.contrast(0, 1, weight=0.5)(y), [-0.5, 2.5])
  np.testing.assert_allclose(design.target_value(1, 2.0)(y), [-1.0, -9.0])
  p = jnp.array([[0.5, 0.9], [1.0, 0.1]])
  np.testing.assert_allclose(design.maximise(1, logit=True)(p), [np.log(9), np.log(1 / 9)],
                             rtol=1e-5)
  assert 15 < float(design.maximise(0, logit=True)(p)[1]) < 17  # capped, finite
  with pytest.raises(ValueError, match="two different"):
    design.contrast(1, 1)
  # Aiming at 0 for output 0: the designs' predictions land near it, far from the maximum.
  out = design.seqprop(fn, design.target_value(0, 0.0), n=2, length=LENGTH, steps=150)
  assert np.abs(out.outputs[:, 0]).max() < 1.5 < weights.max(1).sum() / 4


@pytest.mark.parametrize("method", ["seqprop", "evolve"])
def test_fixed_positions_and_gc_range_hold(method):
  fn, weights = _toy()
  fixed = design.fixed_positions(LENGTH, {2: "TATA"})
  # The unconstrained optimum lies outside [0.2, 0.4]: the constraint binds.
  optimum_gc = np.isin(weights.argmax(1), [1, 2]).mean()
  assert not 0.2 <= optimum_gc <= 0.4
  constraints = design.Constraints(fixed=fixed, gc_range=(0.2, 0.4))
  if method == "seqprop":
    out = design.seqprop(fn, design.maximise(0), n=4, length=LENGTH, steps=100,
                         constraints=constraints)
  else:
    x0 = design.random_start(4, LENGTH, constraints, seed=2)
    assert all(s[2:6] == "TATA" for s in _letters(x0))
    out = design.evolve(fn, design.maximise(0), x0, constraints, rounds=LENGTH)
  assert all(s[2:6] == "TATA" for s in _letters(out.x))
  assert ((out.gc >= 0.2 - 1e-6) & (out.gc <= 0.4 + 1e-6)).all(), out.gc
  # Still better than random sequences under the same constraints.
  random = design.random_start(64, LENGTH, constraints, seed=3)
  assert out.scores.min() > np.asarray(fn(random))[:, 0].max()


@pytest.mark.parametrize("method", ["seqprop", "evolve"])
def test_forbidden_motif_absent(method):
  fn, weights = _toy()
  optimum = _letters(np.eye(4)[weights.argmax(1)][None])[0]
  motif = design.Motif.consensus(optimum[5:11])
  constraints = design.Constraints(forbidden=(motif,), motif_weight=5.0)
  assert design.motif_hits(np.eye(4)[weights.argmax(1)][None], constraints)[0] == 1
  if method == "seqprop":
    out = design.seqprop(fn, design.maximise(0), n=4, length=LENGTH, steps=150,
                         constraints=constraints)
  else:
    x0 = design.random_start(4, LENGTH, constraints)
    assert (design.motif_hits(x0, constraints) == 0).all()
    out = design.evolve(fn, design.maximise(0), x0, constraints, rounds=LENGTH + 2)
  assert (out.forbidden_hits == 0).all()
  assert not any(optimum[5:11] in s for s in _letters(out.x))
  # One letter of the window differs from the optimum, the rest is optimal.
  assert (out.x.argmax(-1) != weights.argmax(1)).sum(1).max() <= 2


def test_mutant_hits_match_a_rescan():
  rng = np.random.default_rng(0)
  x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 30))]
  x[0, 4:8] = np.eye(4)[[2, 0, 0, 3]]  # GAAT ...
  constraints = design.Constraints(forbidden=(design.Motif.consensus("GAAT"),
                                              design.Motif.consensus("CCG")))
  fast = constraints_lib._mutant_hits(x, x.argmax(-1), constraints)
  for b in range(3):
    for position in range(30):
      for letter in range(4):
        mutant = x[b:b + 1].copy()
        mutant[0, position] = np.eye(4)[letter]
        assert fast[b, position, letter] == design.motif_hits(mutant, constraints)[0]


def test_project_gc_changes_the_cheapest_positions():
  x = np.eye(4, dtype=np.float32)[[[0, 0, 3, 3, 0]]]  # AATTA, GC 0
  logits = 3 * x  # each position prefers its own letter by 3
  logits[0, 3, 2] = 5.0  # G is almost as good as T at position 3
  logits[0, 3, 3] = 5.5
  constraints = design.Constraints(gc_range=(0.2, 0.4))
  out = constraints_lib.project_gc(x, logits, constraints)
  assert _letters(out) == ["AATGA"]
  with pytest.raises(ValueError, match="gc_range"):
    design.Constraints(gc_range=(0.6, 0.4))
