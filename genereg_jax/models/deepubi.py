"""DeepUbi (Fu et al., BMC Bioinformatics 2019): ubiquitination sites from 31-residue windows.

A text CNN (Kim 2014 style) over the window around a candidate lysine, sizes from the
released code (Lab-Xu/DeepUbi, ``codes/text_cnn.py`` and ``CNN_train.py``)::

  31-residue window -> drop the central K (``Vocab.m``)          [batch, 30, channels]
  -> linear embedding to 21 (the code's trainable 21 x 21 lookup on residue indices:
     the same map on a one-hot row)
  -> 5 parallel "valid" convolutions of 64 filters, widths 2, 3, 4, 5, 6, ReLU,
     each max-pooled over the whole window                         [batch, 320]
  -> dense 128 ReLU -> dropout 0.3 (keep 0.7) -> dense 2 -> softmax

Trained with Adam (1e-3, x0.95 per epoch), batches of 40, 10 epochs. The paper's
per-residue input encodings are one-hot over 20 amino acids + a terminal-gap bit, the 31
informative physico-chemical properties of Tung & Ho (2008) (IPCP), or both side by
side (``genereg_jax.data.encoding``); the window-level CKSAAP and PseAAC vectors it also
compared can be appended to the pooled features through ``features``. (The released
code applies ``softmax_cross_entropy_with_logits`` to softmax outputs, a double
softmax; here the task's loss reads proper logits.) The output is one logit per type,
``z_pos - z_neg`` of the two-unit softmax head (same probability, same parameters).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    # The released sizes above.
    "paper": {},
    # Seconds on a CPU.
    "tiny": dict(num_filters=8, filter_widths=(2, 4, 6), hidden_features=16),
}


class DeepUbi(nn.Module):
  """``[batch, 31, channels]`` window (+ optional ``features [batch, F]``) -> logits
  ``[batch, num_outputs]``.

  Attributes:
    embed_features: width of the linear residue embedding (21); None to skip it.
    filter_widths: widths of the parallel convolutions.
    num_filters: filters per width.
    hidden_features: ReLU units of the dense layer.
    dropout_rate: dropout after it (the code's keep probability 0.7).
    drop_center: remove the window's central residue (always K) as the code does.
    num_outputs: types predicted (1: ubiquitination).
    dtype: compute dtype.
  """
  embed_features: int | None = 21
  filter_widths: Sequence[int] = (2, 3, 4, 5, 6)
  num_filters: int = 64
  hidden_features: int = 128
  dropout_rate: float = 0.3
  drop_center: bool = True
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence, features=None, *, train: bool = False):
    x = sequence.astype(self.dtype)
    if self.drop_center:
      center = x.shape[1] // 2
      x = jnp.concatenate([x[:, :center], x[:, center + 1:]], axis=1)
    if self.embed_features:
      x = gnn.dense(self.embed_features, use_bias=False, dtype=self.dtype, name="embedding",
                    axes=("conv_in", "embed"))(x)
    pooled = [nn.relu(gnn.conv(self.num_filters, width, padding="VALID", dtype=self.dtype,
                               name=f"conv_{width}")(x)).max(axis=1)
              for width in self.filter_widths]
    if features is not None:
      pooled.append(features.astype(self.dtype))
    x = jnp.concatenate(pooled, axis=-1)
    x = nn.relu(gnn.dense(self.hidden_features, dtype=self.dtype, name="hidden")(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    z = gnn.dense(2 * self.num_outputs, dtype=self.dtype, name="output",
                  axes=("mlp", "tracks"))(x).astype(jnp.float32)
    z = z.reshape(z.shape[0], self.num_outputs, 2)
    return z[..., 1] - z[..., 0]


Model = DeepUbi
