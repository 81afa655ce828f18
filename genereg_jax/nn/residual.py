"""Pre-activation conv blocks and dilated residual towers (Basenji, Basenji2).

The blocks of Kelley et al., "Sequential regulatory activity prediction across
chromosomes with deep convolutional and recurrent neural networks" (Genome Res.
2018) and "Cross-species regulatory sequence activity prediction" (PLoS Comput.
Biol. 2020, "Basenji2"), as in ``basenji/blocks.py`` of calico/basenji:

  conv block        activation -> conv (no bias) -> batch norm -> dropout
                    -> max-pool
  dilated residual  x + conv block(k=1 back to the input width, dropout,
                    batch-norm scale initialised to 0)(conv block(k=3,
                    bottleneck width, dilation r)), with r growing geometrically

All work on channels-last ``[batch, length, channels]``. Batch norm follows
Keras: running averages with momentum 0.9 (Basenji2's ``bn_momentum``) and
epsilon 1e-3; batch statistics when ``train``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import layers

Array = jax.Array
Dtype = Any


def sigmoid_gelu(x: Array) -> Array:
  """GELU as ``sigmoid(1.702 x) x``, the approximation of Basenji/Enformer."""
  return jax.nn.sigmoid(1.702 * x) * x


def activation(name: str) -> Callable[[Array], Array]:
  """``"sigmoid_gelu"`` or any name of ``genereg_jax.nn.layers.ACTIVATIONS``."""
  if name == "sigmoid_gelu":
    return sigmoid_gelu
  try:
    return layers.activation(name)
  except ValueError:
    valid = sorted([*layers.ACTIVATIONS, "sigmoid_gelu"])
    raise ValueError(f"unknown activation {name!r}; valid: {valid}") from None


def dilation_rates(num_blocks: int, rate_mult: float = 1.5,
                   round_rates: bool = True) -> list[int]:
  """Dilation of each block of a dilated residual tower.

  The rate starts at 1 and is multiplied by ``rate_mult`` after each block;
  with ``round_rates`` the running rate is itself rounded (half to even, as
  NumPy), otherwise only the rate used is. Basenji2 (11 blocks, x1.5, rounded):
  1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72.
  """
  rates, rate = [], 1.0
  for _ in range(num_blocks):
    rates.append(int(round(rate)))
    rate *= rate_mult
    if round_rates:
      rate = float(round(rate))
  return rates


def _named(init: nn.initializers.Initializer, *names: str):
  return nn.with_logical_partitioning(init, names)


class PreActivationConvBlock(nn.Module):
  """Basenji's ``conv_block``: activation, conv, batch norm, dropout, pool.

  ``[batch, length, in] -> [batch, ceil(length / pool_size), features]``;
  "same" zero padding keeps the length through the convolution (any dilation).

  Attributes:
    features: output channels.
    kernel_size: convolution width.
    dilation: convolution dilation.
    pool_size: max-pool window and stride ("same" padding); 1 for none.
    dropout_rate: dropout after batch norm.
    activation: name for ``activation`` (Basenji2: ``"sigmoid_gelu"``).
    batch_norm: with batch norm the convolution has no bias (as Basenji);
      without it, a bias.
    zero_init_scale: initialise the batch-norm scale to 0, so a residual
      branch starts as the identity (Basenji's ``norm_gamma="zeros"``).
    bn_momentum: running-average momentum.
    bn_epsilon: variance epsilon (Keras' 1e-3).
    dtype: compute dtype.
    spatial_dims: 2 for Basenji's ``conv_block_2d`` on ``[batch, rows, cols,
      channels]`` (square kernels, dilations and pools), as Akita's head.
  """
  features: int
  kernel_size: int = 1
  dilation: int = 1
  pool_size: int = 1
  dropout_rate: float = 0.0
  activation: str = "sigmoid_gelu"
  batch_norm: bool = True
  zero_init_scale: bool = False
  bn_momentum: float = 0.9
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  spatial_dims: int = 1

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[batch, length, in] -> [batch, length / pool_size, features]``."""
    x = activation(self.activation)(x)
    x = layers.conv(self.features, self.kernel_size, dilation=self.dilation,
                    padding="SAME", use_bias=not self.batch_norm,
                    dtype=self.dtype, name="conv",
                    spatial_dims=self.spatial_dims)(x)
    if self.batch_norm:
      scale_init = (nn.initializers.zeros_init() if self.zero_init_scale
                    else nn.initializers.ones_init())
      x = nn.BatchNorm(
          use_running_average=not train, momentum=self.bn_momentum,
          epsilon=self.bn_epsilon, dtype=self.dtype,
          scale_init=_named(scale_init, "norm"),
          bias_init=_named(nn.initializers.zeros_init(), "norm"),
          name="norm")(x)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    if self.pool_size > 1:
      window = (self.pool_size,) * self.spatial_dims
      x = nn.max_pool(x, window, strides=window, padding="SAME")
    return x


class DilatedResidualBlock(nn.Module):
  """One Basenji2 dilated residual block on ``[batch, length, channels]``.

  ``x + B2(B1(x))``: ``B1`` a pre-activation conv block of ``features``
  (bottleneck) channels, width ``kernel_size`` and dilation ``dilation``;
  ``B2`` a pointwise one back to the input width with dropout and a zero-
  initialised batch-norm scale, so the block starts as the identity.

  Attributes:
    features: bottleneck channels (Basenji2: 384, half the trunk's 768).
    dilation: dilation of the ``kernel_size`` convolution.
    kernel_size: width of the dilated convolution.
    dropout_rate: dropout of the pointwise branch (Basenji2: 0.3).
    activation: see ``PreActivationConvBlock``.
    bn_momentum: batch-norm momentum.
    bn_epsilon: batch-norm epsilon.
    dtype: compute dtype.
    spatial_dims: 2 for Basenji's ``dilated_residual_2d`` block on ``[batch,
      rows, cols, channels]`` (Akita's head).
  """
  features: int
  dilation: int = 1
  kernel_size: int = 3
  dropout_rate: float = 0.0
  activation: str = "sigmoid_gelu"
  bn_momentum: float = 0.9
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  spatial_dims: int = 1

  @nn.compact
  def __call__(self, x: Array, train: bool = False) -> Array:
    """``[batch, length, channels] -> [batch, length, channels]``.

    ``train`` may be positional, so that `residual_block` can mark it static.
    """
    kw = dict(activation=self.activation, bn_momentum=self.bn_momentum,
              bn_epsilon=self.bn_epsilon, dtype=self.dtype,
              spatial_dims=self.spatial_dims)
    y = PreActivationConvBlock(self.features, self.kernel_size,
                               dilation=self.dilation, name="dilated", **kw)(
                                   x, train=train)
    y = PreActivationConvBlock(x.shape[-1], 1, dropout_rate=self.dropout_rate,
                               zero_init_scale=True, name="pointwise", **kw)(
                                   y, train=train)
    return x + y


def residual_block(remat: bool = False) -> type[DilatedResidualBlock]:
  """``DilatedResidualBlock``, or with ``remat`` one that keeps only its input for the
  backward pass and recomputes the rest (one more forward pass per block, for the
  memory of its activations). Call it as ``block(x, train)``: ``train`` is static.
  """
  return (nn.remat(DilatedResidualBlock, static_argnums=(2,)) if remat
          else DilatedResidualBlock)


class DilatedResidualTower(nn.Module):
  """``DilatedResidualBlock``s with dilations from ``dilation_rates``.

  Each block of width ``kernel_size`` and dilation ``r`` widens the receptive
  field by ``(kernel_size - 1) r`` positions; Basenji2's 11 blocks add 424
  bins (54,272 bp at 128 bp per bin).

  Attributes:
    features: bottleneck channels of every block.
    num_blocks: blocks.
    rate_mult: dilation growth per block.
    round_rates: round the running dilation (Basenji2's ``round: true``).
    kernel_size: width of the dilated convolutions.
    dropout_rate: dropout of each block's pointwise branch.
    activation: see ``PreActivationConvBlock``.
    bn_momentum: batch-norm momentum.
    bn_epsilon: batch-norm epsilon.
    dtype: compute dtype.
    remat: rematerialise each block in the backward pass (`residual_block`).
  """
  features: int
  num_blocks: int
  rate_mult: float = 1.5
  round_rates: bool = True
  kernel_size: int = 3
  dropout_rate: float = 0.0
  activation: str = "sigmoid_gelu"
  bn_momentum: float = 0.9
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  remat: bool = False

  @property
  def dilations(self) -> Sequence[int]:
    """Dilation of each block."""
    return dilation_rates(self.num_blocks, self.rate_mult, self.round_rates)

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[batch, length, channels] -> [batch, length, channels]``."""
    block = residual_block(self.remat)
    for i, rate in enumerate(self.dilations):
      x = block(
          self.features, rate, kernel_size=self.kernel_size,
          dropout_rate=self.dropout_rate, activation=self.activation,
          bn_momentum=self.bn_momentum, bn_epsilon=self.bn_epsilon,
          dtype=self.dtype, name=f"block_{i}")(x, train)
    return x
