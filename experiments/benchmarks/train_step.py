r"""Train-step and inference throughput of any config's model: examples/s, compile time, MFU.

  python -m experiments.benchmarks.train_step --config=deepsea --batch_size=64
  python -m experiments.benchmarks.train_step --config=deepsea --compute_dtype=bfloat16
  python -m experiments.benchmarks.train_step --config=akita:real --batch_size=1 \
      --example_shapes=sequence:1048576x4:uint8,target:99681x5:float32

Uses the trainer's own jitted step (same shardings, optimizer and loss) on random
one-hot inputs of the dataset's shapes, so no data pipeline time is included. Each step
warms up until its time is flat, then ``--steps`` steps are timed (median and IQR);
XLA's FLOP count of each compiled step over the measured matmul peak gives the MFU
(``jax_steps``). Prints one JSON line.
"""

from __future__ import annotations

import json

import numpy as np
from absl import flags

from experiments import common
from experiments.benchmarks import jax_steps
from experiments.benchmarks import timing
from genereg_jax.train import trainer

common.define_config_flags(workdir_required=False)
flags.DEFINE_integer("batch_size", None, "Global batch size (default: the config's).")
flags.DEFINE_integer("steps", timing.TIMED_STEPS, "Timed steps after warm-up.")
flags.DEFINE_integer("max_warmup", timing.MAX_WARMUP,
                     "Warm-up cap: steps until two medians of 3 agree within 5%.")
flags.DEFINE_string("compute_dtype", None, "Override compute dtype (float32/bfloat16).")
flags.DEFINE_string("example_shapes", None,
                    "key:DIMxDIM:dtype,... shapes of one example instead of reading the "
                    "dataset (e.g. Akita at 1 Mb without building a 1-Mb dataset).")
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


def parse_example_shapes(spec: str) -> dict:
  """``"sequence:1048576x4:uint8,target:99681x5:float32"`` -> zero arrays of those shapes."""
  example = {}
  for item in spec.split(","):
    key, dims, dtype = item.split(":")
    example[key] = np.zeros(tuple(int(d) for d in dims.split("x")), np.dtype(dtype))
  return example


def main(argv):
  del argv
  config = FLAGS.config
  with config.unlocked():
    if FLAGS.batch_size:
      config.batch_size = FLAGS.batch_size
    if FLAGS.compute_dtype:
      config.compute_dtype = FLAGS.compute_dtype
  import_rss = jax_steps.rss_mb()
  experiment = trainer.Experiment(config)
  head = experiment.heads[0]
  example = (parse_example_shapes(FLAGS.example_shapes) if FLAGS.example_shapes
             else trainer.load_split(config, config.train_split, head)[0])
  batch_np = random_batch(example, experiment.keys[head], config.batch_size,
                          np.random.default_rng(0))
  result = jax_steps.measure_experiment(experiment, example, batch_np, steps=FLAGS.steps,
                                        max_warmup=FLAGS.max_warmup)
  result.update(model=config.model_name, preset=config.get("model_preset"),
                compute_dtype=config.compute_dtype, import_rss_mb=import_rss,
                peak_rss_mb=jax_steps.peak_rss_mb())
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  common.run(main)
