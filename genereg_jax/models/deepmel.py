"""DeepMEL (Minnoye, Taskiran et al., Genome Research 2020): 500-bp regions -> 24
cisTopic topics of melanoma chromatin accessibility (multilabel).

A DanQ-like convolution + bidirectional LSTM (DeepMEL1 in ``aertslab/CREsted``'s model
zoo, "a hybrid CNN-RNN ... with a reverse complement layer in the first layer"; 3.4 M
parameters, input ``(500, 4)``, output ``(24,)``): conv 128 x 20 ('valid', ReLU) ->
max-pool 10 with stride 10 (48 steps) -> dropout 0.2 -> a dense layer of 128 applied at
every step (Keras ``TimeDistributed``) -> BiLSTM of 128 per direction, whole sequence ->
dropout 0.2 -> flatten -> dense 256 ReLU, dropout 0.4 -> 24 sigmoid topics. Both strands
run through the same weights (the forward sequence and its reverse complement) and
their 256-unit representations are concatenated before the output layer, which is where
the two strands meet (3,448,344 parameters, the zoo's 3.4 M). Adam, binary
cross-entropy. Returns logits ``[batch, num_outputs]``. The zoo states the 128 first-layer
filters (DeepMEL2 has 300), the input, outputs and parameter count; the other sizes are
the paper's Methods as we read them (the released ``DeepMEL.json`` could not be read
here), and together they give the zoo's 3.4 M parameters.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv_features=16, kernel_size=12, step_features=16, lstm_features=16,
                 dense_features=32, num_outputs=4),
}


class DeepMELTrunk(nn.Module):
  """One strand: ``[batch, L, 4]`` -> ``[batch, dense_features]``."""
  conv_features: int
  kernel_size: int
  pool_size: int
  step_features: int
  lstm_features: int
  dense_features: int
  conv_dropout_rate: float
  lstm_dropout_rate: float
  dense_dropout_rate: float
  dtype: Any

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = gnn.ConvBlock(self.conv_features, self.kernel_size, pool_size=self.pool_size,
                      dropout_rate=self.conv_dropout_rate, dtype=self.dtype, name="motifs")(
                          x, train=train)
    x = gnn.dense(self.step_features, dtype=self.dtype, name="per_step")(x)
    x = gnn.BiLSTM(self.lstm_features, dtype=self.dtype, name="bilstm")(x)
    x = nn.Dropout(self.lstm_dropout_rate, deterministic=not train)(x)
    return gnn.DenseBlock(self.dense_features, dropout_rate=self.dense_dropout_rate,
                          dtype=self.dtype, name="hidden")(x.reshape(x.shape[0], -1),
                                                           train=train)


class DeepMEL(nn.Module):
  """``[batch, 500, 4]`` one-hot -> ``[batch, num_outputs]`` topic logits, both strands.

  Attributes:
    conv_features, kernel_size, pool_size: the motif convolution (128 x 20, pool 10).
    step_features: the per-step dense layer (128).
    lstm_features: LSTM units per direction (128).
    dense_features: the hidden layer (256).
    conv_dropout_rate, lstm_dropout_rate, dense_dropout_rate: 0.2, 0.2, 0.4.
    num_outputs: topics (24).
    dtype: compute dtype.
  """
  conv_features: int = 128
  kernel_size: int = 20
  pool_size: int = 10
  step_features: int = 128
  lstm_features: int = 128
  dense_features: int = 256
  conv_dropout_rate: float = 0.2
  lstm_dropout_rate: float = 0.2
  dense_dropout_rate: float = 0.4
  num_outputs: int = 24
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    trunk = DeepMELTrunk(self.conv_features, self.kernel_size, self.pool_size,
                         self.step_features, self.lstm_features, self.dense_features,
                         self.conv_dropout_rate, self.lstm_dropout_rate,
                         self.dense_dropout_rate, self.dtype, name="trunk")
    x = sequence.astype(self.dtype)
    # One-hot ACGT: the reverse complement flips positions and letters.
    both = jnp.concatenate([trunk(x, train=train), trunk(x[:, ::-1, ::-1], train=train)],
                           axis=-1)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(both).astype(jnp.float32)


Model = DeepMEL
