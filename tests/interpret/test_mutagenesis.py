"""Fast ISM (fastISM) gives plain ISM's outputs; ISM outputs are the mutants' outputs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import interpret
from genereg_jax import nn as gnn
from genereg_jax.interpret import mutagenesis
from genereg_jax.models import deepsea
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



def test_strided_fast_ism_equals_plain_ism_on_deepsea():
  """Per-layer fast ISM through valid convs and max-pools, with the first dense layer
  as REF + W[changed] · Δh, equals plain ISM, ends included."""
  model = deepsea.DeepSEA(**deepsea.PRESETS["tiny"])
  x = onehot(np.random.default_rng(3), 2, 121)
  params = model.init(jax.random.PRNGKey(0), x[:1])["params"]
  fn = lambda s: model.apply({"params": params}, s)
  spec = deepsea.strided_trunk(model, params)
  plain = interpret.ism(fn, x, batch_size=64)
  np.testing.assert_allclose(interpret.ism(fn, x, fast=spec, batch_size=37), plain,
                             rtol=1e-5, atol=1e-5)
  x[0, 60] = 0  # an N: every letter is run
  np.testing.assert_allclose(interpret.ism(fn, x, 50, 70, fast=spec),
                             interpret.ism(fn, x, 50, 70), rtol=1e-5, atol=1e-5)


def test_strided_fast_ism_with_overlapping_pools_and_no_dense():
  """Pool strides unlike the sizes (CpGenie's 5 / 3) and a head on the whole trunk."""
  tower = gnn.ConvTower((6, 5, 3), (5, 3, 3), (5, 3, 1), (0.0,) * 3, pool_strides=(3, 2, 1))
  x = onehot(np.random.default_rng(4), 2, 97)
  variables = tower.init(jax.random.PRNGKey(1), x, train=False)
  head = lambda h: jnp.tanh(h.max(axis=1)) + h.mean(axis=1)
  fn = lambda s: head(tower.apply(variables, s, train=False))
  spec = interpret.StridedTrunk(mutagenesis.conv_tower_layers(tower, variables), head)
  np.testing.assert_allclose(interpret.ism(fn, x, fast=spec), interpret.ism(fn, x),
                             rtol=1e-5, atol=1e-5)
