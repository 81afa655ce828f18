"""Akita (Fudenberg, Nat. Methods 2020): DNA sequence -> Hi-C/Micro-C contact maps.

"Predicting 3D genome folding from DNA sequence with Akita", the released model of
``manuscripts/akita/params.json`` in calico/basenji (layer by layer in
``manuscripts/akita/keras_print.txt``), read top to bottom:

  stem        conv block k=11, 96 filters, max-pool 2
  tower       10 conv blocks k=5, 96 filters, max-pool 2 -> 2,048-bp bins
              (1,048,576 bp -> 512 bins)
  trunk       8 dilated residual blocks: conv block k=3, 48 filters, dilation
              1, 2, 3, 5, 9, 16, 29, 50 (x1.75, not rounded between blocks) ->
              conv block k=1 back to 96, dropout 0.4 -> residual add
  reduce      conv block k=5, 64 filters -> ReLU (the trunk's final activation)
  head (2-D)  one_to_two (mean of bins i and j) -> concat |i - j| (65 channels)
              -> 2-D conv block 3x3, 48 filters -> symmetrise
              -> 6 dilated residual 2-D blocks: 3x3, 24 filters, dilation
              1, 2, 3, 5, 9, 16, dropout 0.1, symmetrise after each
              -> crop 32 bins each side (448 x 448)
              -> upper triangle from diagonal 2 (99,681 pairs)
              -> dense, 5 targets, linear (HFF, H1hESC, GM12878, IMR90, HCT116)

Every conv block is Basenji's pre-activation order, ReLU -> conv (no bias) -> batch
norm (momentum 0.9265, Keras epsilon 1e-3) -> dropout -> max-pool
(``genereg_jax.nn.residual.PreActivationConvBlock``, 2-D with ``spatial_dims=2``); the
2-D pieces are ``genereg_jax.nn.conv2d``. The released model has 746,149 trainable
parameters plus 5,504 batch-norm statistics (751,653 in Keras' "Total params").

Multi-species training (Akita v2, human and mouse) shares the 1-D trunk and gives each
species its own 2-D head, as Basenji's ``seqnn`` builds one head per ``head_*`` entry
from the trunk's output; outputs are a dict keyed by species like Basenji2's.
Reverse-complement and shift augmentation are the data pipeline's (the task flips the
map), not layers of the model.
"""

from __future__ import annotations

from typing import Any, Mapping

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.models import basenji
from genereg_jax.nn import conv2d
from genereg_jax.nn import layers
from genereg_jax.nn import residual

Array = jax.Array
Dtype = Any

SEQUENCE_LENGTH = 1_048_576
TARGET_NAMES = ("HFF", "H1hESC", "GM12878", "IMR90", "HCT116")

PRESETS: dict[str, dict[str, Any]] = {
    # params.json of manuscripts/akita: 1,048,576 bp -> 448 x 448 bins of 2,048 bp,
    # five targets.
    "paper": dict(output_heads={"human": 5}),
    # Akita v2's jointly trained human and mouse heads (five human, three mouse maps
    # as in its 2021 data; the count is a data choice).
    "human_mouse": dict(output_heads={"human": 5, "mouse": 3}),
    # The geometry of data_builders/synthetic_contacts/default (32,768 bp -> 64 bins of
    # 512 bp: the stem's pool and 8 tower pools; crop 4 -> 56 x 56, offset 2) with the
    # paper's blocks at a sixth of its widths (trains on a shared 2-core CPU).
    "synthetic": dict(stem_features=16, tower_features_init=24, num_tower_blocks=8,
                      residual_features=12, reduce_features=16, head_features=16,
                      residual_2d_features=8, crop_bins=4, output_heads={"human": 2}),
    # synthetic_contacts/tiny: 8,192 bp -> 32 bins of 256 bp, crop 2 -> 28 x 28: seconds.
    "tiny": dict(stem_features=8, tower_features_init=12, num_tower_blocks=7,
                 residual_features=8, num_residual_blocks=2, reduce_features=12,
                 head_features=12, residual_2d_features=8, num_residual_2d_blocks=2,
                 crop_bins=2, output_heads={"human": 2}),
}


class Akita(nn.Module):
  """Akita of Fudenberg et al. (Nat. Methods 2020), one 2-D head per species.

  Defaults are the released model's (module docstring). Field names follow
  ``params.json``.

  Attributes:
    stem_features: filters of the k=11 stem conv block.
    stem_kernel_size: width of the stem convolution.
    tower_features_init: filters of the first tower block (``filters_init``).
    tower_features_mult: filter growth per tower block (``filters_mult``).
    num_tower_blocks: tower blocks, each halving the length.
    tower_kernel_size: width of the tower convolutions.
    pool_size: max-pool window and stride of the stem and tower.
    residual_features: bottleneck filters of the 1-D dilated residual blocks.
    num_residual_blocks: 1-D dilated residual blocks.
    residual_rate_mult: dilation growth per 1-D residual block.
    residual_dropout: dropout of each 1-D block's pointwise branch.
    reduce_features: filters of the conv block ending the trunk.
    reduce_kernel_size: its width.
    pair_operation: ``conv2d.one_to_two`` operation.
    head_features: filters of the first 2-D conv block.
    head_kernel_size: its width.
    residual_2d_features: bottleneck filters of the 2-D dilated residual blocks.
    num_residual_2d_blocks: 2-D dilated residual blocks.
    residual_2d_rate_mult: dilation growth per 2-D block.
    residual_2d_dropout: dropout of each 2-D block's pointwise branch.
    crop_bins: bins cropped from each end of both map axes.
    diagonal_offset: first diagonal of the upper triangle that is predicted.
    output_heads: ``{species: targets}``.
    activation: activation of every conv block and of the trunk's output.
    bn_momentum: batch-norm running-average momentum.
    bn_epsilon: batch-norm epsilon (Keras default).
    dtype: compute dtype; outputs are float32.
    remat: rematerialise each 1-D and 2-D dilated residual block in the backward
      pass (the 2-D blocks hold most of the activations: 448 x 448 maps).
  """
  stem_features: int = 96
  stem_kernel_size: int = 11
  tower_features_init: int = 96
  tower_features_mult: float = 1.0
  num_tower_blocks: int = 10
  tower_kernel_size: int = 5
  pool_size: int = 2
  residual_features: int = 48
  num_residual_blocks: int = 8
  residual_rate_mult: float = 1.75
  residual_dropout: float = 0.4
  reduce_features: int = 64
  reduce_kernel_size: int = 5
  pair_operation: str = "mean"
  head_features: int = 48
  head_kernel_size: int = 3
  residual_2d_features: int = 24
  num_residual_2d_blocks: int = 6
  residual_2d_rate_mult: float = 1.75
  residual_2d_dropout: float = 0.1
  crop_bins: int = 32
  diagonal_offset: int = 2
  output_heads: Mapping[str, int] = flax.core.FrozenDict(human=5)
  activation: str = "relu"
  bn_momentum: float = 0.9265
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  remat: bool = False

  @property
  def output_stride(self) -> int:
    """Base pairs per map bin (paper: 2**11 = 2,048)."""
    return self.pool_size**(1 + self.num_tower_blocks)

  @property
  def dilations(self) -> list[int]:
    """Dilation of each 1-D residual block (paper: 1, 2, 3, 5, 9, 16, 29, 50)."""
    return residual.dilation_rates(self.num_residual_blocks, self.residual_rate_mult,
                                   round_rates=False)

  def map_bins(self, sequence_length: int) -> int:
    """Bins per side of the predicted map (paper: 1,048,576 bp -> 448)."""
    return -(-sequence_length // self.output_stride) - 2 * self.crop_bins

  def num_pairs(self, sequence_length: int) -> int:
    """Upper-triangle entries predicted per target (paper: 99,681)."""
    return conv2d.num_pairs(self.map_bins(sequence_length), self.diagonal_offset)

  @nn.compact
  def __call__(self, sequence: Array, *, train: bool = False) -> dict[str, Array]:
    """Predicts contact maps per species head.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T (paper: 1,048,576 bp).
      train: batch statistics and dropout (needs a ``"dropout"`` rng and
        ``mutable=["batch_stats"]``).

    Returns:
      ``{head: float32[batch, num_pairs(length), targets]}``, the upper triangle
      (``np.triu_indices(map_bins, diagonal_offset)`` order) of each target's
      log(observed/expected) map. Sown in ``"intermediates"``: ``trunk_out
      [batch, bins, reduce_features]``.
    """
    block = dict(activation=self.activation, bn_momentum=self.bn_momentum,
                 bn_epsilon=self.bn_epsilon, dtype=self.dtype)
    x = sequence.astype(self.dtype)

    # Trunk: stem, conv tower to 2,048-bp bins, dilated residual 1-D, reduce.
    x = residual.PreActivationConvBlock(
        self.stem_features, self.stem_kernel_size, pool_size=self.pool_size,
        name="stem", **block)(x, train=train)
    widths = basenji.tower_widths(self.tower_features_init, self.tower_features_mult,
                                  self.num_tower_blocks)
    for i, width in enumerate(widths):
      x = residual.PreActivationConvBlock(
          width, self.tower_kernel_size, pool_size=self.pool_size,
          name=f"tower_{i}", **block)(x, train=train)
    x = residual.DilatedResidualTower(
        self.residual_features, self.num_residual_blocks,
        rate_mult=self.residual_rate_mult, round_rates=False,
        dropout_rate=self.residual_dropout, remat=self.remat, name="dilated_residual",
        **block)(x, train=train)
    x = residual.PreActivationConvBlock(
        self.reduce_features, self.reduce_kernel_size, name="reduce", **block)(
            x, train=train)
    x = residual.activation(self.activation)(x)
    self.sow("intermediates", "trunk_out", x)

    return {head: self._head(x, targets, head, block, train)
            for head, targets in self.output_heads.items()}

  def _head(self, x: Array, targets: int, head: str, block: dict, train: bool) -> Array:
    """One species' 2-D head: pairs, distance, 2-D convs, crop, upper triangle, dense."""
    prefix = "" if len(self.output_heads) == 1 else f"{head}_"
    x = conv2d.concat_dist_2d(conv2d.one_to_two(x, self.pair_operation))
    x = residual.PreActivationConvBlock(
        self.head_features, self.head_kernel_size, spatial_dims=2,
        name=f"{prefix}conv_2d", **block)(x, train=train)
    x = conv2d.symmetrize(x)
    x = conv2d.DilatedResidual2D(
        self.residual_2d_features, self.num_residual_2d_blocks,
        rate_mult=self.residual_2d_rate_mult, dropout_rate=self.residual_2d_dropout,
        remat=self.remat, name=f"{prefix}dilated_residual_2d", **block)(x, train=train)
    x = conv2d.upper_triangle(conv2d.crop_2d(x, self.crop_bins), self.diagonal_offset)
    out = layers.dense(targets, dtype=self.dtype, name=f"head_{head}",
                       axes=("embed", "tracks"))(x)
    return out.astype(jnp.float32)


Model = Akita


def akita(preset: str = "paper", **overrides: Any) -> Akita:
  """An Akita from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"unknown Akita preset {preset!r}; have {sorted(PRESETS)}")
  return Akita(**{**PRESETS[preset], **overrides})
