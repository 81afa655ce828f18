r"""Sweeps on a shared Optuna study: ``experiments.sweep --engine=optuna``.

  python -m experiments.sweep --engine=optuna --config=deepsea:tiny --workdir=/tmp/sweep \
      --n_trials=8        # one worker; the same command in more shells adds workers
  python -m experiments.sweep --engine=optuna --config=deepsea --workdir=/shared/sweep \
      --storage=postgresql://user@db-host/sweeps --study_name=deepsea_lr --pruner=hyperband

Optuna (Akiba et al., KDD 2019) keeps a study -- its trials, their parameters, reported
intermediate values and results -- in a relational database, so worker processes on one
machine (SQLite, the default ``sqlite:///<workdir>/optuna.db``) or on many (a PostgreSQL or
MySQL SQLAlchemy URL; install its driver, e.g. psycopg2) pull trials from it without
knowing about each other. A worker:

1. opens the study (creating it the first time) with a sampler -- TPE, random, or grid --
   and a pruner (the median stopping rule, Hyperband, or none);
2. asks for a trial: a queued retry of a dead worker's trial first (below), else a new
   one whose parameters the sampler draws from the search space;
3. trains it with ``trainer.train_and_evaluate`` in ``<workdir>/trial_<number>``,
   reporting the objective (``--objective=valid/auroc``) after every evaluation through
   the trainer's ``on_eval`` hook, so the pruner can stop a hopeless trial; the trial's
   value is the objective in its ``final_metrics.json``;
4. does that ``--n_trials`` times, then writes ``<workdir>/summary.tsv`` (one row per
   trial: state, value, parameters).

The search space is the config's ``get_search_space(arg)``, a dict of override keys::

  {"optimizer.learning_rate": ("float", 1e-4, 1e-2, True),  # low, high[, log scale]
   "model.num_filters": ("int", 8, 64),                       # low, high[, log scale]
   "optimizer.name": ("categorical", ["adam", "adamw"])}

or, for a config without one, the values of its ``get_sweep(arg)`` as categoricals (the
override sets must then be every combination of per-field values). ``--sampler=grid``
runs the ``get_sweep`` grid once per point (or a categorical-only search space's grid).

A killed worker: every running trial's heartbeat is written to the database each
``--heartbeat_seconds``; the next worker to ask for a trial fails one silent for
``--grace_seconds`` and Optuna's ``RetryHeartbeatStaleTrialCallback`` queues a copy with
the same parameters and user attributes. The copy trains in the original's workdir (its
name is the ``workdir`` user attribute), so it resumes from the last checkpoint.

Trials run in the worker's own process rather than as child ``experiments.train``
processes: JAX is imported and the compilation cache opened once per worker; pruning is
a plain callback (``optuna.TrialPruned`` raised in ``on_eval`` unwinds the trainer, which
closes its checkpointer and releases the workdir lock); and the heartbeat thread lives in
the process that trains, so a dead trainer is exactly a stale trial. A child process
would need its reports and liveness passed back across processes.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import warnings
from typing import Any, Mapping

from absl import logging
import ml_collections
import optuna
import sqlalchemy

from experiments import configs
from genereg_jax.train import validate
from genereg_jax.train import workdir as workdir_lib

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
DIRECTIONS = ("maximize", "minimize")
WORKDIR_ATTR = "workdir"  # User attribute: the trial's workdir name, kept by retries.
_CHOICE_TYPES = (type(None), bool, int, float, str)  # What Optuna stores as a choice.
_SPEC_HELP = ("('float', low, high[, log]), ('int', low, high[, log]) or "
              "('categorical', [values])")


# ----------------------------------------------------------------------------------
# Search space.
# ----------------------------------------------------------------------------------


def check_search_space(space: Mapping[str, Any]) -> None:
  """Raises ``ConfigError`` naming the first entry that is not a valid spec."""
  if not space:
    raise validate.ConfigError("the search space is empty")
  for key, spec in space.items():
    kind = spec[0] if isinstance(spec, (tuple, list)) and spec else None
    if kind == "categorical" and len(spec) == 2:
      choices = spec[1]
      if (isinstance(choices, (list, tuple)) and choices
          and all(isinstance(c, _CHOICE_TYPES) for c in choices)):
        continue
      raise validate.ConfigError(
          f"search space {key!r}: choices must be a non-empty list of "
          f"None/bool/int/float/str, got {choices!r}")
    if kind in ("float", "int") and len(spec) in (3, 4):
      if spec[1] < spec[2]:
        continue
      raise validate.ConfigError(
          f"search space {key!r}: low {spec[1]} is not below high {spec[2]}")
    raise validate.ConfigError(f"search space {key!r}: {spec!r} is not {_SPEC_HELP}")


def sweep_as_space(override_sets: list[Mapping[str, Any]]) -> dict[str, tuple]:
  """``get_sweep``'s override sets as one categorical per field; they must form a grid."""
  keys = sorted({k for overrides in override_sets for k in overrides})
  values = {k: list(dict.fromkeys(o.get(k) for o in override_sets)) for k in keys}
  points = {tuple(o.get(k) for k in keys) for o in override_sets}
  if (any(set(o) != set(keys) for o in override_sets) or len(points) != len(override_sets)
      or len(points) != math.prod(len(v) for v in values.values())):
    raise validate.ConfigError(
        "get_sweep's override sets are not a grid (each combination of per-field values "
        "once); define get_search_space(arg) instead")
  return {k: ("categorical", v) for k, v in values.items()}


def load_search_space(config_file_and_arg: str, grid: bool = False) -> dict[str, tuple]:
  """The config file's ``get_search_space(arg)``, else its ``get_sweep(arg)`` grid.

  ``grid`` prefers ``get_sweep``: the grid sampler runs the sweep the local engine runs.
  """
  path, _, arg = config_file_and_arg.partition(":")
  module = configs.load_module(path)
  has_space, has_sweep = hasattr(module, "get_search_space"), hasattr(module, "get_sweep")
  if not (has_space or has_sweep):
    raise validate.ConfigError(
        f"{path} defines neither get_search_space(arg) nor get_sweep(arg)")
  if has_sweep and (grid or not has_space):
    space = sweep_as_space(list(module.get_sweep(arg or None)))
  else:
    space = dict(module.get_search_space(arg or None))
  check_search_space(space)
  return space


def grid_of(space: Mapping[str, tuple]) -> dict[str, list]:
  """The grid sampler's ``{key: values}``; every entry must be categorical."""
  ranges = [k for k, spec in space.items() if spec[0] != "categorical"]
  if ranges:
    raise validate.ConfigError(
        f"--sampler=grid needs categorical entries; {', '.join(ranges)} are ranges "
        "(use --sampler=tpe or random)")
  return {k: list(spec[1]) for k, spec in space.items()}


def suggest(trial: optuna.Trial, space: Mapping[str, tuple]) -> dict[str, Any]:
  """The trial's config overrides, one per search-space entry."""
  overrides = {}
  for key, (kind, *args) in space.items():
    if kind == "categorical":
      overrides[key] = trial.suggest_categorical(key, list(args[0]))
    else:
      low, high, *log = args
      draw = trial.suggest_float if kind == "float" else trial.suggest_int
      overrides[key] = draw(key, low, high, log=bool(log and log[0]))
  return overrides


# ----------------------------------------------------------------------------------
# Study.
# ----------------------------------------------------------------------------------


def make_sampler(name: str, space: Mapping[str, tuple], seed: int | None = None):
  if name == "grid":
    # GridSampler gives trial n the n-th point of its seeded shuffle of the grid, so
    # every worker must shuffle alike: a fixed seed, not each worker's own.
    return optuna.samplers.GridSampler(grid_of(space), seed=0 if seed is None else seed)
  if name == "random":
    return optuna.samplers.RandomSampler(seed=seed)
  if name == "tpe":
    return optuna.samplers.TPESampler(seed=seed)
  raise validate.ConfigError(f"unknown sampler {name!r}; valid: {', '.join(SAMPLERS)}")


def make_pruner(name: str, config: ml_collections.ConfigDict, startup_trials: int = 5,
                warmup_steps: int = 0):
  if name == "median":
    return optuna.pruners.MedianPruner(n_startup_trials=startup_trials,
                                       n_warmup_steps=warmup_steps)
  if name == "hyperband":
    # The resource is training steps, reported at each evaluation.
    return optuna.pruners.HyperbandPruner(
        min_resource=config.get("eval_every_steps") or config.num_train_steps,
        max_resource=config.num_train_steps)
  if name == "none":
    return optuna.pruners.NopPruner()
  raise validate.ConfigError(f"unknown pruner {name!r}; valid: {', '.join(PRUNERS)}")


def default_storage(workdir: str) -> str:
  return "sqlite:///" + os.path.abspath(os.path.join(workdir, "optuna.db"))


def open_study(study_name: str, storage_url: str, objective: str, direction: str,
               sampler, pruner, heartbeat_seconds: int = 60,
               grace_seconds: int | None = None, max_retry: int = 3) -> optuna.Study:
  """Loads (or creates) the study; its objective and direction must be the ones asked.

  Heartbeats need a relational storage (Optuna's RDBStorage), hence SQLite rather than
  a journal file for the single-machine default.
  """
  if direction not in DIRECTIONS:
    raise validate.ConfigError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
  # Workers write heartbeats and trials at once: wait for SQLite's lock, do not fail.
  engine_kwargs = ({"connect_args": {"timeout": 120}} if storage_url.startswith("sqlite")
                   else {})
  for attempt in range(3):
    try:
      with warnings.catch_warnings():  # Heartbeats and retries are "experimental".
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.RDBStorage(
            storage_url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_seconds,
            grace_period=grace_seconds,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=max_retry))
      study = optuna.create_study(storage=storage, study_name=study_name, sampler=sampler,
                                  pruner=pruner, direction=direction, load_if_exists=True)
      break
    except sqlalchemy.exc.SQLAlchemyError:
      # Workers started together race to create the tables; the loser finds them next time.
      if attempt == 2:
        raise
      time.sleep(1 + attempt)
  if study.direction.name.lower() != direction:
    raise validate.ConfigError(
        f"study {study_name!r} in {storage_url} is a {study.direction.name.lower()} "
        f"study; --direction={direction} differs")
  recorded = study.user_attrs.get("objective")
  if recorded is None:
    study.set_user_attr("objective", objective)
  elif recorded != objective:
    raise validate.ConfigError(
        f"study {study_name!r} optimises {recorded!r}, not {objective!r}; use another --study_name")
  return study


def check_objective(config: ml_collections.ConfigDict, objective: str) -> None:
  """The objective's split must be evaluated during training (``config.eval_splits``)."""
  split = objective.split("/", 1)[0]
  if "/" not in objective or split not in tuple(config.eval_splits):
    raise validate.ConfigError(
        f"objective {objective!r} must be '<split>/<metric>' with the split in "
        f"config.eval_splits {tuple(config.eval_splits)}")


# ----------------------------------------------------------------------------------
# Trials.
# ----------------------------------------------------------------------------------


def _earlier_run_of_same_point(trial: optuna.Trial) -> int | None:
  """An earlier running or finished trial with this trial's parameters, if any.

  GridSampler hands out points again once every point has started (another worker may
  still be running the last ones); such a trial is skipped, not trained twice.
  """
  live = (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.COMPLETE,
          optuna.trial.TrialState.PRUNED)
  for other in trial.study.get_trials(deepcopy=False, states=live):
    if other.number < trial.number and other.params == trial.params:
      return other.number
  return None


def final_objective(workdir: str, objective: str) -> float:
  """``objective`` from the trial's ``final_metrics.json`` (merged across relaunches)."""
  with open(os.path.join(workdir, workdir_lib.FINAL_METRICS_NAME)) as f:
    metrics = {f"{split}/{k}": v for split, values in json.load(f).items()
               for k, v in values.items()}
  if objective not in metrics:
    raise validate.ConfigError(f"objective {objective!r} is not in {workdir}'s final metrics: "
                               f"{', '.join(sorted(metrics))}")
  return float(metrics[objective])


def run_trial(trial: optuna.Trial, config: ml_collections.ConfigDict,
              space: Mapping[str, tuple], sweep_dir: str, objective: str) -> float:
  """Trains one trial (resuming its workdir) and returns its final ``objective``."""
  from genereg_jax.train import trainer
  overrides = suggest(trial, space)
  if isinstance(trial.study.sampler, optuna.samplers.GridSampler):
    earlier = _earlier_run_of_same_point(trial)
    if earlier is not None:
      trial.set_user_attr("duplicate_of", earlier)
      trial.study.stop()  # The grid is exhausted for this worker.
      raise optuna.TrialPruned(f"grid point already run by trial {earlier}")
  # A retry (RetryHeartbeatStaleTrialCallback) keeps its original's user attributes,
  # so it trains on in the original's workdir.
  name = trial.user_attrs.get(WORKDIR_ATTR, f"trial_{trial.number}")
  trial.set_user_attr(WORKDIR_ATTR, name)
  trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
  workdir = os.path.join(sweep_dir, name)
  logging.info("trial %d in %s: %s", trial.number, workdir, overrides)
  trial_config = config.copy_and_resolve_references()
  trial_config.update_from_flattened_dict(overrides)
  # The best checkpoint follows the objective, and a metric-name typo fails before training.
  trial_config.best_metric = objective
  trial_config.best_mode = "max" if trial.study.direction.name == "MAXIMIZE" else "min"
  last_step = trial_config.num_train_steps

  def report(step: int, metrics: Mapping[str, float]) -> None:
    trial.report(float(metrics[objective]), step)
    # The last evaluation is the trial's result, not a reason to stop it.
    if step < last_step and trial.should_prune():
      raise optuna.TrialPruned(f"{objective} {metrics[objective]:.4g} at step {step}")

  begin = time.perf_counter()
  trainer.train_and_evaluate(trial_config, workdir, on_eval=report)
  trial.set_user_attr("seconds", round(time.perf_counter() - begin, 1))
  return final_objective(workdir, objective)


def run_worker(study: optuna.Study, config: ml_collections.ConfigDict,
               space: Mapping[str, tuple], sweep_dir: str, objective: str,
               n_trials: int) -> None:
  """Pulls and runs up to ``n_trials`` trials; a diverged trial fails and the next runs."""
  from genereg_jax.train import trainer
  study.optimize(lambda trial: run_trial(trial, config, space, sweep_dir, objective),
                 n_trials=n_trials, catch=(trainer.NonFiniteLossError,),
                 gc_after_trial=True)


def summary(study: optuna.Study) -> str:
  """``summary.tsv`` text: trial, workdir, state, value, then one column per parameter."""
  trials = study.get_trials(deepcopy=False)
  params = sorted({k for t in trials for k in t.params})
  lines = ["\t".join(["trial", "workdir", "state", "value", *params])]
  for t in trials:
    value = "" if t.value is None else f"{t.value:.4f}"
    lines.append("\t".join([str(t.number), t.user_attrs.get(WORKDIR_ATTR, ""), t.state.name,
                            value, *(str(t.params.get(p, "")) for p in params)]))
  return "\n".join(lines) + "\n"
