"""Sample labels from fused omics blocks (`genereg_jax.models.fusion`): binary cross-entropy
as `genereg_jax.tasks.multilabel_binary`, plus the joint autoencoder's reconstruction term.

A fusion model returns logits ``[batch, labels]``, or for the ``autoencoder`` mode
``{"logits", "reconstruction_error" [batch]}``; the loss is then
``BCE + reconstruction_weight * mean(reconstruction_error)`` over the real rows, so the
bottleneck both reconstructs the omics (Chaudhary et al., Clin. Cancer Res. 2018) and
predicts the label. Metrics: AUROC / AUPRC per label and their means.
"""

from __future__ import annotations

from typing import Sequence

import jax.numpy as jnp

from genereg_jax.tasks import multilabel_binary


class OmicsLabel(multilabel_binary.MultilabelBinary):
  """Multi-label BCE on fusion logits (+ the autoencoder's reconstruction MSE)."""

  def __init__(self, label_key: str = "label", reconstruction_weight: float = 1.0,
               pos_weight: Sequence[float] | float | None = None,
               label_names: Sequence[str] = ()):
    super().__init__(label_key=label_key, pos_weight=pos_weight, label_names=label_names)
    self.reconstruction_weight = float(reconstruction_weight)

  def loss(self, outputs, batch):
    if not isinstance(outputs, dict):
      return super().loss(outputs, batch)
    loss, weight = super().loss(outputs["logits"], batch)
    error = outputs["reconstruction_error"].astype(jnp.float32)
    rows = batch["example_mask"] if "example_mask" in batch else jnp.ones_like(error)
    rows = rows.astype(jnp.float32)
    reconstruction = jnp.sum(error * rows) / jnp.maximum(rows.sum(), 1.0)
    return loss + self.reconstruction_weight * reconstruction, weight

  def predictions(self, outputs):
    return super().predictions(outputs["logits"] if isinstance(outputs, dict) else outputs)


Task = OmicsLabel
