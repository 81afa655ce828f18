"""Convolution and dense blocks with logical-axis parameter names.

The conv → activation → pool → dropout pattern is the building block of DeepSEA
(Zhou & Troyanskaya 2015), Basset (Kelley et al. 2016) and DanQ (Quang & Xie 2016);
global max + average pooling is DeepBind's (Alipanahi et al. 2015) pooling stage.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

Dtype = Any

ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    "relu": nn.relu,
    "gelu": nn.gelu,
    "sigmoid": nn.sigmoid,
    "softplus": nn.softplus,
    "tanh": jnp.tanh,  # DeepGP's searched activations; Chaudhary et al.'s autoencoder.
    "linear": lambda x: x,
}


def activation(name: str) -> Callable[[jnp.ndarray], jnp.ndarray]:
  """Activation function by name, with the valid names in the error."""
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise ValueError(f"unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}") from None


def conv(features: int, kernel_size: int, *, dilation: int = 1, padding: str = "SAME",
         use_bias: bool = True, bias_init: float = 0.0, dtype: Dtype = jnp.float32,
         name: str | None = None,
         axes: tuple[str, str, str] = ("conv_width", "conv_in", "conv_out"),
         spatial_dims: int = 1) -> nn.Conv:
  """1-D convolution ``[batch, length, in] -> [batch, length', features]`` with named axes.

  The bias starts at the constant ``bias_init`` (0 unless a model asks otherwise).
  ``spatial_dims=2`` makes it the square 2-D convolution of contact-map heads
  (``[batch, rows, cols, in]``; kernel axes prefixed with ``conv_height``).
  """
  axes = ("conv_height",) * (spatial_dims - 1) + tuple(axes)
  return nn.Conv(
      features, (kernel_size,) * spatial_dims, kernel_dilation=(dilation,) * spatial_dims,
      padding=padding,
      use_bias=use_bias, dtype=dtype, name=name,
      kernel_init=nn.with_logical_partitioning(nn.initializers.lecun_normal(), axes),
      bias_init=nn.with_logical_partitioning(nn.initializers.constant(bias_init),
                                             (axes[-1],)))


def dense(features: int, *, use_bias: bool = True, dtype: Dtype = jnp.float32,
          name: str | None = None, axes: tuple[str, str] = ("embed", "mlp")) -> nn.Dense:
  """Dense layer with named kernel axes (e.g. ``("embed", "tracks")`` for output heads)."""
  return nn.Dense(
      features, use_bias=use_bias, dtype=dtype, name=name,
      kernel_init=nn.with_logical_partitioning(nn.initializers.lecun_normal(), axes),
      bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(), (axes[-1],)))


class ConvBlock(nn.Module):
  """Conv → (batch norm) → activation → max-pool → dropout, on ``[batch, length, channels]``.

  ``padding="VALID"`` with ``pool_size`` equal to its stride reproduces the DeepSEA/DanQ
  Torch layers; Basset adds batch norm before the ReLU; CpGenie pools 5 with stride 3
  (``pool_stride``; None means non-overlapping windows, stride = ``pool_size``).
  """
  features: int
  kernel_size: int
  pool_size: int = 1
  dropout_rate: float = 0.0
  dilation: int = 1
  padding: str = "VALID"
  batch_norm: bool = False
  activation: str = "relu"
  dtype: Dtype = jnp.float32
  pool_stride: int | None = None
  bias_init: float = 0.0

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = conv(self.features, self.kernel_size, dilation=self.dilation, padding=self.padding,
             use_bias=not self.batch_norm, bias_init=self.bias_init, dtype=self.dtype)(x)
    if self.batch_norm:
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
    x = activation(self.activation)(x)
    if self.pool_size > 1:
      stride = self.pool_stride or self.pool_size
      x = nn.max_pool(x, (self.pool_size,), strides=(stride,), padding="VALID")
    return nn.Dropout(self.dropout_rate, deterministic=not train)(x)


class ConvTower(nn.Module):
  """A stack of ``ConvBlock``s, one per entry of ``features``/``kernel_sizes``/``pool_sizes``.

  ``pool_strides`` (one per block) allows overlapping pooling windows; None means each
  block pools with stride equal to its pool size. ``first_bias_init`` is the initial
  bias of the first convolution (the others start at 0).
  """
  features: Sequence[int]
  kernel_sizes: Sequence[int]
  pool_sizes: Sequence[int]
  dropout_rates: Sequence[float]
  batch_norm: bool = False
  padding: str = "VALID"
  dtype: Dtype = jnp.float32
  pool_strides: Sequence[int] | None = None
  first_bias_init: float = 0.0

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    pool_strides = self.pool_sizes if self.pool_strides is None else self.pool_strides
    lengths = {len(self.features), len(self.kernel_sizes), len(self.pool_sizes),
               len(self.dropout_rates), len(pool_strides)}
    if len(lengths) != 1:
      raise ValueError("ConvTower: features, kernel_sizes, pool_sizes, dropout_rates and "
                       "pool_strides must have equal lengths, got "
                       f"{self.features}, {self.kernel_sizes}, {self.pool_sizes}, "
                       f"{self.dropout_rates}, {self.pool_strides}")
    for index, (features, kernel, pool, stride, rate) in enumerate(zip(
        self.features, self.kernel_sizes, self.pool_sizes, pool_strides,
        self.dropout_rates)):
      x = ConvBlock(features, kernel, pool_size=pool, dropout_rate=rate,
                    padding=self.padding, batch_norm=self.batch_norm, dtype=self.dtype,
                    pool_stride=stride,
                    bias_init=self.first_bias_init if index == 0 else 0.0)(x, train=train)
    return x


class DenseBlock(nn.Module):
  """Dense → (batch norm) → activation → dropout on ``[batch, features]``."""
  features: int
  dropout_rate: float = 0.0
  batch_norm: bool = False
  activation: str = "relu"
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = dense(self.features, use_bias=not self.batch_norm, dtype=self.dtype)(x)
    if self.batch_norm:
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
    x = activation(self.activation)(x)
    return nn.Dropout(self.dropout_rate, deterministic=not train)(x)


GLOBAL_POOLS = ("max", "avg", "max_avg")


def global_pool(x: jnp.ndarray, mode: str = "max_avg") -> jnp.ndarray:
  """Pools ``[batch, length, channels]`` over length to ``[batch, channels]``.

  ``"max_avg"`` concatenates the maximum and the mean of each channel into
  ``[batch, 2 * channels]`` (max first), DeepBind's "max and avg" pooling stage
  (Alipanahi et al. 2015, Fig. 1): the maximum says whether a motif occurs, the mean
  how often.
  """
  if mode not in GLOBAL_POOLS:
    raise ValueError(f"unknown global pooling {mode!r}; valid: {list(GLOBAL_POOLS)}")
  pooled = []
  if mode in ("max", "max_avg"):
    pooled.append(jnp.max(x, axis=-2))
  if mode in ("avg", "max_avg"):
    pooled.append(jnp.mean(x, axis=-2))
  return jnp.concatenate(pooled, axis=-1)
