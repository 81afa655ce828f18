"""The JAX side of every benchmark: the trainer's own jitted steps, timed to steady state,
with XLA's FLOP count, the machine's matmul peak and the model FLOP utilisation (MFU).

* FLOPs per step are XLA's own count of the compiled executable
  (``jitted.lower(...).compile().cost_analysis()["flops"]``), so train and eval steps
  are counted as compiled (fusions, the backward pass and the optimizer included).
* The peak is measured, not looked up: a jitted float32 ``2048 x 2048`` matmul
  (``2 n**3`` FLOPs), median of 10 calls, on the same process and threads.
* MFU = FLOPs per step / median step seconds / peak FLOP/s.
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np

from experiments.benchmarks import timing

MATMUL_SIZE = 2048
MATMUL_REPS = 10


def rss_mb() -> float:
  """Current resident set size of this process."""
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux.


def compiled_flops(compiled) -> float | None:
  """XLA's FLOP count of a compiled executable, or None when it gives none.

  ``cost_analysis()`` returned a list with one dict per computation in older jax
  versions and returns the dict itself in newer ones; either may be empty.
  """
  try:
    analysis = compiled.cost_analysis()
  except Exception:  # Some backends do not implement it.
    return None
  if isinstance(analysis, (list, tuple)):
    analysis = analysis[0] if analysis else None
  if not analysis:
    return None
  flops = float(analysis.get("flops", 0.0))
  return flops if flops > 0 else None


def matmul_peak(size: int = MATMUL_SIZE, reps: int = MATMUL_REPS) -> dict:
  """FLOP/s of a jitted float32 ``size x size`` matmul: median of ``reps`` calls."""
  import jax
  import jax.numpy as jnp
  a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
  b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
  matmul = jax.jit(jnp.matmul)
  jax.block_until_ready(matmul(a, b))
  times = timing.time_steps(lambda: matmul(a, b), jax.block_until_ready, reps)
  median = float(np.median(times))
  return {"size": size, "reps": reps, "median_s": median,
          "flops_per_s": 2.0 * size**3 / median}


def mfu(flops: float | None, step_s: float, peak_flops_per_s: float | None) -> float | None:
  """Model FLOP utilisation: achieved FLOP/s over the measured peak."""
  if not flops or not peak_flops_per_s or step_s <= 0:
    return None
  return flops / step_s / peak_flops_per_s


def trainer_steps(experiment, example, batch_np):
  """``(state, batch, train_step, eval_step)``: the trainer's own jitted steps for the
  first head, a fresh state and ``batch_np`` placed on the mesh."""
  from genereg_jax.train import partitioning
  head = experiment.heads[0]
  state, shardings, _ = experiment.create_state(example)
  batch = partitioning.global_batch(batch_np, experiment.mesh)
  return (state, batch, experiment.jit_train_steps(shardings)[head],
          experiment.jit_eval_steps(shardings)[head])


def measure_experiment(experiment, example, batch_np, *, steps: int = timing.TIMED_STEPS,
                       max_warmup: int = timing.MAX_WARMUP, peak: dict | None = None
                       ) -> dict:
  """Compiles and times the trainer's train and eval steps of ``experiment``.

  Returns compile seconds, the first train step, ``timing.measure`` of each step
  (median / IQR of ``steps`` steps after warm-up to steady state), XLA FLOPs per step,
  the matmul peak (measured here unless given) and MFU, temp buffer sizes, parameters.
  """
  import jax
  state, batch, train_step, eval_step = trainer_steps(experiment, example, batch_np)

  start = time.perf_counter()
  compiled_train = train_step.lower(state, batch).compile()
  train_compile = time.perf_counter() - start
  holder = {"state": state}

  def one_train_step():
    holder["state"], metrics = compiled_train(holder["state"], batch)
    return metrics["loss"]

  start = time.perf_counter()
  first_loss = float(one_train_step())
  first_step = time.perf_counter() - start
  rss_before = rss_mb()
  train = timing.measure(one_train_step, jax.block_until_ready, steps=steps,
                         max_warmup=max_warmup)

  params, batch_stats = holder["state"].params, holder["state"].batch_stats
  start = time.perf_counter()
  compiled_eval = eval_step.lower(params, batch_stats, batch).compile()
  eval_compile = time.perf_counter() - start
  jax.block_until_ready(compiled_eval(params, batch_stats, batch))
  inference = timing.measure(lambda: compiled_eval(params, batch_stats, batch)[1],
                             jax.block_until_ready, steps=steps, max_warmup=max_warmup)

  peak = peak or matmul_peak()
  train["flops"] = compiled_flops(compiled_train)
  inference["flops"] = compiled_flops(compiled_eval)
  for what in (train, inference):
    what["mfu"] = mfu(what["flops"], what["median_s"], peak["flops_per_s"])
  n = int(jax.tree.leaves(batch)[0].shape[0])
  for what in (train, inference):
    what["examples_per_s"] = n / what["median_s"]
  return {
      "parameters": int(sum(np.prod(x.shape) for x in jax.tree.leaves(params))),
      "batch_size": n, "platform": jax.devices()[0].platform,
      "devices": jax.device_count(), "framework": f"jax {jax.__version__}",
      "first_loss": first_loss, "first_train_step_s": first_step,
      "train_compile_s": train_compile, "inference_compile_s": eval_compile,
      "train": train, "inference": inference, "matmul_peak": peak,
      "train_temp_mb": getattr(compiled_train.memory_analysis(), "temp_size_in_bytes",
                               0) / 2**20,
      "inference_temp_mb": getattr(compiled_eval.memory_analysis(), "temp_size_in_bytes",
                                   0) / 2**20,
      "rss_before_timed_steps_mb": rss_before,
  }
