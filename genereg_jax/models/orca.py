"""Orca's 1-Mb model (Zhou, Nat. Genet. 2022): 1 Mb of sequence -> 250 x 250 contact map.

"Sequence-based modeling of three-dimensional genome architecture from kilobase to
chromosome scale", the 1-Mb network ``Net`` of ``orca_modules.py`` in jzhoulab/orca
(loaded by ``H1esc_1M`` / ``Hff_1M`` in ``orca_models.py``), read top to bottom:

  encoder   7 residual stages on 1,000,000 bp; stage s is
              [max-pool p_s] -> L_s: (conv k=9 -> batch norm) x 2          (linear)
                             -> C_s: (conv k=9 -> batch norm -> ReLU) x 2
              with output C_s(L_s) + L_s (the last stage: C_7(L_7) alone);
            channels 64, 96, 128, 128, 128, 128, 128; pools -, 4, 4, 5, 5, 5, 2
            -> 250 bins of 4,000 bp
  pairs     x_i + x_j (128 channels, 250 x 250)
  decoder   19 residual 2-D blocks, 3x3 convolutions, 32 middle and 64 output
            channels, dilations 1, 2, 4, 8, 16, 32, 64, then 2 ... 64 twice; block b:
              x = L_b(x) + x (block 0: dropout 0.1, then L_0(x) without the skip,
              128 -> 64 channels);  x = C_b(x) + x
            with L_b linear and C_b ReLU'd (conv -> batch norm [-> ReLU]) x 2
  final     conv 1x1 -> 5, batch norm, ReLU, conv 1x1 -> 1; symmetrise
  output    the 250 x 250 log(observed/expected) map of one cell type (H1-ESC or
            HFF micro-C, 4DN), trained with MSE on its finite entries; here returned
            as the upper triangle from diagonal ``diagonal_offset`` (0: every entry of
            the symmetric map once) so the ``contact_map`` task scores it like Akita.

Convolutions have biases and batch norm is PyTorch's (momentum 0.1, i.e. Flax 0.9;
epsilon 1e-5), as the reference. The paper's optional auxiliary 1-D head
(``num_1d``: conv 1x1 128 -> 128, batch norm, ReLU, conv 1x1 -> ``num_1d``, sigmoid;
H1-ESC 32, HFF 22 ChIP/DNase profiles at 4 kb, BCE) is built when ``num_1d > 0`` and
returned under ``"<head>_1d"``.

Not built: the multi-scale cascade (``Encoder2``/``Encoder3`` and the ``Decoder``s
that zoom from 256 Mb and 32 Mb to 1 Mb through upsampled predictions); this module is
the standalone 1-Mb model only. The paper model (``num_1d=None``) has 4,769,429
parameters plus 13,706 batch-norm running statistics (tests/models/test_orca.py counts
them from the reference's layer list); the H1-ESC 1-D head adds 20,896.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import conv2d
from genereg_jax.nn import layers

Array = jax.Array
Dtype = Any

SEQUENCE_LENGTH = 1_000_000
# Orca's decoder dilations: 1 ... 64, then 2 ... 64 twice (orca_modules.Net.lconvtwos).
PAPER_DILATIONS = (1, 2, 4, 8, 16, 32, 64) + (2, 4, 8, 16, 32, 64) * 2

PRESETS: dict[str, dict[str, Any]] = {
    # Net(num_1d=None) of orca_modules.py: 1,000,000 bp -> 250 x 250 bins of 4 kb.
    "paper": dict(),
    # The geometry of data_builders/synthetic_contacts/default (32,768 bp -> 64 bins of
    # 512 bp, crop 4 -> 56 x 56, offset 2), narrow (8-32 channels), 5 2-D blocks.
    "synthetic": dict(encoder_features=(8, 16, 32, 32, 32, 32),
                      pool_sizes=(4, 4, 4, 4, 2), decoder_features=16,
                      decoder_mid_features=8, decoder_dilations=(1, 2, 4, 8, 16),
                      crop_bins=4, diagonal_offset=2, output_heads={"human": 2}),
    # synthetic_contacts/tiny: 8,192 bp -> 32 bins of 256 bp, crop 2 -> 28 x 28: seconds.
    "tiny": dict(encoder_features=(8, 12, 16, 16, 16), pool_sizes=(4, 4, 4, 4),
                 decoder_features=16, decoder_mid_features=8,
                 decoder_dilations=(1, 2, 4), crop_bins=2, diagonal_offset=2,
                 output_heads={"human": 2}),
}


def _norm(train: bool, dtype: Dtype, name: str) -> nn.BatchNorm:
  """PyTorch's BatchNorm (momentum 0.1 on the new batch, epsilon 1e-5)."""
  named = lambda init: nn.with_logical_partitioning(init, ("norm",))
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                      dtype=dtype, scale_init=named(nn.initializers.ones_init()),
                      bias_init=named(nn.initializers.zeros_init()), name=name)


class ConvPair(nn.Module):
  """Orca's unit of two convolutions, each followed by batch norm (and ReLU if ``relu``).

  ``spatial_dims`` 1 for the encoder (k=9), 2 for the decoder (3x3, dilated); the
  first convolution has ``mid_features`` channels, the second ``features``.
  """
  mid_features: int
  features: int
  kernel_size: int
  dilation: int = 1
  relu: bool = False
  spatial_dims: int = 1
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    for i, features in enumerate((self.mid_features, self.features)):
      x = layers.conv(features, self.kernel_size, dilation=self.dilation,
                      spatial_dims=self.spatial_dims, dtype=self.dtype,
                      name=f"conv_{i}")(x)
      x = _norm(train, self.dtype, f"norm_{i}")(x)
      if self.relu:
        x = nn.relu(x)
    return x


class Orca1Mb(nn.Module):
  """Orca's standalone 1-Mb model (``orca_modules.Net``); defaults are the paper's.

  Attributes:
    encoder_features: channels of each encoder stage.
    pool_sizes: max-pool before each encoder stage after the first.
    kernel_size: width of the encoder convolutions.
    decoder_features: channels of the 2-D residual stream.
    decoder_mid_features: channels inside each 2-D convolution pair.
    decoder_dilations: dilation of each 2-D residual block.
    dropout_rate: dropout before the first 2-D block.
    final_mid_features: channels of the final 1x1 block.
    crop_bins: bins cropped from each end of both map axes before the triangle (0 in
      the paper; the synthetic_contacts geometry crops as Akita does).
    diagonal_offset: first diagonal of the returned upper triangle.
    output_heads: ``{head: maps}`` (the paper: one map of one cell type).
    num_1d: auxiliary 1-D profiles (H1-ESC 32, HFF 22); 0 for none.
    dtype: compute dtype; outputs are float32.
  """
  encoder_features: Sequence[int] = (64, 96, 128, 128, 128, 128, 128)
  pool_sizes: Sequence[int] = (4, 4, 5, 5, 5, 2)
  kernel_size: int = 9
  decoder_features: int = 64
  decoder_mid_features: int = 32
  decoder_dilations: Sequence[int] = PAPER_DILATIONS
  dropout_rate: float = 0.1
  final_mid_features: int = 5
  crop_bins: int = 0
  diagonal_offset: int = 0
  output_heads: Mapping[str, int] = flax.core.FrozenDict(human=1)
  num_1d: int = 0
  dtype: Dtype = jnp.float32

  @property
  def output_stride(self) -> int:
    """Base pairs per map bin (paper: 4 * 4 * 5 * 5 * 5 * 2 = 4,000)."""
    stride = 1
    for pool in self.pool_sizes:
      stride *= pool
    return stride

  def map_bins(self, sequence_length: int) -> int:
    """Bins per side of the map (paper: 1,000,000 bp -> 250)."""
    return sequence_length // self.output_stride - 2 * self.crop_bins

  def num_pairs(self, sequence_length: int) -> int:
    """Upper-triangle entries returned per map (paper: 31,375)."""
    return conv2d.num_pairs(self.map_bins(sequence_length), self.diagonal_offset)

  @nn.compact
  def __call__(self, sequence: Array, *, train: bool = False) -> dict[str, Array]:
    """Predicts the log(observed/expected) map of each head.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T (paper: 1,000,000 bp; the
        length must be a multiple of ``output_stride``).
      train: batch statistics and dropout.

    Returns:
      ``{head: float32[batch, num_pairs(length), maps]}`` in ``np.triu_indices``
      order, plus ``{head}_1d: float32[batch, bins, num_1d]`` (sigmoid) when
      ``num_1d``. Sown in ``"intermediates"``: ``encoder_out [batch, bins, C]``.
    """
    if len(self.pool_sizes) != len(self.encoder_features) - 1:
      raise ValueError(f"{len(self.encoder_features)} encoder stages need "
                       f"{len(self.encoder_features) - 1} pool sizes, got "
                       f"{self.pool_sizes}")
    if sequence.shape[1] % self.output_stride:
      raise ValueError(f"sequence length {sequence.shape[1]} is not a multiple of "
                       f"the {self.output_stride}-bp bins")
    x = sequence.astype(self.dtype)

    # Encoder: residual stages down to 4-kb bins.
    last = len(self.encoder_features) - 1
    for s, features in enumerate(self.encoder_features):
      if s:
        pool = self.pool_sizes[s - 1]
        x = nn.max_pool(x, (pool,), strides=(pool,))
      pair = dict(kernel_size=self.kernel_size, dtype=self.dtype)
      linear = ConvPair(features, features, relu=False, name=f"lconv_{s}", **pair)(
          x, train=train)
      x = ConvPair(features, features, relu=True, name=f"conv_{s}", **pair)(
          linear, train=train)
      if s < last:
        x = x + linear
    self.sow("intermediates", "encoder_out", x)
    encoded = x

    # Decoder: pairwise sums, dilated residual 2-D blocks, final 1x1, symmetrise.
    x = conv2d.one_to_two(encoded, "sum")
    pair = dict(spatial_dims=2, dtype=self.dtype)
    for b, rate in enumerate(self.decoder_dilations):
      linear = ConvPair(self.decoder_mid_features, self.decoder_features, 3, rate,
                        name=f"lconvtwo_{b}", **pair)
      if b == 0:
        x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        x = linear(x, train=train)
      else:
        x = linear(x, train=train) + x
      x = ConvPair(self.decoder_mid_features, self.decoder_features, 3, rate,
                   relu=True, name=f"convtwo_{b}", **pair)(x, train=train) + x

    outputs = {}
    for head, maps in self.output_heads.items():
      y = layers.conv(self.final_mid_features, 1, spatial_dims=2, dtype=self.dtype,
                      name=f"{head}_final_0")(x)
      y = nn.relu(_norm(train, self.dtype, f"{head}_final_norm")(y))
      y = layers.conv(maps, 1, spatial_dims=2, dtype=self.dtype,
                      name=f"{head}_final_1")(y)
      y = conv2d.crop_2d(conv2d.symmetrize(y), self.crop_bins)
      outputs[head] = conv2d.upper_triangle(y, self.diagonal_offset).astype(jnp.float32)
      if self.num_1d:
        z = layers.conv(encoded.shape[-1], 1, dtype=self.dtype, name=f"{head}_1d_0")(
            encoded)
        z = nn.relu(_norm(train, self.dtype, f"{head}_1d_norm")(z))
        z = layers.conv(self.num_1d, 1, dtype=self.dtype, name=f"{head}_1d_1")(z)
        outputs[f"{head}_1d"] = jax.nn.sigmoid(z.astype(jnp.float32))
    return outputs


Model = Orca1Mb


def orca_1mb(preset: str = "paper", **overrides: Any) -> Orca1Mb:
  """An Orca 1-Mb model from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"unknown Orca preset {preset!r}; have {sorted(PRESETS)}")
  return Orca1Mb(**{**PRESETS[preset], **overrides})
