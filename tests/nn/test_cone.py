"""Receptive-cone reuse (genereg_jax.nn.cone) equals recomputing the whole model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.models import bpnet as bpnet_lib
from genereg_jax.nn import cone

TOLERANCE = 1e-5


def _conv(kernel, x, dilation):
  return jax.lax.conv_general_dilated(x, kernel, (1,), "VALID", rhs_dilation=(dilation,),
                                      dimension_numbers=("NWC", "WIO", "NWC"))


def _skip_tower(padding, seed=0, channels=3):
  """Stem, two residual convs and a running skip sum of 1x1 convs (SpliceAI's shape)."""
  keys = iter(jax.random.split(jax.random.PRNGKey(seed), 8))
  kernel = lambda w, c_in: jax.random.normal(next(keys), (w, c_in, channels)) * 0.5
  stem, skip0, skip1 = kernel(1, 4), kernel(1, channels), kernel(1, channels)
  convs = [(kernel(3, channels), 2), (kernel(5, channels), 1)]

  def residual(state, k, d):
    x, skip = state
    r = d * (k.shape[0] - 1) // 2
    n = x.shape[1] - 2 * r
    return (x[:, r:r + n] + jnp.tanh(_conv(k, x, d)), skip[:, r:r + n])

  layers = [cone.Layer(lambda x: (_conv(stem, x, 1), _conv(skip0, _conv(stem, x, 1), 1)),
                       0)]
  layers += [cone.Layer(lambda s, k=k, d=d: residual(s, k, d), d * (k.shape[0] - 1) // 2)
             for k, d in convs]
  layers.append(cone.Layer(lambda s: (s[0], s[1] + _conv(skip1, s[0], 1)), 0))
  return cone.Tower(layers, padding)


def _mutant(x, position, letter):
  return x.at[:, position].set(jax.nn.one_hot(letter, 4))


def _sequences(batch, length, seed=0):
  rng = np.random.default_rng(seed)
  return jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch, length))])


def test_same_padding_cone_equals_full_tower_near_both_ends():
  tower = _skip_tower("same")
  x = _sequences(2, 40)
  cache = cone.prepare(tower, x)
  final = jax.jit(lambda p, v: cone.mutant_final(tower, cache, p, v))
  for position in (0, 1, 2, 5, 20, 37, 38, 39):
    letter = (position + 1) % 4
    value = jnp.broadcast_to(jax.nn.one_hot(letter, 4), (2, 1, 4))
    expected = tower(_mutant(x, position, letter))
    got = final(position, value)
    for e, g in zip(expected, got):
      assert float(jnp.max(jnp.abs(e - g))) < TOLERANCE, position
  # The cone really is narrower than the tower: only 2 * (2 + 2) + 1 positions change.
  assert cone.mutant_cone(tower, cache, 20, value)[0].shape[1] == 9


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_span_of_positions_equals_each_mutant_alone(padding):
  # Mutants at adjacent positions run as one batch over the union of their cones.
  tower = _skip_tower(padding)
  x = _sequences(2, 40)
  cache = cone.prepare(tower, x)
  start, span = (0, 4) if padding == "same" else (16, 3)
  rows = []
  for k in range(span):
    rows.append(x[:, start:start + span].at[:, k].set(jax.nn.one_hot((start + k + 1) % 4, 4)))
  final = cone.mutant_final(tower, cache, start, jnp.concatenate(rows))
  for k in range(span):
    expected = tower(_mutant(x, start + k, (start + k + 1) % 4))
    for e, g in zip(expected, final):
      assert float(jnp.max(jnp.abs(e - g[2 * k:2 * k + 2]))) < TOLERANCE, k
  assert cone.mutant_cone(tower, cache, start, rows[0])[0].shape[1] == 2 * 4 + span


def test_same_padding_tower_is_zero_padded_convolution():
  tower = _skip_tower("same")
  x = _sequences(1, 30)
  x_state, _ = tower(x)
  assert x_state.shape == (1, 30, 3)
  # A change at position 0 reaches positions 0..4 only (half-widths 2 + 2).
  moved, _ = tower(_mutant(x, 0, (int(jnp.argmax(x[0, 0])) + 1) % 4))
  assert float(jnp.max(jnp.abs(moved - x_state)[:, 5:])) == 0.0
  assert float(jnp.max(jnp.abs(moved - x_state)[:, 4])) > 0.0


@pytest.mark.parametrize("out_radius", [0, 2, None])
def test_valid_padding_cone_with_out_radius(out_radius):
  tower = _skip_tower("valid", seed=1)
  x = _sequences(2, 50, seed=1)
  reach = tower.reaches[-1]  # 6: the final state starts at input position 6.
  cache = cone.prepare(tower, x, out_radius=out_radius)
  radius = reach if out_radius is None else out_radius
  for position in (reach + radius, 25, 50 - 1 - reach - radius):
    value = jnp.broadcast_to(jax.nn.one_hot(3, 4), (2, 1, 4))
    got = cone.mutant_cone(tower, cache, position, value)
    expected = tower(_mutant(x, position, 3))
    lo = position - radius - reach
    for e, g in zip(expected, got):
      assert g.shape[1] == 2 * radius + 1
      assert float(jnp.max(jnp.abs(e[:, lo:lo + 2 * radius + 1] - g))) < TOLERANCE


def test_widths_meet_the_backward_cone():
  tower = _skip_tower("valid")
  assert tower.reaches == [0, 0, 2, 4, 4]
  assert tower.widths() == [0, 0, 2, 4, 4]
  assert tower.widths(out_radius=1) == [0, 0, 2, 1, 1]
  with pytest.raises(ValueError, match="padding"):
    cone.Tower([], "reflect")


@pytest.fixture(scope="module")
def tiny_bpnet():
  model = bpnet_lib.bpnet("tiny", n_control_tracks=0)
  x = _sequences(2, model.min_input_length + 20, seed=2)
  params = model.init(jax.random.PRNGKey(0), x)["params"]
  # Random biases so "same" padding and the cone's masking matter.
  params = jax.tree.map(lambda p: p + 0.1, params)
  return model, params, x


def test_bpnet_split_equals_model(tiny_bpnet):
  model, params, x = tiny_bpnet
  split = bpnet_lib.cone_model(model, params)
  # cone_model's head runs the profile convolution as a matmul (profile_conv_matmul):
  # compare with the same arithmetic (it differs from the convolution in rounding).
  expected = model.clone(profile_conv_matmul=True).apply({"params": params}, x)
  got = split(x)
  for key in expected:
    assert float(jnp.max(jnp.abs(expected[key] - got[key]))) < TOLERANCE


def test_bpnet_cone_equals_model_on_mutants_incl_ends(tiny_bpnet):
  model, params, x = tiny_bpnet
  split = bpnet_lib.cone_model(model, params, readout=lambda y: y["profile_logits"])
  cache = cone.prepare(split.tower, x)
  run = jax.jit(lambda p, v: split.head(cone.mutant_final(split.tower, cache, p, v)))
  length = x.shape[1]
  for position in (0, 3, length // 2, length - 4, length - 1):
    value = jnp.broadcast_to(jax.nn.one_hot(position % 4, 4), (2, 1, 4))
    expected = model.clone(profile_conv_matmul=True).apply(
        {"params": params}, _mutant(x, position, position % 4))
    got = run(position, value)
    assert float(jnp.max(jnp.abs(expected["profile_logits"] - got))) < TOLERANCE


def test_bpnet_cone_ism_equals_plain_ism(tiny_bpnet):
  from genereg_jax import interpret
  model, params, x = tiny_bpnet
  readout = lambda y: y["log_counts"]
  split = bpnet_lib.cone_model(model, params, readout=readout)
  fn = lambda s: readout(model.apply({"params": params}, s))
  x = np.asarray(x)
  plain = interpret.ism(fn, x, start=0, end=12)
  fast = interpret.ism(fn, x, start=0, end=12, fast=split, batch_size=5)
  assert fast.shape == (2, 12, 4, 1)
  np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)
  tail = interpret.ism(fn, x, start=x.shape[1] - 3, fast=split)
  np.testing.assert_allclose(tail, interpret.ism(fn, x, start=x.shape[1] - 3),
                             rtol=1e-5, atol=1e-5)


def test_spliceai_cone_equals_model_on_mutants():
  from genereg_jax.models import spliceai
  model = spliceai.SpliceAI(**spliceai.PRESETS["tiny"])  # context 24: 12 each side
  x = _sequences(2, 60, seed=3)
  variables = jax.tree.map(lambda a: a + 0.1, model.init(jax.random.PRNGKey(1), x))
  split = spliceai.cone_split(model, variables)
  np.testing.assert_allclose(split(x), model.apply(variables, x), atol=1e-6)
  radius, half = 3, model.context // 2
  cache = cone.prepare(split.tower, x, out_radius=radius)
  for position in (half + radius, 30, 60 - 1 - half - radius):
    value = jnp.broadcast_to(jax.nn.one_hot(position % 4, 4), (2, 1, 4))
    got = split.head(cone.mutant_cone(split.tower, cache, position, value))
    expected = model.apply(variables, _mutant(x, position, position % 4))
    lo = position - half - radius  # output j is input position j + half
    np.testing.assert_allclose(got, expected[:, lo:lo + 2 * radius + 1], atol=TOLERANCE)
