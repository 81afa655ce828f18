"""The tissue-regulated splicing code (Barash et al., Nature 2010; Leung et al.,
Bioinformatics 2014; Xiong et al., Science 2015): an MLP on cassette-exon features.

Input: the engineered cis features of a cassette exon and its flanks
(`genereg_jax.splicing.features`: k-mer counts, splice-site strengths, lengths, GC,
conservation when given). Output: for each tissue, the probabilities that the exon's
PSI is low, medium or high (the papers' "LMH" coding; `genereg_jax.tasks.psi`):

  features [batch, F] -> standardise -> dense tanh -> dense ReLU ... -> dropout
  -> dense (tissues x 3) -> [batch, tissues, 3] logits

Leung et al. 2014 used tanh units in the first hidden layer and ReLU after it, dropout,
and softmax LMH outputs; Barash et al. 2010 (a Bayesian neural network) predicted each
tissue as a separate output, which we keep (one trunk, one LMH head per tissue) rather
than Leung's tissue-as-input encoding. Hidden sizes are ours: the published ones were
chosen per run by Bayesian hyperparameter search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(hidden_features=(32, 16)),
}


class SplicingCode(nn.Module):
  """``features [batch, F]`` -> ``[batch, num_tissues, num_classes]`` logits.

  Attributes:
    num_tissues: tissues (output heads).
    hidden_features: units per hidden layer; the first is tanh, the rest ReLU.
    dropout_rate: dropout after each hidden layer.
    num_classes: 3 for low/medium/high; 1 for PSI regression (a logit of PSI).
  """
  num_tissues: int = 5
  hidden_features: Sequence[int] = (256, 128)
  dropout_rate: float = 0.3
  num_classes: int = 3

  @nn.compact
  def __call__(self, features: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = nn.BatchNorm(use_running_average=not train, use_scale=False, use_bias=False,
                     momentum=0.9, name="standardise")(jnp.asarray(features, jnp.float32))
    for index, width in enumerate(self.hidden_features):
      if index == 0:  # Leung et al.'s tanh first layer (not in gnn.ACTIVATIONS).
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(
            jnp.tanh(gnn.dense(width)(x)))
      else:
        x = gnn.DenseBlock(width, dropout_rate=self.dropout_rate)(x, train=train)
    x = gnn.dense(self.num_tissues * self.num_classes, axes=("mlp", "tracks"))(x)
    x = x.reshape(x.shape[0], self.num_tissues, self.num_classes)
    return x[..., 0] if self.num_classes == 1 else x


Model = SplicingCode
