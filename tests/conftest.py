"""Shared test fixtures: a tiny synthetic dataset built once per session, tiny configs.

Tests run on one CPU device; the sharding test starts a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=8``.

Compiled programs go to one persistent XLA cache per test run (`_compilation_cache`).
"""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
# JAX's variable (genereg_jax.train.compile_cache.ENV_DIR), not imported: conftest loads
# before the tests and must not import JAX.
CACHE_ENV = "JAX_COMPILATION_CACHE_DIR"
_RUN_CACHE = [None]  # The run's cache folder, once `_compilation_cache` has set it up.
# JAX keeps programs that took 1 s or more to compile; on a quiet machine most tiny
# models' steps compile faster than that (loading one takes milliseconds).
CACHE_MIN_COMPILE_SECS = 0.2


@pytest.fixture(scope="session", autouse=True)
def _compilation_cache(tmp_path_factory):
  """One persistent XLA compilation cache for the whole run, in pytest's temporary folder.

  Many tests compile the same program again: every ``train_and_evaluate`` call jits
  fresh steps (a resumed run, the same tiny config in several tests), and every
  subprocess starts cold. With the cache, JAX loads those programs from disk instead
  (`genereg_jax.train.compile_cache`). The xdist workers of one run share the folder
  (JAX writes each entry once; a half-written one read by the other worker is a
  warning and a recompile). Nothing outside the run's temporary folder is read or
  written; ``JAX_COMPILATION_CACHE_DIR=`` (empty) in the environment turns it off.
  """
  if os.environ.get(CACHE_ENV) == "":
    yield None
    return
  import jax
  base = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    base = base.parent  # The run's folder; each worker's basetemp is a subfolder.
  folder = str(base / "xla_cache")
  settings = {"jax_compilation_cache_dir": folder,
              "jax_persistent_cache_min_compile_time_secs": CACHE_MIN_COMPILE_SECS}
  before = {name: getattr(jax.config, name) for name in settings}
  with pytest.MonkeyPatch.context() as patch:
    # Commands started by tests (subprocess_env) and in-process entry points
    # (compile_cache.setup) read these.
    patch.setenv(CACHE_ENV, folder)
    patch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(CACHE_MIN_COMPILE_SECS))
    for name, value in settings.items():
      jax.config.update(name, value)
    _RUN_CACHE[0] = folder
    yield folder
    _RUN_CACHE[0] = None
    for name, value in before.items():
      jax.config.update(name, value)



@pytest.fixture(scope="session")
def motifs():
  """The synthetic builders' motif library (`data_builders.synthetic_motifs`)."""
  from data_builders.synthetic_motifs import synthetic_motifs
  return synthetic_motifs.load_motifs()


@pytest.fixture(scope="session")
def widths(motifs):
  """``{motif name: width}`` of `motifs`."""
  return {name: m.width for name, m in motifs.items()}

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
  # Commands started by tests share the run's compilation cache (`_compilation_cache`)
  # and never use the user's cache folder: "" turns theirs off.
  env[CACHE_ENV] = _RUN_CACHE[0] or ""
  env.update(extra)
  return env
