r"""Train-step and inference throughput of any config's model: examples/s, compile time.

  python -m experiments.benchmarks.train_step --config=deepsea --batch_size=64
  python -m experiments.benchmarks.train_step --config=deepsea --compute_dtype=bfloat16

Uses the trainer's own jitted step (same shardings, optimizer and loss) on random
one-hot inputs of the dataset's shapes, so no data pipeline time is included.
"""

from __future__ import annotations

import json
import time

import jax
import numpy as np
from absl import flags

from experiments import benchmarks
from experiments import common
from genereg_jax.train import trainer

common.define_config_flags(workdir_required=False)
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_integer("steps", 10, "Timed steps after compilation.")
flags.DEFINE_string("compute_dtype", None, "Override compute dtype (float32/bfloat16).")
FLAGS = flags.FLAGS


def random_batch(example: dict, keys, batch_size: int, rng: np.random.Generator) -> dict:
  """Random one-hot sequences / 0-1 labels with the shapes of a dataset example."""
  batch = {}
  for key in keys:
    value = np.asarray(example[key])
    if value.ndim >= 1 and value.shape[-1] == 4 and value.dtype == np.uint8:
      index = rng.integers(0, 4, (batch_size, *value.shape[:-1]))
      batch[key] = np.eye(4, dtype=np.uint8)[index]
    else:
      batch[key] = rng.integers(0, 2, (batch_size, *value.shape)).astype(value.dtype)
  return batch


def _time(fn, steps: int) -> float:
  start = time.perf_counter()
  for _ in range(steps):
    out = fn()
  jax.block_until_ready(out)
  return time.perf_counter() - start


def main(argv):
  del argv
  config = FLAGS.config
  with config.unlocked():
    if FLAGS.batch_size:
      config.batch_size = FLAGS.batch_size
    if FLAGS.compute_dtype:
      config.compute_dtype = FLAGS.compute_dtype
  experiment = trainer.Experiment(config)
  head = experiment.heads[0]
  example = trainer.load_split(config, config.train_split, head)[0]
  batch_np = random_batch(example, experiment.keys[head], config.batch_size,
                          np.random.default_rng(0))
  state, batch, train_step, eval_step = benchmarks.trainer_steps(experiment, example, batch_np)

  start = time.perf_counter()
  compiled_train = train_step.lower(state, batch).compile()
  train_compile = time.perf_counter() - start
  start = time.perf_counter()
  compiled_eval = eval_step.lower(state.params, state.batch_stats, batch).compile()
  eval_compile = time.perf_counter() - start

  holder = {"state": state}

  def one_train_step():
    holder["state"], metrics = compiled_train(holder["state"], batch)
    return metrics["loss"]

  jax.block_until_ready(one_train_step())  # Warm-up.
  train_seconds = _time(one_train_step, FLAGS.steps)
  params, batch_stats = holder["state"].params, holder["state"].batch_stats
  jax.block_until_ready(compiled_eval(params, batch_stats, batch))
  eval_seconds = _time(lambda: compiled_eval(params, batch_stats, batch)[0], FLAGS.steps)
  n_params = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))
  memory = compiled_train.memory_analysis()
  result = {
      "model": config.model_name, "preset": config.get("model_preset"),
      "parameters": n_params, "batch_size": config.batch_size,
      "compute_dtype": config.compute_dtype, "devices": jax.device_count(),
      "platform": jax.devices()[0].platform,
      "train_examples_per_s": FLAGS.steps * config.batch_size / train_seconds,
      "inference_examples_per_s": FLAGS.steps * config.batch_size / eval_seconds,
      "train_compile_s": train_compile, "inference_compile_s": eval_compile,
      "train_temp_bytes": getattr(memory, "temp_size_in_bytes", None),
  }
  print(json.dumps(result, indent=2))


if __name__ == "__main__":
  common.run(main)
