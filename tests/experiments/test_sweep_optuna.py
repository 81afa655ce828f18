"""``experiments.sweep --engine=optuna`` (issue 15 part 4): workers sharing one SQLite study,
a killed worker's trial retried from its checkpoint, and pruning of a hopeless trial.

Each test runs one worker in this process (JAX is already loaded) and, where two
processes are the point, another as ``python -m experiments.sweep``.
"""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest

from conftest import REPO, subprocess_env
from experiments import configs
from experiments import sweep_optuna
from genereg_jax.train import validate

CONFIG = str(REPO / "tests" / "experiments" / "sweep_tiny.py")
COMPLETE, FAIL, PRUNED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL,
                          optuna.trial.TrialState.PRUNED)


def _config(tfds_dir, **overrides):
  config = configs.load_config_file(CONFIG)
  config.dataset.data_dir = tfds_dir
  config.update_from_flattened_dict(overrides)
  return config


def _study(workdir, sampler, space, objective="valid/auroc", direction="maximize",
           pruner=None, **heartbeat):
  return sweep_optuna.open_study(
      "tiny", sweep_optuna.default_storage(workdir), objective, direction,
      sweep_optuna.make_sampler(sampler, space), pruner or optuna.pruners.NopPruner(),
      **heartbeat)


def _worker(tfds_dir, workdir, *flags):
  """`experiments.sweep` in a child process; its log goes to `workdir/worker.log` (a pipe
  nobody reads while it trains could fill and stall it)."""
  with open(os.path.join(workdir, "worker.log"), "w") as log:
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.sweep", "--engine=optuna", f"--config={CONFIG}",
         f"--workdir={workdir}", "--study_name=tiny", "--pruner=none",
         f"--config.dataset.data_dir={tfds_dir}", *flags],
        cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, stderr=log, text=True)


def test_search_space_from_the_config_or_its_sweep():
  deepsea = os.path.join(configs.CONFIG_DIR, "deepsea.py")
  space = sweep_optuna.load_search_space(deepsea + ":tiny")
  assert space["optimizer.learning_rate"] == ("float", 1e-4, 1e-2, True)
  # The grid sampler runs get_sweep's points, as the local engine does.
  grid = sweep_optuna.grid_of(sweep_optuna.load_search_space(deepsea, grid=True))
  assert grid == {"optimizer.learning_rate": [3e-4, 1e-3, 3e-3]}
  with pytest.raises(validate.ConfigError, match="ranges"):
    sweep_optuna.grid_of(space)
  product = [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y")]
  assert sweep_optuna.sweep_as_space(product) == {"a": ("categorical", [1, 2]),
                                                  "b": ("categorical", ["x", "y"])}
  with pytest.raises(validate.ConfigError, match="not a grid"):
    sweep_optuna.sweep_as_space(product[:3])
  for bad in ({"lr": ("float", 1.0, 0.1)}, {"lr": ("uniform", 0, 1)},
              {"lr": ("categorical", [])}, {"lr": ("categorical", [(1, 2)])}):
    with pytest.raises(validate.ConfigError, match="search space 'lr'"):
      sweep_optuna.check_search_space(bad)


def test_two_workers_share_one_study_and_run_each_grid_point_once(tfds_dir, tmp_path):
  space = sweep_optuna.load_search_space(CONFIG, grid=True)
  study = _study(tmp_path, "grid", space)  # Created here, so the workers never race to.
  # Four asks for three points: whoever asks last while the grid is running is turned
  # away (a PRUNED "duplicate_of" trial), never trained twice.
  other = _worker(tfds_dir, tmp_path, "--sampler=grid", "--n_trials=2")
  try:
    sweep_optuna.run_worker(study, _config(tfds_dir), space, str(tmp_path), "valid/auroc",
                            n_trials=2)
    out, _ = other.communicate(timeout=600)
  finally:
    other.kill()
  assert other.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
  trials = study.get_trials()
  done = [t for t in trials if t.state == COMPLETE]
  assert sorted(t.params["optimizer.learning_rate"] for t in done) == [1e-3, 3e-3, 1e-2]
  for t in trials:
    if t.state != COMPLETE:
      assert t.state == PRUNED and "workdir" not in t.user_attrs
      assert trials[t.user_attrs["duplicate_of"]].params == t.params
  trained = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("trial_"))
  assert trained == sorted(t.user_attrs["workdir"] for t in done)
  assert len({t.user_attrs["worker"] for t in done}) == 2  # Both processes trained.
  for t in done:
    assert t.value == sweep_optuna.final_objective(str(tmp_path / t.user_attrs["workdir"]),
                                                   "valid/auroc")
  assert out.splitlines()[0] == "trial\tworkdir\tstate\tvalue\toptimizer.learning_rate"


def test_a_killed_workers_trial_is_retried_and_resumes(tfds_dir, tmp_path, caplog):
  steps = {"num_train_steps": 16, "checkpoint_every_steps": 1, "eval_every_steps": 0}
  heartbeat = dict(heartbeat_seconds=1, grace_seconds=3)
  space = sweep_optuna.load_search_space(CONFIG, grid=True)
  study = _study(tmp_path, "grid", space, **heartbeat)
  victim = _worker(tfds_dir, tmp_path, "--sampler=grid", "--n_trials=1",
                   "--heartbeat_seconds=1", "--grace_seconds=3",
                   *(f"--config.{k}={v}" for k, v in steps.items()))
  checkpoints = tmp_path / "trial_0" / "checkpoints"
  try:
    while not (checkpoints.is_dir() and any(p.name.isdigit() for p in checkpoints.iterdir())):
      assert victim.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
      time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)  # Mid-trial: no chance to save or say goodbye.
  finally:
    victim.kill()
    victim.communicate()
  killed = time.time()
  assert study.get_trials()[0].state == optuna.trial.TrialState.RUNNING
  time.sleep(max(0.0, killed + 4 - time.time()))  # Past the grace period.
  caplog.set_level("INFO", logger="absl")
  sweep_optuna.run_worker(study, _config(tfds_dir, **steps), space, str(tmp_path),
                          "valid/auroc", n_trials=1)
  first, retry = study.get_trials()
  assert (first.state, retry.state) == (FAIL, COMPLETE)
  assert retry.params == first.params and retry.user_attrs["workdir"] == "trial_0"
  assert not (tmp_path / "trial_1").exists()
  resumed = [r.getMessage() for r in caplog.records if "resumed from step" in r.getMessage()]
  assert len(resumed) == 1 and 0 < int(resumed[0].split()[3]) < 16, resumed


def test_the_median_pruner_stops_a_hopeless_trial(tfds_dir, tmp_path):
  space = sweep_optuna.load_search_space(CONFIG)
  study = _study(tmp_path, "random", space, objective="valid/loss", direction="minimize",
                 pruner=sweep_optuna.make_pruner("median", _config(tfds_dir), startup_trials=1))
  # In this order: the learning trial sets the median the hopeless one is held to.
  study.enqueue_trial({"optimizer.learning_rate": 1e-2})
  study.enqueue_trial({"optimizer.learning_rate": 1e-9})
  sweep_optuna.run_worker(study, _config(tfds_dir), space, str(tmp_path), "valid/loss",
                          n_trials=2)
  learned, hopeless = study.get_trials()
  assert (learned.state, hopeless.state) == (COMPLETE, PRUNED)
  assert list(learned.intermediate_values) == [2, 4]
  assert list(hopeless.intermediate_values) == [2]  # Stopped at its first evaluation,
  assert hopeless.intermediate_values[2] > learned.intermediate_values[2]
  steps = sorted(p.name for p in (tmp_path / "trial_1" / "checkpoints").iterdir()
                 if p.name.isdigit())
  assert steps == ["2"]  # after that evaluation's checkpoint, never training to step 4.
  assert "value" in sweep_optuna.summary(study).splitlines()[0]


def test_a_grid_point_already_running_is_not_trained_again(tmp_path):
  space = {"optimizer.learning_rate": ("categorical", [1e-2])}
  study = _study(tmp_path, "grid", space)
  running = study.ask()  # Another worker's trial, still training this point.
  sweep_optuna.suggest(running, space)
  # The grid is all started, so GridSampler hands the same point out again.
  sweep_optuna.run_worker(study, configs.load_config_file(CONFIG), space, str(tmp_path),
                          "valid/auroc", n_trials=1)
  _, again = study.get_trials()
  assert again.state == PRUNED and again.user_attrs["duplicate_of"] == running.number
  assert not (tmp_path / "trial_1").exists()
