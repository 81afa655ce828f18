"""Named experiment configs: ``experiments/configs/<name>.py`` with ``get_config(arg)``.

``--config=<name>[:<arg>]`` is resolved to that file by ``resolve_config_argv`` before
absl parses the flags (ml_collections' config flag takes only file paths).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import ml_collections

CONFIG_DIR = os.path.dirname(os.path.abspath(__file__))


class UnknownConfigError(ValueError):
  """``--config`` names no file in ``experiments/configs``."""


def available_configs() -> list[str]:
  return sorted(m.name for m in pkgutil.iter_modules([CONFIG_DIR]) if not m.name.startswith("_"))


def config_path(name_and_arg: str) -> str:
  """``"deepsea:tiny"`` -> ``".../experiments/configs/deepsea.py:tiny"``; paths pass through."""
  name, sep, arg = name_and_arg.partition(":")
  if name.endswith(".py") or os.sep in name:
    return name_and_arg
  if name not in available_configs():
    raise UnknownConfigError(f"unknown config {name!r}; available: {', '.join(available_configs())}")
  return os.path.join(CONFIG_DIR, f"{name}.py") + sep + arg


def get_config(name_and_arg: str) -> ml_collections.ConfigDict:
  """Builds a named config in Python (tests, notebooks): ``get_config("deepsea:tiny")``."""
  name, _, arg = name_and_arg.partition(":")
  config_path(name)
  module = importlib.import_module(f"{__name__}.{name}")
  return module.get_config(arg or None)


def load_module(path: str):
  """The config file at ``path`` as a module (``get_config``, maybe ``get_sweep``)."""
  import importlib.util
  spec = importlib.util.spec_from_file_location(
      os.path.splitext(os.path.basename(path))[0] + "_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config_file(path_and_arg: str) -> ml_collections.ConfigDict:
  """``get_config(arg)`` of a resolved ``".../name.py[:arg]"`` (as ``--config`` loads it)."""
  path, _, arg = path_and_arg.partition(":")
  return load_module(path).get_config(arg or None)


def resolve_config_argv(argv: list[str]) -> list[str]:
  """Rewrites ``--config=name[:arg]`` (or ``--config name``) in argv to a file path.

  Exits with status 2 and the list of configs when the name is unknown.
  """
  out = list(argv)
  for i, token in enumerate(out):
    try:
      if token.startswith("--config="):
        out[i] = "--config=" + config_path(token.split("=", 1)[1])
      elif token == "--config" and i + 1 < len(out):
        out[i + 1] = config_path(out[i + 1])
    except UnknownConfigError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)
  return out


def model_config(model_name: str, preset: str | None = None,
                 **updates) -> ml_collections.ConfigDict:
  """Every plain field of the model class (defaults < preset < ``updates``).

  Listing them all makes each one overridable from the command line
  (``--config.model.depth=4``) although configs are locked.
  """
  import dataclasses
  from genereg_jax import models
  module, cls = models._module_and_class(model_name)  # pylint: disable=protected-access
  fields = {}
  for field in dataclasses.fields(cls):
    if field.name in ("parent", "name") or field.default is dataclasses.MISSING:
      continue
    if isinstance(field.default, (bool, int, float, str, tuple, type(None))):
      fields[field.name] = field.default
  fields.update(getattr(module, "PRESETS", {}).get(preset, {}) if preset else {})
  fields.update(updates)
  for key, value in list(fields.items()):
    if value is None:  # Typed placeholders so an override can set them.
      fields[key] = ml_collections.FieldReference(None, object)
  return ml_collections.ConfigDict(fields)
