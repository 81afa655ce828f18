"""2-D contact-map blocks (genereg_jax.nn.conv2d) against NumPy and Basenji's layers."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.nn import conv2d
from genereg_jax.nn import layers


def _basenji_pairs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Basenji's OneToTwo construction: tile along the rows, then transpose."""
  batch, n, c = x.shape
  twod1 = np.tile(x, (1, n, 1)).reshape(batch, n, n, c)
  return twod1, np.transpose(twod1, (0, 2, 1, 3))


def test_one_to_two_matches_basenji_tiling():
  x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype(np.float32)
  twod1, twod2 = _basenji_pairs(x)
  np.testing.assert_allclose(conv2d.one_to_two(x, "mean"), (twod1 + twod2) / 2, rtol=1e-6)
  np.testing.assert_allclose(conv2d.one_to_two(x, "sum"), twod1 + twod2, rtol=1e-6)
  np.testing.assert_allclose(conv2d.one_to_two(x, "max"), np.maximum(twod1, twod2))
  np.testing.assert_allclose(conv2d.one_to_two(x, "concat"),
                             np.concatenate([twod1, twod2], -1))
  assert conv2d.one_to_two(x, "mean")[1, 2, 5, 0] == pytest.approx(
      (x[1, 2, 0] + x[1, 5, 0]) / 2)
  with pytest.raises(ValueError, match="valid"):
    conv2d.one_to_two(x, "median")


def test_concat_dist_symmetrize_and_crop():
  x = np.random.default_rng(1).normal(size=(2, 6, 6, 3)).astype(np.float32)
  with_dist = conv2d.concat_dist_2d(x)
  assert with_dist.shape == (2, 6, 6, 4)
  np.testing.assert_array_equal(with_dist[..., :3], x)
  np.testing.assert_array_equal(with_dist[1, :, :, 3],
                                np.abs(np.arange(6)[:, None] - np.arange(6)[None]))
  sym = conv2d.symmetrize(x)
  np.testing.assert_allclose(sym, np.swapaxes(sym, 1, 2))
  np.testing.assert_allclose(sym[0, 1, 4], (x[0, 1, 4] + x[0, 4, 1]) / 2, rtol=1e-6)
  np.testing.assert_array_equal(conv2d.crop_2d(x, 2), x[:, 2:4, 2:4])
  with pytest.raises(ValueError, match="cannot lose"):
    conv2d.crop_2d(x, 3)


@pytest.mark.parametrize("n,offset", [(7, 0), (7, 2), (448, 2)])
def test_upper_triangle_order_and_inverse(n, offset):
  full = np.arange(n * n, dtype=np.float32).reshape(1, n, n, 1)
  v = np.asarray(conv2d.upper_triangle(full, offset))
  rows, cols = np.triu_indices(n, offset)
  np.testing.assert_array_equal(v[0, :, 0], rows * n + cols)
  assert v.shape[1] == conv2d.num_pairs(n, offset)
  back = conv2d.from_upper_triangle(v, n, offset)
  upper = np.triu(np.ones((n, n), bool), offset)
  np.testing.assert_array_equal(back[0, :, :, 0][upper], full[0, :, :, 0][upper])
  np.testing.assert_array_equal(back[0, :, :, 0].T[upper], full[0, :, :, 0][upper])
  near = np.abs(np.arange(n)[:, None] - np.arange(n)[None]) < offset
  assert np.isnan(back[0, :, :, 0][near]).all()
  # One map in, one map out.
  np.testing.assert_array_equal(conv2d.from_upper_triangle(v[0, :, 0], n, offset),
                                back[0, :, :, 0])


def test_num_pairs_and_inverse_checks():
  assert conv2d.num_pairs(448, 2) == 99_681  # Akita's UpperTri output (keras_print.txt).
  assert conv2d.num_pairs(250, 0) == 31_375
  with pytest.raises(ValueError, match="not the upper triangle"):
    conv2d.from_upper_triangle(np.zeros((1, 10, 1)), 6, 0)
  with pytest.raises(ValueError, match="square"):
    conv2d.upper_triangle(np.zeros((1, 4, 5, 1)), 0)


def test_upper_triangle_is_jittable_and_keeps_jax_arrays():
  x = jnp.arange(2 * 5 * 5 * 3, dtype=jnp.float32).reshape(2, 5, 5, 3)
  v = jax.jit(conv2d.upper_triangle, static_argnums=1)(x, 1)
  back = conv2d.from_upper_triangle(v, 5, 1, fill=0.0)
  assert isinstance(back, jax.Array)
  np.testing.assert_array_equal(np.triu(back[1, :, :, 2], 1), np.triu(x[1, :, :, 2], 1))


def test_conv_2d_kernel_axes():
  conv = layers.conv(8, 3, dilation=2, spatial_dims=2, name="c")
  boxed = conv.init(jax.random.key(0), jnp.zeros((1, 9, 9, 5)))
  kernel = boxed["params"]["kernel"]
  assert kernel.names == ("conv_height", "conv_width", "conv_in", "conv_out")
  assert kernel.value.shape == (3, 3, 5, 8)
  assert conv.apply(boxed, jnp.zeros((1, 9, 9, 5))).shape == (1, 9, 9, 8)


def test_dilated_residual_2d_parameters_symmetry_and_identity_at_init():
  tower = conv2d.DilatedResidual2D(24, 6, dropout_rate=0.1)
  assert tower.dilations == [1, 2, 3, 5, 9, 16]  # Akita's head: x1.75, not rounded.
  x = jax.random.normal(jax.random.key(0), (2, 20, 20, 48))
  variables = nn.meta.unbox(tower.init(jax.random.key(1), x))
  count = sum(a.size for a in jax.tree.leaves(variables["params"]))
  # Per block: 3x3x48x24 + 1x1x24x48 kernels (no bias) + 2 x (24 + 48) batch-norm
  # scale/offset = 11,664 (Keras: 10,368 + 1,152 + 48 + 96 trainable).
  assert count == 6 * 11_664
  kernel = variables["params"]["block_2"]["dilated"]["conv"]["kernel"]
  assert kernel.shape == (3, 3, 48, 24)
  y = tower.apply(variables, x)
  # Zero-initialised scales make every residual branch vanish: the symmetrised input.
  np.testing.assert_allclose(y, conv2d.symmetrize(x), atol=1e-6)
  noisy = jax.tree.map(lambda a: a + 0.1, variables)
  y, updates = tower.apply(noisy, x, train=True, rngs={"dropout": jax.random.key(2)},
                           mutable=["batch_stats"])
  np.testing.assert_allclose(y, np.swapaxes(y, 1, 2), atol=1e-5)
  assert not np.allclose(y, conv2d.symmetrize(x), atol=1e-3)
  assert jax.tree.structure(updates["batch_stats"]) == jax.tree.structure(
      variables["batch_stats"])
