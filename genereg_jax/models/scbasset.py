"""scBasset (Yuan & Kelley, Nat. Methods 2022): peak sequence -> accessibility in every cell.

"scBasset: sequence-based modeling of single-cell ATAC-seq using convolutional neural
networks", Fig. 1a, as ``make_model`` in calico/scBasset ``scbasset/utils.py`` with
the Basenji blocks of ``scbasset/basenji_utils.py``:

  stem        conv block k=17, 288 filters, max-pool 3         1,344 -> 448
  tower       6 conv blocks k=5, max-pool 2, filters 288 x 1.122 per block
              (288, 323, 363, 407, 456, 512)                    448 -> 7
  conv        conv block k=1, 256 filters                        7 x 256
  bottleneck  GELU -> flatten -> dense 32 (no bias) -> batch norm -> dropout 0.2
              -> GELU                                            32
  cells       dense ``num_cells`` with bias: one logit per cell

Every conv block is Basenji's pre-activation order, GELU -> conv (no bias) -> batch
norm (momentum 0.9, epsilon 1e-3) -> max-pool (`genereg_jax.nn.residual.
PreActivationConvBlock`), GELU the ``sigmoid(1.702 x) x`` of Basenji. The final layer
is the point of the paper: its kernel ``[32, num_cells]`` holds one 32-d **cell
embedding** per cell (`cell_embeddings`), its bias a per-cell intercept that absorbs
sequencing depth (`cell_intercepts`). ``sigmoid(bottleneck @ kernel)`` without the
intercept is the depth-normalised, **denoised accessibility** (`denoised_accessibility`,
the reference's ``imputation_Y_normalize``). **TF activity** per cell
(`motif_activity`, the reference's ``motif_score``): the mean denoised accessibility
of background peaks with a motif inserted at their centre minus that of the same
backgrounds without it, z-scored across cells; the reference's backgrounds are
dinucleotide-shuffled peaks.

The paper model has 4,513,960 parameters before the cell layer, plus 33 per cell
(4,581,082 at the Buenrostro 2018 set's 2,034 cells), and 5,850 batch-norm statistics.
Training in the reference: binary cross-entropy on every (peak, cell), Adam
(learning rate 0.01, beta_1 0.95, beta_2 0.9995), batches of 128 peaks, random reverse
complement and +-3 bp shifts, up to 1,000 epochs.
Returns logits ``[batch, num_cells]``; ``bottleneck_only=True`` returns the 32-d
bottleneck ``[batch, 32]`` instead.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.models.basenji import tower_widths
from genereg_jax.nn import layers
from genereg_jax.nn import residual

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # 344 bp, 3 small tower blocks: the geometry of scatac_peaks/tiny.
    "tiny": dict(stem_features=16, tower_features_init=16, tower_features_mult=1.25,
                 num_tower_blocks=3, conv_features=16, num_cells=90),
}


class ScBasset(nn.Module):
  """``[batch, seq_len, 4]`` one-hot -> ``[batch, num_cells]`` accessibility logits.

  Attributes:
    num_cells: cells of the dataset (one output each).
    stem_features, stem_kernel, stem_pool: first conv block (288, 17, 3).
    tower_features_init, tower_features_mult, num_tower_blocks, tower_kernel,
      tower_pool: the conv tower (288, x1.122, 6, 5, 2).
    conv_features: the k=1 conv block (256).
    bottleneck_features: the bottleneck, the embedding size (32).
    bottleneck_dropout: dropout after its batch norm (0.2).
    bn_momentum: batch-norm running-average momentum (Basenji's 0.9).
    dtype: compute dtype.
  """
  num_cells: int = 1000
  stem_features: int = 288
  stem_kernel: int = 17
  stem_pool: int = 3
  tower_features_init: int = 288
  tower_features_mult: float = 1.122
  num_tower_blocks: int = 6
  tower_kernel: int = 5
  tower_pool: int = 2
  conv_features: int = 256
  bottleneck_features: int = 32
  bottleneck_dropout: float = 0.2
  bn_momentum: float = 0.9
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jax.Array, *, train: bool = False,
               bottleneck_only: bool = False) -> jax.Array:
    block = lambda features, kernel, pool, name: residual.PreActivationConvBlock(
        features, kernel, pool_size=pool, bn_momentum=self.bn_momentum, dtype=self.dtype,
        name=name)
    x = sequence.astype(self.dtype)
    # The reference's first block applies GELU to the one-hot input too (Basenji's
    # pre-activation order): 1 -> 0.845, 0 -> 0.
    x = block(self.stem_features, self.stem_kernel, self.stem_pool, "stem")(x, train=train)
    widths = tower_widths(self.tower_features_init, self.tower_features_mult,
                          self.num_tower_blocks)
    for index, width in enumerate(widths):
      x = block(width, self.tower_kernel, self.tower_pool, f"tower_{index}")(x, train=train)
    x = block(self.conv_features, 1, 1, "conv")(x, train=train)
    x = residual.sigmoid_gelu(x).reshape(x.shape[0], -1)
    x = layers.dense(self.bottleneck_features, use_bias=False, dtype=self.dtype,
                     name="bottleneck")(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                     epsilon=1e-3, dtype=self.dtype, name="bottleneck_norm")(x)
    x = nn.Dropout(self.bottleneck_dropout, deterministic=not train)(x)
    x = residual.sigmoid_gelu(x)
    if bottleneck_only:
      return x
    # Cells on the "tracks" axis: with 100k cells this layer dominates the parameters.
    return layers.dense(self.num_cells, dtype=self.dtype, axes=("mlp", "tracks"),
                        name="cells")(x)


Model = ScBasset


def cell_embeddings(params: Mapping[str, Any]) -> np.ndarray:
  """``[num_cells, 32]``: the per-cell layer's kernel, transposed (``get_cell_embedding``)."""
  return np.asarray(params["cells"]["kernel"]).T


def cell_intercepts(params: Mapping[str, Any]) -> np.ndarray:
  """``[num_cells]``: the per-cell layer's bias (sequencing depth; ``get_intercept``)."""
  return np.asarray(params["cells"]["bias"])


def denoised_accessibility(bottleneck: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
  """``[peaks, cells]`` ``sigmoid(bottleneck @ kernel)``, the intercept left out
  (depth-normalised imputation, ``imputation_Y_normalize(scale_method="sigmoid")``)."""
  kernel = np.asarray(params["cells"]["kernel"], np.float32)
  return 1.0 / (1.0 + np.exp(-(np.asarray(bottleneck, np.float32) @ kernel)))


def insert_motif(sequences: np.ndarray, motif: np.ndarray) -> np.ndarray:
  """``sequences [n, L, 4]`` with the one-hot ``motif [w, 4]`` written at their centre."""
  out = np.array(sequences, copy=True)
  start = (out.shape[1] - motif.shape[0]) // 2
  out[:, start:start + motif.shape[0]] = motif
  return out


def motif_activity(bottleneck_fn: Callable[[np.ndarray], np.ndarray],
                   params: Mapping[str, Any], backgrounds: np.ndarray,
                   motif: np.ndarray) -> np.ndarray:
  """Per-cell TF activity of ``motif`` by motif insertion (scBasset's ``motif_score``).

  Args:
    bottleneck_fn: ``[n, L, 4] -> [n, 32]`` bottleneck of the trained model.
    params: its parameters (the per-cell layer).
    backgrounds: ``[n, L, 4]`` background peaks (dinucleotide-shuffled peaks).
    motif: ``[w, 4]`` one-hot motif inserted at each background's centre.

  Returns:
    ``[num_cells]`` z-scores across cells of mean(with motif) - mean(without).
  """
  with_motif = denoised_accessibility(bottleneck_fn(insert_motif(backgrounds, motif)), params)
  without = denoised_accessibility(bottleneck_fn(backgrounds), params)
  score = with_motif.mean(axis=0) - without.mean(axis=0)
  return (score - score.mean()) / max(float(score.std()), 1e-12)
