"""DeepSEA (Zhou & Troyanskaya, Nature Methods 2015).

Three convolution layers (320, 480, 960 kernels of width 8; max-pool 4 after the first
two; dropout 0.2, 0.2, 0.5), a dense layer of 925 ReLU units and 919 sigmoid outputs
(DNase, TF and histone marks) for a 1,000 bp one-hot sequence. Returns logits; the
``multilabel_binary`` task applies the sigmoid.

``first_conv_bias`` (default 0, as in the paper's Torch layers up to their random
uniform bias) sets the first convolution's initial bias. A negative value, e.g. -1
against pre-activations of standard deviation ~0.5 at initialisation, starts the motif
detectors sparse: each fires on few positions, so the flattened dense layer sums
strong matches rather than background, and rare short motifs are learned sooner
(measured in ``experiments/configs/deepsea.py``).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Seconds on a CPU: narrower, shorter pooling for 200 bp inputs, lighter dropout.
    "tiny": dict(conv_features=(64, 64, 64), pool_sizes=(2, 2, 1), dropout_rates=(0.1, 0.1, 0.2),
                 dense_features=64, num_outputs=12),
}


class DeepSEA(nn.Module):
  """DeepSEA: ``[batch, 1000, 4]`` one-hot -> ``[batch, num_outputs]`` logits (Fig. 1)."""
  conv_features: Sequence[int] = (320, 480, 960)
  kernel_size: int = 8
  pool_sizes: Sequence[int] = (4, 4, 1)
  dropout_rates: Sequence[float] = (0.2, 0.2, 0.5)
  dense_features: int = 925
  num_outputs: int = 919
  first_conv_bias: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = gnn.ConvTower(self.conv_features, (self.kernel_size,) * len(self.conv_features),
                      self.pool_sizes, self.dropout_rates, dtype=self.dtype,
                      first_bias_init=self.first_conv_bias,
                      name="tower")(sequence.astype(self.dtype), train=train)
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.dense_features, dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


def strided_trunk(model: DeepSEA, params: dict):
  """The model at inference as a ``genereg_jax.interpret.StridedTrunk`` (fast ISM)."""
  from genereg_jax.interpret import mutagenesis
  params = nn.unbox(params)
  kernels = (model.kernel_size,) * len(model.conv_features)
  tower = gnn.ConvTower(model.conv_features, kernels, model.pool_sizes, model.dropout_rates,
                        dtype=model.dtype)
  hidden = params["hidden"]["Dense_0"]
  output = gnn.dense(model.num_outputs, dtype=model.dtype)
  relu = gnn.layers.activation("relu")
  head = lambda pre: output.apply({"params": params["output"]}, relu(pre))
  return mutagenesis.StridedTrunk(
      mutagenesis.conv_tower_layers(tower, {"params": params["tower"]}), head,
      dense=(hidden["kernel"], hidden["bias"]))


Model = DeepSEA
