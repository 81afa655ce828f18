"""Persistent XLA compilation cache: a program compiles once per machine, not once per run.

JAX can keep every compiled executable on disk, keyed by the program, the compile
options, the JAX/XLA version and the devices ("Persistent compilation cache" in the JAX
docs). With it, a relaunched or resumed run, each trial of a sweep and every
``predict`` / ``interpret`` / ``score_variants`` call on the same model load their jitted
steps instead of compiling them again.

The entry points call `setup` with ``config.compilation_cache_dir`` (or
``score_variants --compilation_cache``) before anything compiles: ``None`` is
`default_dir()`, a folder (local, or e.g. ``gs://`` shared by a pod's hosts) is used
as given, ``""`` turns the cache off. The library never sets the cache by itself, so
notebooks keep JAX's defaults; the test suite keeps one cache per run in pytest's
temporary folder (tests/conftest.py).

JAX writes only programs that took ``jax_persistent_cache_min_compile_time_secs``
(default 1 s) or longer to compile, so the folder holds the train and eval steps, not
every small jit; on several processes only process 0 writes. A cache folder is trusted
code: whoever can write to it can run code in the processes that read it (JAX's
warning), so keep it private to the user.
"""

from __future__ import annotations

import os

ENV_DIR = "JAX_COMPILATION_CACHE_DIR"


def default_dir() -> str:
  """``$JAX_COMPILATION_CACHE_DIR`` when set (empty: no cache), else
  ``$XDG_CACHE_HOME/genereg_jax/xla`` (``~/.cache/genereg_jax/xla`` without it)."""
  if ENV_DIR in os.environ:  # JAX's own variable; an empty value turns the cache off.
    return os.environ[ENV_DIR]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "genereg_jax", "xla")


def setup(folder: str | None = None) -> str | None:
  """Keeps compiled programs in ``folder``; returns it, or None when the cache is off.

  Args:
    folder: ``None`` for `default_dir()`; ``""`` turns the cache off (also when
      ``$JAX_COMPILATION_CACHE_DIR`` is set).

  Call it before the first compile to be cached: JAX opens the cache at the first
  compile after a folder is set and keeps that folder for the rest of the process.
  """
  import jax  # Here, so that entry points can import this module before flags parse.
  folder = (default_dir() if folder is None else folder) or None
  if folder and "://" not in folder:  # gs:// and other remote folders are kept as given.
    folder = os.path.abspath(os.path.expanduser(folder))
  jax.config.update("jax_compilation_cache_dir", folder)
  return folder
