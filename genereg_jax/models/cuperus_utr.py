"""Cuperus et al. (Genome Research 2017): yeast 5' UTR -> growth-selection expression.

Half a million random 50-nt 5' UTRs drove HIS3 in a growth selection; the enrichment
(log2 growth rate) measures each UTR's translation efficiency. The released notebook
(``Seeliglab/2017---Deep-learning-yeast-UTRs``, Notebook 1) pads each one-hot UTR with
10 empty (all-zero) columns at each end (70 columns), then: a first convolution over
the four letters ('valid', ReLU), ``conv_layers - 1`` further convolutions ('same',
ReLU), optional dropout after each, flatten, ``dense_layers`` ReLU dense layers with
optional dropout, and one linear output; MSE, Adam, early stopping. The architecture was
picked by hyperopt (50 TPE trials) from filters {32, 64, 128, 256}, widths {9, 13, 17,
25}, 2-4 convolutions, 1-2 dense layers of {32 ... 256} units. The selected values sit in
the released ``model_arch.json`` (``Results/Random_UTR_CNN_Hyperparams.tar.gz``), which we
could not read here. ``paper`` is our reading of the paper's three-layer CNN: three
convolutions of 128 filters of width 13 and one dense layer of 64 units, dropout 0.15
after the convolutions and 0.25 after the dense layer -- all inside that search space,
but not checked against the released file.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv_features=16, kernel_size=9, dense_features=16, conv_dropout_rate=0.0,
                 dense_dropout_rate=0.0),
}


class CuperusUTR(nn.Module):
  """``[batch, 50, 4]`` one-hot UTR -> ``[batch, num_outputs]`` expression.

  Attributes:
    conv_features: filters per convolution (128).
    kernel_size: their width (13).
    conv_layers: convolutions (3).
    conv_dropout_rate: dropout after each convolution.
    dense_features: units per dense layer.
    dense_layers: ReLU dense layers.
    dense_dropout_rate: dropout after each dense layer.
    pad: all-zero columns added at each end (the notebook's 10).
    num_outputs: regression outputs.
    dtype: compute dtype.
  """
  conv_features: int = 128
  kernel_size: int = 13
  conv_layers: int = 3
  conv_dropout_rate: float = 0.15
  dense_features: int = 64
  dense_layers: int = 1
  dense_dropout_rate: float = 0.25
  pad: int = 10
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = jnp.pad(sequence.astype(self.dtype), ((0, 0), (self.pad, self.pad), (0, 0)))
    for i in range(self.conv_layers):
      x = gnn.ConvBlock(self.conv_features, self.kernel_size,
                        padding="VALID" if i == 0 else "SAME",
                        dropout_rate=self.conv_dropout_rate, dtype=self.dtype,
                        name=f"conv{i + 1}")(x, train=train)
    x = x.reshape(x.shape[0], -1)
    for i in range(self.dense_layers):
      x = gnn.DenseBlock(self.dense_features, dropout_rate=self.dense_dropout_rate,
                         dtype=self.dtype, name=f"dense{i + 1}")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x).astype(jnp.float32)


Model = CuperusUTR
