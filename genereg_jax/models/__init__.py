"""Published architectures, one module per paper (DESIGN.md, layer 3).

Lookup is by module convention rather than a hand-kept table: ``"deepsea"`` names
``genereg_jax.models.deepsea.Model``; ``"bpnet.ChromBPNet"`` names a specific class in
a module. Each module also defines ``PRESETS`` (the paper's size, ``tiny`` ...).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping

import flax.linen as nn


def available_models() -> list[str]:
  """Names of the model modules in this package."""
  return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _module_and_class(name: str):
  module_name, _, class_name = name.partition(".")
  if module_name not in available_models():
    raise ValueError(f"unknown model {name!r}; available: {available_models()}")
  module = importlib.import_module(f"{__name__}.{module_name}")
  class_name = class_name or "Model"
  if not hasattr(module, class_name):
    classes = [k for k, v in vars(module).items()
               if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module.__name__]
    raise ValueError(f"model module {module_name!r} has no class {class_name!r}; classes: {classes}")
  return module, getattr(module, class_name)


def get_model(name: str, preset: str | None = None,
              kwargs: Mapping[str, Any] | None = None) -> nn.Module:
  """Builds ``name`` from its ``preset`` (if any) updated by ``kwargs``."""
  module, cls = _module_and_class(name)
  fields = {}
  if preset:
    presets = getattr(module, "PRESETS", {})
    if preset not in presets:
      raise ValueError(f"model {name!r} has no preset {preset!r}; presets: {sorted(presets)}")
    fields.update(presets[preset])
  fields.update(kwargs or {})
  valid = set(cls.__dataclass_fields__) - {"parent", "name"}
  unknown = sorted(set(fields) - valid)
  if unknown:
    raise ValueError(f"{cls.__name__} has no field(s) {unknown}; valid: {sorted(valid)}")
  return cls(**fields)
