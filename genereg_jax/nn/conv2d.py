"""2-D blocks for contact maps: 1-D features to pairs, distance, symmetry, upper triangles.

The head of Akita (Fudenberg, Nat. Methods 2020), as in ``basenji/layers.py`` and
``basenji/blocks.py`` of calico/basenji, and the pairwise step of Orca (Zhou, Nat.
Genet. 2022):

  one_to_two          ``[batch, bins, C] -> [batch, bins, bins, C]``: position (i, j)
                      holds the mean of bins i and j (Akita's ``OneToTwo("mean")``) or
                      their sum (Orca's decoder input)
  concat_dist_2d      appends ``|i - j|`` in bins as one more channel (``ConcatDist2D``)
  symmetrize          ``(x + x^T) / 2`` over the two map axes (``Symmetrize2D``)
  crop_2d             drops ``crop`` bins at each end of both axes (``Cropping2D``)
  upper_triangle      the entries ``np.triu_indices(n, offset)`` in that (row-major)
                      order (``UpperTri``); ``from_upper_triangle`` puts them back
  DilatedResidual2D   Basenji's ``dilated_residual_2d``: pre-activation residual
                      blocks (``genereg_jax.nn.residual.DilatedResidualBlock`` with
                      2-D convolutions) with dilations ``round(rate_mult**k)``, each
                      followed by ``symmetrize``

All maps are channels-last ``[batch, rows, cols, channels]``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.nn import residual

Array = jax.Array
Dtype = Any

PAIR_OPERATIONS = ("mean", "sum", "max", "multiply", "concat")


def one_to_two(x: Array, operation: str = "mean") -> Array:
  """Pairs of bins: ``[batch, bins, C] -> [batch, bins, bins, C]`` (``2 C`` for concat).

  ``"mean"`` is Akita's ``OneToTwo``; ``"sum"`` Orca's ``x[:, :, None] + x[:, None]``;
  ``"concat"`` puts bin j's features before bin i's at (i, j), as Basenji's.
  """
  rows, cols = x[:, :, None, :], x[:, None, :, :]
  if operation == "mean":
    return (rows + cols) / 2
  if operation == "sum":
    return rows + cols
  if operation == "max":
    return jnp.maximum(rows, cols)
  if operation == "multiply":
    return rows * cols
  if operation == "concat":
    n = x.shape[1]
    return jnp.concatenate([jnp.broadcast_to(cols, (x.shape[0], n, n, x.shape[-1])),
                            jnp.broadcast_to(rows, (x.shape[0], n, n, x.shape[-1]))], -1)
  raise ValueError(f"unknown pair operation {operation!r}; valid: {list(PAIR_OPERATIONS)}")


def distance_map(n: int, dtype: Dtype = jnp.float32) -> Array:
  """``|i - j|`` for ``i, j < n``: ``[n, n]``, in bins (Akita does not rescale it)."""
  positions = jnp.arange(n)
  return jnp.abs(positions[:, None] - positions[None, :]).astype(dtype)


def concat_dist_2d(x: Array) -> Array:
  """Appends the bin distance ``|i - j|`` as a last channel (Akita's ``ConcatDist2D``)."""
  dist = distance_map(x.shape[1], x.dtype)
  dist = jnp.broadcast_to(dist[None, :, :, None], (*x.shape[:3], 1))
  return jnp.concatenate([x, dist], axis=-1)


def symmetrize(x: Array) -> Array:
  """``(x + x^T) / 2`` over the map axes of ``[batch, n, n, C]``."""
  return (x + jnp.swapaxes(x, 1, 2)) / 2


def crop_2d(x: Array, crop: int) -> Array:
  """Removes ``crop`` bins from each end of both map axes (Keras ``Cropping2D(crop)``)."""
  if crop == 0:
    return x
  n = x.shape[1]
  if n <= 2 * crop:
    raise ValueError(f"a {n}-bin map cannot lose {crop} bins at each end")
  return x[:, crop:n - crop, crop:n - crop]


def triu_indices(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
  """Rows and columns of the upper triangle, ``np.triu_indices(n, offset)``."""
  if offset < 0:
    raise ValueError(f"diagonal offset must be >= 0, got {offset}")
  return np.triu_indices(n, offset)


def num_pairs(n: int, offset: int) -> int:
  """Entries of the upper triangle of an ``n x n`` map from diagonal ``offset``.

  Akita: ``num_pairs(448, 2) == 99_681``; Orca 1 Mb: ``num_pairs(250, 0) == 31_375``.
  """
  m = max(n - offset, 0)
  return m * (m + 1) // 2


def upper_triangle(x: Array, offset: int) -> Array:
  """``[..., n, n, C] -> [..., n_pairs, C]`` in the row-major order of ``np.triu_indices``.

  Akita's ``UpperTri(diagonal_offset)``: diagonals below ``offset`` are dropped.
  """
  n = x.shape[-3]
  if x.shape[-2] != n:
    raise ValueError(f"upper_triangle needs a square map, got {x.shape}")
  rows, cols = triu_indices(n, offset)
  return x[..., rows, cols, :]


def from_upper_triangle(v, n: int, offset: int, fill: float = np.nan):
  """The symmetric map whose upper triangle is ``v``: ``[..., n_pairs, C]`` ->
  ``[..., n, n, C]``, or one map ``[n_pairs]`` -> ``[n, n]``.

  The inverse of ``upper_triangle`` for plots and insulation scores: entries (i, j) and
  (j, i) both take the value of pair ``(min, max)``; diagonals closer than ``offset``
  hold ``fill``. NumPy in, NumPy out; JAX arrays stay JAX arrays.
  """
  if v.ndim == 1:
    return from_upper_triangle(v[:, None], n, offset, fill)[..., 0]
  if v.shape[-2] != num_pairs(n, offset):
    raise ValueError(f"{v.shape[-2]} pairs is not the upper triangle of a {n}x{n} map "
                     f"from diagonal {offset} ({num_pairs(n, offset)} pairs)")
  xp = jnp if isinstance(v, jax.Array) else np
  rows, cols = triu_indices(n, offset)
  index = np.zeros((n, n), np.int64)
  index[rows, cols] = np.arange(rows.size)
  index[cols, rows] = np.arange(rows.size)
  known = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) >= offset
  dense = v[..., index, :]
  if not xp.issubdtype(dense.dtype, xp.floating):
    dense = dense.astype(np.float32)
  return xp.where(known[:, :, None], dense, xp.asarray(fill, dense.dtype))


class DilatedResidual2D(nn.Module):
  """Basenji's ``dilated_residual_2d`` (Akita's 2-D tower) on ``[batch, n, n, channels]``.

  ``num_blocks`` residual blocks ``x + B2(B1(x))`` (``B1``: activation, k x k
  convolution of ``features`` channels and dilation ``round(rate_mult**k)``, batch
  norm; ``B2``: activation, 1 x 1 convolution back to the input width, batch norm with
  zero-initialised scale, dropout), each followed by ``symmetrize`` when ``symmetric``.
  Akita: 6 blocks, 24 features, k = 3, dilations 1, 2, 3, 5, 9, 16 (x1.75, not rounded
  between blocks), dropout 0.1.

  Attributes:
    features: bottleneck channels.
    num_blocks: residual blocks.
    rate_mult: dilation growth per block.
    kernel_size: width of the dilated convolutions.
    dropout_rate: dropout of each block's pointwise branch.
    symmetric: symmetrise after every block.
    activation: pre-activation (Akita: ``"relu"``).
    bn_momentum: batch-norm momentum.
    bn_epsilon: batch-norm epsilon.
    dtype: compute dtype.
    remat: rematerialise each block in the backward pass
      (`genereg_jax.nn.residual.residual_block`).
  """
  features: int
  num_blocks: int
  rate_mult: float = 1.75
  kernel_size: int = 3
  dropout_rate: float = 0.0
  symmetric: bool = True
  activation: str = "relu"
  bn_momentum: float = 0.9
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  remat: bool = False

  @property
  def dilations(self) -> list[int]:
    """Dilation of each block (Akita: 1, 2, 3, 5, 9, 16)."""
    return residual.dilation_rates(self.num_blocks, self.rate_mult, round_rates=False)

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[batch, n, n, channels] -> [batch, n, n, channels]``."""
    block = residual.residual_block(self.remat)
    for i, rate in enumerate(self.dilations):
      x = block(
          self.features, rate, kernel_size=self.kernel_size,
          dropout_rate=self.dropout_rate, activation=self.activation,
          bn_momentum=self.bn_momentum, bn_epsilon=self.bn_epsilon, dtype=self.dtype,
          spatial_dims=2, name=f"block_{i}")(x, train)
      if self.symmetric:
        x = symmetrize(x)
    return x
