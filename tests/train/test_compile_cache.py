"""The persistent compilation cache: where it goes, and a second run loads the train step."""

import os
import subprocess
import sys

import jax

from conftest import REPO, subprocess_env
from genereg_jax.train import compile_cache


def test_folder_from_config_env_or_xdg(monkeypatch, tmp_path):
  calls = []
  # Recorded, not applied: the test process keeps JAX's own (no) cache.
  monkeypatch.setattr(jax.config, "update", lambda name, value: calls.append((name, value)))
  monkeypatch.delenv(compile_cache.ENV_DIR, raising=False)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  assert compile_cache.setup() == str(tmp_path / "genereg_jax" / "xla")
  monkeypatch.delenv("XDG_CACHE_HOME")
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  assert compile_cache.default_dir() == str(tmp_path / "home" / ".cache" / "genereg_jax" / "xla")
  assert compile_cache.setup("~/xla") == str(tmp_path / "home" / "xla")
  assert compile_cache.setup("gs://bucket/xla") == "gs://bucket/xla"
  assert compile_cache.setup("") is None  # "" turns it off ...
  monkeypatch.setenv(compile_cache.ENV_DIR, "/elsewhere")
  assert compile_cache.setup("") is None  # ... whatever JAX's variable says,
  assert compile_cache.setup() == "/elsewhere"  # which otherwise wins over XDG,
  monkeypatch.setenv(compile_cache.ENV_DIR, "")
  assert compile_cache.setup() is None  # and is off when empty.
  assert [name for name, _ in calls] == ["jax_compilation_cache_dir"] * 7
  assert [value for _, value in calls] == [
      str(tmp_path / "genereg_jax" / "xla"), str(tmp_path / "home" / "xla"),
      "gs://bucket/xla", None, None, "/elsewhere", None]


def _train(workdir, cache, tfds_dir):
  # Every compile is written (not only those over 1 s), and cache hits are logged.
  env = subprocess_env(JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_LOG_COMPILES="1")
  return subprocess.run(
      [sys.executable, "-m", "experiments.train", "--config=deepsea:tiny",
       f"--workdir={workdir}", f"--config.dataset.data_dir={tfds_dir}",
       f"--config.compilation_cache_dir={cache}", "--config.num_train_steps=1",
       "--config.max_eval_batches=1"],
      cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_second_run_loads_the_compiled_train_step(tfds_dir, tmp_path):
  cache = tmp_path / "xla"
  first = _train(tmp_path / "first", cache, tfds_dir)
  assert first.returncode == 0, first.stderr[-3000:]
  entries = sorted(p.name for p in cache.glob("*-cache"))
  assert any(name.startswith("jit_train_step-") for name in entries), entries
  assert "cache hit for 'jit_train_step'" not in first.stderr

  second = _train(tmp_path / "second", cache, tfds_dir)
  assert second.returncode == 0, second.stderr[-3000:]
  assert "Persistent compilation cache hit for 'jit_train_step'" in second.stderr
  # Nothing new was compiled: every program came from the first run's entries.
  assert sorted(p.name for p in cache.glob("*-cache")) == entries
  assert os.path.isdir(tmp_path / "second" / "checkpoints")
