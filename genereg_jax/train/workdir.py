"""The workdir's own bookkeeping: an exclusive lock, the saved config, merged final metrics.

* ``WorkdirLock``: one run per workdir. ``fcntl.flock`` on ``<workdir>/.lock`` where the
  filesystem supports it, plus a record in that file (pid, host, start time, command) so
  the refusal names the holder, and so a lock left by a dead run on this host is taken over
  (with a log line) while one held from another host is never guessed about.
* ``saved_config`` / ``check_same_config``: the config a workdir was trained with
  (``config.json``) and a one-line explanation of how another one differs.
* ``merge_final_metrics``: ``final_metrics.json`` keeps the splits of earlier launches;
  ``sweep_summary`` tabulates the trials of a sweep from those files.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket
import sys
from typing import Any, Mapping

from absl import logging

from genereg_jax import files

LOCK_NAME = ".lock"
CONFIG_NAME = "config.json"
FINAL_METRICS_NAME = "final_metrics.json"
# Fields that say how to launch or watch a run, not what it trains: they may differ
# between launches.
LAUNCH_FIELDS = ("allow_config_change", "restore_step", "log_every_steps", "log_every_seconds",
                 "compilation_cache_dir")


class WorkdirError(RuntimeError):
  """A workdir cannot be used as asked (locked, or trained with another config)."""


class WorkdirLockedError(WorkdirError):
  """Another run holds the workdir."""


def _pid_alive(pid: int) -> bool:
  if pid <= 0:  # No pid recorded (os.kill would address a process group).
    return False
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:  # Exists, owned by someone else.
    return True
  return True


def _describe(record: Mapping[str, Any]) -> str:
  return (f"pid {record.get('pid')} on {record.get('host')}, started "
          f"{record.get('started')}: {record.get('command')}")


class WorkdirLock:
  """Context manager holding ``<workdir>/.lock`` for a run's lifetime.

  Raises ``WorkdirLockedError`` naming the holder when another live run has it. The N
  processes of one multi-process run share the workdir: process ``i > 0`` holds
  ``.lock.<i>``, so they do not refuse each other while every process of a second run
  is refused at its own file.
  """

  def __init__(self, workdir: str, process_index: int = 0):
    self.workdir = os.path.abspath(workdir)
    name = LOCK_NAME if process_index == 0 else f"{LOCK_NAME}.{process_index}"
    self.path = os.path.join(self.workdir, name)
    self._file = None

  def _read_record(self) -> dict[str, Any]:
    try:
      with open(self.path) as f:
        return json.loads(f.read() or "{}")
    except (OSError, ValueError):
      return {}

  def _refuse(self, record: Mapping[str, Any], why: str) -> None:
    raise WorkdirLockedError(
        f"workdir {self.workdir} is in use by {_describe(record)} ({why}). Use another "
        f"--workdir, or if that run is gone, remove {self.path}")

  def acquire(self) -> None:
    os.makedirs(self.workdir, exist_ok=True)
    host, pid = socket.gethostname(), os.getpid()
    while True:
      handle = open(self.path, "a+")
      try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        flocked = True
      except BlockingIOError:
        record = self._read_record()
        handle.close()
        self._refuse(record, "it holds the lock")
      except OSError as e:  # No flock on this filesystem: the record alone decides.
        if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
          handle.close()
          raise
        flocked = False
      # A holder that released and unlinked the file between our open and flock leaves
      # us locking a removed inode: start again on the current file.
      try:
        if os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino:
          break
      except FileNotFoundError:
        pass
      handle.close()
    record = self._read_record()
    if record and (record.get("pid"), record.get("host")) != (pid, host):
      if record.get("host") != host:
        handle.close()
        self._refuse(record, "recorded from another host; it may still be running")
      if not flocked and _pid_alive(int(record.get("pid", -1))):
        handle.close()
        self._refuse(record, "that process is alive")
      logging.warning("taking over the stale lock of %s (that run is gone)", _describe(record))
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps({
        "pid": pid, "host": host,
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)}) + "\n")
    handle.flush()
    self._file = handle

  def release(self) -> None:
    if self._file is None:
      return
    with contextlib.suppress(FileNotFoundError):
      os.unlink(self.path)  # While still holding the flock: nobody reads a stale record.
    self._file.close()
    self._file = None

  def __enter__(self) -> "WorkdirLock":
    self.acquire()
    return self

  def __exit__(self, *exc) -> None:
    self.release()


def saved_config(workdir: str) -> dict[str, Any] | None:
  """The JSON config a workdir was trained with, or None for a new workdir."""
  path = os.path.join(workdir, CONFIG_NAME)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
  if isinstance(value, Mapping):
    out = {}
    for key, item in value.items():
      out.update(_flatten(item, f"{prefix}{key}."))
    return out or {prefix[:-1]: {}}
  return {prefix[:-1]: value}


def config_differences(saved: Mapping[str, Any], given: Mapping[str, Any],
                       fields: tuple[str, ...] | None = None) -> list[str]:
  """``"field: saved -> given"`` for every field that differs.

  Launch fields are ignored, and so are fields the saved config lacks (added to the
  framework after that run; it ran with their defaults). ``fields`` limits the comparison
  to those names and their sub-fields.
  """
  # JSON has no tuples: compare both sides as JSON.
  saved = _flatten(json.loads(json.dumps(saved)))
  given = _flatten(json.loads(json.dumps(given)))
  def compared(key):
    return key not in LAUNCH_FIELDS and (fields is None or any(
        key == f or key.startswith(f + ".") for f in fields))
  return [f"{k}: {saved.get(k, '<absent>')!r} -> {given.get(k, '<absent>')!r}"
          for k in sorted(saved) if compared(k) and saved[k] != given.get(k, "<absent>")]


def config_as_json(config) -> dict[str, Any]:
  return json.loads(config.to_json_best_effort())


def _tuples(value: Any) -> Any:
  """JSON lists back to the tuples configs use (hashable model fields, axis rules)."""
  if isinstance(value, Mapping):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def load_saved_config(workdir: str):
  """The workdir's ``config.json`` as a locked ``ConfigDict`` (``--config`` omitted)."""
  import ml_collections
  saved = saved_config(workdir)
  if saved is None:
    raise WorkdirError(f"{os.path.join(workdir, CONFIG_NAME)} does not exist: is {workdir} "
                       "a training workdir? Otherwise pass --config=<name>")
  config = ml_collections.ConfigDict(_tuples(saved))
  config.lock()
  return config


# What a checkpoint's meaning depends on: evaluation and prediction compare only these.
# ``adapters`` adds parameters (LoRA / IA3) and changes what the kernels compute.
MODEL_FIELDS = ("model_name", "model_preset", "model", "task_name", "task", "dataset.name",
                "model_inputs", "species", "adapters")


def check_same_config(workdir: str, config, *, allow_change: bool = False,
                      what: str = "train", fields: tuple[str, ...] | None = None) -> None:
  """Raises ``WorkdirError`` listing the differing fields when ``config`` is not the saved one.

  ``what`` says what the caller does (``"train"``, ``"evaluate"``...) for the message;
  ``fields`` as in `config_differences`.
  """
  saved = saved_config(workdir)
  if saved is None:
    return
  differences = config_differences(saved, config_as_json(config), fields)
  if not differences:
    return
  shown = "; ".join(differences[:12]) + (f"; ... ({len(differences)} fields)"
                                          if len(differences) > 12 else "")
  message = (f"workdir {workdir} was trained with another config: {shown} (saved "
             f"{os.path.join(workdir, CONFIG_NAME)} -> what you passed)")
  if allow_change:
    logging.warning("%s; continuing (allow_config_change)", message)
    return
  omit = "" if what == "train" else f", omit --config to {what} with the saved one"
  raise WorkdirError(f"{message}. Use a new --workdir{omit}, or pass "
                     "--config.allow_config_change=True")


def write_config(workdir: str, config) -> None:
  files.write_json(os.path.join(workdir, CONFIG_NAME), config_as_json(config), sort_keys=True)


def merge_final_metrics(workdir: str, final: Mapping[str, Mapping[str, float]]) -> dict:
  """Adds this launch's splits to ``final_metrics.json`` (a rerun never loses splits)."""
  path = os.path.join(workdir, FINAL_METRICS_NAME)
  merged = {}
  if os.path.exists(path):
    with open(path) as f:
      merged = json.load(f)
  merged.update({split: dict(values) for split, values in final.items()})
  files.write_json(path, merged)
  return merged


def sweep_summary(sweep_dir: str, trials: list[str]) -> str | None:
  """``summary.tsv`` text: one row per trial with a ``final_metrics.json``, one column per
  ``<split>/<metric>`` any trial reported (None when no trial finished)."""
  rows = []
  for trial in trials:
    path = os.path.join(sweep_dir, trial, FINAL_METRICS_NAME)
    if os.path.exists(path):
      with open(path) as f:
        rows.append((trial, {f"{split}/{k}": float(v) for split, values in json.load(f).items()
                             for k, v in values.items()}))
  if not rows:
    return None
  columns = sorted({k for _, metrics in rows for k in metrics})
  lines = ["\t".join(["trial", *columns])]
  lines += ["\t".join([trial, *(f"{metrics.get(c, float('nan')):.4f}" for c in columns)])
            for trial, metrics in rows]
  return "\n".join(lines) + "\n"
