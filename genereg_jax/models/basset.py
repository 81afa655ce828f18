"""Basset (Kelley, Snoek & Rinn, Genome Research 2016) and CpGenie (Zeng & Gifford 2017).

Basset (Fig. 1; best hyperparameters of the Torch model): 600 bp one-hot -> three
convolutions (300 x 19, 200 x 11, 200 x 7), each with batch norm and ReLU, max-pooled
3, 4, 4 -> two fully connected layers of 1,000 (batch norm, ReLU, dropout 0.3) -> 164
sigmoid outputs (DNase-seq peaks in 164 cell types). Returns logits; the
``multilabel_binary`` task applies the sigmoid. The Torch model also gives each
convolution and linear layer a bias before its batch norm; batch norm subtracts the
batch mean, so those 2,700 biases are redundant and left out here (to load Torch
weights, fold each into its running mean: ``mean - bias``).

CpGenie (Zeng & Gifford, NAR 2017; the authors' ``seq_128x3_5_5_2f_simple`` Keras
template) predicts whether the CpG at the centre of 1,001 bp is methylated: three
'same' convolutions (128, 256, 512 kernels of 5) with ReLU, each max-pooled 5 with
stride 3, two dense layers of 64 ReLU units with dropout (tuned over 0.3/0.5/0.7; 0.5
here), and 2 softmax outputs (returned as logits). Its max-norm (3) weight constraint is
an optimizer-side choice, not part of the model. ``PRESETS["cpgenie"]`` builds it.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "cpgenie": dict(conv_features=(128, 256, 512), kernel_sizes=(5, 5, 5), pool_sizes=(5, 5, 5),
                    pool_strides=(3, 3, 3), padding="SAME", batch_norm=False,
                    dense_features=(64, 64), dropout_rate=0.5, num_outputs=2),
    # Seconds on a CPU; the paper's kernels and pools still fit 200 bp (200 -> 60 -> 12 -> 1).
    "tiny": dict(conv_features=(32, 32, 32), dense_features=(64, 64), dropout_rate=0.1,
                 num_outputs=12),
}


class Basset(nn.Module):
  """Basset: ``[batch, 600, 4]`` one-hot -> ``[batch, num_outputs]`` logits (Fig. 1).

  Attributes:
    conv_features: kernels of each convolution.
    kernel_sizes: width of each convolution.
    pool_sizes: max-pool window after each convolution.
    pool_strides: max-pool strides; None means stride = window (Basset).
    padding: ``"VALID"`` (Basset) or ``"SAME"`` (CpGenie) convolutions.
    batch_norm: batch norm before every ReLU (Basset) or biases instead (CpGenie).
    dense_features: units of each fully connected layer.
    dropout_rate: dropout after each fully connected layer.
    num_outputs: output logits.
    dtype: compute dtype.
  """
  conv_features: Sequence[int] = (300, 200, 200)
  kernel_sizes: Sequence[int] = (19, 11, 7)
  pool_sizes: Sequence[int] = (3, 4, 4)
  pool_strides: Sequence[int] | None = None
  padding: str = "VALID"
  batch_norm: bool = True
  dense_features: Sequence[int] = (1000, 1000)
  dropout_rate: float = 0.3
  num_outputs: int = 164
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = gnn.ConvTower(self.conv_features, self.kernel_sizes, self.pool_sizes,
                      (0.0,) * len(self.conv_features), batch_norm=self.batch_norm,
                      padding=self.padding, pool_strides=self.pool_strides, dtype=self.dtype,
                      name="tower")(sequence.astype(self.dtype), train=train)
    x = x.reshape(x.shape[0], -1)
    for index, features in enumerate(self.dense_features):
      x = gnn.DenseBlock(features, dropout_rate=self.dropout_rate, batch_norm=self.batch_norm,
                         dtype=self.dtype, name=f"hidden_{index}")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = Basset
