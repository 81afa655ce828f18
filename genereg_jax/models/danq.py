"""DanQ (Quang & Xie, Nucleic Acids Research 2016).

A convolution learns motifs, a bidirectional LSTM their "grammar" (Fig. 1): 1,000 bp
one-hot -> 320 kernels of 26 (valid, ReLU) -> max-pool 13 with stride 13 (75 steps) ->
dropout 0.2 -> BiLSTM with 320 units per direction, whole sequence kept ([75, 640]) ->
dropout 0.5 -> flatten (48,000) -> dense 925 ReLU -> 919 sigmoid outputs (DeepSEA's
chromatin features). Returns logits. The published Keras 0.2 model's LSTM gates were
Keras' hard sigmoid (``clip(0.2 x + 0.5, 0, 1)``, its default then), kept here so the
released weights would load as they were trained.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Seconds on a CPU: 200 bp -> 175 -> 13 LSTM steps.
    "tiny": dict(conv_features=32, lstm_features=32, dense_features=64, num_outputs=12),
}


class DanQ(nn.Module):
  """DanQ: ``[batch, 1000, 4]`` one-hot -> ``[batch, num_outputs]`` logits (Fig. 1).

  Attributes:
    conv_features: motif detectors.
    kernel_size: their width.
    pool_size: max-pool window and stride.
    conv_dropout_rate: dropout after pooling.
    lstm_features: LSTM units per direction.
    gate_activation: LSTM gate (``gnn.recurrent.GATE_ACTIVATIONS``).
    lstm_dropout_rate: dropout on the BiLSTM outputs.
    dense_features: ReLU units of the hidden layer.
    num_outputs: output logits.
    dtype: compute dtype.
  """
  conv_features: int = 320
  kernel_size: int = 26
  pool_size: int = 13
  conv_dropout_rate: float = 0.2
  lstm_features: int = 320
  gate_activation: str = "hard_sigmoid"
  lstm_dropout_rate: float = 0.5
  dense_features: int = 925
  num_outputs: int = 919
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = gnn.ConvBlock(self.conv_features, self.kernel_size, pool_size=self.pool_size,
                      dropout_rate=self.conv_dropout_rate, dtype=self.dtype, name="motifs")(
                          sequence.astype(self.dtype), train=train)
    x = gnn.BiLSTM(self.lstm_features, gate_activation=self.gate_activation, dtype=self.dtype,
                   name="bilstm")(x)
    x = nn.Dropout(self.lstm_dropout_rate, deterministic=not train)(x)
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.dense_features, dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DanQ
