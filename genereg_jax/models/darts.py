"""The DARTS DNN (Zhang et al., Nat. Methods 2019): a prior for differential splicing.

DARTS-DNN predicts whether an exon-skipping event is differentially spliced between
two conditions from the exon's cis features (2,926 in the paper) and the expression of
1,498 RNA-binding proteins in both conditions; its output is the prior probability of
H1 in DARTS's Bayesian test (`genereg_jax.splicing.bht`). Architecture as the released
``Darts_DNN/resources/architecture.yaml`` (v0.1.0, SE):

  [cis features, RBP expression condition 1, condition 2] (5,922 inputs)
  -> dropout 0 -> dense 1200 -> dropout 0.6 -> dense 500 -> dropout 0.5
  -> dense 300 -> dropout 0.3 -> dense 200 -> dropout 0.1 -> 1 logit

(the release's 2-way softmax is one sigmoid logit here), trained with RMSprop, batch
400. Inputs are standardised by running batch statistics (the release standardised
features beforehand).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(hidden_features=(64, 32), dropout_rates=(0.0, 0.2, 0.1)),
}


class DartsDNN(nn.Module):
  """``features [batch, F]`` (cis), ``trans [batch, 2, R]`` -> ``[batch]`` logit of differential splicing.

  Attributes:
    hidden_features: ReLU units per hidden layer.
    dropout_rates: dropout on the input, then after each hidden layer.
  """
  hidden_features: Sequence[int] = (1200, 500, 300, 200)
  dropout_rates: Sequence[float] = (0.0, 0.6, 0.5, 0.3, 0.1)

  @nn.compact
  def __call__(self, features: jnp.ndarray, trans: jnp.ndarray, *, train: bool = False
               ) -> jnp.ndarray:
    if len(self.dropout_rates) != len(self.hidden_features) + 1:
      raise ValueError(f"DartsDNN: {len(self.hidden_features)} hidden layers need "
                       f"{len(self.hidden_features) + 1} dropout rates (input first), got "
                       f"{self.dropout_rates}")
    trans = jnp.asarray(trans, jnp.float32)
    x = jnp.concatenate([jnp.asarray(features, jnp.float32),
                         trans.reshape(trans.shape[0], -1)], axis=-1)
    x = nn.BatchNorm(use_running_average=not train, use_scale=False, use_bias=False,
                     momentum=0.9, name="standardise")(x)
    x = nn.Dropout(self.dropout_rates[0], deterministic=not train)(x)
    for width, rate in zip(self.hidden_features, self.dropout_rates[1:]):
      x = gnn.DenseBlock(width, dropout_rate=rate)(x, train=train)
    return gnn.dense(1, axes=("mlp", "tracks"))(x)[..., 0]


Model = DartsDNN
