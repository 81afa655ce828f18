"""Xpresso (Agarwal & Shendure, Cell Reports 2020): promoter sequence + mRNA half-life
features -> median expression of a gene.

The promoter is one-hot DNA around the gene's best-supported TSS (the FANTOM5 CAGE peak);
the published windows hold 10 kb each side and the model reads the slice
``[leftpos, rightpos)`` = 3,000-13,500, i.e. -7 kb/+3.5 kb of the TSS (10,500 bp). Eight
mRNA half-life features (5' UTR, ORF and 3' UTR lengths, intron length, their GC and the
ORF exon junction density, log-scaled and standardised) join after the convolutions.

Architecture: the hyperopt-selected model of the authors' notebook
(``vagarwal87/Xpresso``, ``Xpresso.ipynb``, whose ``model.summary()`` lists 112,485
parameters, matched by ``human``): conv 128 x 6 ('same', ReLU) -> max-pool 30 -> conv
32 x 9 -> max-pool 10 -> flatten (35 x 32) ++ half-life features -> dense 64 ReLU,
dropout 0.00099 -> dense 2 ReLU, dropout 0.01546 -> linear output (median log10
expression, standardised; MSE). Adam at 1e-3, batch 128. The mouse models of the paper
(Fig. 2, ``Fig2/runme.sh``) were trained with the same hyperopt database, hence the
same architecture: ``mouse`` equals ``human``. ``manual`` is the script's hand-picked
alternative (``--bestmanual``: -1.5/+1.5 kb, 64 x 5 pool 10, 64 x 5 pool 20, dense 100,
dropout 0.5).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

HUMAN: dict[str, Any] = {}
PRESETS: dict[str, dict[str, Any]] = {
    "human": HUMAN,
    "mouse": HUMAN,  # The same hyperopt selection (Fig2/runme.sh reuses the database).
    "manual": dict(conv_features=(64, 64), kernel_sizes=(5, 5), pool_sizes=(10, 20),
                   dense_features=(100,), dropout_rates=(0.5,)),
    "tiny": dict(conv_features=(16, 8), kernel_sizes=(6, 5), pool_sizes=(8, 4),
                 dense_features=(16,), dropout_rates=(0.0,)),
}


class Xpresso(nn.Module):
  """``promoter [batch, L, 4]`` + ``halflife [batch, 8]`` -> ``[batch, num_outputs]``.

  Attributes:
    conv_features, kernel_sizes, pool_sizes: the convolution blocks ('same', ReLU,
      max-pool of that size and stride).
    dense_features, dropout_rates: the ReLU dense layers and the dropout after each.
    num_outputs: regression outputs (1: median expression).
    dtype: compute dtype.
  """
  conv_features: Sequence[int] = (128, 32)
  kernel_sizes: Sequence[int] = (6, 9)
  pool_sizes: Sequence[int] = (30, 10)
  dense_features: Sequence[int] = (64, 2)
  dropout_rates: Sequence[float] = (0.00099, 0.01546)
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, promoter: jnp.ndarray, halflife: jnp.ndarray | None = None, *,
               train: bool = False) -> jnp.ndarray:
    x = promoter.astype(self.dtype)
    for i, (f, k, p) in enumerate(zip(self.conv_features, self.kernel_sizes, self.pool_sizes)):
      x = gnn.ConvBlock(f, k, pool_size=p, padding="SAME", dtype=self.dtype,
                        name=f"conv{i + 1}")(x, train=train)
    x = x.reshape(x.shape[0], -1)
    if halflife is not None:  # Design and promoter-only predictions may omit them.
      x = jnp.concatenate([x, halflife.astype(self.dtype)], axis=-1)
    for i, (f, rate) in enumerate(zip(self.dense_features, self.dropout_rates)):
      x = gnn.DenseBlock(f, dropout_rate=rate, dtype=self.dtype, name=f"dense{i + 1}")(
          x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x).astype(jnp.float32)


Model = Xpresso
