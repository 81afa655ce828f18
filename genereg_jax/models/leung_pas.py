"""Leung, Delong & Frey, Bioinformatics 2018, "Inference of the human polyadenylation code".

A pairwise (Siamese) model of competing polyadenylation sites of one gene: the same
network maps each site's genomic sequence to a strength (one per tissue), and a
comparator turns the two strengths into the probability that the first (proximal) site
is used more than the second, trained on 3'-end sequencing data of sites in the same
gene (the paper's "site selection"). Because only the comparison is trained, the
strength network is reusable alone: scanning a 3' UTR for candidate sites, scoring
variants as a change of strength (the paper's ClinVar and antisense-oligo analyses).

Input ``sequence [batch, 2, length, 4]`` (proximal site first); output logits ``[batch,
num_outputs]`` = strength(proximal) - strength(distal) + a learned per-output bias (the
comparator; the bias absorbs a preference for either position). The strength network is
`deerect_apa.PASEncoder` (convolutions -> ReLU -> max-pool, dense ReLU, dropout) plus a
linear output. The paper's sequence model sizes could not be read here (only the
abstract was available to us), so the sizes below are assumptions, stated as such: 400-nt
windows centred on the cleavage site, two convolutions of 64 x 12 and 64 x 8 with
max-pools of 4, 128 dense units, dropout 0.5.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn
from genereg_jax.models.deerect_apa import PASEncoder

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv_features=(16, 16), kernel_sizes=(8, 6), hidden_features=32,
                 dropout_rate=0.2),
}


class LeungPAS(nn.Module):
  """``[batch, 2, length, 4]`` site pair -> ``[batch, num_outputs]`` logits of
  "the first site is used more".

  Attributes:
    conv_features, kernel_sizes, pool_sizes: the strength network's convolutions.
    hidden_features: its dense units.
    dropout_rate: dropout after the dense layer.
    num_outputs: strengths per site (tissues).
    dtype: compute dtype.
  """
  conv_features: Sequence[int] = (64, 64)
  kernel_sizes: Sequence[int] = (12, 8)
  pool_sizes: Sequence[int] = (4, 4)
  hidden_features: int = 128
  dropout_rate: float = 0.5
  num_outputs: int = 1
  dtype: Any = jnp.float32

  def setup(self):
    self.encoder = PASEncoder(self.conv_features, self.kernel_sizes, self.pool_sizes,
                              self.hidden_features, self.dropout_rate, self.dtype)
    self.strength_head = gnn.dense(self.num_outputs, dtype=self.dtype,
                                   axes=("mlp", "tracks"))
    self.comparator_bias = self.param("comparator_bias", nn.initializers.zeros,
                                      (self.num_outputs,), jnp.float32)

  def strength(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    """``[..., length, 4]`` sites -> ``[..., num_outputs]`` strengths (the scan model)."""
    return self.strength_head(self.encoder(sequence, train=train))

  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    strengths = self.strength(sequence, train=train)  # [batch, 2, outputs]
    return (strengths[:, 0] - strengths[:, 1]).astype(jnp.float32) + self.comparator_bias


Model = LeungPAS
