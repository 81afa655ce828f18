"""DeeReCT-PolyA (Xia et al., Bioinformatics 2019): PAS / non-PAS from a 206-nt window.

The window is the Dragon/Omni datasets' (Kalkatawi et al. 2012; Xiao et al.): 100 nt
upstream of a PAS hexamer (AATAAA, ATTAAA or one of the ten weaker variants), the
hexamer, 100 nt downstream. Figure 1 and the released model (``likesum/DeeReCT-PolyA``,
``model.py``): the window, padded with ``filter_width - 1`` columns at each end
(206 -> 224), is scanned by 16 motif detectors of width 10 (valid: 215 positions),
group-normalised (4 groups of 4 channels, per example over positions and the group's
channels, no learned scale; the convolution's bias is added after the normalisation),
rectified, max-pooled by 10 (21 x 16 = 336 features), then a 64-unit ReLU layer with
dropout and the output layer. Group normalisation is the paper's point: statistics per
example rather than per batch, so a model trained on one species' data transfers to
another with a different batch composition (human and mouse models, Table 2).

Returns logits ``[batch, num_outputs]`` (1: the PAS logit; the reference's 2-class
softmax is the same model with one redundant logit). Training in the reference: SGD
with momentum (0.95-0.99), learning rate 5e-4 - 5e-2 decayed by 0.96 every 3,000 steps,
batches of 64, L2 on the weights, dropout keep 0.5/0.75/1, all picked by DeepBind-style
random search (``gen_hyper_dict``), up to 200 epochs with early stopping (patience 10).
The padding value 0.25 is the released ``train.py``'s. For released weights: its inputs
are one-hot in A, G, T, C order (``data_prep.py``; ours A, C, G, T) and its class 0 is
the PAS (positives get label 0), so our logit is its ``logit_0 - logit_1``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(num_filters=8, num_groups=2, hidden_features=16),
}


class DeeReCTPolyA(nn.Module):
  """``[batch, 206, 4]`` one-hot -> ``[batch, num_outputs]`` PAS logits (Fig. 1).

  Attributes:
    num_filters: motif detectors (16).
    filter_width: their width (10).
    num_groups: group-normalisation groups (4).
    pool_size: max-pool window and stride (10).
    hidden_features: ReLU units of the hidden layer (64).
    dropout_rate: dropout on the hidden layer (the search's keep 0.5/0.75/1).
    num_outputs: output logits.
    pad_value: value of the ``filter_width - 1`` padding columns at each end.
    dtype: compute dtype.
  """
  num_filters: int = 16
  filter_width: int = 10
  num_groups: int = 4
  pool_size: int = 10
  hidden_features: int = 64
  dropout_rate: float = 0.5
  num_outputs: int = 1
  pad_value: float = 0.25
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    pad = self.filter_width - 1
    x = jnp.pad(sequence.astype(self.dtype), ((0, 0), (pad, pad), (0, 0)),
                constant_values=self.pad_value)
    x = gnn.conv(self.num_filters, self.filter_width, padding="VALID", use_bias=False,
                 dtype=self.dtype, name="motifs")(x)
    # The learned shift after normalisation is the reference's conv bias (added after
    # the normalisation, with no scale).
    x = nn.GroupNorm(num_groups=self.num_groups, use_scale=False, epsilon=1e-12,
                     dtype=self.dtype, name="group_norm")(x)
    x = nn.max_pool(nn.relu(x), (self.pool_size,), strides=(self.pool_size,),
                    padding="VALID")
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                       dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DeeReCTPolyA
