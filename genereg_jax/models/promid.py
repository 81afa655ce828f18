"""DeeReCT-PromID (Umarov et al., Bioinformatics 2019): TSS / non-TSS from a 600-bp window,
the model behind genome-wide promoter scanning.

The window is -200..+400 around the candidate TSS (600 bp, the TSS at index 200): the
paper's analysis of which region discriminates best put most of the signal downstream of
the TSS. The network has two branches over the same one-hot window, concatenated before
the classifier:

* a *pooled* branch: convolution (``pooled_filters`` of ``pooled_width``, ReLU) and max
  pooling (``pool_size``), which finds motifs wherever they are;
* an *unpooled* branch: a convolution with few filters (``plain_filters`` of
  ``plain_width``, ReLU) and no pooling, which keeps each motif's exact position relative
  to the TSS (TATA at -30, Inr at +1, DPE at +30) -- what locating the TSS to the base
  needs;

then a ReLU layer (``hidden_features``) with dropout and the output logit.

Training is not one pass: the model is trained on TSS windows against random genomic
windows, used to scan a genome, the highest-scoring false positives become negatives, and
it is trained again (`genereg_jax.train.hard_negatives`); TSS calls come from the score
track by the PromID tool's soft non-maximum suppression (threshold 0.5, 500 bp).

Defaults are our reading of the paper's description (pooled branch 200 x 21, pool 4;
unpooled branch 16 x 5; 128 hidden units, dropout 0.5); the paper's released tool
(``PromStudy/PromID``) ships a later 1,001-bp ResNet instead, so there is no released
checkpoint of this architecture to compare with. ``tiny`` is for tests.
Returns logits ``[batch, num_outputs]``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

WINDOW, TSS_INDEX = 600, 200

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(pooled_filters=8, pooled_width=9, pool_size=8, plain_filters=2,
                 plain_width=5, hidden_features=16),
}


class DeeReCTPromID(nn.Module):
  """``[batch, 600, 4]`` one-hot -> ``[batch, num_outputs]`` TSS logits (two branches).

  Attributes:
    pooled_filters, pooled_width, pool_size: the pooled branch (200, 21, 4).
    plain_filters, plain_width: the position-keeping branch, no pooling (16, 5).
    hidden_features: ReLU units after the concatenation (128).
    dropout_rate: dropout on that layer (0.5).
    num_outputs: output logits.
    dtype: compute dtype.
  """
  pooled_filters: int = 200
  pooled_width: int = 21
  pool_size: int = 4
  plain_filters: int = 16
  plain_width: int = 5
  hidden_features: int = 128
  dropout_rate: float = 0.5
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = sequence.astype(self.dtype)
    pooled = gnn.conv(self.pooled_filters, self.pooled_width, padding="VALID",
                      dtype=self.dtype, name="pooled_conv")(x)
    pooled = nn.max_pool(nn.relu(pooled), (self.pool_size,), strides=(self.pool_size,),
                         padding="VALID")
    plain = nn.relu(gnn.conv(self.plain_filters, self.plain_width, padding="VALID",
                             dtype=self.dtype, name="plain_conv")(x))
    x = jnp.concatenate([pooled.reshape(x.shape[0], -1), plain.reshape(x.shape[0], -1)],
                        axis=-1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                       dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DeeReCTPromID
