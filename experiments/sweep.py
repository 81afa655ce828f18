r"""Runs a config's sweep: ``get_sweep(arg)`` in the config file returns override sets.

  python -m experiments.sweep --config=deepsea:tiny --workdir=/tmp/sweep
  python -m experiments.sweep --config=deepsea --workdir=/tmp/sweep --print_only

Trials run one after another into ``workdir/<trial>`` (each resumable like ``train``);
``--print_only`` prints one ``experiments.train`` command per trial for a scheduler.
``workdir/summary.tsv`` gets one row per trial with its final metrics.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex

from absl import flags
from absl import logging
from ml_collections import config_flags

from experiments import common
from genereg_jax.train import reporting
from genereg_jax.train import trainer

common.define_config_flags()
flags.DEFINE_bool("print_only", False, "Print one train command per trial and exit.")
FLAGS = flags.FLAGS


def load_sweep(config_file_and_arg: str) -> list[dict]:
  """Override sets from ``get_sweep(arg)`` of the config file."""
  path, _, arg = config_file_and_arg.partition(":")
  spec = importlib.util.spec_from_file_location("sweep_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  if not hasattr(module, "get_sweep"):
    raise ValueError(f"{path} defines no get_sweep(arg); nothing to sweep")
  return list(module.get_sweep(arg or None))


def trial_name(overrides: dict) -> str:
  text = ",".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(overrides.items()))
  return re.sub(r"[^A-Za-z0-9_.,=+-]", "_", text) or "base"


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config_arg = config_flags.get_config_filename(FLAGS["config"])
  trials = load_sweep(config_arg)
  name = os.path.splitext(os.path.basename(config_arg.partition(":")[0]))[0]
  variant = config_arg.partition(":")[2]
  rows = []
  for overrides in trials:
    workdir = os.path.join(FLAGS.workdir, trial_name(overrides))
    if FLAGS.print_only:
      flags_text = " ".join(f"--config.{k}={shlex.quote(str(v))}" for k, v in overrides.items())
      config_name = name + (f":{variant}" if variant else "")
      print(f"python -m experiments.train --config={config_name} --workdir={workdir} "
            f"{flags_text}")
      continue
    config = FLAGS.config.copy_and_resolve_references()
    config.update_from_flattened_dict(overrides)
    logging.info("trial %s", workdir)
    final = trainer.train_and_evaluate(config, workdir)
    metrics = {f"{split}/{k}": float(v) for split, results in final.items()
               for k, v in results.items() if not hasattr(v, "__len__")}
    rows.append((trial_name(overrides), metrics))
  if rows:
    columns = sorted({k for _, m in rows for k in m})
    lines = ["\t".join(["trial", *columns])]
    lines += ["\t".join([t, *(f"{m.get(c, float('nan')):.4f}" for c in columns)])
              for t, m in rows]
    with open(os.path.join(FLAGS.workdir, "summary.tsv"), "w") as f:
      f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
  common.run(main)
