"""Capsules: routing against a NumPy Procedure 1, squash, lengths, margin loss, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.linen import meta

from genereg_jax.nn import capsules


def _numpy_procedure_1(u_hat: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
  """Sabour, Frosst & Hinton 2017, Procedure 1, written out loop by loop in float64.

  ``u_hat [num_inputs i, num_parents j, dim]`` for one example.
  """
  num_inputs, num_parents, _ = u_hat.shape
  b = np.zeros((num_inputs, num_parents))
  for _ in range(r):
    c = np.exp(b) / np.exp(b).sum(axis=1, keepdims=True)  # softmax over parents j
    s = np.stack([sum(c[i, j] * u_hat[i, j] for i in range(num_inputs))
                  for j in range(num_parents)])
    norm2 = (s ** 2).sum(axis=1, keepdims=True)
    v = norm2 / (1 + norm2) * s / np.sqrt(norm2)
    for i in range(num_inputs):
      for j in range(num_parents):
        b[i, j] += u_hat[i, j] @ v[j]
  return v, c


@pytest.mark.parametrize("iterations", [1, 3, 5])
@pytest.mark.parametrize("stop_gradient", [False, True])
def test_routing_matches_numpy_procedure_1(iterations, stop_gradient):
  rng = np.random.default_rng(iterations)
  u_hat = rng.normal(size=(3, 7, 4, 5)).astype(np.float32)  # [batch, inputs, parents, dim]
  v, c = capsules.dynamic_routing(jnp.asarray(u_hat), iterations, stop_gradient=stop_gradient)
  for example in range(3):
    want_v, want_c = _numpy_procedure_1(u_hat[example].astype(np.float64), iterations)
    np.testing.assert_allclose(v[example], want_v, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c[example], want_c, rtol=1e-4, atol=1e-5)
  # Routing is not uniform after the first update: agreement moved the coefficients.
  if iterations > 1:
    assert float(jnp.abs(c - 1 / 4).max()) > 0.05
  with pytest.raises(ValueError, match="num_iterations"):
    capsules.dynamic_routing(jnp.asarray(u_hat), 0)


def test_squash_keeps_direction_and_maps_length_into_unit_interval():
  rng = np.random.default_rng(0)
  s = rng.normal(size=(50, 8)) * np.logspace(-3, 2, 50)[:, None]
  v = np.asarray(capsules.squash(jnp.asarray(s, jnp.float32)))
  norm_s = np.linalg.norm(s, axis=1)
  np.testing.assert_allclose(np.linalg.norm(v, axis=1), norm_s ** 2 / (1 + norm_s ** 2),
                             rtol=1e-4, atol=1e-7)
  cosine = (v * s).sum(1) / np.linalg.norm(v, axis=1) / norm_s
  np.testing.assert_allclose(cosine, 1.0, rtol=1e-5)
  assert np.isfinite(np.asarray(jax.grad(lambda x: capsules.squash(x).sum())(jnp.zeros(8)))).all()


def test_class_capsule_lengths_stay_in_open_unit_interval():
  rng = np.random.default_rng(1)
  x = jnp.asarray(rng.normal(size=(4, 33, 21)) * 3, jnp.float32)
  primary = capsules.PrimaryCapsules(num_capsules=6, capsule_dim=8, kernel_size=20)
  p_vars = primary.init(jax.random.key(0), x)
  u = primary.apply(p_vars, x)
  assert u.shape == (4, (33 - 20 + 1) * 6, 8)
  # Capsules are consecutive 8-channel slices of the convolution at each position.
  conv = meta.unbox(p_vars)["params"]["conv"]
  raw = jax.lax.conv_general_dilated(x, conv["kernel"], (1,), "VALID",
                                     dimension_numbers=("NWC", "WIO", "NWC")) + conv["bias"]
  np.testing.assert_allclose(u[:, 6 * 2 + 3], capsules.squash(raw[:, 2, 24:32]), rtol=1e-5,
                             atol=1e-6)
  layer = capsules.ClassCapsules(num_capsules=2, capsule_dim=10)
  variables = layer.init(jax.random.key(1), u)
  assert meta.unbox(variables)["params"]["weights"].shape == (84, 2, 10, 8)
  v, state = layer.apply(variables, u, mutable=["intermediates"])
  lengths = np.asarray(capsules.capsule_length(v))
  assert v.shape == (4, 2, 10)
  assert ((lengths > 0) & (lengths < 1)).all()
  coupling = state["intermediates"]["coupling"][0]
  np.testing.assert_allclose(coupling.sum(-1), 1.0, rtol=1e-5)


def test_routing_gradient_modes_differ_only_in_gradients():
  rng = np.random.default_rng(2)
  u_hat = jnp.asarray(rng.normal(size=(2, 6, 3, 4)), jnp.float32)
  loss = lambda u, stop: capsules.capsule_length(  # noqa: E731
      capsules.dynamic_routing(u, 3, stop_gradient=stop)[0]).sum()
  np.testing.assert_allclose(loss(u_hat, False), loss(u_hat, True), rtol=1e-6)
  flowing, stopped = jax.grad(loss)(u_hat, False), jax.grad(loss)(u_hat, True)
  assert np.isfinite(flowing).all() and np.isfinite(stopped).all()
  assert float(jnp.abs(flowing - stopped).max()) > 1e-4


def test_margin_loss_values():
  lengths = jnp.array([[0.95, 0.05], [0.5, 0.5], [0.0, 1.0]])
  targets = jnp.array([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
  # Inside both margins -> 0; 0.5 present: (0.9-0.5)^2, 0.5 absent: 0.5 (0.5-0.1)^2;
  # two present classes (multi-label) each pay their own term.
  want = np.array([[0.0, 0.0], [0.16, 0.08], [0.81, 0.0]])
  np.testing.assert_allclose(capsules.margin_loss(lengths, targets), want, atol=1e-6)


def test_reconstruction_decoder_masks_all_but_one_capsule():
  rng = np.random.default_rng(3)
  v = capsules.squash(jnp.asarray(rng.normal(size=(5, 2, 10)), jnp.float32))
  decoder = capsules.ReconstructionDecoder(output_shape=(33, 21), hidden_features=(16, 32))
  variables = decoder.init(jax.random.key(0), v)
  longest = decoder.apply(variables, v)
  assert longest.shape == (5, 33, 21)
  assert ((longest > 0) & (longest < 1)).all()
  # With no mask the longest capsule is kept: equal to masking it by hand.
  mask = jax.nn.one_hot(jnp.argmax(capsules.capsule_length(v), -1), 2)
  np.testing.assert_allclose(longest, decoder.apply(variables, v, mask), rtol=1e-6)
  # The other capsule's values do not reach the output.
  other = v.at[jnp.arange(5), 1 - jnp.argmax(capsules.capsule_length(v), -1)].set(0.3)
  np.testing.assert_allclose(decoder.apply(variables, other, mask), longest, rtol=1e-6)
  target = jnp.zeros((5, 33, 21))
  np.testing.assert_allclose(capsules.reconstruction_loss(longest, target),
                             np.square(np.asarray(longest)).reshape(5, -1).sum(1), rtol=1e-5)
