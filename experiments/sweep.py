r"""Runs a config's sweep: ``get_sweep(arg)`` in the config file returns override sets.

  python -m experiments.sweep --config=deepsea:tiny --workdir=/tmp/sweep
  python -m experiments.sweep --config=deepsea --workdir=/tmp/sweep --print_only

Trials run one after another into ``workdir/<trial>`` (each resumable like ``train``);
``--print_only`` prints one ``experiments.train`` command per trial for a scheduler,
keeping the ``--config.*`` overrides given to the sweep (a trial's own values win).
``workdir/summary.tsv`` gets one row per trial from its ``final_metrics.json``, so a
rerun of finished trials rewrites it with every split they ever reported.
"""

from __future__ import annotations

import os
import re
import shlex
import sys

from absl import flags
from absl import logging
from ml_collections import config_flags

from experiments import common
from experiments import configs

common.define_config_flags()
flags.DEFINE_bool("print_only", False, "Print one train command per trial and exit.")
FLAGS = flags.FLAGS


def load_sweep(config_file_and_arg: str) -> list[dict]:
  """Override sets from ``get_sweep(arg)`` of the config file."""
  path, _, arg = config_file_and_arg.partition(":")
  module = configs.load_module(path)
  if not hasattr(module, "get_sweep"):
    raise ValueError(f"{path} defines no get_sweep(arg); nothing to sweep")
  return list(module.get_sweep(arg or None))


def trial_name(overrides: dict) -> str:
  text = ",".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(overrides.items()))
  return re.sub(r"[^A-Za-z0-9_.,=+-]", "_", text) or "base"


def command_line_overrides(argv: list[str]) -> dict[str, str]:
  """``{"a.b": "v"}`` of the ``--config.a.b=v`` flags the sweep was given, in order."""
  overrides = {}
  for arg in argv[1:]:
    if arg.startswith("--config.") and "=" in arg:
      key, value = arg[len("--config."):].split("=", 1)
      overrides[key] = value
  return overrides


def main(argv):
  del argv
  from genereg_jax import files
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer
  from genereg_jax.train import workdir as workdir_lib
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config_arg = config_flags.get_config_filename(FLAGS["config"])
  trials = load_sweep(config_arg)
  name = os.path.splitext(os.path.basename(config_arg.partition(":")[0]))[0]
  variant = config_arg.partition(":")[2]
  given = command_line_overrides(sys.argv)
  for overrides in trials:
    workdir = os.path.join(FLAGS.workdir, trial_name(overrides))
    if FLAGS.print_only:
      merged = {**given, **{k: str(v) for k, v in overrides.items()}}
      flags_text = " ".join(f"--config.{k}={shlex.quote(v)}" for k, v in merged.items())
      config_name = name + (f":{variant}" if variant else "")
      print(f"python -m experiments.train --config={config_name} --workdir={workdir} "
            f"{flags_text}")
      continue
    config = FLAGS.config.copy_and_resolve_references()
    config.update_from_flattened_dict(overrides)
    logging.info("trial %s", workdir)
    trainer.train_and_evaluate(config, workdir)
  summary = workdir_lib.sweep_summary(FLAGS.workdir, [trial_name(o) for o in trials])
  if summary and not FLAGS.print_only:
    with files.atomic_write(os.path.join(FLAGS.workdir, "summary.tsv")) as f:
      f.write(summary)
    print(summary, end="")


if __name__ == "__main__":
  common.run(main)
