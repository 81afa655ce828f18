"""The trainer with bad values, interruptions and reruns: lock, config checks, NaN guard,
resume bookkeeping (issue 10 items 2, 5, 7, 8, 11, 13; issue 11 item 3)."""

import errno
import json
import os
import socket
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from conftest import REPO, subprocess_env
from genereg_jax.train import checkpointing
from genereg_jax.train import reporting
from genereg_jax.train import trainer
from genereg_jax.train import validate
from genereg_jax.train import workdir as workdir_lib


def _short(config, steps=4, checkpoint_every=4):
  config.num_train_steps = steps
  config.log_every_steps = 1
  config.eval_every_steps = 0
  config.checkpoint_every_steps = checkpoint_every
  config.keep_checkpoints = 10
  config.eval_splits = ()
  config.final_eval_splits = ()
  return config


def _rows(workdir, split="train"):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line) for line in f if json.loads(line)["split"] == split]


def _dead_pid() -> int:
  process = subprocess.Popen([sys.executable, "-c", "pass"])
  process.wait()
  return process.pid


# ---------------------------------------------------------------------------- lock


def test_lock_refuses_a_second_process_and_names_it(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, "-c", "import sys, time\n"
       "from genereg_jax.train.workdir import WorkdirLock\n"
       f"lock = WorkdirLock({str(tmp_path)!r})\n"
       "lock.acquire()\n"
       "print('locked', flush=True)\n"
       "time.sleep(120)"],
      cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(workdir_lib.WorkdirLockedError, match=f"pid {holder.pid} on "):
      workdir_lib.WorkdirLock(str(tmp_path)).acquire()
  finally:
    holder.kill()
    holder.wait()
  # The holder died without releasing: its record is stale and is taken over.
  with workdir_lib.WorkdirLock(str(tmp_path)) as lock:
    assert json.load(open(lock.path))["pid"] == os.getpid()
  assert not os.path.exists(lock.path)


def test_lock_records_from_other_hosts_or_live_processes_are_respected(tmp_path, monkeypatch):
  path = tmp_path / ".lock"
  path.write_text(json.dumps({"pid": 1, "host": "another-host", "started": "x",
                              "command": "train"}))
  with pytest.raises(workdir_lib.WorkdirLockedError, match=f"another-host.*remove {path}"):
    workdir_lib.WorkdirLock(str(tmp_path)).acquire()
  # Without flock (some shared filesystems) a live pid on this host is trusted.
  def no_flock(*args):
    raise OSError(errno.ENOLCK, "No locks available")
  monkeypatch.setattr(workdir_lib.fcntl, "flock", no_flock)
  path.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
  with pytest.raises(workdir_lib.WorkdirLockedError, match="alive"):
    workdir_lib.WorkdirLock(str(tmp_path)).acquire()
  path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
  with workdir_lib.WorkdirLock(str(tmp_path)):
    pass


def test_train_refuses_a_locked_workdir(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  with workdir_lib.WorkdirLock(workdir):
    with pytest.raises(workdir_lib.WorkdirLockedError, match="in use by"):
      trainer.train_and_evaluate(_short(tiny_config), workdir)
    assert os.listdir(workdir) == [".lock"]  # Ours: nothing else was written.


# ------------------------------------------------------------------ config checks


@pytest.mark.parametrize("field,value,message", [
    ("keep_checkpoints", 0, "keep_checkpoints must be >= 1"),
    ("num_train_steps", 0, "num_train_steps must be an integer > 0"),
    ("optimizer.learning_rate", -1e-3, "learning_rate .*must be > 0"),
    ("optimizer.grad_accum_steps", 3, r"does not divide batch_size=64.*valid: \[1, 2, 4"),
    ("log_every_steps", 0, "log_every_steps must be >= 1"),
    ("eval_every_steps", -5, "eval_every_steps must be >= 0"),
])
def test_bad_values_fail_before_anything_is_written(tiny_config, tmp_path, field, value,
                                                    message):
  tiny_config.update_from_flattened_dict({field: value})
  with pytest.raises(validate.ConfigError, match=message):
    trainer.train_and_evaluate(tiny_config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_best_metric_must_name_a_reported_metric(tiny_config, tmp_path):
  config = _short(tiny_config)
  config.eval_splits = ("valid",)
  config.max_eval_batches = 1
  config.best_metric = "valid/aurok"
  with pytest.raises(validate.ConfigError, match="valid: valid/auprc, valid/auroc"):
    trainer.train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run" / "config.json").exists()


# ---------------------------------------------------- reruns and changed configs


def test_changed_config_is_explained_and_reruns_keep_results(tiny_config, tmp_path, capfd):
  workdir = str(tmp_path / "run")
  config = _short(tiny_config, steps=2, checkpoint_every=2)
  config.eval_splits = ("valid",)
  config.final_eval_splits = ("test",)
  config.max_eval_batches = 1
  trainer.train_and_evaluate(config, workdir)
  final_path = os.path.join(workdir, "final_metrics.json")
  assert set(json.load(open(final_path))) == {"valid", "test"}
  # Relaunching the finished run evaluates only the final splits; none is lost.
  assert set(trainer.train_and_evaluate(config, workdir)) == {"test"}
  assert set(json.load(open(final_path))) == {"valid", "test"}
  saved = open(os.path.join(workdir, "config.json")).read()
  changed = config.copy_and_resolve_references()
  changed.optimizer.learning_rate = 0.01
  with pytest.raises(workdir_lib.WorkdirError,
                     match=r"optimizer.learning_rate: 0.003 -> 0.01.*allow_config_change"):
    trainer.train_and_evaluate(changed, workdir)
  assert open(os.path.join(workdir, "config.json")).read() == saved
  changed.allow_config_change = True
  changed.num_train_steps = 3
  trainer.train_and_evaluate(changed, workdir)
  assert json.load(open(os.path.join(workdir, "config.json")))["num_train_steps"] == 3
  # Another model, even when allowed, fails on the shapes before orbax reads anything.
  changed.model_preset = "paper"
  with pytest.raises(checkpointing.CheckpointMismatchError,
                     match=r"hidden/Dense_0/bias: \(64,\) in the checkpoint, \(925,\)"):
    trainer.restore_for_eval(changed, workdir)
  assert "Event loop is closed" not in capfd.readouterr().err


def test_a_failed_launch_writes_no_config(tiny_config, tmp_path):
  tiny_config.model.num_outputs = 5
  with pytest.raises(ValueError, match="num_outputs"):
    trainer.train_and_evaluate(_short(tiny_config), str(tmp_path / "bad"))
  assert not (tmp_path / "bad" / "config.json").exists()


def test_restore_step_goes_back_and_replayed_rows_appear_once(tiny_config, tmp_path):
  workdir = str(tmp_path / "run")
  config = _short(tiny_config, steps=8)
  trainer.train_and_evaluate(config, workdir)
  first = {r["step"]: r["loss"] for r in _rows(workdir)}
  config.restore_step = 5
  with pytest.raises(FileNotFoundError, match=r"restore_step=5.*kept steps: \[4, 8\]"):
    trainer.train_and_evaluate(config, workdir)
  config.restore_step = 4
  trainer.train_and_evaluate(config, workdir)
  rows = _rows(workdir)
  assert [r["step"] for r in rows] == list(range(1, 9))
  np.testing.assert_allclose([r["loss"] for r in rows], [first[s] for s in range(1, 9)],
                             rtol=1e-6)


# ---------------------------------------------------------------------- NaN guard


def _grad_norm_infinite_from(step, monkeypatch):
  original = trainer.make_train_step

  def patched(*args, **kwargs):
    train_step = original(*args, **kwargs)

    def poisoned(state, batch):
      new_state, metrics = train_step(state, batch)
      bad = state.step + 1 >= step
      return new_state, {**metrics, "grad_norm": jnp.where(bad, jnp.inf, metrics["grad_norm"])}

    return poisoned

  monkeypatch.setattr(trainer, "make_train_step", patched)


def test_infinite_grad_norm_stops_a_fresh_run_without_step_none(tiny_config, tmp_path,
                                                                monkeypatch):
  _grad_norm_infinite_from(3, monkeypatch)
  with pytest.raises(trainer.NonFiniteLossError, match="grad_norm is inf at step 3") as error:
    trainer.train_and_evaluate(_short(tiny_config, steps=8, checkpoint_every=6),
                               str(tmp_path / "run"))
  assert "None" not in str(error.value) and "No checkpoint was saved yet" in str(error.value)


def test_non_finite_evaluation_loss_stops(tiny_config, tmp_path, monkeypatch):
  config = _short(tiny_config, steps=8)
  config.eval_every_steps = 4
  config.eval_splits = ("valid",)
  config.best_metric = None
  config.max_eval_batches = 1
  original = trainer.Experiment.evaluate

  def evaluate(self, *args, **kwargs):
    return {**original(self, *args, **kwargs), "loss": float("inf")}

  monkeypatch.setattr(trainer.Experiment, "evaluate", evaluate)
  with pytest.raises(trainer.NonFiniteLossError, match="evaluation loss on valid is inf at "
                     "step 4.*No checkpoint was saved yet"):
    trainer.train_and_evaluate(config, str(tmp_path / "run"))
  assert not os.listdir(tmp_path / "run" / "checkpoints")


# ------------------------------------------------------------ best checkpoints


def test_best_checkpoint_survives_a_kill_between_saves(tiny_config, tmp_path, monkeypatch):
  workdir = str(tmp_path / "run")
  config = _short(tiny_config, steps=8)
  config.eval_every_steps = 4
  config.eval_splits = ("valid",)
  config.max_eval_batches = 1
  original = checkpointing.Checkpointer.save_best

  def killed(self, step, *args, **kwargs):
    raise KeyboardInterrupt  # The run dies during the best save of step 4.

  monkeypatch.setattr(checkpointing.Checkpointer, "save_best", killed)
  with pytest.raises(KeyboardInterrupt):
    trainer.train_and_evaluate(config, workdir)
  # Step 4 is not in checkpoints/ either, so the relaunch evaluates it again.
  assert not [s for s in os.listdir(os.path.join(workdir, "checkpoints")) if s.isdigit()]
  monkeypatch.setattr(checkpointing.Checkpointer, "save_best", original)
  leftover = os.path.join(workdir, "best", "4.orbax-checkpoint-tmp-123")
  os.makedirs(leftover)
  trainer.train_and_evaluate(config, workdir)
  assert not os.path.exists(leftover)
  assert [s for s in os.listdir(os.path.join(workdir, "best")) if s.isdigit()]


# ------------------------------------------------------------------ reporting


def test_progress_rate_leaves_out_compilation_and_evaluation():
  now = [0.0]
  progress = reporting.Progress(total_steps=101, start_step=0, examples_per_step=10,
                                log_every_steps=50, every_seconds=30, clock=lambda: now[0])
  now[0] = 100.0  # Compiling the first step took 100 s.
  assert progress.rate(1) == {}
  progress.start_rate(1)
  now[0] = 110.0
  assert progress.line(11, {"loss": 1.0})["steps_per_s"] == pytest.approx(1.0)
  now[0] = 125.0
  progress.exclude(5.0)  # An evaluation.
  assert progress.rate(21)["examples_per_s"] == pytest.approx(10.0)
  assert not progress.due(22)
  now[0] = 140.5
  assert progress.due(23) and progress.due(50)


def test_metric_writer_drops_rows_a_resume_replays(tmp_path):
  path = tmp_path / "metrics.jsonl"
  path.write_text("".join(json.dumps({"step": s, "split": "train"}) + "\n"
                          for s in range(1, 7)))
  reporting.MetricWriter(str(tmp_path), resume_step=4).close()
  assert [json.loads(line)["step"] for line in path.read_text().splitlines()] == [1, 2, 3, 4]


def test_sweep_summary_reads_every_split_of_each_trial(tmp_path):
  for trial, final in {"lr=1": {"valid": {"auroc": 0.75}, "test": {"auroc": 0.5}},
                       "lr=2": {"test": {"auroc": 0.25}}}.items():
    (tmp_path / trial).mkdir()
    (tmp_path / trial / "final_metrics.json").write_text(json.dumps(final))
  summary = workdir_lib.sweep_summary(str(tmp_path), ["lr=1", "lr=2", "lr=3"])
  assert summary.splitlines() == ["trial\ttest/auroc\tvalid/auroc",
                                  "lr=1\t0.5000\t0.7500", "lr=2\t0.2500\tnan"]


def test_progress_without_a_terminal_is_plain_lines(caplog):
  caplog.set_level("INFO", logger="absl")
  now = [0.0]
  with reporting._LineProgress(total=10, desc="scoring", unit="seq", every_seconds=30,
                               clock=lambda: now[0]) as bar:
    bar.update(4)
    now[0] = 40.0
    bar.update(4)
    bar.update(2)
  lines = [r.getMessage() for r in caplog.records if "scoring" in r.getMessage()]
  assert lines == ["scoring: 8/10 seq (0.2 seq/s)  ETA 0m10s", "scoring: 10/10 seq (0.2 seq/s)"]
