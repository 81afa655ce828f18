"""DeeReCT-TSS (Zhou et al., 2021 preprint; Research Square rs-640669): is a window's
centre a TSS used in this cell type, from its 1,001-bp sequence and RNA-seq coverage.

The released model (``JoshuaChou2018/DeeReCT-TSS_release``, ``src/05.scan.app.v2.py``,
class ``Net``) has two branches of the same shape, one per input, merged before the
output layer:

* sequence ``[batch, 1001, 4]``: 64 motif detectors of width 10 (valid: 992
  positions), ReLU, max-pool 10 (99 x 64 = 6,336 features), a 128-unit ReLU layer with
  dropout;
* coverage ``[batch, 1001]`` (RNA-seq read depth of the cell type, on the window's
  strand): the same, with one input channel;
* the two 128-unit vectors concatenated (256) -> the output layer.

The release's comments say 64 detectors and 128 hidden units "work good" (its defaults
were 16 and 64); those are the ``paper`` preset (1,625,857 parameters with one logit).
The window is labelled a TSS when it is within ``tolerant_distance = 100`` bp of a
CAGE TSS of the cell type. Per cell type the model is meta-trained with Reptile
(`genereg_jax.train.meta`), each cell type a task, and adapted to a new cell type from
a few examples: that is the paper's point, and why the sequence and coverage branches
are separate (the coverage branch reads any cell type's RNA-seq).

Returns logits ``[batch, num_outputs]`` (1: the TSS logit; the release's two-class
softmax is the same model with one redundant logit). The release feeds raw read depth
(its ``mm`` min-max switch is off); ``coverage_transform="log1p"`` (our configs) keeps
deep libraries from saturating the ReLUs, ``"minmax"`` is the release's per-window
scaling. Training in the release: SGD with momentum 0.98, learning rate 1e-4 decayed by
0.96 every 3,000 steps, weight decay 3-4e-4, keep probability 1 (its ``hyper_dict``);
it starts the dense biases at 1.0 (ours: 0, the framework's dense default). Released
weights: one-hot in A, T, C, G order, class 0 the TSS.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(num_filters=8, hidden_features=16),
}
COVERAGE_TRANSFORMS = ("none", "log1p", "minmax")


class Branch(nn.Module):
  """Conv -> ReLU -> max-pool -> flatten -> ReLU dense -> dropout (one input's branch)."""
  num_filters: int
  filter_width: int
  pool_size: int
  hidden_features: int
  dropout_rate: float
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = gnn.conv(self.num_filters, self.filter_width, padding="VALID", dtype=self.dtype,
                 name="motifs")(x)
    x = nn.max_pool(nn.relu(x), (self.pool_size,), strides=(self.pool_size,),
                    padding="VALID")
    x = x.reshape(x.shape[0], -1)
    return gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                          dtype=self.dtype, name="hidden")(x, train=train)


class DeeReCTTSS(nn.Module):
  """``sequence [batch, L, 4]`` + ``coverage [batch, L]`` -> ``[batch, num_outputs]``.

  Attributes:
    num_filters: detectors per branch (64).
    filter_width: their width (10).
    pool_size: max-pool window and stride (10).
    hidden_features: ReLU units per branch (128).
    dropout_rate: dropout on both hidden layers (the release keeps everything: 0).
    num_outputs: output logits.
    coverage_transform: ``"none"`` (raw depth, the release), ``"log1p"`` or
      ``"minmax"`` (per window, the release's ``mm`` option).
    dtype: compute dtype.
  """
  num_filters: int = 64
  filter_width: int = 10
  pool_size: int = 10
  hidden_features: int = 128
  dropout_rate: float = 0.0
  num_outputs: int = 1
  coverage_transform: str = "none"
  dtype: Any = jnp.float32

  def _coverage(self, coverage: jnp.ndarray) -> jnp.ndarray:
    if self.coverage_transform not in COVERAGE_TRANSFORMS:
      raise ValueError(f"unknown coverage_transform {self.coverage_transform!r}; valid: "
                       f"{list(COVERAGE_TRANSFORMS)}")
    x = coverage.astype(jnp.float32)
    if x.ndim == 2:
      x = x[..., None]
    if self.coverage_transform == "log1p":
      x = jnp.log1p(jnp.maximum(x, 0.0))
    elif self.coverage_transform == "minmax":
      low, high = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
      # A flat window is all zeros, as in the release.
      x = jnp.where(high > low, (x - low) / jnp.maximum(high - low, 1e-12), 0.0)
    return x.astype(self.dtype)

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, coverage: jnp.ndarray, *,
               train: bool = False) -> jnp.ndarray:
    branch = lambda name: Branch(self.num_filters, self.filter_width, self.pool_size,
                                 self.hidden_features, self.dropout_rate, self.dtype,
                                 name=name)
    merged = jnp.concatenate([
        branch("sequence_branch")(sequence.astype(self.dtype), train=train),
        branch("coverage_branch")(self._coverage(coverage), train=train)], axis=-1)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(merged)


Model = DeeReCTTSS
