"""Embedding network of a prototypical network (Snell, Swersky & Zemel, NeurIPS 2017):
any registered model, cut before its output layer.

``Model(trunk="deepbind", trunk_preset="tiny")`` builds the trunk by name
(`genereg_jax.models.get_model`) and returns ``{"embedding": [batch, features]}``, the
input of the trunk's last dense layer: its penultimate features, as MIMML (few-shot
peptide classification) takes them from its encoder. The trunk's own output layer still
runs and has parameters, but no loss reaches it. Inputs are passed on by name, so a
multi-input trunk (DeeReCT-TSS: sequence + coverage) works unchanged.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(trunk_preset="tiny"),
}


class Prototypical(nn.Module):
  """``**inputs -> {"embedding": [batch, features]}`` of the trunk's last dense input.

  Attributes:
    trunk: registry name of the model whose features are embedded.
    trunk_preset: its preset.
    trunk_kwargs: ``((field, value), ...)`` overrides of the trunk's fields.
  """
  trunk: str = "deepbind"
  trunk_preset: str = "paper"
  trunk_kwargs: tuple = ()

  @nn.compact
  def __call__(self, *, train: bool = False, **inputs) -> dict[str, Any]:
    from genereg_jax import models
    trunk = models.get_model(self.trunk, self.trunk_preset, dict(self.trunk_kwargs))
    trunk = trunk.clone(parent=self, name="trunk")
    dense_inputs = []

    def record(next_fun, args, kwargs, context):
      if isinstance(context.module, nn.Dense) and context.method_name == "__call__":
        dense_inputs.append(args[0])
      return next_fun(*args, **kwargs)

    with nn.intercept_methods(record):
      trunk(**inputs, train=train)
    if not dense_inputs:
      raise ValueError(f"model {self.trunk!r} has no dense layer: its penultimate "
                       "features cannot be taken")
    features = dense_inputs[-1]
    return {"embedding": features.reshape(features.shape[0], -1)}


Model = Prototypical
