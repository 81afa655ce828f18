"""The BERT-style transformer encoder shared by the language models.

One implementation serves DNABERT (Ji et al., Bioinformatics 2021; BERT-base,
Devlin et al. 2019), ESM-1b (Rives et al., PNAS 2021) and ESM-2 (Lin et al.,
Science 2023); the differences are fields, not copies:

* ``pre_norm=False`` (BERT, DNABERT): post-LN layers,
  ``h = LN(h + Dropout(Attn(h)))``, ``h = LN(h + Dropout(W2 gelu(W1 h)))``.
* ``pre_norm=True`` (ESM-1b, ESM-2): ``h += Dropout(Attn(LN(h)))``,
  ``h += Dropout(W2 gelu(W1 LN(h)))``, and an optional final LayerNorm
  (fair-esm's ``emb_layer_norm_after``).
* ``rotary=True`` (ESM-2): rotary position embeddings (Su et al. 2021) on the
  queries and keys of every layer, ``rotate_half(x) = [-x2, x1]`` over the two
  halves of each head, ``theta_i = 10000^(-2i / head_dim)``; learned absolute
  positions are the embedding's job (``genereg_jax.models.language``).

The MSA Transformer (Rao et al., ICML 2021) reuses ``SelfAttention``: with
``tied_rows=True`` it is the tied row attention, and on ``[batch * columns, rows,
hidden]`` it is the column attention; ``AxialTransformerLayer`` stacks the two and the
shared feed-forward.

GELU is the exact erf form (BERT's and ESM's ``gelu``). Queries are scaled by
``head_dim**-0.5``; padded keys (``attention_mask == 0``) get ``finfo(float32).min``
added to their logits, as Hugging Face does, so padded query rows are computed like
the others and never influence real tokens.

Parameter axes (``genereg_jax.train.partitioning``): q/k/v kernels
``[embed, heads, kv]``, their biases ``[heads, kv]``, the output projection
``[heads, kv, embed]``, the feed-forward ``[embed, mlp]`` and ``[mlp, embed]``;
a ``("heads", "model"), ("mlp", "model")`` rule splits attention heads and MLP
units over the model axis (Megatron-style tensor parallelism).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array
Dtype = Any


def _named(init: nn.initializers.Initializer, *names: str | None):
  return nn.with_logical_partitioning(init, names)


def gelu(x: Array) -> Array:
  """Exact GELU, ``x * Phi(x)`` with the erf (BERT's and ESM's ``gelu``)."""
  return nn.gelu(x, approximate=False)


def rotary_embedding(x: Array, positions: Array | None = None,
                     base: float = 10000.0) -> Array:
  """Rotary position embedding (Su et al. 2021) as ESM-2 applies it.

  Args:
    x: ``[batch, length, heads, head_dim]`` queries or keys; ``head_dim`` even.
    positions: ``[length]`` positions (default ``0 .. length - 1``; ESM-2 does not
      skip padding).
    base: ``theta_i = base^(-2i / head_dim)``.

  Returns:
    ``x * cos + rotate_half(x) * sin`` where the angles ``t * theta`` are repeated
    over the two halves of the head and ``rotate_half(x) = [-x2, x1]``.
  """
  length, head_dim = x.shape[1], x.shape[-1]
  if head_dim % 2:
    raise ValueError(f"rotary embeddings need an even head size, got {head_dim}")
  if positions is None:
    positions = jnp.arange(length, dtype=jnp.float32)
  inv_freq = base ** (-jnp.arange(0, head_dim, 2, dtype=jnp.float32) / head_dim)
  angles = positions.astype(jnp.float32)[:, None] * inv_freq[None, :]
  angles = jnp.concatenate([angles, angles], axis=-1)[None, :, None, :]
  x1, x2 = jnp.split(x, 2, axis=-1)
  rotated = jnp.concatenate([-x2, x1], axis=-1)
  return (x * jnp.cos(angles) + rotated * jnp.sin(angles)).astype(x.dtype)


class SelfAttention(nn.Module):
  """Multi-head self-attention with biases, optional rotary positions and a key mask.

  Attributes:
    num_heads: attention heads; the head size is ``channels // num_heads``.
    rotary: rotary position embeddings on q and k (ESM-2).
    dropout_rate: dropout on the attention weights (BERT: 0.1).
    dtype: compute dtype; logits and softmax run in float32.
    param_dtype: parameter dtype.
  """
  num_heads: int = 12
  rotary: bool = False
  tied_rows: bool = False
  dropout_rate: float = 0.0
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, attention_mask: Array | None = None, *,
               train: bool = False) -> Array:
    """``[batch, length, channels] -> [batch, length, channels]``.

    ``attention_mask`` ``[batch, length]``: 1 for tokens, 0 for padding (keys).
    With ``tied_rows`` (the MSA Transformer's row attention, Rao et al. 2021) ``x``
    is ``[batch, rows, length, channels]`` and ``attention_mask``
    ``[batch, rows, length]``: one attention map per MSA, the sum of every row's
    logits with queries scaled by ``(head_dim * rows)**-0.5``, shared by all rows.
    """
    channels = x.shape[-1]
    if channels % self.num_heads:
      raise ValueError(f"hidden size {channels} is not divisible by "
                       f"{self.num_heads} heads")
    head_dim = channels // self.num_heads
    init = nn.initializers.normal(0.02)  # BERT's initializer_range

    def projection(name):
      return nn.DenseGeneral(
          (self.num_heads, head_dim), dtype=self.dtype,
          param_dtype=self.param_dtype, name=name,
          kernel_init=_named(init, "embed", "heads", "kv"),
          bias_init=_named(nn.initializers.zeros_init(), "heads", "kv"))

    scale = head_dim**-0.5
    if self.tied_rows:
      scale /= x.shape[1]**0.5
    q = projection("query")(x) * scale
    k = projection("key")(x)
    v = projection("value")(x)
    if self.tied_rows and attention_mask is not None:
      # fair-esm zeroes padded queries, so padding rows add nothing to the tied
      # logits; keys are masked by the first row's padding.
      q = q * attention_mask[..., None, None].astype(q.dtype)
      attention_mask = attention_mask[:, 0]
    if self.rotary:
      if self.tied_rows:
        raise ValueError("rotary positions are not supported with tied_rows")
      q, k = rotary_embedding(q), rotary_embedding(k)
    rows = "r" if self.tied_rows else ""
    logits = jnp.einsum(f"b{rows}ihd,b{rows}jhd->bhij", q, k,
                        preferred_element_type=jnp.float32)
    if attention_mask is not None:
      # Hugging Face adds finfo.min (not -inf): a row whose keys are all padding
      # stays finite.
      blocked = (1.0 - attention_mask.astype(jnp.float32)) * jnp.finfo(jnp.float32).min
      logits = logits + blocked[:, None, None, :]
    weights = jax.nn.softmax(logits, axis=-1)
    # [batch, heads, query, key], as genereg_jax.nn.attention sows it.
    if not self.is_initializing():
      self.sow("attention_weights", "weights", weights)
    weights = nn.Dropout(self.dropout_rate)(weights, deterministic=not train)
    out = jnp.einsum(f"bhij,b{rows}jhd->b{rows}ihd", weights.astype(self.dtype), v)
    return nn.DenseGeneral(
        channels, axis=(-2, -1), dtype=self.dtype, param_dtype=self.param_dtype,
        name="output", kernel_init=_named(init, "heads", "kv", "embed"),
        bias_init=_named(nn.initializers.zeros_init(), "embed"))(out)


def dense(features: int, axes: tuple[str, str], dtype: Dtype, param_dtype: Dtype,
          name: str) -> nn.Dense:
  """Dense layer with BERT's N(0, 0.02) init and named ``axes`` (kernel; bias last)."""
  return nn.Dense(
      features, dtype=dtype, param_dtype=param_dtype, name=name,
      kernel_init=_named(nn.initializers.normal(0.02), *axes),
      bias_init=_named(nn.initializers.zeros_init(), axes[-1]))


def feed_forward(x: Array, intermediate_size: int, dtype: Dtype,
                 param_dtype: Dtype) -> Array:
  """``W2 gelu(W1 x)`` (submodules ``mlp_in``, ``mlp_out``); call inside a compact
  method."""
  y = dense(intermediate_size, ("embed", "mlp"), dtype, param_dtype, "mlp_in")(x)
  return dense(x.shape[-1], ("mlp", "embed"), dtype, param_dtype, "mlp_out")(gelu(y))


def layer_norm(epsilon: float, dtype: Dtype, param_dtype: Dtype,
               name: str) -> nn.LayerNorm:
  """LayerNorm with two-pass variance (as PyTorch) and ``norm``-named params."""
  return nn.LayerNorm(
      epsilon=epsilon, use_fast_variance=False, dtype=dtype,
      param_dtype=param_dtype, name=name,
      scale_init=_named(nn.initializers.ones_init(), "norm"),
      bias_init=_named(nn.initializers.zeros_init(), "norm"))


class TransformerLayer(nn.Module):
  """One encoder layer, post-LN (BERT) or pre-LN (ESM); see the module docstring.

  Attributes:
    num_heads: attention heads.
    intermediate_size: feed-forward width (BERT-base 3,072; ESM-1b 5,120).
    pre_norm: pre-LN (ESM) instead of post-LN (BERT).
    rotary: rotary positions in the attention (ESM-2).
    dropout_rate: dropout after the attention and feed-forward outputs.
    attention_dropout_rate: dropout on the attention weights.
    layer_norm_eps: LayerNorm epsilon (BERT 1e-12, ESM-1b 1e-5).
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  num_heads: int = 12
  intermediate_size: int = 3072
  pre_norm: bool = False
  rotary: bool = False
  dropout_rate: float = 0.1
  attention_dropout_rate: float = 0.1
  layer_norm_eps: float = 1e-12
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  def _norm(self, name: str) -> nn.LayerNorm:
    return layer_norm(self.layer_norm_eps, self.dtype, self.param_dtype, name)

  @nn.compact
  def __call__(self, x: Array, attention_mask: Array | None = None,
               train: bool = False) -> Array:
    """``[batch, length, hidden] -> [batch, length, hidden]``."""
    dropout = nn.Dropout(self.dropout_rate, deterministic=not train)
    attention = SelfAttention(
        self.num_heads, rotary=self.rotary,
        dropout_rate=self.attention_dropout_rate, dtype=self.dtype,
        param_dtype=self.param_dtype, name="attention")
    mlp = lambda y: feed_forward(y, self.intermediate_size, self.dtype,
                                 self.param_dtype)
    if self.pre_norm:
      y = self._norm("attention_norm")(x)
      x = x + dropout(attention(y, attention_mask, train=train))
      return x + dropout(mlp(self._norm("mlp_norm")(x)))
    x = self._norm("attention_norm")(
        x + dropout(attention(x, attention_mask, train=train)))
    return self._norm("mlp_norm")(x + dropout(mlp(x)))


class TransformerEncoder(nn.Module):
  """A stack of ``TransformerLayer``s on embedded tokens.

  Attributes:
    num_layers: layers (BERT-base / DNABERT 12, ESM-1b 33).
    num_heads: attention heads.
    intermediate_size: feed-forward width.
    pre_norm: pre-LN (ESM) instead of post-LN (BERT).
    final_norm: a LayerNorm after the last layer (ESM's ``emb_layer_norm_after``).
    rotary: rotary positions (ESM-2).
    dropout_rate: residual dropout.
    attention_dropout_rate: attention-weight dropout.
    layer_norm_eps: LayerNorm epsilon.
    remat: recompute each layer's activations in the backward pass.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  num_layers: int = 12
  num_heads: int = 12
  intermediate_size: int = 3072
  pre_norm: bool = False
  final_norm: bool = False
  rotary: bool = False
  dropout_rate: float = 0.1
  attention_dropout_rate: float = 0.1
  layer_norm_eps: float = 1e-12
  remat: bool = False
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, attention_mask: Array | None = None, *,
               train: bool = False) -> tuple[Array, tuple[Array, ...]]:
    """Encodes ``[batch, length, hidden]`` embeddings.

    Returns:
      ``(last, hidden_states)``: ``last`` the final output (after ``final_norm``)
      and ``hidden_states`` Hugging Face's tuple of ``num_layers + 1`` arrays,
      the input first, then each layer's output, the last one being ``last``.
    """
    layer_cls = TransformerLayer
    if self.remat:
      layer_cls = nn.remat(TransformerLayer, static_argnums=(3,))
    hidden_states = [x]
    for i in range(self.num_layers):
      x = layer_cls(
          num_heads=self.num_heads, intermediate_size=self.intermediate_size,
          pre_norm=self.pre_norm, rotary=self.rotary,
          dropout_rate=self.dropout_rate,
          attention_dropout_rate=self.attention_dropout_rate,
          layer_norm_eps=self.layer_norm_eps, dtype=self.dtype,
          param_dtype=self.param_dtype, name=f"layer_{i}")(x, attention_mask, train)
      hidden_states.append(x)
    if self.final_norm:
      x = layer_norm(self.layer_norm_eps, self.dtype, self.param_dtype,
                     "final_norm")(x)
      hidden_states[-1] = x
    return x, tuple(hidden_states)


class AxialTransformerLayer(nn.Module):
  """The MSA Transformer's layer (Rao et al., ICML 2021; fair-esm ``AxialTransformerLayer``).

  Pre-LN, on ``[batch, rows, columns, hidden]``: tied row attention
  (``SelfAttention(tied_rows=True)``: one map over columns per MSA), then column
  attention (each column attends over its rows, untied), then the feed-forward,
  each as ``x += Dropout(f(LN(x)))``.

  Attributes:
    num_heads: attention heads.
    intermediate_size: feed-forward width (paper 3,072).
    dropout_rate: residual dropout (paper 0.1).
    attention_dropout_rate: attention-weight dropout (paper 0.1).
    layer_norm_eps: LayerNorm epsilon.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  num_heads: int = 12
  intermediate_size: int = 3072
  dropout_rate: float = 0.1
  attention_dropout_rate: float = 0.1
  layer_norm_eps: float = 1e-5
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, padding_mask: Array | None = None,
               train: bool = False) -> Array:
    """``[batch, rows, columns, hidden]`` -> same; ``padding_mask``
    ``[batch, rows, columns]`` 1 for tokens, 0 for padding."""
    batch, rows, columns, hidden = x.shape
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    dropout = nn.Dropout(self.dropout_rate, deterministic=not train)
    norm = lambda name: layer_norm(self.layer_norm_eps, name=name, **kw)
    attention = lambda name, tied: SelfAttention(
        self.num_heads, tied_rows=tied, dropout_rate=self.attention_dropout_rate,
        name=name, **kw)
    x = x + dropout(attention("row_attention", True)(
        norm("row_norm")(x), padding_mask, train=train))
    # Column attention: each (batch, column) is a sequence over the rows.
    y = norm("column_norm")(x).transpose(0, 2, 1, 3).reshape(-1, rows, hidden)
    row_mask = None if padding_mask is None else (
        padding_mask.transpose(0, 2, 1).reshape(-1, rows))
    y = attention("column_attention", False)(y, row_mask, train=train)
    x = x + dropout(y.reshape(batch, columns, rows, hidden).transpose(0, 2, 1, 3))
    y = feed_forward(norm("mlp_norm")(x), self.intermediate_size, self.dtype,
                     self.param_dtype)
    return x + dropout(y)
