"""Enformer (Avsec et al., Nature Methods 2021): DNA sequence -> tracks.

Read top to bottom like Fig. 1a of the paper, channels-last throughout:

  stem    conv k=15 to dim/2 -> residual pointwise conv block -> attention
          pool 2
  tower   num_downsamples - 1 blocks, widths rising exponentially from dim/2 to
          dim (rounded to dim_divisible_by): conv block k=5 -> residual
          pointwise conv block -> attention pool 2
  trunk   depth transformer blocks: pre-LN relative-position multi-head
          attention + dropout, pre-LN feed-forward (2 dim, ReLU) + dropout,
          both residual
  crop    the centre target_length bins
  final   pointwise conv block to 2 dim -> dropout -> GELU   (the embeddings)
  heads   one per species: dense -> softplus

Paper size: 196,608 bp in, 128-bp bins (2^7), 1,536 bins cropped to 896,
5,313 human and 1,643 mouse tracks, 251,221,292 parameters. Conv blocks are
batch norm -> GELU -> conv and GELU is ``sigmoid(1.702 x) x``, as in the TF
release. Numbers follow enformer-pytorch 0.8.12, whose state dicts (e.g. the
Hugging Face port of the released weights, EleutherAI/enformer-official-rough)
``convert_pytorch_state_dict`` and ``load_pretrained`` read.

Gamma positional features and the released weights: TF normalises each gamma
basis function over distances, enformer-pytorch each distance over basis
functions (``genereg_jax.nn.attention.positional_features_gamma``).
``use_tf_gamma=True`` computes TF's convention on the fly for any length; it
agrees with TF's own float32 table to ~2e-3 (TF's lgamma/xlogy round
differently). For enformer-pytorch's ``use_tf_gamma=True`` numbers exactly,
also pass that table, which ships only as a file in the enformer-pytorch
package (``enformer_pytorch/precomputed/tf_gammas.pt``, 1,536 bins):
``tf_gammas=load_tf_gammas(path)``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from typing import Any, Mapping

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.nn import attention
from genereg_jax.nn import cone

Array = jax.Array
Dtype = Any

PRESETS: dict[str, dict[str, Any]] = {
    # Avsec et al. 2021, Methods "Model architecture"; enformer-pytorch's
    # defaults round the tower widths to multiples of 128.
    "paper": dict(dim=1536, depth=11, heads=8, attn_dim_key=64,
                  dropout_rate=0.4, attn_dropout=0.05, pos_dropout=0.01,
                  target_length=896, num_downsamples=7, dim_divisible_by=128,
                  output_heads={"human": 5313, "mouse": 1643}),
    # 256 bp in -> 32 bins of 8 bp -> 16 cropped; dim / heads = 24 (6 x 4).
    "tiny": dict(dim=48, depth=2, heads=2, attn_dim_key=8, dropout_rate=0.1,
                 attn_dropout=0.05, pos_dropout=0.01, target_length=16,
                 num_downsamples=3, dim_divisible_by=8,
                 output_heads={"human": 6, "mouse": 3}),
}

SEQUENCE_LENGTH = 196_608
TARGET_LENGTH = 896


def gelu(x: Array) -> Array:
  """Enformer's GELU approximation, ``sigmoid(1.702 x) * x``."""
  return jax.nn.sigmoid(1.702 * x) * x


def exponential_linspace_int(start: int, end: int, num: int,
                             divisible_by: int = 1) -> list[int]:
  """``num`` integers from ``start`` to ``end`` in geometric progression.

  Each is rounded to a multiple of ``divisible_by`` (as in the TF release and
  enformer-pytorch). ``num == 1`` gives ``[end]``.
  """
  if num == 1:
    return [int(round(end / divisible_by) * divisible_by)]
  base = math.exp(math.log(end / start) / (num - 1))
  return [int(round(start * base**i / divisible_by) * divisible_by)
          for i in range(num)]


def conv_tower_widths(dim: int, num_downsamples: int,
                      dim_divisible_by: int) -> list[int]:
  """Output channels of the conv tower blocks (paper: 768, 896 ... 1536)."""
  if num_downsamples < 2:
    raise ValueError("Enformer needs num_downsamples >= 2 (stem + at least "
                     f"one tower block), got {num_downsamples}")
  widths = exponential_linspace_int(dim // 2, dim, num_downsamples - 1,
                                    dim_divisible_by)
  if widths[-1] != dim:
    raise ValueError(f"the last conv tower width {widths[-1]} must equal dim "
                     f"{dim}; make dim divisible by dim_divisible_by "
                     f"({dim_divisible_by})")
  return widths


def _named(init: nn.initializers.Initializer, *names: str):
  return nn.with_logical_partitioning(init, names)


# GELU approximations by name: Enformer's sigmoid form and the tanh form of
# PyTorch's GELU(approximate="tanh") (Borzoi, Linder et al. 2025).
GELUS = {"sigmoid": gelu,
         "tanh": functools.partial(jax.nn.gelu, approximate=True)}


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4))
def batch_norm_gelu(x: Array, scale: Array, bias: Array, epsilon: float,
                    approximation: str = "sigmoid") -> tuple[Array, Array, Array]:
  """``gelu(BatchNorm(x))`` with batch statistics over all but the last axis.

  Same math as flax's ``BatchNorm`` (one-pass ``E[x^2] - E[x]^2`` variance in
  float32, clipped at 0) followed by ``gelu``, written as one scale and shift
  per channel, ``z = a x + b``. Its gradient is written out so that the
  backward pass reads ``x`` and the output gradient twice (the reductions,
  then ``dx``) instead of keeping and re-reading ``x - mean``, the normalised
  values and the sigmoid as autodiff does (the conv blocks' elementwise work
  was ~30% of the profiled train step).

  ``approximation`` names the GELU in ``GELUS``.

  Returns:
    ``(gelu(z) as x.dtype, mean, var)``, the statistics float32 ``[channels]``.
  """
  return _batch_norm_gelu_fwd(x, scale, bias, epsilon, approximation)[0]


def _gelu_slope(z: Array, approximation: str) -> Array:
  """``d gelu(z) / dz`` elementwise."""
  if approximation == "sigmoid":
    s = jax.nn.sigmoid(1.702 * z)
    return s + 1.702 * z * s * (1.0 - s)
  return jax.jvp(GELUS[approximation], (z,), (jnp.ones_like(z),))[1]


def _batch_norm_gelu_fwd(x, scale, bias, epsilon, approximation):
  x32 = x.astype(jnp.float32)
  axes = tuple(range(x.ndim - 1))
  mean = jnp.mean(x32, axes)
  var = jnp.maximum(jnp.mean(jnp.square(x32), axes) - jnp.square(mean), 0.0)
  rstd = jax.lax.rsqrt(var + epsilon)
  a = scale.astype(jnp.float32) * rstd
  z = x32 * a + (bias.astype(jnp.float32) - mean * a)
  y = GELUS[approximation](z)
  return (y.astype(x.dtype), mean, var), (x, scale, bias, mean, rstd)


def _batch_norm_gelu_bwd(epsilon, approximation, residuals, cotangents):
  del epsilon
  x, scale, bias, mean, rstd = residuals
  grad_y, grad_mean, grad_var = cotangents
  x32 = x.astype(jnp.float32)
  axes = tuple(range(x.ndim - 1))
  n = x.size // x.shape[-1]
  a = scale.astype(jnp.float32) * rstd
  z = x32 * a + (bias.astype(jnp.float32) - mean * a)
  grad_z = grad_y.astype(jnp.float32) * _gelu_slope(z, approximation)
  grad_bias = jnp.sum(grad_z, axes)
  # sum(grad_z * x_hat) with x_hat = (x - mean) rstd, from the same pass.
  grad_scale = rstd * (jnp.sum(grad_z * x32, axes) - mean * grad_bias)
  # dx = a (grad_z - mean(grad_z) - x_hat mean(grad_z x_hat)), plus the
  # statistics' own cotangents (d mean / dx = 1/n, d var / dx = 2 (x - mean)/n),
  # collected as one per-channel slope and offset.
  slope = (2.0 * grad_var - a * rstd * grad_scale) / n
  offset = (grad_mean - 2.0 * grad_var * mean - a * grad_bias
            + a * rstd * mean * grad_scale) / n
  grad_x = a * grad_z + slope * x32 + offset
  return (grad_x.astype(x.dtype), grad_scale.astype(scale.dtype),
          grad_bias.astype(bias.dtype))


batch_norm_gelu.defvjp(_batch_norm_gelu_fwd, _batch_norm_gelu_bwd)


class BatchNormGelu(nn.Module):
  """``gelu(BatchNorm(x))``: flax ``BatchNorm``'s variables and numbers.

  Batch norm as in the TF release: epsilon 1e-5, running averages with decay
  0.9 (``momentum``), batch statistics when ``train`` (``batch_norm_gelu``).
  Parameters ``scale``, ``bias`` and ``batch_stats`` ``mean``, ``var``, as
  ``nn.BatchNorm`` names them, so checkpoints and the converter are unchanged.

  Attributes:
    momentum: decay of the running averages.
    epsilon: added to the variance.
    approximation: the GELU, a key of ``GELUS``.
    dtype: compute dtype of the output (statistics are float32).
    param_dtype: parameter dtype.
  """
  momentum: float = 0.9
  epsilon: float = 1e-5
  approximation: str = "sigmoid"
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[..., channels] -> [..., channels]``."""
    channels = x.shape[-1]
    ra_mean = self.variable("batch_stats", "mean", jnp.zeros, (channels,),
                            jnp.float32)
    ra_var = self.variable("batch_stats", "var", jnp.ones, (channels,),
                           jnp.float32)
    scale = self.param("scale", _named(nn.initializers.ones_init(), "norm"),
                       (channels,), self.param_dtype)
    bias = self.param("bias", _named(nn.initializers.zeros_init(), "norm"),
                      (channels,), self.param_dtype)
    x = x.astype(self.dtype)
    if not train:  # flax's _normalize, term by term.
      mul = jax.lax.rsqrt(ra_var.value + self.epsilon) * scale
      return GELUS[self.approximation](
          ((x - ra_mean.value) * mul + bias).astype(self.dtype))
    y, mean, var = batch_norm_gelu(x, scale, bias, self.epsilon,
                                   self.approximation)
    if not self.is_initializing():
      ra_mean.value = self.momentum * ra_mean.value + (1 - self.momentum) * mean
      ra_var.value = self.momentum * ra_var.value + (1 - self.momentum) * var
    return y


class PointwiseConv(nn.Module):
  """``nn.Conv`` of width 1 (same ``kernel [1, in, out]`` and ``bias``) as one
  matmul on ``[batch * length, in]``: XLA's CPU backend computes that matmul's
  weight gradient in place, while a width-1 convolution's transposes both the
  activations and their gradient first (~15% of the profiled train step went
  to such layout copies).

  Attributes:
    features: output channels.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  features: int
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    """``[..., in] -> [..., features]``."""
    kernel = self.param(
        "kernel", _named(nn.initializers.lecun_normal(),
                         "conv_width", "conv_in", "conv_out"),
        (1, x.shape[-1], self.features), self.param_dtype)
    bias = self.param("bias", _named(nn.initializers.zeros_init(), "conv_out"),
                      (self.features,), self.param_dtype)
    flat = x.astype(self.dtype).reshape(-1, x.shape[-1])
    y = flat @ kernel[0].astype(self.dtype) + bias.astype(self.dtype)
    return y.reshape(*x.shape[:-1], self.features)


class ConvBlock(nn.Module):
  """Batch norm -> GELU -> conv (Avsec et al. 2021) on ``[batch, length, c]``.

  Batch norm and GELU are ``BatchNormGelu``; width 1 is a ``PointwiseConv``.

  Attributes:
    features: output channels.
    kernel_size: odd convolution width; zero padding keeps the length.
    norm_epsilon: batch norm epsilon (Borzoi: 1e-3).
    gelu_approximation: the GELU, a key of ``GELUS`` (Borzoi: "tanh").
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  features: int
  kernel_size: int = 1
  norm_epsilon: float = 1e-5
  gelu_approximation: str = "sigmoid"
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    """``[batch, length, in] -> [batch, length, features]``."""
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    x = BatchNormGelu(epsilon=self.norm_epsilon,
                      approximation=self.gelu_approximation, name="norm",
                      **kw)(x, train=train)
    if self.kernel_size == 1:
      return PointwiseConv(self.features, name="conv", **kw)(x)
    pad = self.kernel_size // 2
    return nn.Conv(
        self.features, (self.kernel_size,), padding=[(pad, pad)],
        kernel_init=_named(nn.initializers.lecun_normal(),
                           "conv_width", "conv_in", "conv_out"),
        bias_init=_named(nn.initializers.zeros_init(), "conv_out"),
        name="conv", **kw)(x)


class ConvTowerBlock(nn.Module):
  """Conv block k=5 -> residual pointwise conv block -> attention pool 2.

  One of the six downsampling blocks of Enformer's conv tower (Fig. 1a).

  Attributes:
    features: output channels.
    kernel_size: width of the first conv block.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  features: int
  kernel_size: int = 5
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, train: bool = False) -> Array:
    """``[batch, length, in] -> [batch, ceil(length / 2), features]``; ``train`` may
    be positional, so that ``nn.remat`` can mark it static."""
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    x = ConvBlock(self.features, self.kernel_size, name="conv", **kw)(
        x, train=train)
    x = x + ConvBlock(self.features, 1, name="pointwise", **kw)(x, train=train)
    return attention.AttentionPool1D(2, name="pool", **kw)(x)


class TransformerBlock(nn.Module):
  """Enformer transformer block (Avsec et al. 2021, Methods).

  ``x + Dropout(MHA(LN(x)))`` then ``x + Dropout(W2 ReLU(Dropout(W1 LN(x))))``
  with the feed-forward hidden size ``2 dim``. Borzoi (Linder et al. 2025)
  uses the same block with other attention sizes, central-mask positions and
  layer-norm epsilon 1e-3 (the fields after ``gamma_features``).

  Attributes:
    heads: attention heads.
    key_size: query/key size per head.
    dropout_rate: residual and feed-forward dropout.
    attn_dropout: dropout on attention weights.
    pos_dropout: dropout on the positional features.
    gamma_normalize_over: see ``attention.positional_features_gamma``.
    gamma_features: optional precomputed gamma basis.
    value_size: value size per head (default ``dim // heads``).
    num_position_features: relative-position basis size (default
      ``dim // heads``).
    central_mask_length: Borzoi's positional basis, see
      ``attention.RelativeMultiHeadAttention``; None: Enformer's.
    norm_epsilon: layer norm epsilon.
    identity_init: ``mlp_out`` starts at zero as the attention's output projection
      does, so the block starts as the identity (not in the paper; see
      ``Enformer.identity_init``).
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  heads: int = 8
  key_size: int = 64
  dropout_rate: float = 0.4
  attn_dropout: float = 0.05
  pos_dropout: float = 0.01
  gamma_normalize_over: str = "basis"
  gamma_features: Any = None
  value_size: int | None = None
  num_position_features: int | None = None
  central_mask_length: int | None = None
  norm_epsilon: float = 1e-5
  identity_init: bool = False
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  def _layer_norm(self, name: str) -> nn.LayerNorm:
    return nn.LayerNorm(
        epsilon=self.norm_epsilon, use_fast_variance=False, dtype=self.dtype,
        param_dtype=self.param_dtype,
        scale_init=_named(nn.initializers.ones_init(), "norm"),
        bias_init=_named(nn.initializers.zeros_init(), "norm"), name=name)

  def _dense(self, features: int, axes: tuple[str, str], name: str,
             zero: bool = False) -> nn.Dense:
    init = nn.initializers.zeros_init() if zero else nn.initializers.lecun_normal()
    return nn.Dense(
        features, dtype=self.dtype, param_dtype=self.param_dtype,
        kernel_init=_named(init, *axes),
        bias_init=_named(nn.initializers.zeros_init(), axes[-1]), name=name)

  @nn.compact
  def __call__(self, x: Array, train: bool = False) -> Array:
    """``[batch, bins, dim] -> [batch, bins, dim]``."""
    dim = x.shape[-1]
    deterministic = not train
    y = self._layer_norm("attention_norm")(x)
    y = attention.RelativeMultiHeadAttention(
        num_heads=self.heads, key_size=self.key_size,
        value_size=self.value_size or dim // self.heads,
        num_relative_position_features=(self.num_position_features
                                        or dim // self.heads),
        attention_dropout_rate=self.attn_dropout,
        position_dropout_rate=self.pos_dropout,
        gamma_normalize_over=self.gamma_normalize_over,
        gamma_features=self.gamma_features,
        central_mask_length=self.central_mask_length, dtype=self.dtype,
        param_dtype=self.param_dtype, name="attention")(y, train=train)
    x = x + nn.Dropout(self.dropout_rate)(y, deterministic=deterministic)

    y = self._layer_norm("mlp_norm")(x)
    y = self._dense(2 * dim, ("embed", "mlp"), "mlp_in")(y)
    y = nn.relu(nn.Dropout(self.dropout_rate)(y, deterministic=deterministic))
    y = self._dense(dim, ("mlp", "embed"), "mlp_out", zero=self.identity_init)(y)
    return x + nn.Dropout(self.dropout_rate)(y, deterministic=deterministic)


class Enformer(nn.Module):
  """Enformer of Avsec et al. (Nature Methods 2021), enformer-pytorch layout.

  Field names and defaults are enformer-pytorch's ``EnformerConfig`` (the
  paper's values), so its keyword arguments build the same network.

  Attributes:
    dim: trunk channels (paper 1536); ``dim // heads`` must divide by 6.
    depth: transformer blocks.
    heads: attention heads.
    attn_dim_key: query/key size per head.
    dropout_rate: transformer dropout; the final block uses 1/8 of it.
    attn_dropout: dropout on attention weights.
    pos_dropout: dropout on the relative positional features.
    target_length: centre bins kept; None or -1 keeps all.
    num_downsamples: halvings of the length (stem + tower blocks), so the
      bin size is ``2**num_downsamples`` bp.
    dim_divisible_by: tower widths are rounded to multiples of this.
    output_heads: ``{head name: tracks}``.
    use_tf_gamma: gamma positional features normalised as in the TF release
      (for the released weights; see the module docstring).
    tf_gammas: optional exact TF gamma table ``[2 bins - 1, dim/heads/6]``
      (needs ``use_tf_gamma``); from ``load_tf_gammas``.
    remat: rematerialise each conv tower block and each transformer block in the
      backward pass: only their inputs are kept, the rest is recomputed (paper size:
      the tower runs at 98,304 to 3,072 positions, the transformer at 1,536).
    identity_init: every transformer block starts as the identity (its feed-forward
      output projection at zero, like the attention's), so a conv-only model's
      (``depth=0``) weights loaded into this one predict exactly what it did and
      training adds long-range context to it (the warm start of
      ``enformer_human_mouse:synthetic_warm``). Not in the paper; off by default.
    dtype: compute dtype; outputs are float32.
    param_dtype: parameter dtype.
  """
  dim: int = 1536
  depth: int = 11
  heads: int = 8
  attn_dim_key: int = 64
  dropout_rate: float = 0.4
  attn_dropout: float = 0.05
  pos_dropout: float = 0.01
  target_length: int | None = TARGET_LENGTH
  num_downsamples: int = 7
  dim_divisible_by: int = 128
  output_heads: Mapping[str, int] = flax.core.FrozenDict(human=5313, mouse=1643)
  use_tf_gamma: bool = False
  tf_gammas: Any = None
  remat: bool = False
  identity_init: bool = False
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @property
  def output_stride(self) -> int:
    """Base pairs per output bin (paper: 128)."""
    return 2**self.num_downsamples

  def output_length(self, sequence_length: int) -> int:
    """Bins out for ``sequence_length`` bp in (paper: 196,608 -> 896)."""
    bins = sequence_length
    for _ in range(self.num_downsamples):
      bins = -(-bins // 2)
    if self.target_length is None or self.target_length == -1:
      return bins
    return self.target_length

  def _crop(self, x: Array) -> Array:
    if self.target_length is None or self.target_length == -1:
      return x
    bins = x.shape[1]
    if bins < self.target_length:
      raise ValueError(f"{bins} bins is less than target_length "
                       f"{self.target_length}; give at least "
                       f"{self.target_length * self.output_stride} bp")
    # Same bins as enformer-pytorch when bins - target_length is even; when
    # odd, enformer-pytorch's slice keeps one bin too few, this keeps the
    # extra bin on the right.
    start = (bins - self.target_length) // 2
    return x[:, start:start + self.target_length]

  @nn.compact
  def __call__(self, sequence: Array, *, train: bool = False,
               return_embeddings: bool = False, from_conv_tower: bool = False
               ) -> dict[str, Array] | tuple[dict[str, Array], Array]:
    """Predicts coverage tracks per head.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T (paper: 196,608
        bp).
      train: batch statistics and dropout (needs a ``"dropout"`` rng and
        ``mutable=["batch_stats"]``).
      return_embeddings: also return the final-pointwise embeddings.
      from_conv_tower: ``sequence`` is the conv tower's output ``[batch, bins, dim]``
        (``conv_tower_out``): only the transformer, crop, final block and heads run
        (`cone_model`'s head).

    Returns:
      ``{head: float32[batch, target_length, tracks]}`` (softplus, so
      non-negative), and with ``return_embeddings`` the tuple
      ``(outputs, float32[batch, target_length, 2 dim])``. Sown in
      ``"intermediates"``: ``stem_out [batch, length/2, dim/2]``,
      ``conv_tower_out [batch, bins, dim]``, ``transformer_out``.
    """
    if self.tf_gammas is not None and not self.use_tf_gamma:
      raise ValueError("tf_gammas is given but use_tf_gamma is False")
    if self.depth and (self.dim // self.heads) % 6:
      raise ValueError(f"dim // heads = {self.dim // self.heads} must be "
                       "divisible by 6 (relative positional basis)")
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    widths = conv_tower_widths(self.dim, self.num_downsamples,
                               self.dim_divisible_by)
    x = sequence.astype(self.dtype)
    if not from_conv_tower:
      # Stem.
      x = nn.Conv(
          self.dim // 2, (15,), padding=[(7, 7)],
          kernel_init=_named(nn.initializers.lecun_normal(),
                             "conv_width", "conv_in", "conv_out"),
          bias_init=_named(nn.initializers.zeros_init(), "conv_out"),
          name="stem_conv", **kw)(x)
      x = x + ConvBlock(self.dim // 2, 1, name="stem_pointwise", **kw)(
          x, train=train)
      x = attention.AttentionPool1D(2, name="stem_pool", **kw)(x)
      self.sow("intermediates", "stem_out", x)

      # Conv tower.
      tower_block = (nn.remat(ConvTowerBlock, static_argnums=(2,)) if self.remat
                     else ConvTowerBlock)
      for i, width in enumerate(widths):
        x = tower_block(width, name=f"conv_tower_{i}", **kw)(x, train)
      self.sow("intermediates", "conv_tower_out", x)

    # Transformer trunk.
    block = (nn.remat(TransformerBlock, static_argnums=(2,)) if self.remat
             else TransformerBlock)
    for i in range(self.depth):
      x = block(
          heads=self.heads, key_size=self.attn_dim_key,
          dropout_rate=self.dropout_rate, attn_dropout=self.attn_dropout,
          pos_dropout=self.pos_dropout,
          gamma_normalize_over="distance" if self.use_tf_gamma else "basis",
          gamma_features=self.tf_gammas, identity_init=self.identity_init,
          name=f"transformer_{i}", **kw)(
              x, train)
    self.sow("intermediates", "transformer_out", x)

    # Crop and final pointwise.
    x = self._crop(x)
    x = ConvBlock(2 * self.dim, 1, name="final_pointwise", **kw)(
        x, train=train)
    x = nn.Dropout(self.dropout_rate / 8)(x, deterministic=not train)
    embeddings = gelu(x)

    outputs = {}
    for head, tracks in self.output_heads.items():
      logits = nn.Dense(
          tracks, kernel_init=_named(nn.initializers.lecun_normal(),
                                     "embed", "tracks"),
          bias_init=_named(nn.initializers.zeros_init(), "tracks"),
          name=f"head_{head}", **kw)(embeddings)
      outputs[head] = jax.nn.softplus(logits.astype(jnp.float32))
    if return_embeddings:
      return outputs, embeddings.astype(jnp.float32)
    return outputs


Model = Enformer


def enformer(preset: str = "paper", **overrides: Any) -> Enformer:
  """An Enformer from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"unknown Enformer preset {preset!r}; have "
                   f"{sorted(PRESETS)}")
  return Enformer(**{**PRESETS[preset], **overrides})


def cone_model(model: Enformer, variables: Mapping[str, Any],
               readout: Any = None) -> cone.Split:
  """Enformer (inference) as a strided "same" `cone.Tower` and the rest as its head.

  For fastISM-style SNV scoring (`genereg_jax.nn.cone`): the stem and conv tower hold
  most of the FLOPs at short lengths (24,576 bp, 384 channels: ~85% of a forward pass on
  CPU) and an SNV changes them only on a cone a few positions wide at every
  resolution; only the transformer, crop, final pointwise block and heads run on the
  whole ALT. Layers, each ending where the next convolution's zero padding applies
  (after its batch norm and GELU, which are pointwise):

    stem conv k=15 (valid) + residual pointwise block         radius 7
    attention pool 2 -> next conv block's batch norm + GELU   stride 2
    per tower block: conv k=5 (valid) + residual pointwise    radius 2
                     attention pool 2 -> next norm + GELU     stride 2

  Batch norm uses the running statistics (``train=False``). The input length must be a
  multiple of ``2**num_downsamples``.

  Args:
    model: the Enformer.
    variables: its ``params`` and ``batch_stats``.
    readout: maps the output dict to what the split returns (default the dict).

  Returns:
    A `cone.Split` whose call equals ``readout(model.apply(variables, x))``.
  """
  params, stats = variables["params"], variables.get("batch_stats", {})
  kw = dict(dtype=model.dtype, param_dtype=model.param_dtype)
  widths = conv_tower_widths(model.dim, model.num_downsamples, model.dim_divisible_by)

  def sub(module, name, *path):
    """``module`` applied with the variables at ``name/path``."""
    tree = {k: v[name] for k, v in (("params", params), ("batch_stats", stats))
            if name in v}
    for key in path:
      tree = {k: v[key] for k, v in tree.items() if key in v}
    return functools.partial(module.apply, tree)

  def conv_layer(conv, pointwise, features, kernel_size):
    valid = nn.Conv(features, (kernel_size,), padding="VALID", **kw)

    def fn(a):
      h = valid.apply({"params": conv}, a)
      return h + pointwise(h)
    return cone.Layer(fn, kernel_size // 2)

  def pool_layer(pool, norm):
    return cone.Layer(lambda h: norm(pool(h)), 0, stride=2)

  def norm(i):
    """Batch norm + GELU in front of tower block ``i``'s conv (none after the last)."""
    if i == len(widths):
      return lambda x: x
    return sub(BatchNormGelu(**kw), f"conv_tower_{i}", "conv", "norm")

  layers = [conv_layer(params["stem_conv"],
                       sub(ConvBlock(model.dim // 2, 1, **kw), "stem_pointwise"),
                       model.dim // 2, 15),
            pool_layer(sub(attention.AttentionPool1D(2, **kw), "stem_pool"), norm(0))]
  for i, width in enumerate(widths):
    name = f"conv_tower_{i}"
    layers += [conv_layer(params[name]["conv"]["conv"],
                          sub(ConvBlock(width, 1, **kw), name, "pointwise"), width, 5),
               pool_layer(sub(attention.AttentionPool1D(2, **kw), name, "pool"),
                          norm(i + 1))]
  readout = readout or (lambda y: y)

  def head(x):  # The model from the conv tower's output on: one definition of it.
    return readout(model.apply(variables, x, from_conv_tower=True))

  return cone.Split(cone.Tower(layers, "same"), head)


# ---------------------------------------------------------------------------
# enformer-pytorch state dicts -> Flax variables.
# PyTorch Conv1d weights are [out, in, k] (Flax [k, in, out]), Linear [out, in]
# (Flax [in, out]); attention projections split "(heads d)" into two axes.

_PYTORCH_FIELDS = ("dim", "depth", "heads", "output_heads", "target_length",
                   "attn_dim_key", "dropout_rate", "attn_dropout",
                   "pos_dropout", "num_downsamples", "dim_divisible_by",
                   "use_tf_gamma")


def pytorch_config_to_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
  """``Enformer`` fields from enformer-pytorch kwargs or an HF ``config.json``.

  ``use_checkpointing`` becomes ``remat``; Hugging Face bookkeeping keys are
  dropped; the ConvNeXt variant (``use_convnext=True``) is not supported.
  """
  if config.get("use_convnext"):
    raise ValueError("enformer-pytorch's use_convnext variant is not supported")
  kwargs = {k: config[k] for k in _PYTORCH_FIELDS if k in config}
  if "output_heads" in kwargs:
    kwargs["output_heads"] = dict(kwargs["output_heads"])
  if "use_checkpointing" in config:
    kwargs["remat"] = bool(config["use_checkpointing"])
  return kwargs


def _numbered(state_dict: Mapping[str, Any], prefix: str) -> int:
  pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
  indices = {int(m.group(1)) for k in state_dict if (m := pattern.match(k))}
  if indices != set(range(len(indices))):
    raise ValueError(f"{prefix}* blocks are not numbered 0..n-1: "
                     f"{sorted(indices)}")
  return len(indices)


def _divisors(n: int) -> list[int]:
  """Positive divisors of ``n``, largest first."""
  return [d for d in range(n, 0, -1) if n % d == 0]


def config_from_state_dict(state_dict: Mapping[str, Any],
                           **given: Any) -> dict[str, Any]:
  """``Enformer`` fields read off an enformer-pytorch state dict.

  Args:
    state_dict: ``{key: array}`` with enformer-pytorch keys.
    **given: ``Enformer`` fields the caller sets. They win: each is returned
      as given and not inferred. ``dim_divisible_by`` is checked against the
      tower widths, since several values can build the same network.

  Returns:
    ``given`` plus, where not given: ``dim``, ``depth``, ``heads`` and
    ``attn_dim_key`` (those two only with ``depth > 0``), ``num_downsamples``,
    ``dim_divisible_by`` (the largest divisor of ``dim`` that reproduces the
    tower widths; any that does builds the same network) and
    ``output_heads``. ``target_length``, dropout rates and ``use_tf_gamma``
    are not stored in weights.

  Raises:
    ValueError: if no ``dim_divisible_by`` reproduces the tower widths, or the
      given one does not.
  """
  config = dict(given)
  # The final pointwise conv maps dim to 2 dim whatever the rest looks like
  # (the stem has dim // 2 channels, which loses an odd dim).
  config.setdefault(
      "dim", int(np.shape(state_dict["final_pointwise.1.2.weight"])[0]) // 2)
  dim = config["dim"]
  num_blocks = _numbered(state_dict, "conv_tower.")
  config.setdefault("num_downsamples", num_blocks + 1)
  widths = [int(np.shape(state_dict[f"conv_tower.{i}.0.2.weight"])[0])
            for i in range(num_blocks)]

  def reproduces(divisible_by: int) -> bool:
    return exponential_linspace_int(dim // 2, dim, num_blocks,
                                    divisible_by) == widths

  if "dim_divisible_by" in config:
    divisible_by = config["dim_divisible_by"]
    if not reproduces(divisible_by):
      got = exponential_linspace_int(dim // 2, dim, num_blocks, divisible_by)
      raise ValueError(f"dim_divisible_by={divisible_by} gives conv tower "
                       f"widths {got}, but the weights have {widths}")
  else:
    divisible_by = next((d for d in _divisors(dim) if reproduces(d)), None)
    if divisible_by is None:
      raise ValueError(
          f"conv tower widths {widths} are not an exponential progression "
          f"from {dim // 2} to {dim} rounded to a divisor of {dim}")
    config["dim_divisible_by"] = divisible_by
  config.setdefault("depth", _numbered(state_dict, "transformer."))
  if config["depth"] and not {"heads", "attn_dim_key"} <= set(config):
    bias_shape = np.shape(state_dict["transformer.0.0.fn.1.rel_content_bias"])
    config.setdefault("heads", int(bias_shape[1]))
    config.setdefault("attn_dim_key", int(bias_shape[3]))
  config.setdefault("output_heads", {
      m.group(1): int(np.shape(v)[0]) for k, v in state_dict.items()
      if (m := re.fullmatch(r"_heads\.(\w+)\.0\.weight", k))})
  return config


def _variable_shapes(model: Enformer) -> dict[str, Any]:
  # Parameter shapes do not depend on the length or the crop, so a short
  # abstract input is enough; the TF gamma table is length-specific.
  probe = model.clone(target_length=None, tf_gammas=None, parent=None)
  length = 2 * model.output_stride
  shapes = nn.meta.unbox(jax.eval_shape(
      probe.init, jax.random.PRNGKey(0), jnp.zeros((1, length, 4))))
  # Only the stored collections: init also returns whatever modules sow.
  return {k: shapes[k] for k in ("params", "batch_stats")}


class StateDictReader:
  """Reads a PyTorch state dict for a converter, recording which keys were used.

  Shared by the Enformer and Borzoi converters (enformer-pytorch 0.8 and borzoi-pytorch
  0.5 store convolutions, linear layers and transformer blocks alike); ``leftover()``
  lists the keys no reader took.
  """

  def __init__(self, state_dict: Mapping[str, np.ndarray], heads: int):
    self.state_dict, self.heads, self.used = state_dict, heads, set()

  def take(self, key: str) -> np.ndarray:
    if key not in self.state_dict:
      raise ValueError(f"state dict has no {key!r}")
    self.used.add(key)
    return self.state_dict[key]

  def conv(self, prefix: str) -> dict[str, np.ndarray]:
    """``nn.Conv1d`` -> flax ``nn.Conv`` (kernel [width, in, out])."""
    return {"kernel": self.take(f"{prefix}.weight").transpose(2, 1, 0),
            "bias": self.take(f"{prefix}.bias")}

  def linear(self, prefix: str) -> dict[str, np.ndarray]:
    return {"kernel": self.take(f"{prefix}.weight").T, "bias": self.take(f"{prefix}.bias")}

  def split_heads(self, prefix: str) -> dict[str, np.ndarray]:
    w = self.take(f"{prefix}.weight")  # [heads * d, in]
    return {"kernel": w.T.reshape(w.shape[1], self.heads, -1)}

  def transformer_block(self, p: str) -> dict[str, Any]:
    """Flax params of one ``TransformerBlock`` from the PyTorch block at prefix ``p``
    (``p.0.fn`` = LayerNorm + attention, ``p.1.fn`` = LayerNorm + MLP)."""
    take, split_heads = self.take, self.split_heads
    out = take(f"{p}.0.fn.1.to_out.weight")  # [dim, heads * value]
    return {
        "attention_norm": {"scale": take(f"{p}.0.fn.0.weight"),
                           "bias": take(f"{p}.0.fn.0.bias")},
        "attention": {
            "query": split_heads(f"{p}.0.fn.1.to_q"),
            "key": split_heads(f"{p}.0.fn.1.to_k"),
            "value": split_heads(f"{p}.0.fn.1.to_v"),
            "relative_key": split_heads(f"{p}.0.fn.1.to_rel_k"),
            "content_bias": take(f"{p}.0.fn.1.rel_content_bias")[0, :, 0],
            "position_bias": take(f"{p}.0.fn.1.rel_pos_bias")[0, :, 0],
            "output": {"kernel": out.T.reshape(self.heads, -1, out.shape[0]),
                       "bias": take(f"{p}.0.fn.1.to_out.bias")},
        },
        "mlp_norm": {"scale": take(f"{p}.1.fn.0.weight"),
                     "bias": take(f"{p}.1.fn.0.bias")},
        "mlp_in": self.linear(f"{p}.1.fn.1"),
        "mlp_out": self.linear(f"{p}.1.fn.4"),
    }

  def leftover(self) -> list[str]:
    return sorted(set(self.state_dict) - self.used)


def convert_pytorch_state_dict(state_dict: Mapping[str, Any],
                               **model_kwargs: Any) -> dict[str, Any]:
  """Flax variables for ``Enformer`` from an enformer-pytorch state dict.

  Args:
    state_dict: ``{key: array}`` (NumPy arrays or CPU tensors) as
      ``Enformer.state_dict()`` gives it in enformer-pytorch 0.8; the
      ``_trunk.*`` aliases and ``num_batches_tracked`` are skipped.
    **model_kwargs: ``Enformer`` fields; they win over what
      ``config_from_state_dict`` reads off the weights.

  Returns:
    ``{"params": ..., "batch_stats": ...}`` of float32 NumPy arrays, checked
    against ``Enformer(**config_from_state_dict(sd, **model_kwargs))``.

  Raises:
    ValueError: on keys left over, missing or of the wrong shape.
  """
  sd = {k: np.asarray(v, dtype=np.float32) for k, v in state_dict.items()
        if not k.startswith("_trunk.") and
        not k.endswith("num_batches_tracked")}
  config = config_from_state_dict(sd, **model_kwargs)
  model = Enformer(**config)
  # heads: the field's default when depth is 0 (no attention).
  reader = StateDictReader(sd, model.heads)
  take, conv, linear = reader.take, reader.conv, reader.linear

  def batch_norm(prefix: str) -> tuple[dict[str, np.ndarray], ...]:
    return ({"scale": take(f"{prefix}.weight"), "bias": take(f"{prefix}.bias")},
            {"mean": take(f"{prefix}.running_mean"),
             "var": take(f"{prefix}.running_var")})

  def conv_block(bn: str, cv: str):
    norm_params, norm_stats = batch_norm(bn)
    return ({"norm": norm_params, "conv": conv(cv)}, {"norm": norm_stats})

  def pool(prefix: str) -> dict[str, np.ndarray]:
    w = take(f"{prefix}.to_attn_logits.weight")
    # 0.8 stores a 1x1 Conv2d [out, in, 1, 1]; earlier releases a matrix
    # applied as "b d n, d e -> b e n", i.e. already [in, out].
    return {"kernel": w[:, :, 0, 0].T if w.ndim == 4 else w}

  params: dict[str, Any] = {"stem_conv": conv("stem.0")}
  stats: dict[str, Any] = {}
  params["stem_pointwise"], stats["stem_pointwise"] = conv_block(
      "stem.1.fn.0", "stem.1.fn.2")
  params["stem_pool"] = pool("stem.2")
  for i in range(config["num_downsamples"] - 1):
    p = f"conv_tower.{i}"
    conv_p, conv_s = conv_block(f"{p}.0.0", f"{p}.0.2")
    point_p, point_s = conv_block(f"{p}.1.fn.0", f"{p}.1.fn.2")
    params[f"conv_tower_{i}"] = {"conv": conv_p, "pointwise": point_p,
                                 "pool": pool(f"{p}.2")}
    stats[f"conv_tower_{i}"] = {"conv": conv_s, "pointwise": point_s}
  for i in range(config["depth"]):
    params[f"transformer_{i}"] = reader.transformer_block(f"transformer.{i}")
  params["final_pointwise"], stats["final_pointwise"] = conv_block(
      "final_pointwise.1.0", "final_pointwise.1.2")
  for head in config["output_heads"]:
    params[f"head_{head}"] = linear(f"_heads.{head}.0")

  if leftover := reader.leftover():
    raise ValueError(f"unconverted enformer-pytorch keys: {leftover[:20]}")
  variables = {"params": params, "batch_stats": stats}
  expected = _variable_shapes(model)
  got = jax.tree_util.tree_map(np.shape, variables)
  want = jax.tree_util.tree_map(lambda s: tuple(s.shape), expected)
  if got != want:
    shown = {k: v for k, v in config.items() if k != "tf_gammas"}
    raise ValueError(f"converted shapes do not fit Enformer(**{shown}): "
                     f"got {got}, expected {want}")
  return variables


def load_state_dict(path: str | os.PathLike[str],
                    prefix: str = "") -> dict[str, np.ndarray]:
  """Reads an enformer-pytorch state dict as float32 NumPy arrays.

  Args:
    path: ``.npz`` of arrays keyed like ``Enformer.state_dict()``; a
      ``torch.save`` state dict (``.pt``, ``.pth``, ``.bin``; PyTorch is
      imported only here); or ``.safetensors`` (needs ``safetensors``).
    prefix: only keys starting with it are kept, with it removed (e.g.
      ``"sd/"``).

  Returns:
    ``{key: array}``.
  """
  path = os.fspath(path)
  if path.endswith(".npz"):
    with np.load(path) as data:
      raw = {k: data[k] for k in data.files}
  elif path.endswith(".safetensors"):
    # pylint: disable-next=g-import-not-at-top
    from safetensors.numpy import load_file
    raw = load_file(path)
  else:
    import torch  # pylint: disable=g-import-not-at-top  # only for torch files
    state = torch.load(path, map_location="cpu", weights_only=True)
    raw = {k: v.detach().float().numpy() for k, v in state.items()
           if hasattr(v, "detach")}
  return {k[len(prefix):]: np.asarray(v) for k, v in raw.items()
          if k.startswith(prefix)}


def load_tf_gammas(path: str | os.PathLike[str]) -> np.ndarray:
  """Reads enformer-pytorch's TF gamma table (``precomputed/tf_gammas.pt``).

  Args:
    path: the ``.pt`` file (PyTorch imported only here), an ``.npy``, or an
      ``.npz`` with one array or a ``tf_gammas`` entry.

  Returns:
    ``float32[3071, 32]`` for the paper size (1,536 bins, 32 basis functions).
  """
  path = os.fspath(path)
  if path.endswith(".npy"):
    table = np.load(path)
  elif path.endswith(".npz"):
    with np.load(path) as data:
      key = "tf_gammas" if "tf_gammas" in data.files else data.files[0]
      table = data[key]
  else:
    import torch  # pylint: disable=g-import-not-at-top  # only for torch files
    table = torch.load(path, map_location="cpu", weights_only=True).numpy()
  return np.asarray(table, dtype=np.float32)


def read_snapshot(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
  """``(weights file, config.json as a dict or {})`` of a weights file or of a
  Hugging Face snapshot directory (``config.json`` and ``model.safetensors`` or
  ``pytorch_model.bin``)."""
  path = os.fspath(path)
  if not os.path.isdir(path):
    return path, {}
  config = {}
  config_path = os.path.join(path, "config.json")
  if os.path.exists(config_path):
    with open(config_path) as f:
      config = json.load(f)
  names = ("model.safetensors", "pytorch_model.bin")
  found = [n for n in names if os.path.exists(os.path.join(path, n))]
  if not found:
    raise FileNotFoundError(f"no {' or '.join(names)} in {path}")
  return os.path.join(path, found[0]), config


def load_pretrained(path: str | os.PathLike[str], *,
                    tf_gammas_path: str | os.PathLike[str] | None = None,
                    prefix: str = "",
                    **model_kwargs: Any) -> tuple[Enformer, dict[str, Any]]:
  """Loads enformer-pytorch weights into ``Enformer``.

  Args:
    path: a weights file (see ``load_state_dict``) or a Hugging Face snapshot
      directory with ``config.json`` and ``model.safetensors`` or
      ``pytorch_model.bin``.
    tf_gammas_path: enformer-pytorch's ``tf_gammas.pt``; sets
      ``use_tf_gamma`` and uses the exact table (1,536 bins only).
    prefix: key prefix inside the file.
    **model_kwargs: ``Enformer`` fields; they win over ``config.json``,
      which wins over what the weights show (e.g. ``target_length``,
      ``use_tf_gamma``, ``dim_divisible_by``).

  Returns:
    ``(model, variables)``; ``model.apply(variables, x)`` predicts.
  """
  path, hf_config = read_snapshot(path)
  config = pytorch_config_to_kwargs(hf_config) if hf_config else {}
  config.update(model_kwargs)
  if tf_gammas_path is not None:
    config.update(use_tf_gamma=True, tf_gammas=load_tf_gammas(tf_gammas_path))
  state_dict = load_state_dict(path, prefix)
  config = config_from_state_dict(state_dict, **config)
  return Enformer(**config), convert_pytorch_state_dict(state_dict, **config)
