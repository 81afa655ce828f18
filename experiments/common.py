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
  """``absl.app.run`` after turning ``--config=<name>`` into a config file path."""
  from absl import app
  argv = configs.resolve_config_argv(list(sys.argv if argv is None else argv))
  try:
    app.run(main, argv=argv)
  except (AttributeError, KeyError) as e:
    # ml_collections reports a bad ``--config.a.b=v`` override as one of these.
    if "override" in str(e).lower() or "field" in str(e).lower() or "key" in str(e).lower():
      print(f"error: bad config override: {e}", file=sys.stderr)
      sys.exit(2)
    raise
