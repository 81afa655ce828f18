"""CNNC (Yuan & Bar-Joseph, PNAS 2019): a gene pair's 2D expression histogram -> its class.

"Deep learning for inferring gene relationships from single-cell expression data",
Fig. 1, as ``train_new_model/train_with_labels_three_foldx.py`` of xiaoyeye/CNNC (a
VGG-like Keras ``Sequential``). The input is the normalised 32 x 32 joint histogram of
the two genes' ``log10`` expression across cells
(`genereg_jax.data.singlecell.expression_histogram`), one channel:

  3 stages: conv 3x3 "same" -> ReLU -> conv 3x3 "valid" -> ReLU -> max-pool 2
            -> dropout 0.25, with 32, 64, 128 filters          32 -> 15 -> 6 -> 2
  head      flatten (2 x 2 x 128 = 512) -> dense 512 -> ReLU -> dropout 0.5
            -> dense ``num_classes`` (softmax in the task)

Three classes in the paper's direction task (0 no interaction, 1 gene a regulates b,
2 b regulates a; the pair read both ways), two for interaction only. 550,627
parameters with three classes. Training in the reference: SGD (learning rate 0.01,
decay 1e-6, Nesterov momentum 0.9), batches of 1,024, up to 200-600 epochs with
early stopping on validation accuracy (patience 50).
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import layers

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(stage_features=(8, 16, 16), hidden_features=32),
}


class CNNC(nn.Module):
  """``[batch, 32, 32]`` (or ``[..., 1]``) histograms -> ``[batch, num_classes]`` logits.

  Attributes:
    stage_features: filters of the three conv stages (32, 64, 128).
    hidden_features: dense units (512).
    conv_dropout: dropout after each stage (0.25).
    hidden_dropout: dropout after the dense layer (0.5).
    num_classes: output classes (3).
    dtype: compute dtype.
  """
  stage_features: Sequence[int] = (32, 64, 128)
  hidden_features: int = 512
  conv_dropout: float = 0.25
  hidden_dropout: float = 0.5
  num_classes: int = 3
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, histogram: jax.Array, *, train: bool = False) -> jax.Array:
    x = histogram.astype(self.dtype)
    if x.ndim == 3:
      x = x[..., None]
    for index, features in enumerate(self.stage_features):
      for padding, suffix in (("SAME", "a"), ("VALID", "b")):
        x = nn.relu(layers.conv(features, 3, padding=padding, dtype=self.dtype,
                                spatial_dims=2, name=f"conv_{index}{suffix}")(x))
      x = nn.max_pool(x, (2, 2), strides=(2, 2), padding="VALID")
      x = nn.Dropout(self.conv_dropout, deterministic=not train)(x)
    x = x.reshape(x.shape[0], -1)
    x = nn.relu(layers.dense(self.hidden_features, dtype=self.dtype, name="hidden")(x))
    x = nn.Dropout(self.hidden_dropout, deterministic=not train)(x)
    return layers.dense(self.num_classes, dtype=self.dtype, axes=("mlp", "tracks"),
                        name="output")(x)


Model = CNNC
