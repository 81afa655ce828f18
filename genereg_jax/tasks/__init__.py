"""Tasks: what is predicted and how it is scored (DESIGN.md, decision 3).

A task owns the loss (jitted), the prediction transform (jitted), the host-side
streaming metrics and the target handling for reverse-complement augmentation. Tasks
are looked up by name; a task never knows the model.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Mapping

from genereg_jax.tasks.base import Task


def available_tasks() -> list[str]:
  """Task module names: each defines ``Task`` (a ``genereg_jax.tasks.base.Task``)."""
  return sorted(m.name for m in pkgutil.iter_modules(__path__)
                if m.name not in ("base", "metrics") and not m.name.startswith("_"))


def get_task(name: str, kwargs: Mapping[str, Any] | None = None) -> Task:
  """Builds the task ``name`` with ``kwargs``; unknown names list the valid ones."""
  if name not in available_tasks():
    raise ValueError(f"unknown task {name!r}; available: {available_tasks()}")
  return importlib.import_module(f"{__name__}.{name}").Task(**dict(kwargs or {}))
