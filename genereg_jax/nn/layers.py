"""Convolution and dense blocks with logical-axis parameter names.

The conv → activation → pool → dropout pattern is the building block of DeepSEA
(Zhou & Troyanskaya 2015), Basset (Kelley et al. 2016) and DanQ (Quang & Xie 2016).
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
    "linear": lambda x: x,
}


def activation(name: str) -> Callable[[jnp.ndarray], jnp.ndarray]:
  """Activation function by name, with the valid names in the error."""
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise ValueError(f"unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}") from None


def conv(features: int, kernel_size: int, *, dilation: int = 1, padding: str = "SAME",
         use_bias: bool = True, dtype: Dtype = jnp.float32, name: str | None = None,
         axes: tuple[str, str, str] = ("conv_width", "conv_in", "conv_out")) -> nn.Conv:
  """1-D convolution ``[batch, length, in] -> [batch, length', features]`` with named axes."""
  return nn.Conv(
      features, (kernel_size,), kernel_dilation=(dilation,), padding=padding,
      use_bias=use_bias, dtype=dtype, name=name,
      kernel_init=nn.with_logical_partitioning(nn.initializers.lecun_normal(), axes),
      bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(), (axes[-1],)))


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
  Torch layers; Basset adds batch norm before the ReLU.
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

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = conv(self.features, self.kernel_size, dilation=self.dilation, padding=self.padding,
             use_bias=not self.batch_norm, dtype=self.dtype)(x)
    if self.batch_norm:
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
    x = activation(self.activation)(x)
    if self.pool_size > 1:
      x = nn.max_pool(x, (self.pool_size,), strides=(self.pool_size,), padding="VALID")
    return nn.Dropout(self.dropout_rate, deterministic=not train)(x)


class ConvTower(nn.Module):
  """A stack of ``ConvBlock``s, one per entry of ``features``/``kernel_sizes``/``pool_sizes``."""
  features: Sequence[int]
  kernel_sizes: Sequence[int]
  pool_sizes: Sequence[int]
  dropout_rates: Sequence[float]
  batch_norm: bool = False
  padding: str = "VALID"
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    lengths = {len(self.features), len(self.kernel_sizes), len(self.pool_sizes),
               len(self.dropout_rates)}
    if len(lengths) != 1:
      raise ValueError("ConvTower: features, kernel_sizes, pool_sizes and dropout_rates "
                       f"must have equal lengths, got {self.features}, {self.kernel_sizes}, "
                       f"{self.pool_sizes}, {self.dropout_rates}")
    for features, kernel, pool, rate in zip(self.features, self.kernel_sizes,
                                            self.pool_sizes, self.dropout_rates):
      x = ConvBlock(features, kernel, pool_size=pool, dropout_rate=rate,
                    padding=self.padding, batch_norm=self.batch_norm, dtype=self.dtype)(
                        x, train=train)
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
