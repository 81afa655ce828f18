"""Basenji2 (Kelley, PLoS Comput. Biol. 2020): DNA sequence -> coverage tracks.

"Cross-species regulatory sequence activity prediction", the human-mouse
("barnyard") model of ``manuscripts/cross2020/params_human.json`` in
calico/basenji, read top to bottom like its trunk:

  stem      conv block k=15, 288 filters, max-pool 2
  tower     6 conv blocks k=5, max-pool 2, filters 339 x 1.1776 per block
            (339, 399, 470, 554, 652, 768), reaching 128-bp bins
  trunk     11 dilated residual blocks: conv block k=3, 384 filters,
            dilation 1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72 (x1.5, rounded) ->
            conv block k=1 back to 768, dropout 0.3 -> residual add
  crop      64 bins each side: 1,024 -> 896 bins
  final     conv block k=1, 1536 filters, dropout 0.05 -> GELU
  heads     one per species: dense -> softplus (human 5,313, mouse 1,643)

Every conv block is Basenji's pre-activation order, GELU -> conv (no bias) ->
batch norm (momentum 0.9) -> dropout -> max-pool
(``genereg_jax.nn.residual.PreActivationConvBlock``); GELU is
``sigmoid(1.702 x) x`` as in Basenji's ``layers.GELU``; batch norm has
Keras' epsilon 1e-3. The paper model has 32,613,519 parameters (30,088,228
with the human head alone, the MultiMolecule port's 30.09 M) plus 35,356
batch-norm statistics, and a receptive field of 54,918 bp.
"""

from __future__ import annotations

from typing import Any, Mapping

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import layers
from genereg_jax.nn import residual

Array = jax.Array
Dtype = Any

SEQUENCE_LENGTH = 131_072
TARGET_LENGTH = 896

PRESETS: dict[str, dict[str, Any]] = {
    # Kelley 2020, params_human.json / params_mouse.json with the two heads of
    # the jointly trained human-mouse model.
    "paper": dict(output_heads={"human": 5313, "mouse": 1643}),
    # The paper trunk on 24,576 bp (192 bins, 160 after cropping) with the
    # heads of data_builders/synthetic_coverage (human 6, mouse 3 tracks).
    "synthetic": dict(crop_bins=16, output_heads={"human": 6, "mouse": 3}),
    # 2,048 bp in -> 64 bins of 32 bp -> 48 after cropping 8 each side, the
    # geometry of synthetic_coverage's tiny_human/tiny_mouse.
    "tiny": dict(stem_features=16, tower_features_init=20,
                 tower_features_mult=1.2, num_tower_blocks=4,
                 residual_features=16, num_residual_blocks=3,
                 residual_dropout=0.1, crop_bins=8, final_features=64,
                 final_dropout=0.05, output_heads={"human": 6, "mouse": 3}),
}


def tower_widths(features_init: int, features_mult: float,
                 num_blocks: int) -> list[int]:
  """Conv tower filters as Basenji's ``conv_tower``: a running product, rounded.

  Basenji2: ``tower_widths(339, 1.1776, 6) == [339, 399, 470, 554, 652, 768]``.
  """
  widths, running = [], float(features_init)
  for _ in range(num_blocks):
    widths.append(int(round(running)))
    running *= features_mult
  return widths


class Basenji2(nn.Module):
  """Basenji2 of Kelley (PLoS Comput. Biol. 2020), one head per species.

  Defaults are the paper's; see the module docstring for the figure.

  Attributes:
    stem_features: filters of the k=15 stem conv block.
    stem_kernel_size: width of the stem convolution.
    tower_features_init: filters of the first tower block.
    tower_features_mult: filter growth per tower block.
    num_tower_blocks: tower blocks, each halving the length.
    tower_kernel_size: width of the tower convolutions.
    pool_size: max-pool window and stride of the stem and tower blocks.
    residual_features: bottleneck filters of the dilated residual blocks.
    num_residual_blocks: dilated residual blocks.
    residual_kernel_size: width of the dilated convolutions.
    dilation_rate_mult: dilation growth per residual block.
    round_dilation: round the running dilation (Basenji2's ``round: true``).
    residual_dropout: dropout of each residual block's pointwise branch.
    crop_bins: bins removed at each end before the final block; 0 for none.
    final_features: filters of the final pointwise conv block (embeddings).
    final_dropout: dropout of the final block.
    output_heads: ``{head name: tracks}``.
    activation: activation of every conv block and of the embeddings.
    bn_momentum: batch-norm running-average momentum.
    bn_epsilon: batch-norm epsilon (Keras default).
    dtype: compute dtype; outputs are float32.
    remat: rematerialise each dilated residual block in the backward pass
      (less activation memory for one more forward pass of the trunk).
  """
  stem_features: int = 288
  stem_kernel_size: int = 15
  tower_features_init: int = 339
  tower_features_mult: float = 1.1776
  num_tower_blocks: int = 6
  tower_kernel_size: int = 5
  pool_size: int = 2
  residual_features: int = 384
  num_residual_blocks: int = 11
  residual_kernel_size: int = 3
  dilation_rate_mult: float = 1.5
  round_dilation: bool = True
  residual_dropout: float = 0.3
  crop_bins: int = 64
  final_features: int = 1536
  final_dropout: float = 0.05
  output_heads: Mapping[str, int] = flax.core.FrozenDict(human=5313,
                                                         mouse=1643)
  activation: str = "sigmoid_gelu"
  bn_momentum: float = 0.9
  bn_epsilon: float = 1e-3
  dtype: Dtype = jnp.float32
  remat: bool = False

  @property
  def output_stride(self) -> int:
    """Base pairs per output bin (paper: 2**7 = 128)."""
    return self.pool_size**(1 + self.num_tower_blocks)

  @property
  def crop_bp(self) -> int:
    """Base pairs of sequence whose bins are cropped at each end (8,192)."""
    return self.crop_bins * self.output_stride

  @property
  def tower_widths(self) -> list[int]:
    """Filters of the conv tower blocks."""
    return tower_widths(self.tower_features_init, self.tower_features_mult,
                        self.num_tower_blocks)

  @property
  def dilations(self) -> list[int]:
    """Dilation of each residual block (paper: 1, 2, 3, ..., 48, 72)."""
    return residual.dilation_rates(self.num_residual_blocks,
                                   self.dilation_rate_mult,
                                   self.round_dilation)

  @property
  def receptive_field(self) -> int:
    """Base pairs that can influence one output bin (paper: 54,918)."""
    field, jump = 1, 1
    kernels = [self.stem_kernel_size] + [self.tower_kernel_size
                                         ] * self.num_tower_blocks
    for kernel in kernels:
      field += (kernel - 1) * jump + (self.pool_size - 1) * jump
      jump *= self.pool_size
    field += sum((self.residual_kernel_size - 1) * rate * jump
                 for rate in self.dilations)
    return field

  def output_length(self, sequence_length: int) -> int:
    """Bins out for ``sequence_length`` bp in (paper: 131,072 -> 896)."""
    bins = sequence_length
    for _ in range(1 + self.num_tower_blocks):
      bins = -(-bins // self.pool_size)
    return bins - 2 * self.crop_bins

  @nn.compact
  def __call__(self, sequence: Array, *, train: bool = False,
               return_embeddings: bool = False
               ) -> dict[str, Array] | tuple[dict[str, Array], Array]:
    """Predicts coverage tracks per head.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T (paper: 131,072
        bp).
      train: batch statistics and dropout (needs a ``"dropout"`` rng and
        ``mutable=["batch_stats"]``).
      return_embeddings: also return the final embeddings.

    Returns:
      ``{head: float32[batch, bins, tracks]}`` (softplus, non-negative) with
      ``bins = output_length(length)``; with ``return_embeddings`` the tuple
      ``(outputs, float32[batch, bins, final_features])``. Sown in
      ``"intermediates"``: ``tower_out [batch, bins + 2 crop_bins, 768]`` and
      ``trunk_out`` (after the residual blocks, before cropping).
    """
    block = dict(activation=self.activation, bn_momentum=self.bn_momentum,
                 bn_epsilon=self.bn_epsilon, dtype=self.dtype)
    x = sequence.astype(self.dtype)

    # Stem and conv tower.
    x = residual.PreActivationConvBlock(
        self.stem_features, self.stem_kernel_size, pool_size=self.pool_size,
        name="stem", **block)(x, train=train)
    for i, width in enumerate(self.tower_widths):
      x = residual.PreActivationConvBlock(
          width, self.tower_kernel_size, pool_size=self.pool_size,
          name=f"tower_{i}", **block)(x, train=train)
    self.sow("intermediates", "tower_out", x)

    # Dilated residual trunk.
    x = residual.DilatedResidualTower(
        self.residual_features, self.num_residual_blocks,
        rate_mult=self.dilation_rate_mult, round_rates=self.round_dilation,
        kernel_size=self.residual_kernel_size,
        dropout_rate=self.residual_dropout, remat=self.remat, name="dilated_residual",
        **block)(x, train=train)
    self.sow("intermediates", "trunk_out", x)

    # Crop, final pointwise block and embeddings.
    if self.crop_bins:
      if x.shape[1] <= 2 * self.crop_bins:
        raise ValueError(
            f"{x.shape[1]} bins cannot lose {self.crop_bins} at each end; "
            f"give more than {2 * self.crop_bp} bp")
      x = x[:, self.crop_bins:x.shape[1] - self.crop_bins]
    x = residual.PreActivationConvBlock(
        self.final_features, 1, dropout_rate=self.final_dropout,
        name="final_pointwise", **block)(x, train=train)
    embeddings = residual.activation(self.activation)(x)

    outputs = {}
    for head, tracks in self.output_heads.items():
      logits = layers.dense(tracks, dtype=self.dtype, name=f"head_{head}",
                            axes=("embed", "tracks"))(embeddings)
      outputs[head] = jax.nn.softplus(logits.astype(jnp.float32))
    if return_embeddings:
      return outputs, embeddings.astype(jnp.float32)
    return outputs


Model = Basenji2


def basenji2(preset: str = "paper", **overrides: Any) -> Basenji2:
  """A Basenji2 from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"unknown Basenji2 preset {preset!r}; have "
                   f"{sorted(PRESETS)}")
  return Basenji2(**{**PRESETS[preset], **overrides})
