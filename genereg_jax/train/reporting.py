"""What users see: progress lines with rate and ETA, ``metrics.jsonl``, TensorBoard.

Only process 0 writes. TensorBoard events come from tensorboardX, which needs no
TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Mapping

import jax
import numpy as np
from absl import logging


def _scalar(value: Any) -> float | None:
  array = np.asarray(value)
  return float(array) if array.ndim == 0 and np.issubdtype(array.dtype, np.number) else None


def format_duration(seconds: float) -> str:
  if not math.isfinite(seconds):
    return "?"
  seconds = int(seconds)
  hours, rest = divmod(seconds, 3600)
  return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class MetricWriter:
  """Appends ``{"step", "split", metrics...}`` rows to metrics.jsonl and TensorBoard."""

  def __init__(self, workdir: str):
    self.enabled = jax.process_index() == 0
    self._tensorboard = None
    if self.enabled:
      os.makedirs(workdir, exist_ok=True)
      self._jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a")
      from tensorboardX import SummaryWriter
      self._tensorboard = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def write(self, step: int, split: str, metrics: Mapping[str, Any]) -> None:
    if not self.enabled:
      return
    scalars = {k: s for k, v in metrics.items() if (s := _scalar(v)) is not None}
    self._jsonl.write(json.dumps({"step": int(step), "split": split, **scalars}) + "\n")
    self._jsonl.flush()
    for name, value in scalars.items():
      self._tensorboard.add_scalar(f"{split}/{name}", value, int(step))
    self._tensorboard.flush()

  def close(self) -> None:
    if self.enabled:
      self._jsonl.close()
      self._tensorboard.close()


class Progress:
  """Periodic progress lines: step, loss, examples/s and ETA."""

  def __init__(self, total_steps: int, start_step: int, examples_per_step: int):
    self.total_steps = total_steps
    self.examples_per_step = examples_per_step
    self._last_step, self._last_time = start_step, time.perf_counter()

  def line(self, step: int, metrics: Mapping[str, float]) -> dict[str, float]:
    now = time.perf_counter()
    steps = step - self._last_step
    steps_per_s = steps / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    eta = (self.total_steps - step) / steps_per_s if steps_per_s > 0 else float("inf")
    rate = {"examples_per_s": steps_per_s * self.examples_per_step, "steps_per_s": steps_per_s}
    shown = " ".join(f"{k} {v:.4g}" for k, v in metrics.items())
    logging.info("step %d/%d  %s  %.1f examples/s  ETA %s", step, self.total_steps, shown,
                 rate["examples_per_s"], format_duration(eta))
    return rate


class _DropLibraryInfo:
  """Drops INFO lines from orbax/grain/tfds so the progress lines stay readable."""
  NOISY = ("/orbax/", "/grain/", "/tensorflow_datasets/", "/etils/")

  def filter(self, record) -> bool:
    return record.levelno >= 30 or not any(p in record.pathname for p in self.NOISY)


def quiet_library_logs() -> None:
  """Called by entry points: keeps warnings from libraries, drops their INFO chatter."""
  import logging as python_logging
  handler = logging.get_absl_handler()
  if not any(isinstance(f, _DropLibraryInfo) for f in handler.filters):
    handler.addFilter(_DropLibraryInfo())
  for name in ("orbax", "absl"):
    python_logging.getLogger(name).addFilter(_DropLibraryInfo())
