"""Fast ISM (fastISM) gives plain ISM's outputs; ISM outputs are the mutants' outputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import interpret
from interpret_models import onehot

# A dilated conv trunk: widths 5 and 3 (dilation 2) with biases and ReLU, so the zero
# "same" padding of the second layer differs from zero-padding the input. Receptive
# field 1 + 4 + 4 = 9.
RNG = np.random.default_rng(0)
W1 = RNG.normal(size=(5, 4, 6)).astype(np.float32)
B1 = RNG.normal(size=(6,)).astype(np.float32)
W2 = (RNG.normal(size=(3, 6, 5)) / 3).astype(np.float32)
B2 = RNG.normal(size=(5,)).astype(np.float32)
W3 = RNG.normal(size=(5, 2)).astype(np.float32)


def conv(x, w, dilation=1):
  return jax.lax.conv_general_dilated(x, w, (1,), "SAME", rhs_dilation=(dilation,),
                                      dimension_numbers=("NWC", "WIO", "NWC"))


def trunk(x):
  h = jax.nn.relu(conv(x, W1) + B1)
  return jax.nn.relu(conv(h, W2, dilation=2) + B2)


def head(h):
  return jnp.tanh(h.max(axis=1)) @ W3 + jnp.log1p(h.mean(axis=1)).sum(-1, keepdims=True)


def fn(x):
  return head(trunk(x))


def test_ism_outputs_are_the_mutants_outputs():
  x = onehot(np.random.default_rng(1), 2, 30)
  raw = interpret.ism(fn, x, start=3, end=9, batch_size=5)
  assert raw.shape == (2, 6, 4, 2)
  for position in (3, 8):
    for letter in range(4):
      mutant = x.copy()
      mutant[:, position] = np.eye(4)[letter]
      np.testing.assert_allclose(raw[:, position - 3, letter], fn(mutant), rtol=1e-5,
                                 atol=1e-5)
  with pytest.raises(ValueError, match="start < end"):
    interpret.ism(fn, x, start=9, end=9)


@pytest.mark.parametrize("start, end", [(None, None), (10, 22)])
def test_fast_ism_equals_plain_ism(start, end):
  x = onehot(np.random.default_rng(2), 3, 40)
  x[1, 20] = 0  # an N
  spec = interpret.ConvTrunk(trunk, head, receptive_field=9)
  plain = interpret.ism(fn, x, start, end)
  fast = interpret.ism(fn, x, start, end, fast=spec, batch_size=7)
  np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)
  # A receptive field that is too small is caught by the comparison.
  if start is None:
    wrong = interpret.ism(fn, x, fast=interpret.ConvTrunk(trunk, head, 5))
    assert np.abs(wrong - plain).max() > 1e-3
  np.testing.assert_allclose(
      interpret.ism_attributions(fn, x, 1, start, end, fast=spec),
      interpret.ism_attributions(fn, x, 1, start, end), rtol=1e-5, atol=1e-5)
