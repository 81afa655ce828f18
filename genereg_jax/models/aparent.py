"""APARENT (Bogard, Linder, Rosenberg & Seelig, Cell 2019): alternative polyadenylation
from a reporter's sequence -> proximal isoform proportion and cleavage distribution.

The MPRA libraries place a randomised 3' UTR region with a proximal PAS in a reporter
that also carries a distal PAS; each sequence's reads give the fraction ending at the
proximal site (isoform proportion) and where they were cleaved (a distribution over the
positions, plus one bin for reads not cleaved in the window: the distal isoform). The
released model (``johli/aparent``, ``aparent/model/aparent_model_plasmid.py``) reads 205
nt of the padded reporter (the 186-nt variable region and its flanks, ``padded_seq``
positions 180-385): conv 96 x 8 ('valid', ReLU) -> max-pool 2 -> conv 128 x 6 ('valid',
ReLU) -> flatten ++ distal-PAS flag -> dense 256 ReLU, dropout 0.2 -> ++ library one-hot
(13 libraries) -> a sigmoid proximal-isoform output and a softmax over ``length + 1``
cleavage bins (both initialised at zero). 3,213,618 parameters at 205 nt. The loss is
``0.5 * KL(isoform) + 0.5 * KL(cleavage)`` (`genereg_jax.tasks.isoform_cleavage`); SGD
at 0.1 with Nesterov momentum 0.9, batch 32 (``aparent_trainer.py``).

Returns ``{"isoform": [batch, 1] logits, "cleavage": [batch, length + 1] logits}``.
``library`` and ``distal_pas`` may be omitted (zeros: no library's offset), as design
does.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv1_features=16, conv2_features=16, dense_features=32),
}


class APARENT(nn.Module):
  """``sequence [batch, L, 4]`` (+ ``library [batch, num_libraries]``, ``distal_pas
  [batch, 1]``) -> isoform and cleavage logits.

  Attributes:
    conv1_features, conv1_width: first convolution (96 x 8).
    pool_size: max-pool after it (2).
    conv2_features, conv2_width: second convolution (128 x 6).
    dense_features: ReLU units of the shared layer (256).
    dropout_rate: dropout after it (0.2).
    num_libraries: width of the library one-hot (13).
    dtype: compute dtype.
  """
  conv1_features: int = 96
  conv1_width: int = 8
  pool_size: int = 2
  conv2_features: int = 128
  conv2_width: int = 6
  dense_features: int = 256
  dropout_rate: float = 0.2
  num_libraries: int = 13
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, library: jnp.ndarray | None = None,
               distal_pas: jnp.ndarray | None = None, *, train: bool = False
               ) -> dict[str, jnp.ndarray]:
    batch, length = sequence.shape[:2]
    if library is None:
      library = jnp.zeros((batch, self.num_libraries), self.dtype)
    if distal_pas is None:
      distal_pas = jnp.zeros((batch, 1), self.dtype)
    x = gnn.ConvBlock(self.conv1_features, self.conv1_width, pool_size=self.pool_size,
                      dtype=self.dtype, name="conv1")(sequence.astype(self.dtype), train=train)
    x = gnn.ConvBlock(self.conv2_features, self.conv2_width, dtype=self.dtype,
                      name="conv2")(x, train=train)
    x = jnp.concatenate([x.reshape(batch, -1),
                         distal_pas.reshape(batch, 1).astype(self.dtype)], axis=-1)
    x = gnn.DenseBlock(self.dense_features, dropout_rate=self.dropout_rate, dtype=self.dtype,
                       name="shared")(x, train=train)
    x = jnp.concatenate([x, library.astype(self.dtype)], axis=-1)
    # The reference starts both heads at zero: uniform cleavage, isoform 0.5.
    head = lambda n, name: nn.Dense(n, kernel_init=nn.initializers.zeros, dtype=self.dtype,
                                    name=name)(x).astype(jnp.float32)
    return {"isoform": head(1, "isoform"), "cleavage": head(length + 1, "cleavage")}


Model = APARENT
