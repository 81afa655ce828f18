"""What users see: progress lines with rate and ETA, ``metrics.jsonl``, TensorBoard.

Only process 0 writes. TensorBoard events come from tensorboardX, which needs no
TensorFlow. The rate and ETA are measured after compilation and without evaluation and
checkpoint time, so the first ETA is already the real one.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Mapping

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


def _drop_rows_after(path: str, step: int) -> None:
  """Removes rows of steps after ``step`` (a resumed run replays and rewrites them)."""
  if not os.path.exists(path):
    return
  with open(path) as f:
    lines = f.readlines()
  kept = [line for line in lines if line.strip() and json.loads(line).get("step", 0) <= step]
  if len(kept) != len(lines):
    from genereg_jax import files
    with files.atomic_write(path) as f:
      f.writelines(kept)


class MetricWriter:
  """Appends ``{"step", "split", metrics...}`` rows to metrics.jsonl and TensorBoard.

  ``resume_step``: rows after it are dropped first, so replayed steps appear once.
  """

  def __init__(self, workdir: str, resume_step: int | None = None):
    self.enabled = jax.process_index() == 0
    self._tensorboard = None
    if self.enabled:
      os.makedirs(workdir, exist_ok=True)
      path = os.path.join(workdir, "metrics.jsonl")
      if resume_step is not None:
        _drop_rows_after(path, resume_step)
      self._jsonl = open(path, "a")
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
  """Progress lines: step, metrics, examples/s and ETA.

  The rate counts from ``start_rate`` (called once the step is compiled) and leaves out
  the time given to ``exclude`` (evaluations, checkpoints). ``due`` asks for a line every
  ``log_every_steps`` steps and at least every ``every_seconds``.
  """

  def __init__(self, total_steps: int, start_step: int, examples_per_step: int,
               log_every_steps: int = 50, every_seconds: float = 30.0,
               clock: Callable[[], float] = time.perf_counter):
    self.total_steps = total_steps
    self.examples_per_step = examples_per_step
    self.log_every_steps, self.every_seconds = log_every_steps, every_seconds
    self._clock = clock
    self._rate_start: tuple[int, float] | None = None
    self._excluded = 0.0
    self._last_line = clock()

  def start_rate(self, step: int) -> None:
    """Counts the rate from now, after ``step`` (compilation finished)."""
    self._rate_start, self._excluded = (step, self._clock()), 0.0

  def exclude(self, seconds: float) -> None:
    self._excluded += seconds

  def due(self, step: int) -> bool:
    return (step % self.log_every_steps == 0
            or self._clock() - self._last_line >= self.every_seconds)

  def rate(self, step: int) -> dict[str, float]:
    """``steps_per_s`` and ``examples_per_s`` since ``start_rate`` ({} before a step ran)."""
    if self._rate_start is None or step <= self._rate_start[0]:
      return {}
    seconds = self._clock() - self._rate_start[1] - self._excluded
    steps_per_s = (step - self._rate_start[0]) / max(seconds, 1e-9)
    return {"examples_per_s": steps_per_s * self.examples_per_step, "steps_per_s": steps_per_s}

  def line(self, step: int, metrics: Mapping[str, float]) -> dict[str, float]:
    self._last_line = self._clock()
    rate = self.rate(step)
    shown = " ".join(f"{k} {v:.4g}" for k, v in metrics.items())
    if rate:
      eta = format_duration((self.total_steps - step) / rate["steps_per_s"])
      logging.info("step %d/%d  %s  %.1f examples/s  ETA %s", step, self.total_steps, shown,
                   rate["examples_per_s"], eta)
    else:
      logging.info("step %d/%d  %s  (rate and ETA from the next line)", step,
                   self.total_steps, shown)
    return rate


class _LineProgress:
  """tqdm's ``update``/``close`` as plain log lines, at most one every ``every_seconds``
  and one at the end: log files get no carriage returns."""

  def __init__(self, total: int | None = None, desc: str = "", unit: str = "it",
               every_seconds: float = 30.0, clock: Callable[[], float] = time.perf_counter):
    self.total, self.desc, self.unit, self.count = total, desc or "progress", unit, 0
    self.every_seconds, self._clock = every_seconds, clock
    self._start = self._last = clock()

  def update(self, n: int = 1) -> None:
    self.count += n
    if self._clock() - self._last >= self.every_seconds:
      self._line()

  def _line(self) -> None:
    self._last = self._clock()
    rate = self.count / max(self._last - self._start, 1e-9)
    of = f"/{self.total}" if self.total is not None else ""
    eta = (f"  ETA {format_duration((self.total - self.count) / rate)}"
           if self.total is not None and rate > 0 and self.count < self.total else "")
    logging.info("%s: %d%s %s (%.1f %s/s)%s", self.desc, self.count, of, self.unit, rate,
                 self.unit, eta)

  def write(self, text: str) -> None:
    """tqdm's ``write``: a message line between progress lines."""
    import sys
    print(text, file=sys.stderr, flush=True)

  def close(self) -> None:
    if self._last is not None:
      self._line()
      self._last = None

  def __enter__(self) -> "_LineProgress":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it", **tqdm_kwargs):
  """A tqdm bar on a terminal; plain periodic log lines when stderr is a file or pipe."""
  import sys
  if sys.stderr.isatty():
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, **tqdm_kwargs)
  return _LineProgress(total, desc, unit)


class _DropLibraryInfo:
  """Drops INFO lines from orbax/grain/tfds so the progress lines stay readable.

  Also JAX's "Unable to initialize backend 'tpu'" (an INFO that reads like an error on
  every CPU/GPU machine), TFDS's warning that a dataset folder being built has no
  dataset_info.json yet (it is written at the end of the build) and orbax's warnings that
  the checkpoint managers evaluation opens are read-only (as asked).
  """
  NOISY = ("/orbax/", "/grain/", "/tensorflow_datasets/", "/etils/", "/jax/_src/xla_bridge")
  EXPECTED = ("has no dataset_info.json", "read_only=True, setting", "directory is read only",
              "Metadata file does not exist")

  def filter(self, record) -> bool:
    if record.levelno < 30:
      return not any(p in record.pathname for p in self.NOISY)
    return not (any(p in record.pathname for p in self.NOISY[:-1])
                and any(e in record.getMessage() for e in self.EXPECTED))


def quiet_library_logs() -> None:
  """Called by entry points: keeps warnings from libraries, drops their INFO chatter."""
  import logging as python_logging
  handler = logging.get_absl_handler()
  if not any(isinstance(f, _DropLibraryInfo) for f in handler.filters):
    handler.addFilter(_DropLibraryInfo())
  for name in ("orbax", "absl"):
    python_logging.getLogger(name).addFilter(_DropLibraryInfo())
