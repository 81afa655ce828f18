r"""Runs a config's sweep: ``get_sweep(arg)`` in the config file returns override sets.

  python -m experiments.sweep --config=deepsea:tiny --workdir=/tmp/sweep
  python -m experiments.sweep --config=deepsea --workdir=/tmp/sweep --print_only
  python -m experiments.sweep --engine=optuna --config=deepsea:tiny --workdir=/tmp/optuna \
      --n_trials=8   # start this in several shells or machines (--storage=<SQLAlchemy URL>)

Trials run one after another into ``workdir/<trial>`` (each resumable like ``train``);
``--print_only`` prints one ``experiments.train`` command per trial for a scheduler,
keeping the ``--config.*`` overrides given to the sweep (a trial's own values win).
``workdir/summary.tsv`` gets one row per trial from its ``final_metrics.json``, so a
rerun of finished trials rewrites it with every split they ever reported.

``--engine=optuna`` runs trials of an Optuna study (TPE, random or grid sampling of the
config's ``get_search_space`` or ``get_sweep``; median or Hyperband pruning) shared by
every worker started on the same ``--storage``; see ``experiments/sweep_optuna.py``.
Its ``summary.tsv`` lists every trial of the study with state, value and parameters.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from experiments import common
from experiments import configs

common.define_config_flags()
flags.DEFINE_bool("print_only", False, "Print one train command per trial and exit.")
flags.DEFINE_enum("engine", "local", ["local", "optuna"],
                  "local: get_sweep's trials one after another; optuna: trials of a shared "
                  "Optuna study (run the command once per worker).")
flags.DEFINE_string("study_name", None, "Optuna study (default: the config name[_variant]).")
flags.DEFINE_string("storage", None, "SQLAlchemy URL of the Optuna database "
                    "(default sqlite:///<workdir>/optuna.db).")
flags.DEFINE_enum("sampler", "tpe", ["tpe", "random", "grid"],
                  "tpe/random: draw from get_search_space; grid: each get_sweep point once.")
flags.DEFINE_enum("pruner", "median", ["median", "hyperband", "none"],
                  "Stops trials whose intermediate objective is hopeless.")
flags.DEFINE_integer("pruner_startup_trials", 5,
                     "Finished trials before the median pruner prunes.")
flags.DEFINE_integer("pruner_warmup_steps", 0, "Steps before the median pruner judges a "
                     "trial (early evaluations are often noise).")
flags.DEFINE_integer("n_trials", None, "Trials this worker runs (default: the grid's size "
                     "for --sampler=grid, else 10).")
flags.DEFINE_string("objective", None, "<split>/<metric> to optimise, reported at every "
                    "evaluation (default: config.best_metric).")
flags.DEFINE_enum("direction", None, ["maximize", "minimize"],
                  "Default: from config.best_mode.")
flags.DEFINE_integer("sampler_seed", None, "Seed of the sampler (default: random; grid: 0).")
flags.DEFINE_integer("heartbeat_seconds", 60, "A running trial's heartbeat period.")
flags.DEFINE_integer("grace_seconds", None, "A trial without heartbeat this long is failed "
                     "and retried from its checkpoint (default: 2 heartbeats).")
flags.DEFINE_integer("max_retry", 3, "Retries of a trial whose worker died.")
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
  from genereg_jax.train import compile_cache
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer
  from genereg_jax.train import workdir as workdir_lib
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  compile_cache.setup(FLAGS.config.get("compilation_cache_dir"))  # Trials share programs.
  config_arg = config_flags.get_config_filename(FLAGS["config"])
  if FLAGS.engine == "optuna":
    _run_optuna(config_arg)
    return
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


def _run_optuna(config_arg: str) -> None:
  """One worker of the study: ``--n_trials`` trials, then the study's summary."""
  from experiments import sweep_optuna
  from genereg_jax import files
  if FLAGS.print_only:
    raise app.UsageError("--print_only lists get_sweep's trials: use it with --engine=local")
  config = FLAGS.config
  space = sweep_optuna.load_search_space(config_arg, grid=FLAGS.sampler == "grid")
  objective = FLAGS.objective or config.best_metric
  sweep_optuna.check_objective(config, objective)
  direction = FLAGS.direction or ("maximize" if config.best_mode == "max" else "minimize")
  path, _, variant = config_arg.partition(":")
  name = os.path.splitext(os.path.basename(path))[0] + (f"_{variant}" if variant else "")
  os.makedirs(FLAGS.workdir, exist_ok=True)
  study = sweep_optuna.open_study(
      FLAGS.study_name or name, FLAGS.storage or sweep_optuna.default_storage(FLAGS.workdir),
      objective, direction,
      sweep_optuna.make_sampler(FLAGS.sampler, space, FLAGS.sampler_seed),
      sweep_optuna.make_pruner(FLAGS.pruner, config, FLAGS.pruner_startup_trials,
                              FLAGS.pruner_warmup_steps),
      FLAGS.heartbeat_seconds, FLAGS.grace_seconds, FLAGS.max_retry)
  n_trials = FLAGS.n_trials
  if n_trials is None:  # A grid runs each point once; the samplers get a default budget.
    n_trials = (math.prod(len(v) for v in sweep_optuna.grid_of(space).values())
                if FLAGS.sampler == "grid" else 10)
  sweep_optuna.run_worker(study, config, space, FLAGS.workdir, objective, n_trials)
  text = sweep_optuna.summary(study)
  with files.atomic_write(os.path.join(FLAGS.workdir, "summary.tsv")) as f:
    f.write(text)
  print(text, end="")


if __name__ == "__main__":
  common.run(main)
