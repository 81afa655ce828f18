"""CNNProm (Umarov & Solovyev, PLoS ONE 2017): promoter / non-promoter from a window
around the transcription start site.

The paper trains one small architecture per organism (its Fig. 1 and the per-dataset
table): a window one-hot encoded, one or two convolutional layers of motif detectors
(ReLU), max pooling, a fully connected ReLU layer with dropout and a 2-class softmax.
Windows: eukaryotes (human and mouse from EPD, Arabidopsis from TAIR/PlantProm) take
-200..+50 around the TSS (251 bp, TSS at index 200); prokaryotes (E. coli sigma70 from
RegulonDB, B. subtilis from DBTBS) take -60..+20 (81 bp, TSS at index 60). Negatives are
non-promoter windows of the same length (random genomic fragments, for eukaryotes taken
from genes' coding/after-TSS regions).

Presets. The authors' training script (``ramzan1990/promstudy``, ``learncnn/tf_learncnn.py``)
defaults to one layer of 200 filters of 21, max-pool 2 and 128 hidden units on 81-bp
windows: our ``prokaryote`` preset. The per-dataset parameter files (the eukaryote pool 4
and the two-layer variant below) are not published (the repository's one example,
``learncnn/params.txt``, is 100 x 7 unpooled then 150 x 21 pooled 12, for no named
dataset), so those two follow the paper's description and cannot be checked against
code. The script also differs from these models in ways kept out of them: batch
normalisation after each convolution and the hidden layer, max-pooling with stride 1
(``tf.nn.pool`` without strides), no dropout, Adam at 1e-4 with L2 5e-4 on the weights,
batches of 16.

* ``eukaryote``: 251 bp; 200 filters of width 21, max-pool 4, 128 hidden units,
  dropout 0.5 (the paper's human/Arabidopsis TATA models).
* ``eukaryote_two_layer``: the same first layer followed by a second convolution of 100
  filters of width 11 and pool 2 (the paper's two-layer variant for the harder
  non-TATA sets).
* ``prokaryote``: 81 bp; 200 filters of width 21, max-pool 2, 128 hidden units
  (E. coli sigma70 / B. subtilis).
* ``tiny``: 8 filters of width 9, pool 4, 16 hidden units, for tests.

The convolutions are VALID, as in the paper's TensorFlow code (the window already has
the flanks it needs). Returns logits ``[batch, num_outputs]`` (1: the promoter logit;
the paper's softmax over two classes is this logit and a redundant one).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

EUKARYOTE_WINDOW, PROKARYOTE_WINDOW = 251, 81

PRESETS: dict[str, dict[str, Any]] = {
    "eukaryote": {},
    "eukaryote_two_layer": dict(conv_filters=(200, 100), conv_widths=(21, 11),
                                pool_sizes=(4, 2)),
    "prokaryote": dict(pool_sizes=(2,)),
    "tiny": dict(conv_filters=(8,), conv_widths=(9,), pool_sizes=(4,), hidden_features=16),
}


class CNNProm(nn.Module):
  """``[batch, length, 4]`` one-hot -> ``[batch, num_outputs]`` promoter logits.

  Attributes:
    conv_filters: filters of each convolutional layer (200; two layers: 200, 100).
    conv_widths: their widths (21; 21, 11).
    pool_sizes: max-pool window and stride after each layer (4 eukaryote, 2 prokaryote).
    hidden_features: ReLU units of the fully connected layer (128).
    dropout_rate: dropout on that layer (0.5).
    num_outputs: output logits.
    dtype: compute dtype.
  """
  conv_filters: Sequence[int] = (200,)
  conv_widths: Sequence[int] = (21,)
  pool_sizes: Sequence[int] = (4,)
  hidden_features: int = 128
  dropout_rate: float = 0.5
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    if not len(self.conv_filters) == len(self.conv_widths) == len(self.pool_sizes):
      raise ValueError("CNNProm: conv_filters, conv_widths and pool_sizes need one entry "
                       f"per layer; got {self.conv_filters}, {self.conv_widths}, "
                       f"{self.pool_sizes}")
    x = sequence.astype(self.dtype)
    for i, (filters, width, pool) in enumerate(
        zip(self.conv_filters, self.conv_widths, self.pool_sizes)):
      x = gnn.conv(filters, width, padding="VALID", dtype=self.dtype, name=f"conv{i}")(x)
      x = nn.max_pool(nn.relu(x), (pool,), strides=(pool,), padding="VALID")
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                       dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = CNNProm
