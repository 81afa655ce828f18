"""Shared test fixtures: a tiny synthetic dataset built once per session, tiny configs.

Tests run on one CPU device; the sharding test starts a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``.
"""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def fixture_path(name: str) -> pathlib.Path:
  """``tests/fixtures/<name>``; fails (never skips) when it is missing.

  The reference outputs are part of the repository (tests/fixtures/README.md
  says where each comes from), so a missing one is a broken checkout.
  """
  path = FIXTURES / name
  if not path.is_file():
    pytest.fail(f"reference fixture {path} is missing; it is part of the "
                "repository (see tests/fixtures/README.md to regenerate it)",
                pytrace=False)
  return path


def load_fixture(name: str) -> dict:
  """Every array of ``tests/fixtures/<name>`` (an ``.npz``), read into memory."""
  import numpy as np
  with np.load(fixture_path(name)) as data:
    return {k: data[k] for k in data.files}


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory) -> str:
  """A TFDS data_dir holding ``synthetic_motifs/tiny``, built once."""
  from genereg_jax.data import pipeline
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  pipeline.load_builder("synthetic_motifs/tiny", data_dir, build_if_missing=True)
  return data_dir


@pytest.fixture
def tiny_config(tfds_dir):
  """``deepsea:tiny`` reading the session's dataset, short and quiet."""
  from experiments import configs
  config = configs.get_config("deepsea:tiny")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  return config


@pytest.fixture(scope="session")
def trained_tiny(tfds_dir, tmp_path_factory):
  """``deepsea:tiny`` trained for 20 steps on the session's dataset: (config, workdir).

  Shared by the tests of the commands that read a trained workdir (predict,
  filter_motifs, interpret); they only read it.
  """
  from experiments import configs
  from genereg_jax.train import trainer
  config = configs.get_config("deepsea:tiny")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  config.num_train_steps = 20
  config.eval_every_steps = 0
  config.checkpoint_every_steps = 20
  config.log_every_steps = 20
  config.max_eval_batches = 1
  config.final_eval_splits = ()
  workdir = str(tmp_path_factory.mktemp("trained_tiny"))
  trainer.train_and_evaluate(config, workdir)
  return config, workdir


def subprocess_env(**extra) -> dict:
  env = dict(os.environ)
  env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
  # Commands started by tests keep no compiled programs in the user's cache folder
  # (genereg_jax.train.compile_cache): nothing outside the repository is read or written.
  env["JAX_COMPILATION_CACHE_DIR"] = ""
  env.update(extra)
  return env
