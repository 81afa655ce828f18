"""Training as several real processes (issue 15 part 3).

Two localhost processes joined by ``jax.distributed.initialize`` (a coordinator on a free
port, CPU collectives over gloo, JAX's default), each with 4 fake CPU devices, train
``deepsea:tiny`` on a 2x4 mesh over the 8 devices; both are killed with SIGKILL right
after a checkpoint, relaunched, and must end with the parameters, losses and validation
metrics of one process driving 8 devices through the same steps. Along the way: each
process reads its own rows of every global batch (the same batches as one process),
process 0 alone writes metrics, orbax writes one checkpoint per step, the workdir lock
admits the run's two processes, and an evaluation whose last batch leaves process 1 no
rows does not hang. Last, a SIGTERM to one process (a preemption notice) makes both
save the same step and exit.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, subprocess_env
from genereg_jax.data import pipeline

WORKER = os.path.join(REPO, "tests", "train", "multiprocess_worker.py")
STEPS, CHECKPOINT_EVERY, PAUSE_AT = 6, 2, 2
# Global batches of 16 (8 rows per process); evaluation batches of 36 over the 512
# validation examples leave 8 rows in the last one: all of them process 0's.
OVERRIDES = dict(num_train_steps=STEPS, checkpoint_every_steps=CHECKPOINT_EVERY,
                 eval_every_steps=0, log_every_steps=1, batch_size=16, eval_batch_size=36,
                 mesh_shape=(2, 4))


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _command(tfds_dir, workdir, *extra, **changes):
  overrides = [f"--config.{k}={v}" for k, v in {**OVERRIDES, **changes}.items()]
  return [sys.executable, WORKER, "--config=deepsea:tiny", f"--workdir={workdir}",
          f"--config.dataset.data_dir={tfds_dir}", "--config.dataset.build_if_missing=False",
          "--config.final_eval_splits=()", *overrides, *extra]


_STARTED = []


@pytest.fixture(autouse=True)
def _no_leftover_processes():
  """A failing check leaves no training process behind."""
  yield
  while _STARTED:
    process = _STARTED.pop()
    if process.poll() is None:
      process.kill()
      process.wait()


def _start(command, devices, log, **env):
  """Starts ``command``; its output goes to ``log`` (a pipe could fill while it waits)."""
  env = subprocess_env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                       JAX_PLATFORMS="cpu", **env)
  with open(log, "w") as out:
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out,
                               stderr=subprocess.STDOUT, text=True)
  process.log = log
  _STARTED.append(process)
  return process


def _start_pair(tfds_dir, workdir, name, env=None, **changes):
  address = f"127.0.0.1:{_free_port()}"
  return [_start(_command(tfds_dir, workdir, f"--coordinator_address={address}",
                          "--num_processes=2", f"--process_id={i}", **changes), 4,
                 f"{workdir}.{name}.{i}.log", **(env or {}))
          for i in range(2)]


def _output(process) -> str:
  with open(process.log) as f:
    return f.read()


def _finish(process, timeout=300) -> str:
  process.wait(timeout=timeout)
  assert process.returncode == 0, _output(process)[-3000:]
  return _output(process)


def _train_rows(workdir):
  """metrics.jsonl's train rows (a line being written while a run goes on is skipped)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    lines = [line for line in f if line.endswith("\n")]
  return [row for row in map(json.loads, lines) if row["split"] == "train"]


def _steps(directory):
  return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def _parameters(tfds_dir, workdir):
  """The latest checkpoint's parameters, restored onto this test's one device."""
  import jax
  from experiments import configs
  from genereg_jax.train import trainer
  config = configs.get_config("deepsea:tiny")
  config.dataset.data_dir = tfds_dir
  _, state, _ = trainer.restore_for_eval(config, workdir)
  return {jax.tree_util.keystr(path): np.asarray(leaf)
          for path, leaf in jax.tree_util.tree_leaves_with_path(state.params)}


def _wait_for_pause(pair, workdir, timeout=300):
  markers = [os.path.join(workdir, f"paused.{i}") for i in range(len(pair))]
  deadline = time.time() + timeout
  while not all(map(os.path.exists, markers)):
    if any(p.poll() is not None for p in pair) or time.time() > deadline:
      for process in pair:
        process.kill()
        process.wait()
      pytest.fail("no pause after the checkpoint:\n"
                  + "\n".join(_output(p)[-2000:] for p in pair), pytrace=False)
    time.sleep(0.2)


def _lock_pid(workdir, name) -> int:
  with open(os.path.join(workdir, name)) as f:
    return json.load(f)["pid"]


def test_two_processes_killed_and_resumed_equal_one_process(tfds_dir, tmp_path):
  one, two = str(tmp_path / "one"), str(tmp_path / "two")
  reference = _start(_command(tfds_dir, one), 8, f"{one}.log")
  pair = _start_pair(tfds_dir, two, "killed", env=dict(PAUSE_AFTER_CHECKPOINT=str(PAUSE_AT)))
  _wait_for_pause(pair, two)
  # Both processes of the run hold the workdir: process 0 .lock, process 1 .lock.1.
  assert [_lock_pid(two, name) for name in (".lock", ".lock.1")] == [p.pid for p in pair]
  for process in pair:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
  assert _steps(os.path.join(two, "checkpoints")) == [PAUSE_AT]
  assert [row["step"] for row in _train_rows(two)] == list(range(1, PAUSE_AT + 1))

  # Relaunched: both resume from that checkpoint (taking over the dead run's locks).
  outputs = [_finish(process) for process in _start_pair(tfds_dir, two, "resumed")]
  _finish(reference)
  assert f"resumed from step {PAUSE_AT}" in outputs[0] and "final valid" in outputs[0]

  # One checkpoint per step (no per-process copies, no leftover temporary folders).
  assert sorted(os.listdir(os.path.join(two, "checkpoints"))) == ["2", "4", "6"]
  assert _steps(os.path.join(two, "best")) == _steps(os.path.join(one, "best")) == [STEPS]
  # Process 0 alone writes metrics.jsonl: each step once, replayed steps not repeated.
  rows, reference_rows = _train_rows(two), _train_rows(one)
  assert [row["step"] for row in rows] == list(range(1, STEPS + 1))
  np.testing.assert_allclose([r["loss"] for r in rows], [r["loss"] for r in reference_rows],
                             rtol=1e-5)
  with open(os.path.join(two, "final_metrics.json")) as f, \
       open(os.path.join(one, "final_metrics.json")) as g:
    final, reference_final = json.load(f)["valid"], json.load(g)["valid"]
  assert final.keys() == reference_final.keys()
  np.testing.assert_allclose([final[k] for k in sorted(final)],
                             [reference_final[k] for k in sorted(final)], rtol=1e-5, atol=1e-6)

  params, reference_params = _parameters(tfds_dir, two), _parameters(tfds_dir, one)
  assert params.keys() == reference_params.keys()
  for name, value in params.items():
    np.testing.assert_allclose(value, reference_params[name], rtol=1e-5, atol=1e-6,
                               err_msg=name)

  # Preemption of one process: SIGTERM to process 1 alone; JAX's preemption service
  # picks a step, both processes save it and exit 0.
  pair = _start_pair(tfds_dir, two, "preempted", num_train_steps=100_000,
                     checkpoint_every_steps=100_000, allow_config_change=True)
  deadline = time.time() + 300
  while not any(row["step"] > STEPS + 2 for row in _train_rows(two)):
    assert all(p.poll() is None for p in pair) and time.time() < deadline, "".join(
        _output(p)[-2000:] for p in pair)
    time.sleep(0.2)
  pair[1].send_signal(signal.SIGTERM)
  outputs = [_finish(process, timeout=120) for process in pair]
  assert all("exiting after SIGTERM" in output for output in outputs)
  saved = _steps(os.path.join(two, "checkpoints"))
  assert saved[:2] == [4, STEPS] and saved[2] > STEPS + 2 and len(saved) == 3
  assert _train_rows(two)[-1]["step"] == saved[2]


def test_processes_of_one_run_hold_their_own_lock_files(tmp_path):
  from genereg_jax.train import workdir
  with workdir.WorkdirLock(str(tmp_path), 0), workdir.WorkdirLock(str(tmp_path), 1):
    assert sorted(os.listdir(tmp_path)) == [".lock", ".lock.1"]
    with pytest.raises(workdir.WorkdirLockedError, match=r"\.lock\.1"):
      workdir.WorkdirLock(str(tmp_path), 1).acquire()  # Process 1 of a second run.
  assert os.listdir(tmp_path) == []


class _Records:
  def __init__(self, n):
    self.n = n

  def __len__(self):
    return self.n

  def __getitem__(self, i):
    return {"x": np.array([i])}


def _rows(iterator, batches):
  return [next(iterator)["x"][:, 0].tolist() for _ in range(batches)]


def test_process_rows_split_every_global_batch_of_one_process_order():
  source = _Records(50)
  whole = iter(pipeline.make_loader(source, batch_size=8, keys=("x",), seed=3))
  halves = [iter(pipeline.make_loader(source, batch_size=4, keys=("x",), seed=3,
                                      process_rows=(first, 8))) for first in (0, 4)]
  expected = _rows(whole, 9)  # Crosses the epoch boundary at 50 records.
  got = [a + b for a, b in zip(_rows(halves[0], 9), _rows(halves[1], 9))]
  assert got == expected
  # Both processes are at the same position: process 0's saved state restores process 1.
  states = [iterator.get_state() for iterator in halves]
  assert states[0] == states[1]
  resumed = iter(pipeline.make_loader(source, batch_size=4, keys=("x",), seed=3,
                                      process_rows=(4, 8)))
  resumed.set_state(states[0])
  assert _rows(resumed, 3) == [b[4:] for b in _rows(whole, 3)]
  # One pass for evaluation: 50 = 6 x 8 + 2, so the last batch is process 0's alone.
  passes = [list(pipeline.make_loader(source, batch_size=4, keys=("x",), shuffle=False,
                                      num_epochs=1, drop_remainder=False,
                                      process_rows=(first, 8))) for first in (0, 4)]
  assert [len(p) for p in passes] == [7, 6]
  assert sorted(np.concatenate([b["x"][:, 0] for p in passes for b in p]).tolist()) == list(
      range(50))
