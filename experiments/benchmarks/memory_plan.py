r"""Device memory of a train step, compiled ahead of time: the largest batch per chip.

  python -m experiments.benchmarks.memory_plan --config=enformer_human_mouse \
      --batch_sizes=1,2 --compute_dtypes=float32,bfloat16 --remat=false,true
  python -m experiments.benchmarks.memory_plan --config=borzoi_human_mouse --batch_sizes=1,2
  python -m experiments.benchmarks.memory_plan --config=enformer_human_mouse:tiny \
      --sequence_length=2048 --batch_sizes=1,2,4 --platform=cpu

For each compute dtype x ``config.model.remat`` x per-chip batch, the trainer's own
train step (model, task, optimizer, shardings, donated state) is lowered on abstract
shapes (``jax.ShapeDtypeStruct``: no parameter, batch or dataset is ever made) and
compiled, and XLA's ``memory_analysis()`` of the executable gives, per device:

* arguments: the train state (parameters, Adam moments, batch statistics) and the batch;
* outputs: the new state, aliased to the donated old one, so they add ``output - alias``;
* temporaries: everything else the step holds at its peak (activations kept for the
  backward pass, gradients, convolution workspace).

Peak = arguments + temporaries + unaliased outputs. Everything but the batch's share
of temporaries is fixed, so a line through the two largest batches (bytes per example,
fixed bytes) gives the largest batch that fits ``--usable_fraction`` of each
``--chip_gb`` (GB = 1e9 bytes; 16 V100, 24 L4/A10, 40 A100, 80 A100/H100, 141 H200).
JAX on a GPU preallocates 75% of its memory unless ``XLA_PYTHON_CLIENT_MEM_FRACTION``
says more (e.g. ``.95``).

The plan is that of the compiler for ``--platform`` (default: JAX's default device).
On the CPU it is the CPU compiler's: a GPU or TPU compiler fuses, schedules and picks
convolution algorithms differently, so its temporaries differ. Run the same command on
the accelerator for its own numbers. Prints one JSON line per compile, then the tables
as markdown (``--out`` also writes them as JSON).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any, Mapping, Sequence

import numpy as np
from absl import flags

from experiments import common

FLAGS = flags.FLAGS
CHIP_GB = ("16", "24", "40", "80", "141")


def define_flags() -> None:
  """The command's flags (defined when it runs, so importing the module is inert)."""
  common.define_config_flags(workdir_required=False)
  flags.DEFINE_list("batch_sizes", ["1", "2"], "Per-chip batch sizes to compile.")
  flags.DEFINE_list("compute_dtypes", ["float32", "bfloat16"], "Compute dtypes.")
  flags.DEFINE_list("remat", ["false", "true"], "config.model.remat values (models "
                    "without the field compile once, as 'n/a').")
  flags.DEFINE_integer("sequence_length", None, "bp per example (default: the model "
                       "module's SEQUENCE_LENGTH, the paper's input).", lower_bound=1)
  flags.DEFINE_list("chip_gb", list(CHIP_GB), "Device memory sizes to plan for, GB.")
  flags.DEFINE_float("usable_fraction", 0.9, "Fraction of a chip's memory a step may "
                     "use (the rest: runtime, fragmentation).")
  flags.DEFINE_string("platform", None, "JAX platform to compile for (cpu, gpu, tpu); "
                      "default: JAX's default device.")
  flags.DEFINE_string("out", None, "Also write the compiles and the plan as JSON here.")


def example_shapes(experiment, sequence_length: int) -> dict[str, tuple[tuple, Any]]:
  """``{key: (shape, dtype)}`` of one example: a one-hot ``uint8[length, 4]`` input and
  a ``float32`` target shaped like the model's output for the first head."""
  import jax
  import jax.numpy as jnp
  head = experiment.heads[0]
  (input_key,), (target_key,) = experiment.inputs, experiment.tasks[head].target_keys
  sequence = jax.ShapeDtypeStruct((1, sequence_length, 4), jnp.float32)
  outputs = jax.eval_shape(
      lambda s: experiment.model.init_with_output(jax.random.PRNGKey(0), s)[0], sequence)
  output = outputs[head] if isinstance(outputs, Mapping) and head in outputs else outputs
  return {input_key: ((sequence_length, 4), np.uint8),
          target_key: (tuple(output.shape[1:]), np.float32)}


def plan_train_step(config, shapes: Mapping[str, tuple[tuple, Any]],
                    batch_size: int) -> dict[str, Any]:
  """XLA's memory analysis of the config's train step for ``batch_size`` examples per
  device, compiled from shapes alone; bytes, plus the compile seconds."""
  import jax
  from genereg_jax.train import trainer
  experiment = trainer.Experiment(config)
  head = experiment.heads[0]
  inputs = {k: np.zeros(shapes[k][0], shapes[k][1]) for k in experiment.inputs}
  abstract, shardings = experiment.abstract_state(inputs)
  rows = batch_size * experiment.mesh.shape["data"]
  batch = {k: jax.ShapeDtypeStruct((rows, *shapes[k][0]), shapes[k][1],
                                   sharding=experiment.batch_sharding)
           for k in experiment.keys[head]}
  step = experiment.jit_train_steps(shardings)[head]
  start = time.perf_counter()
  memory = step.lower(abstract, batch).compile().memory_analysis()
  seconds = time.perf_counter() - start
  row = {name: int(getattr(memory, f"{name}_size_in_bytes"))
         for name in ("argument", "output", "alias", "temp", "generated_code")}
  row["peak"] = row["argument"] + row["temp"] + row["output"] - row["alias"]
  row["state"] = sum(math.prod(x.shape) * np.dtype(x.dtype).itemsize
                     for x in jax.tree.leaves(abstract) if hasattr(x, "dtype"))
  return {"batch_size": batch_size, **{f"{k}_bytes": v for k, v in row.items()},
          "compile_s": round(seconds, 1), "platform": jax.devices()[0].platform,
          "device": jax.devices()[0].device_kind}


def fit(rows: Sequence[Mapping[str, Any]], chip_gb: Sequence[float],
        usable_fraction: float) -> dict[str, Any]:
  """Bytes per example and fixed bytes through the two largest batches, and the
  largest per-chip batch for each chip size (None: one batch only, no line)."""
  rows = sorted(rows, key=lambda r: r["batch_size"])
  if len(rows) < 2:
    return {"per_example_bytes": None, "fixed_bytes": None,
            "max_batch": {f"{gb:g}": None for gb in chip_gb}}
  small, large = rows[-2], rows[-1]
  per_example = ((large["peak_bytes"] - small["peak_bytes"])
                 / (large["batch_size"] - small["batch_size"]))
  fixed = large["peak_bytes"] - per_example * large["batch_size"]
  max_batch = {}
  for gb in chip_gb:
    room = gb * 1e9 * usable_fraction - fixed
    max_batch[f"{gb:g}"] = (max(0, math.floor(room / per_example)) if per_example > 0
                          else None)
  return {"per_example_bytes": per_example, "fixed_bytes": fixed, "max_batch": max_batch}


def _gb(value: float | None) -> str:
  return "–" if value is None else f"{value / 1e9:.2f}"


def markdown(plans: Sequence[Mapping[str, Any]], chip_gb: Sequence[float]) -> str:
  """The compiles, then the plan per dtype and remat, as two markdown tables."""
  lines = ["| dtype | remat | batch | arguments GB | temporaries GB | outputs not aliased GB "
           "| peak GB | compile s |", "|---|---|---:|---:|---:|---:|---:|---:|"]
  for plan in plans:
    for r in plan["rows"]:
      lines.append(f"| {plan['compute_dtype']} | {plan['remat']} | {r['batch_size']} | "
                   f"{_gb(r['argument_bytes'])} | {_gb(r['temp_bytes'])} | "
                   f"{_gb(r['output_bytes'] - r['alias_bytes'])} | {_gb(r['peak_bytes'])} | "
                   f"{r['compile_s']} |")
  lines += ["", "| dtype | remat | GB per example | fixed GB | "
            + " | ".join(f"{gb:g} GB" for gb in chip_gb) + " |",
            "|---|---|---:|---:|" + "---:|" * len(chip_gb)]
  for plan in plans:
    fitted = plan["fit"]
    batches = " | ".join("–" if b is None else str(b) for b in fitted["max_batch"].values())
    lines.append(f"| {plan['compute_dtype']} | {plan['remat']} | "
                 f"{_gb(fitted['per_example_bytes'])} | {_gb(fitted['fixed_bytes'])} | "
                 f"{batches} |")
  return "\n".join(lines)


def main(argv):
  del argv
  import jax
  if FLAGS.platform:  # Before anything touches a device.
    jax.config.update("jax_platforms", FLAGS.platform)
  from genereg_jax import models
  from genereg_jax.train import trainer
  config = FLAGS.config
  chip_gb = [float(gb) for gb in FLAGS.chip_gb]
  module, _ = models._module_and_class(config.model_name)  # pylint: disable=protected-access
  length = FLAGS.sequence_length or getattr(module, "SEQUENCE_LENGTH", None)
  if length is None:
    raise SystemExit(f"error: give --sequence_length ({config.model_name} has no "
                     "SEQUENCE_LENGTH)")
  shapes = example_shapes(trainer.Experiment(config), length)
  remats = [v.lower() == "true" for v in FLAGS.remat] if "remat" in config.model else ["n/a"]
  plans = []
  for dtype in FLAGS.compute_dtypes:
    for remat in remats:
      with config.unlocked():
        config.compute_dtype = dtype
        if remat != "n/a":
          config.model.remat = remat
      rows = []
      for batch_size in (int(b) for b in FLAGS.batch_sizes):
        row = plan_train_step(config, shapes, batch_size)
        print(json.dumps({"config": config.model_name, "compute_dtype": dtype,
                          "remat": remat, **row}), flush=True)
        rows.append(row)
      plans.append({"compute_dtype": dtype, "remat": remat, "rows": rows,
                    "fit": fit(rows, chip_gb, FLAGS.usable_fraction)})
  shapes_text = {k: list(v[0]) for k, v in shapes.items()}
  print(f"\n{config.model_name} ({config.get('model_preset')}), example {shapes_text}, "
        f"{plans[0]['rows'][0]['platform']} compiler "
        f"({plans[0]['rows'][0]['device']}), usable {FLAGS.usable_fraction:g}:\n")
  print(markdown(plans, chip_gb))
  if FLAGS.out:
    from genereg_jax import files
    files.write_json(FLAGS.out, {"model": config.model_name, "shapes": shapes_text,
                                 "usable_fraction": FLAGS.usable_fraction, "plans": plans})


if __name__ == "__main__":
  define_flags()
  common.run(main)
