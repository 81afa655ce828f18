"""RNATracker (Yan, Lécuyer & Blanchette, Bioinformatics 2019): mRNA localisation fractions.

The figure in words, with the released code's defaults (``Scripts/RNATracker.py`` and
``build_model_advanced_masking`` in ``Models/cnn_bilstm_attention.py``, HarveyYan/
RNATracker): a transcript's cDNA, cut or padded to 4,000 nt (Keras ``pad_sequences``
defaults: the *last* 4,000 nt kept, zero columns added at the 5' start), one-hot
``[batch, 4000, 4]`` -> stem: two blocks of {32 kernels of 10, valid, no bias, ReLU,
max-pool 3 with stride 3, dropout 0.2} (4000 -> 1330 -> 440 steps) -> trunk: dropout
0.1 on the LSTM input, a bidirectional LSTM of 32 units per direction, whole sequence
kept ``[batch, 440, 64]`` -> attention: scores ``w . tanh(W h_t + b)`` with ``W`` 50
wide and ``w`` without bias, a softmax over steps, the attention-weighted sum of the
LSTM outputs ``[batch, 64]`` -> head: dense to one logit per compartment (the paper's
softmax is applied by the ``fractions`` task; KL-divergence loss, Nadam).

Padding: the released model masks all-zero steps before the LSTM (Keras ``Masking``)
but its attention softmax also covers them. Here the LSTM reads the padded steps (zero
input; padding comes first, so the forward state starts after it) and the attention
softmax covers only steps that see sequence, so padding can never draw attention.

Structure (the paper's "secondary structure annotation"): the released code encodes
each nucleotide jointly with one of six RNAplfold-derived contexts (dangling start/end,
internal loop, hairpin, multi-loop, stem) as a 24-symbol one-hot. Here the optional
``structure`` input ``[batch, length, channels]`` (the ``rna_localization`` builders'
RNAplfold probabilities) is concatenated to the sequence channels before the stem, so
the same model reads both, and ``[..., 4]`` without it.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Seconds on a CPU.
    "tiny": dict(num_filters=16, filter_length=8, lstm_units=16, attention_size=16),
}


def visible_steps(sequence: jnp.ndarray, filter_length: int, pool_size: int,
                  num_blocks: int) -> jnp.ndarray:
  """``[batch, steps]`` bool: the steps after the stem whose window holds sequence.

  A position is sequence when its row is not all zero (padding); a convolution step
  sees sequence when any of its ``filter_length`` inputs does, a pooled step when any of
  its ``pool_size`` inputs does: the stem's geometry, applied to the mask.
  """
  visible = (jnp.abs(sequence).sum(-1, keepdims=True) > 0).astype(jnp.float32)
  for _ in range(num_blocks):
    visible = nn.max_pool(visible, (filter_length,), strides=(1,), padding="VALID")
    visible = nn.max_pool(visible, (pool_size,), strides=(pool_size,), padding="VALID")
  return visible[..., 0] > 0


class RNATracker(nn.Module):
  """RNATracker: ``[batch, length, 4]`` (+ structure) -> ``[batch, num_outputs]`` logits.

  Attributes:
    num_filters: kernels of each convolution (paper: 32).
    filter_length: their width (10).
    pool_size: max-pool window and stride (3).
    num_conv_blocks: convolution blocks in the stem (2).
    conv_dropout_rate: dropout after each pooling (0.2).
    lstm_units: LSTM units per direction (32).
    lstm_dropout_rate: dropout on the LSTM input (Keras ``LSTM(dropout=0.1)``).
    attention_size: width of the attention's tanh layer (50).
    num_outputs: compartments (CeFra-seq and APEX-RIP: 4).
    dtype: compute dtype.
  """
  num_filters: int = 32
  filter_length: int = 10
  pool_size: int = 3
  num_conv_blocks: int = 2
  conv_dropout_rate: float = 0.2
  lstm_units: int = 32
  lstm_dropout_rate: float = 0.1
  attention_size: int = 50
  num_outputs: int = 4
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, structure: jnp.ndarray | None = None, *,
               train: bool = False) -> jnp.ndarray:
    x = sequence.astype(self.dtype)
    if structure is not None:
      x = jnp.concatenate([x, structure.astype(self.dtype)], axis=-1)
    # Bias-free kernels keep padding (all-zero columns) at exactly zero after the stem.
    for block in range(self.num_conv_blocks):
      x = gnn.conv(self.num_filters, self.filter_length, padding="VALID", use_bias=False,
                   dtype=self.dtype, name=f"conv{block + 1}")(x)
      x = nn.max_pool(nn.relu(x), (self.pool_size,), strides=(self.pool_size,),
                      padding="VALID")
      x = nn.Dropout(self.conv_dropout_rate, deterministic=not train)(x)
    x = nn.Dropout(self.lstm_dropout_rate, deterministic=not train)(x)
    h = gnn.BiLSTM(self.lstm_units, dtype=self.dtype, name="bilstm")(x)

    # Additive attention over steps (the released ``attention_module``).
    context = jnp.tanh(gnn.dense(self.attention_size, dtype=self.dtype,
                                 name="attention_context")(h))
    scores = gnn.dense(1, use_bias=False, dtype=self.dtype, axes=("mlp", "embed"),
                       name="attention_score")(context)[..., 0].astype(jnp.float32)
    visible = visible_steps(sequence, self.filter_length, self.pool_size,
                            self.num_conv_blocks)
    scores = jnp.where(visible, scores, -1e9)
    weights = nn.softmax(scores, axis=-1)
    self.sow("intermediates", "attention", weights)
    pooled = jnp.einsum("bt,btc->bc", weights.astype(h.dtype), h)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(pooled)


Model = RNATracker
