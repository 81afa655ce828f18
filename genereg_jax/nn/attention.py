"""Attention blocks of Enformer (Avsec et al., Nature Methods 2021).

Two reusable blocks, channels-last:

* ``RelativeMultiHeadAttention``: multi-head self-attention whose logits add a
  content term and a relative-position term built from fixed basis functions of
  the distance between bins (Transformer-XL style, Dai et al. 2019, with
  Enformer's exponential / central-mask / gamma bases; Methods, "Transformer
  blocks"), ``[batch, length, channels] -> [batch, length, channels]``.
* ``AttentionPool1D``: Enformer's softmax-weighted pooling, which replaces max
  pooling in the stem and conv tower (Methods, "Attention pooling"),
  ``[batch, length, channels] -> [batch, ceil(length / pool_size), channels]``.

The positional features are computed, not learned, for the actual number of
bins, so a model accepts any input length. Numbers follow enformer-pytorch
0.8.12 (github.com/lucidrains/enformer-pytorch), whose state dicts
``genereg_jax.models.enformer`` converts.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln
from jax.scipy.special import xlogy

Array = jax.Array
Dtype = Any

#: ``gamma_normalize_over`` values. enformer-pytorch scales each distance's
#: gamma features by their maximum over basis functions ("basis"); the
#: TensorFlow release scales each basis function by its maximum over distances
#: ("distance"), because there the positions carry a leading axis of size 1.
GAMMA_NORMALIZATIONS = ("basis", "distance")


def positional_features_exponential(distances: Array, num_basis: int,
                                    seq_length: int,
                                    min_half_life: float = 3.0) -> Array:
  """Exponential decay basis, half-lives ``2**3 .. seq_length`` (log-spaced).

  Args:
    distances: ``[positions]`` signed relative distances (in bins).
    num_basis: number of basis functions.
    seq_length: number of bins; the longest half-life.
    min_half_life: shortest half-life (Enformer: 3 bins).

  Returns:
    ``[positions, num_basis]`` features in ``(0, 1]``.
  """
  max_range = math.log(seq_length) / math.log(2.0)
  half_life = 2.0 ** jnp.linspace(min_half_life, max_range, num_basis,
                                  dtype=jnp.float32)
  return jnp.exp(-math.log(2.0) / half_life[None, :]
                 * jnp.abs(distances)[:, None])


def positional_features_central_mask(distances: Array, num_basis: int,
                                     seq_length: int) -> Array:
  """Indicator basis ``|distance| < 2**k - 1`` for ``k = 1 .. num_basis``.

  Args:
    distances: ``[positions]`` signed relative distances (in bins).
    num_basis: number of basis functions.
    seq_length: unused; kept so every basis has the same signature.

  Returns:
    ``[positions, num_basis]`` features in ``{0, 1}``.
  """
  del seq_length
  center_widths = 2.0 ** jnp.arange(1, num_basis + 1, dtype=jnp.float32) - 1.0
  return (center_widths[None, :]
          > jnp.abs(distances)[:, None]).astype(jnp.float32)


def central_mask_position_features(num_positions: int, feature_size: int,
                                   basis_length: int) -> Array:
  """Borzoi's relative-position features (Linder et al., Nat. Genet. 2025).

  Only central masks, ``|distance| < r**k - 1`` for ``k = 1 .. feature_size / 2``
  with ``r = (basis_length + 1)**(2 / feature_size)`` so that the widest spans
  ``basis_length`` positions (baskerville's ``positional_features_central_mask``;
  Enformer's widths are ``2**k - 1``), then the same block times
  ``sign(distance)``. The widths are set by the training length, not by
  ``num_positions``: borzoi-pytorch builds them for 4,096 positions whatever the
  input.

  Returns:
    ``float32[2 num_positions - 1, feature_size]``; row ``n - 1`` is distance 0.
  """
  if feature_size % 2:
    raise ValueError("central-mask feature size must be even (masks x 2 for "
                     f"sign), got {feature_size}")
  num_basis = feature_size // 2
  # Constants, so in float64 on the host: no width lands within rounding of an
  # integer distance either way.
  exponents = np.arange(1, num_basis + 1) * math.log(basis_length + 1) / num_basis
  center_widths = jnp.asarray(np.exp(exponents) - 1.0, jnp.float32)
  distances = jnp.arange(-num_positions + 1, num_positions, dtype=jnp.float32)
  masks = (center_widths[None, :] > jnp.abs(distances)[:, None]).astype(jnp.float32)
  return jnp.concatenate([masks, jnp.sign(distances)[:, None] * masks], axis=-1)


def positional_features_gamma(distances: Array, num_basis: int, seq_length: int,
                              stddev: float | None = None,
                              start_mean: float | None = None,
                              eps: float = 1e-8,
                              normalize_over: str = "basis") -> Array:
  """Gamma-density basis with means spread evenly over ``(0, seq_length]``.

  Args:
    distances: ``[positions]`` signed relative distances (in bins).
    num_basis: number of basis functions.
    seq_length: number of bins; the largest mean.
    stddev: shared standard deviation (default ``seq_length / (2 num_basis)``).
    start_mean: smallest mean (default ``seq_length / num_basis``).
    eps: added before normalising, as in the reference.
    normalize_over: ``"basis"`` (enformer-pytorch: each distance's features
      peak at 1) or ``"distance"`` (the TensorFlow release: each basis
      function peaks at 1), see ``GAMMA_NORMALIZATIONS``.

  Returns:
    ``[positions, num_basis]`` features in ``(0, 1]``.
  """
  if normalize_over not in GAMMA_NORMALIZATIONS:
    raise ValueError(f"normalize_over must be one of {GAMMA_NORMALIZATIONS}, "
                     f"got {normalize_over!r}")
  if stddev is None:
    stddev = seq_length / (2 * num_basis)
  if start_mean is None:
    start_mean = seq_length / num_basis
  mean = jnp.linspace(start_mean, seq_length, num_basis,
                      dtype=jnp.float32)[None, :]
  concentration = (mean / stddev) ** 2
  rate = mean / stddev**2
  x = jnp.abs(distances).astype(jnp.float32)[:, None]
  log_density = (xlogy(concentration - 1.0, x) - rate * x
                 - (gammaln(concentration) - concentration * jnp.log(rate)))
  probabilities = jnp.exp(log_density) + eps
  axis = -1 if normalize_over == "basis" else 0
  return probabilities / jnp.max(probabilities, axis=axis, keepdims=True)


def relative_position_features(num_positions: int, feature_size: int, *,
                               gamma_normalize_over: str = "basis",
                               gamma_features: Array | np.ndarray | None = None
                               ) -> Array:
  """Enformer's relative-position features for distances ``-(n-1) .. n-1``.

  Exponential, central-mask and gamma bases (``feature_size / 6`` functions
  each) of ``|distance|``, followed by the same block times ``sign(distance)``.

  Args:
    num_positions: number of bins ``n`` attended over.
    feature_size: total number of features; must be divisible by 6.
    gamma_normalize_over: see ``positional_features_gamma``.
    gamma_features: optional precomputed ``[2n - 1, feature_size / 6]`` gamma
      block used verbatim instead of computing it (the TensorFlow-exact table
      for the released weights, see ``genereg_jax.models.enformer``).

  Returns:
    ``float32[2 n - 1, feature_size]``; row ``n - 1`` is distance 0.
  """
  if feature_size % 6:
    raise ValueError("relative position feature size must be divisible by 6 "
                     f"(3 bases x 2 for sign), got {feature_size}")
  num_basis = feature_size // 6
  distances = jnp.arange(-num_positions + 1, num_positions, dtype=jnp.float32)
  if gamma_features is None:
    gamma = positional_features_gamma(distances, num_basis, num_positions,
                                      normalize_over=gamma_normalize_over)
  else:
    gamma = jnp.asarray(gamma_features, jnp.float32)
    expected = (2 * num_positions - 1, num_basis)
    if gamma.shape != expected:
      raise ValueError(f"gamma_features must have shape {expected} for "
                       f"{num_positions} positions, got {gamma.shape}")
  features = jnp.concatenate([
      positional_features_exponential(distances, num_basis, num_positions),
      positional_features_central_mask(distances, num_basis, num_positions),
      gamma,
  ], axis=-1)
  return jnp.concatenate([features, jnp.sign(distances)[:, None] * features],
                         axis=-1)


def relative_shift(logits: Array) -> Array:
  """Turns logits over relative distances into logits over key positions.

  Args:
    logits: ``[..., n, 2n - 1]`` where column ``c`` is distance ``c - (n - 1)``.

  Returns:
    ``[..., n, n]`` with ``out[..., i, j] = logits[..., i, n - 1 + j - i]``.
  """
  *batch, n, width = logits.shape
  if width != 2 * n - 1:
    raise ValueError(f"expected [..., n, 2n - 1] logits, got {logits.shape}")
  # Pad-and-reshape (Transformer-XL) instead of a gather: only reshapes and a
  # slice, which every backend lowers without materialising indices.
  x = jnp.concatenate([jnp.zeros((*batch, n, 1), logits.dtype), logits], -1)
  x = x.reshape(*batch, 2 * n, n)[..., 1:, :]
  return x.reshape(*batch, n, 2 * n - 1)[..., :n]


def _scaled_identity(scale: float) -> nn.initializers.Initializer:
  def init(key, shape, dtype=jnp.float32):
    del key
    return scale * jnp.eye(shape[0], shape[1], dtype=dtype)
  return init


class AttentionPool1D(nn.Module):
  """Softmax-weighted pooling (Avsec et al. 2021, Methods "Attention pooling").

  Each channel's weights over a window are a softmax of per-position logits,
  ``logits = x @ kernel`` (a 1x1 convolution across channels). The kernel starts
  at ``init_scale`` times the identity, as in the TF release, so pooling begins
  close to max pooling. A ragged last window is padded and masked out.

  Attributes:
    pool_size: window and stride.
    init_scale: initial kernel is ``init_scale * identity`` (Enformer: 2).
    dtype: compute dtype; the softmax runs in float32.
    param_dtype: parameter dtype.
  """
  pool_size: int = 2
  init_scale: float = 2.0
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    """``[batch, length, c] -> [batch, ceil(length / pool_size), c]``."""
    batch, length, channels = x.shape
    kernel = self.param(
        "kernel",
        nn.with_logical_partitioning(_scaled_identity(self.init_scale),
                                     ("conv_in", "conv_out")),
        (channels, channels), self.param_dtype)
    x = x.astype(self.dtype)
    pad = -length % self.pool_size
    if self.pool_size == 2:
      return self._pool_pairs(x, kernel.astype(self.dtype), pad)
    logits = jnp.einsum("blc,cd->bld", x, kernel.astype(self.dtype))
    logits = logits.astype(jnp.float32)
    if pad:
      x = jnp.pad(x, ((0, 0), (0, pad), (0, 0)))
      logits = jnp.pad(logits, ((0, 0), (0, pad), (0, 0)),
                       constant_values=jnp.finfo(jnp.float32).min)
    windows = (length + pad) // self.pool_size
    x = x.reshape(batch, windows, self.pool_size, channels)
    weights = jax.nn.softmax(
        logits.reshape(batch, windows, self.pool_size, channels), axis=2)
    return jnp.sum(x * weights.astype(self.dtype), axis=2)

  def _pool_pairs(self, x: Array, kernel: Array, pad: int) -> Array:
    """Windows of two (Enformer's only size): the softmax of ``(a, b)`` is
    ``(sigmoid(a - b), 1 - sigmoid(a - b))`` and ``a - b = (x0 - x1) @ kernel``, so
    one matmul over half the positions and a sigmoid replace the full-length logits
    and the softmax (half the pooling FLOPs; same weights up to rounding)."""
    batch, length, channels = x.shape
    if pad:
      x = jnp.pad(x, ((0, 0), (0, pad), (0, 0)))
    pairs = x.reshape(batch, (length + pad) // 2, 2, channels)
    first, second = pairs[:, :, 0], pairs[:, :, 1]
    difference = first - second
    # A matmul on [batch * windows, c] rather than an einsum over [batch, windows, c]:
    # XLA's CPU backend then computes the kernel's gradient without a transposed copy
    # of the logits' gradient.
    logit_gap = (difference.reshape(-1, channels) @ kernel).reshape(
        difference.shape).astype(jnp.float32)
    if pad:  # The padded position gets no weight: the window's first is kept whole.
      logit_gap = logit_gap.at[:, -1].set(jnp.inf)
    return second + difference * jax.nn.sigmoid(logit_gap).astype(self.dtype)


class RelativeMultiHeadAttention(nn.Module):
  """Multi-head self-attention with Enformer's relative positions.

  Avsec et al. 2021, Methods "Transformer blocks" (after Transformer-XL):
  ``logits_ij = (q_i + u) . k_j + (q_i + v) . r_{i-j}``, where ``q`` is scaled
  by ``key_size**-0.5`` before the learned content bias ``u`` and position bias
  ``v`` are added, and ``r`` projects the fixed basis functions of
  ``relative_position_features``. Queries, keys and values have no bias; the
  output projection has one and starts at zero, so each block starts as the
  identity inside its residual.

  Parameter axes: ``query``/``key``/``value`` kernels ``[embed, heads, kv]``,
  ``relative_key`` ``[relpos, heads, kv]``, the two biases ``[heads, kv]``,
  ``output`` ``[heads, kv, embed]``.

  Attributes:
    num_heads: attention heads.
    key_size: query/key size per head.
    value_size: value size per head (default ``channels // num_heads``).
    num_relative_position_features: basis functions (default
      ``channels // num_heads``); must be divisible by 6 (by 2 with
      ``central_mask_length``).
    attention_dropout_rate: dropout on the attention weights.
    position_dropout_rate: dropout on the positional features.
    gamma_normalize_over: see ``positional_features_gamma``.
    gamma_features: optional precomputed gamma block, see
      ``relative_position_features``.
    central_mask_length: None for Enformer's three bases; a number of
      positions for Borzoi's central masks spaced for that (training) length,
      ``central_mask_position_features`` (an even number of features).
    dtype: compute dtype; logits and softmax run in float32.
    param_dtype: parameter dtype.
  """
  num_heads: int = 8
  key_size: int = 64
  value_size: int | None = None
  num_relative_position_features: int | None = None
  attention_dropout_rate: float = 0.0
  position_dropout_rate: float = 0.0
  gamma_normalize_over: str = "basis"
  gamma_features: Any = None
  central_mask_length: int | None = None
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[batch, length, channels] -> [batch, length, channels]``."""
    _, length, channels = x.shape
    heads = self.num_heads
    value_size = self.value_size or channels // heads
    num_features = self.num_relative_position_features or channels // heads
    # Sonnet's VarianceScaling(2.0) over the fan-in, as in the TF release.
    init = nn.initializers.variance_scaling(2.0, "fan_in", "truncated_normal")

    def projection(features, axes, name, kernel_init=init, **kwargs):
      return nn.DenseGeneral(
          features, dtype=self.dtype, param_dtype=self.param_dtype, name=name,
          kernel_init=nn.with_logical_partitioning(kernel_init, axes), **kwargs)

    q = projection((heads, self.key_size), ("embed", "heads", "kv"), "query",
                   use_bias=False)(x)
    k = projection((heads, self.key_size), ("embed", "heads", "kv"), "key",
                   use_bias=False)(x)
    v = projection((heads, value_size), ("embed", "heads", "kv"), "value",
                   use_bias=False)(x)
    content_bias = self.param(
        "content_bias", nn.with_logical_partitioning(init, ("heads", "kv")),
        (heads, self.key_size), self.param_dtype)
    position_bias = self.param(
        "position_bias", nn.with_logical_partitioning(init, ("heads", "kv")),
        (heads, self.key_size), self.param_dtype)

    q = q * self.key_size**-0.5
    content_logits = jnp.einsum(
        "bihd,bjhd->bhij", q + content_bias.astype(self.dtype), k,
        preferred_element_type=jnp.float32)

    if self.central_mask_length is None:
      positions = relative_position_features(
          length, num_features, gamma_normalize_over=self.gamma_normalize_over,
          gamma_features=self.gamma_features)
    else:
      positions = central_mask_position_features(length, num_features,
                                                 self.central_mask_length)
    positions = nn.Dropout(self.position_dropout_rate)(
        positions, deterministic=not train)
    relative_keys = projection(
        (heads, self.key_size), ("relpos", "heads", "kv"), "relative_key",
        use_bias=False)(positions.astype(self.dtype))
    relative_logits = jnp.einsum(
        "bihd,jhd->bhij", q + position_bias.astype(self.dtype), relative_keys,
        preferred_element_type=jnp.float32)
    logits = content_logits + relative_shift(relative_logits)

    weights = jax.nn.softmax(logits, axis=-1)
    # [batch, heads, query, key] for genereg_jax.interpret.attention_maps; a
    # collection of its own (not in "intermediates" or init's variables).
    if not self.is_initializing():
      self.sow("attention_weights", "weights", weights)
    weights = nn.Dropout(self.attention_dropout_rate)(
        weights, deterministic=not train)
    out = jnp.einsum("bhij,bjhd->bihd", weights.astype(self.dtype), v)
    return nn.DenseGeneral(
        channels, axis=(-2, -1), dtype=self.dtype,
        param_dtype=self.param_dtype, name="output",
        kernel_init=nn.with_logical_partitioning(
            nn.initializers.zeros_init(), ("heads", "kv", "embed")),
        bias_init=nn.with_logical_partitioning(
            nn.initializers.zeros_init(), ("embed",)))(out)
