"""Flags and config handling shared by the entry points (train, evaluate, sweep)."""

from __future__ import annotations

import sys

from absl import flags
from ml_collections import config_flags

from experiments import configs


def define_config_flags(workdir_required: bool = True) -> None:
  config_flags.DEFINE_config_file(
      "config", None, "Config name[:variant] from experiments/configs (or a .py path).",
      lock_config=True)
  flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and config.")
  flags.mark_flags_as_required(["config"] + (["workdir"] if workdir_required else []))


def run(main, argv=None) -> None:
  """``absl.app.run`` after resolving ``--config=<name>``; bad overrides exit with status 2."""
  from absl import app
  argv = configs.resolve_config_argv(list(sys.argv if argv is None else argv))
  try:
    remaining = flags.FLAGS(argv)  # Applies the --config.a.b=v overrides.
  except (AttributeError, KeyError, ValueError, flags.Error) as e:
    overrides = [a for a in argv[1:] if a.startswith("--config.")]
    while isinstance(e, BaseException) and e.args:  # KeyError wrapped in AttributeError.
      e = e.args[0]
    message = str(e).replace("\n", " ")
    print(f"error: bad flag or config override ({' '.join(overrides) or argv[1:]}): {message}",
          file=sys.stderr)
    sys.exit(2)
  app.run(main, argv=argv, flags_parser=lambda _: remaining)
