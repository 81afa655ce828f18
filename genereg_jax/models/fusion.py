"""Multi-omics fusion: early, late and joint-autoencoder integration of tabular omics blocks.

Each example is one sample (patient, cell line) with several feature blocks, e.g.
``expression [batch, genes]``, ``methylation [batch, cpgs]``, ``cnv [batch, segments]``
(`genereg_jax.data.omics_tables`); the model input names the blocks as batch keys
(``block_names``). Three ways to combine them, as the multi-omics reviews classify them
(Ritchie et al., Nat. Rev. Genet. 2015; Zitnik et al., Inf. Fusion 2019):

* ``early``: the blocks concatenated into one vector -> one encoder -> head.
* ``late``: one encoder per block; the encoded blocks meet only at the head
  (``late_combine="concat"``: their features joined by a small head) or at the
  decision (``"mean"``: each block's own head, logits averaged; it can only add
  per-block evidence, so it cannot learn an interaction *between* blocks).
* ``autoencoder`` (Chaudhary et al., Clin. Cancer Res. 2018): a stacked autoencoder over
  the concatenated omics (their layers 500-100-500, tanh; the 100-unit bottleneck is the
  integrated representation) whose bottleneck feeds the head. Chaudhary et al. trained
  the autoencoder alone and then clustered / classified its bottleneck features; here
  both are trained together: the output is ``{"logits", "reconstruction_error"}`` and
  `genereg_jax.tasks.omics_label` adds the reconstruction MSE to the label loss.

The encoder is ``"mlp"`` (dense layers of ``hidden``) or the name of any registered model
(``genereg_jax.models``, with ``encoder_preset`` / ``encoder_kwargs``) applied to each block
(late) or to the concatenation (early) and used as a feature extractor.
``blocks_used`` restricts a model to some blocks: the single-omics baselines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

MODES = ("early", "late", "autoencoder")

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(hidden=(8,), autoencoder_hidden=(8, 4)),
}


class Encoder(nn.Module):
  """A block (or the concatenation) ``[batch, features]`` -> ``[batch, hidden[-1]]``."""
  encoder: str = "mlp"
  encoder_preset: str | None = None
  encoder_kwargs: Mapping[str, Any] | None = None
  hidden: tuple[int, ...] = (64, 32)
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    if self.encoder == "mlp":
      for index, width in enumerate(self.hidden):
        x = gnn.DenseBlock(width, dropout_rate=self.dropout_rate, dtype=self.dtype,
                           name=f"dense_{index}")(x, train=train)
      return x
    from genereg_jax import models  # A registered trunk; imported late (registry cycle).
    trunk = models.get_model(self.encoder, self.encoder_preset,
                             dict(self.encoder_kwargs or {})).clone(parent=self, name="trunk")
    out = trunk(x, train=train)
    return out.reshape(out.shape[0], -1)


class OmicsFusion(nn.Module):
  """Omics blocks (keyword arguments named by ``block_names``) -> ``[batch, num_outputs]``.

  Attributes:
    block_names: the batch keys of the blocks, in a fixed order.
    blocks_used: the blocks this model reads (default: all); one block = single omics.
    mode: ``"early"``, ``"late"`` or ``"autoencoder"``.
    late_combine: ``"concat"`` (joined features -> head) or ``"mean"`` (mean of logits).
    encoder, encoder_preset, encoder_kwargs: ``"mlp"`` or a registered model name.
    hidden: MLP encoder widths (and the joined head's width, ``late``).
    autoencoder_hidden: encoder widths of the autoencoder, the last one the bottleneck;
      the decoder mirrors them (Chaudhary et al.: 500, 100 -> decoder 500).
    autoencoder_activation: its activation (tanh, as Chaudhary et al.).
    num_outputs: outputs (logits).
    dropout_rate: dropout after hidden layers.
    dtype: compute dtype.
  """
  block_names: tuple[str, ...] = ("expression", "methylation", "cnv")
  blocks_used: tuple[str, ...] = ()
  mode: str = "early"
  late_combine: str = "concat"
  encoder: str = "mlp"
  encoder_preset: str | None = None
  encoder_kwargs: Mapping[str, Any] | None = None
  hidden: tuple[int, ...] = (64, 32)
  autoencoder_hidden: tuple[int, ...] = (500, 100)
  autoencoder_activation: str = "tanh"
  num_outputs: int = 1
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  def _encoder(self, name: str) -> Encoder:
    return Encoder(self.encoder, self.encoder_preset, self.encoder_kwargs, tuple(self.hidden),
                   self.dropout_rate, self.dtype, name=name)

  def _head(self, name: str) -> nn.Dense:
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"), name=name)

  @nn.compact
  def __call__(self, *, train: bool = False, **blocks: jnp.ndarray):
    used = tuple(self.blocks_used) or tuple(self.block_names)
    unknown = sorted(set(used) - set(self.block_names))
    missing = sorted(set(used) - set(blocks))
    if self.mode not in MODES or unknown or missing:
      raise ValueError(f"OmicsFusion: mode {self.mode!r} (valid {MODES}); blocks_used "
                       f"{used} must be among block_names {tuple(self.block_names)} and "
                       f"given as inputs (got {sorted(blocks)})")
    inputs = [blocks[name].reshape(blocks[name].shape[0], -1).astype(self.dtype)
              for name in used]
    if self.mode == "early":
      return self._head("head")(self._encoder("encoder")(
          jnp.concatenate(inputs, axis=-1), train=train))
    if self.mode == "late":
      encoded = [self._encoder(f"encoder_{name}")(x, train=train)
                 for name, x in zip(used, inputs)]
      if self.late_combine == "mean":
        return jnp.mean(jnp.stack([self._head(f"head_{name}")(h)
                                   for name, h in zip(used, encoded)]), axis=0)
      if self.late_combine != "concat":
        raise ValueError(f"late_combine must be 'concat' or 'mean', got {self.late_combine!r}")
      joined = gnn.DenseBlock(self.hidden[-1], dropout_rate=self.dropout_rate,
                              dtype=self.dtype, name="joint")(
                                  jnp.concatenate(encoded, axis=-1), train=train)
      return self._head("head")(joined)
    # Joint autoencoder (Chaudhary et al. 2018): reconstruct the concatenated omics.
    x = jnp.concatenate(inputs, axis=-1)
    z = x
    for index, width in enumerate(self.autoencoder_hidden):
      z = gnn.DenseBlock(width, activation=self.autoencoder_activation, dtype=self.dtype,
                         name=f"ae_encoder_{index}")(z, train=train)
    decoded = z
    for index, width in enumerate(tuple(self.autoencoder_hidden[-2::-1])):
      decoded = gnn.DenseBlock(width, activation=self.autoencoder_activation,
                               dtype=self.dtype, name=f"ae_decoder_{index}")(decoded, train=train)
    reconstruction = gnn.dense(x.shape[-1], dtype=self.dtype, name="ae_output")(decoded)
    error = jnp.mean(jnp.square(reconstruction.astype(jnp.float32) - x.astype(jnp.float32)),
                     axis=-1)
    logits = self._head("head")(self._encoder("encoder")(z, train=train))
    return {"logits": logits, "reconstruction_error": error}


Model = OmicsFusion
