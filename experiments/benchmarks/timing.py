"""Step timing and machine-load gating shared by every benchmark driver and both sides.

Imports neither JAX nor torch (only numpy and the standard library), so the PyTorch
side, the TensorFlow side and the drivers all use the same definitions:

* ``measure``: warm up until the step time is flat (two consecutive medians of
  ``window`` steps within ``tolerance`` of each other, at most ``max_warmup`` steps:
  enformer-pytorch keeps speeding up over its first 4-5 steps, XLA is flat after the
  first), then time ``steps`` steps; ``summarize`` gives their median and interquartile
  range.
* ``run_child``: one fresh benchmark process, started only once the 1-minute load
  average is below the core count (bounded wait), with the load recorded before and
  after and a ``loaded`` flag when either is at or above the core count.
* ``round_orders`` / ``round_ratios``: rounds alternate which side goes first, and
  ratios are reported per round as well as their median.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from typing import Callable, Sequence

import numpy as np

WARMUP_WINDOW = 3       # steps per warm-up median
WARMUP_TOLERANCE = 0.05  # consecutive medians this close: steady
MAX_WARMUP = 30          # cap on warm-up steps
TIMED_STEPS = 10


def summarize(samples: Sequence[float]) -> dict:
  """Median, quartiles, IQR and mean of step times (seconds), with the samples."""
  x = np.asarray(samples, dtype=np.float64)
  if x.size == 0:
    raise ValueError("no samples to summarize")
  q1, median, q3 = np.percentile(x, [25, 50, 75])
  return {"median_s": float(median), "q1_s": float(q1), "q3_s": float(q3),
          "iqr_s": float(q3 - q1), "mean_s": float(x.mean()), "n": int(x.size),
          "samples_s": [round(float(t), 6) for t in x]}


def time_steps(step: Callable[[], object], sync: Callable[[object], object],
               steps: int) -> list[float]:
  """Seconds of each of ``steps`` calls of ``step``, waiting for each result."""
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    sync(step())
    times.append(time.perf_counter() - start)
  return times


def warm_up(step: Callable[[], object], sync: Callable[[object], object], *,
            window: int = WARMUP_WINDOW, tolerance: float = WARMUP_TOLERANCE,
            max_steps: int = MAX_WARMUP) -> dict:
  """Runs ``step`` until two consecutive medians of ``window`` steps agree within
  ``tolerance`` (relative) or ``max_steps`` steps were run.

  Returns ``{"steps", "steady", "samples_s"}``.
  """
  medians: list[float] = []
  steady = False
  while (len(medians) + 1) * window <= max(max_steps, window):
    medians.append(float(np.median(time_steps(step, sync, window))))
    if len(medians) >= 2 and abs(medians[-1] - medians[-2]) <= tolerance * medians[-2]:
      steady = True
      break
  return {"steps": len(medians) * window, "steady": steady,
          "window_medians_s": [round(m, 6) for m in medians]}


def measure(step: Callable[[], object], sync: Callable[[object], object], *,
            steps: int = TIMED_STEPS, window: int = WARMUP_WINDOW,
            tolerance: float = WARMUP_TOLERANCE, max_warmup: int = MAX_WARMUP) -> dict:
  """``warm_up`` then ``steps`` timed steps: ``summarize`` plus the warm-up record."""
  warm = warm_up(step, sync, window=window, tolerance=tolerance, max_steps=max_warmup)
  return {**summarize(time_steps(step, sync, steps)), "warmup": warm}


# ----------------------------------------------------------------------------------
# Machine load.
# ----------------------------------------------------------------------------------


def cores() -> int:
  """CPUs this process may run on (the load threshold)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 1


def wait_for_quiet(max_wait_s: float, *, threshold: float | None = None,
                   poll_s: float = 10.0, loadavg: Callable[[], tuple] = os.getloadavg,
                   sleep: Callable[[float], None] = time.sleep) -> dict:
  """Waits until the 1-minute load average is below ``threshold`` (default: the core
  count), at most ``max_wait_s``. Returns ``{"waited_s", "load", "quiet"}``."""
  threshold = cores() if threshold is None else threshold
  waited = 0.0
  while True:
    load = loadavg()[0]
    if load < threshold or waited >= max_wait_s:
      return {"waited_s": waited, "load": load, "quiet": load < threshold}
    pause = min(poll_s, max_wait_s - waited)
    sleep(pause)
    waited += pause


def last_json_line(text: str) -> dict | None:
  """The last stdout line that parses as a JSON object (children print one)."""
  for line in reversed(text.splitlines()):
    if line.startswith("{"):
      try:
        return json.loads(line)
      except json.JSONDecodeError:
        continue
  return None


# Other processes may use at most this share of the machine's cores during a child for
# its row to count as quiet (0.2 of a core on 2 cores).
OTHER_CPU_SHARE = 0.1


def machine_cpu_s() -> float | None:
  """CPU seconds every process on this machine has used since boot (Linux
  ``/proc/stat``: all non-idle time); None where there is no ``/proc/stat``."""
  try:
    with open("/proc/stat") as f:
      values = [int(v) for v in f.readline().split()[1:9]]
  except (OSError, ValueError):
    return None
  idle = values[3] + values[4]  # idle + iowait
  return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
  """CPU seconds used by this process's finished (waited-for) children."""
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def run_child(command: Sequence[str], *, cwd: str | None = None, env: dict | None = None,
              timeout: float = 1800.0, max_wait_s: float = 300.0,
              loadavg: Callable[[], tuple] = os.getloadavg,
              sleep: Callable[[float], None] = time.sleep,
              runner: Callable[..., subprocess.CompletedProcess] = subprocess.run,
              expect_json: bool = True,
              machine_cpu: Callable[[], float | None] = machine_cpu_s,
              children_cpu: Callable[[], float] = children_cpu_s,
              clock: Callable[[], float] = time.perf_counter) -> dict:
  """Runs one benchmark process once the machine is quiet (bounded wait).

  Returns the child's last JSON line (``expect_json``; else ``{"stdout_tail": ...}``)
  plus ``load_before`` / ``load_after`` (1, 5, 15-minute averages),
  ``other_cores`` (the average number of cores that processes other than the child
  kept busy while it ran: machine CPU time minus the child's, over its wall time),
  ``waited_for_quiet_s``, ``loaded`` and ``process_wall_s``; or ``{"error": ...}``
  with the same load fields when the child failed.

  ``loaded`` is true when the 1-minute load was at or above the core count before
  the child started, or other processes used ``OTHER_CPU_SHARE`` of the cores or more
  while it ran. The 1-minute load *after* a child is recorded but not used: a child
  that keeps both cores busy for a minute raises it to the core count by itself.
  Without ``/proc/stat`` the load after the child decides instead.
  """
  quiet = wait_for_quiet(max_wait_s, loadavg=loadavg, sleep=sleep)
  before = tuple(loadavg())
  machine0, child0 = machine_cpu(), children_cpu()
  start = clock()
  try:
    done = runner(list(command), cwd=cwd, env=env, capture_output=True, text=True,
                  timeout=timeout)
    result = (last_json_line(done.stdout) if expect_json else
              {"stdout_tail": done.stdout.strip().splitlines()[-3:]})
    if done.returncode or result is None:
      tail = (done.stderr or done.stdout or "").strip().splitlines()[-5:]
      result = {"error": f"exit {done.returncode}: " + " | ".join(tail)}
  except subprocess.TimeoutExpired:
    result = {"error": f"timed out after {timeout:.0f} s"}
  wall = clock() - start
  after = tuple(loadavg())
  machine1, child1 = machine_cpu(), children_cpu()
  limit = cores()
  if machine0 is None or machine1 is None:
    other, busy_elsewhere = None, after[0] >= limit
  else:
    other = max(0.0, (machine1 - machine0) - (child1 - child0)) / max(wall, 1e-9)
    busy_elsewhere = other >= OTHER_CPU_SHARE * limit
  result.update(load_before=before, load_after=after, cores=limit,
                other_cores=None if other is None else round(other, 3),
                waited_for_quiet_s=quiet["waited_s"],
                loaded=bool(before[0] >= limit or busy_elsewhere),
                process_wall_s=wall)
  return result


# ----------------------------------------------------------------------------------
# Rounds.
# ----------------------------------------------------------------------------------


def round_orders(sides: Sequence[str], rounds: int) -> list[tuple[str, ...]]:
  """Side order per round, alternating: (a, b), (b, a), (a, b) ..."""
  return [tuple(sides) if r % 2 == 0 else tuple(reversed(sides)) for r in range(rounds)]


def round_ratios(numerators: dict[int, float], denominators: dict[int, float]) -> dict:
  """Per-round ratios of two sides' rates (keyed by round) and their median."""
  paired = sorted(set(numerators) & set(denominators))
  each = [numerators[r] / denominators[r] for r in paired
          if numerators[r] and denominators[r]]
  return {"median": float(np.median(each)) if each else None,
          "per_round": [round(x, 4) for x in each]}
