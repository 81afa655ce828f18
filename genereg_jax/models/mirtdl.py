"""MiRTDL (Cheng et al., IEEE/ACM TCBB 2015): a CNN on 20 miRNA–target-site features.

MiRTDL scores a (miRNA, candidate target site) pair from a vector of 20 hand-computed
pair features (seed-match type, pairing and free energy, site accessibility, AU
content, conservation; our list and what it leaves out are in
``data_builders/mirna_targets/features.py``), read by a small CNN as a 1-D signal:

  features [batch, 20] -> standardise (batch norm, no scale) -> [batch, 20, 1]
  -> conv tower (3 x conv 3 + ReLU, max-pool 2 after the first two)
  -> flatten -> dense 64 ReLU -> dropout 0.5 -> 1 logit (target / not target)

The paper describes convolution + sub-sampling layers and a fully connected layer
trained on TarBase pairs; its exact layer sizes could not be retrieved here, so the
sizes above are ours (stated, not the paper's). Feature order is meaningful to a CNN:
related features are adjacent (seed types, then pairing counts, then energies, then
composition) so its kernels see related groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv_features=(8, 8, 8), hidden_features=16),
}


class MiRTDL(nn.Module):
  """``features [batch, num_features]`` -> ``[batch, num_outputs]`` logits.

  Attributes:
    conv_features: filters of each convolution (kernel ``kernel_size``, SAME padding).
    pool_sizes: max-pool after each convolution (1: none).
    hidden_features: units of the fully connected layer.
    dropout_rate: dropout before the output layer.
    num_outputs: logits per pair (1: functional target or not).
  """
  conv_features: Sequence[int] = (32, 64, 64)
  kernel_size: int = 3
  pool_sizes: Sequence[int] = (2, 2, 1)
  hidden_features: int = 64
  dropout_rate: float = 0.5
  num_outputs: int = 1

  @nn.compact
  def __call__(self, features: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = jnp.asarray(features, jnp.float32)
    # Features differ in scale (counts, kcal/mol, fractions): standardise by running
    # batch statistics so no feature dominates the first convolution.
    x = nn.BatchNorm(use_running_average=not train, use_scale=False, use_bias=False,
                     momentum=0.9, name="standardise")(x)
    x = gnn.ConvTower(self.conv_features, [self.kernel_size] * len(self.conv_features),
                      self.pool_sizes, [0.0] * len(self.conv_features),
                      padding="SAME")(x[..., None], train=train)
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate)(x, train=train)
    return gnn.dense(self.num_outputs, axes=("mlp", "tracks"))(x)


Model = MiRTDL
