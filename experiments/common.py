"""Flags, config handling and error reporting shared by the entry points.

Nothing here imports JAX, and the entry points import the trainer inside ``main``: help,
an unknown ``--config`` name, a variant typo or a bad override are answered at once.
Errors that are the user's to fix (a bad file, a dataset not built, a locked or
differently configured workdir, a bad config value, a diverged run, a missing checkpoint)
are printed as one ``error:`` line with exit status 1; flag mistakes exit with status 2.
"""

from __future__ import annotations

import sys

from absl import flags
from ml_collections import config_flags

from experiments import configs

HELP_FLAGS = ("-h", "-help", "--help", "--helpshort", "--helpfull", "-?")

# (module, class) of the package's "user's to fix" errors; looked up only once the
# module is loaded, so this list imports nothing.
USER_ERRORS = (
    ("genereg_jax.files", "InputFormatError"),
    ("genereg_jax.data.pipeline", "DatasetNotBuiltError"),
    ("genereg_jax.train.workdir", "WorkdirError"),
    ("genereg_jax.train.validate", "ConfigError"),
    ("genereg_jax.train.trainer", "NonFiniteLossError"),
    ("genereg_jax.train.checkpointing", "CheckpointMismatchError"),
)


def define_config_flags(workdir_required: bool = True, config_required: bool = True) -> None:
  """``--config`` and ``--workdir``; without ``config_required`` the workdir's saved
  config is the default (see `config_or_saved`)."""
  config_flags.DEFINE_config_file(
      "config", None, "Config name[:variant] from experiments/configs (or a .py path)"
      + ("." if config_required else "; default: the config saved in --workdir."),
      lock_config=True)
  flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and config.")
  required = (["config"] if config_required else []) + (["workdir"] if workdir_required
                                                         else [])
  if required:
    flags.mark_flags_as_required(required)


def define_distributed_flags(prefix: str = "") -> None:
  """``--jax_distributed`` and ``--coordinator_address/--num_processes/--process_id``
  (one process per host or per accelerator; see BUILD.md "Several processes and pods").

  ``prefix`` starts each help text (e.g. ``"With --workdir: "``).
  """
  flags.DEFINE_bool("jax_distributed", False, (prefix + "call" if prefix else "Call")
                    + " jax.distributed.initialize() first; TPU VMs, SLURM and Open MPI "
                    "give it the cluster.")
  flags.DEFINE_string("coordinator_address", None, prefix + "HOST:PORT of process 0, for "
                      "jax.distributed.initialize with --num_processes and --process_id.")
  flags.DEFINE_integer("num_processes", None, "With --coordinator_address: processes.",
                       lower_bound=1)
  flags.DEFINE_integer("process_id", None, "With --coordinator_address: this process's "
                       "index, 0 to --num_processes - 1.", lower_bound=0)
  flags.register_multi_flags_validator(
      ["coordinator_address", "num_processes", "process_id"],
      lambda f: not f["coordinator_address"] or (
          f["num_processes"] is not None and f["process_id"] is not None
          and f["process_id"] < f["num_processes"]),
      message="--coordinator_address needs --num_processes=N and --process_id=0..N-1")


def initialize_distributed() -> None:
  """Starts JAX's multi-process runtime as the `define_distributed_flags` flags say."""
  given = flags.FLAGS
  if given.coordinator_address:
    import jax
    jax.distributed.initialize(given.coordinator_address, given.num_processes,
                               given.process_id)
  elif given.jax_distributed:
    import jax
    jax.distributed.initialize()


def config_or_saved():
  """``--config`` if given, else the config the ``--workdir`` was trained with."""
  if flags.FLAGS.config is not None:
    return flags.FLAGS.config
  from genereg_jax.train import workdir
  return workdir.load_saved_config(flags.FLAGS.workdir)


def _print_help(full: bool) -> None:
  main = sys.modules["__main__"]
  print((main.__doc__ or "").strip() + "\n")
  if full:
    print(flags.FLAGS.get_help())
    return
  for module in (main.__name__, __name__):  # The command's own flags, then --config/--workdir.
    text = flags.FLAGS.module_help(module)
    if text.count("\n"):  # More than the bare module name.
      print(text)
  print("\nConfig fields are set with --config.<field>=<value> "
        "(e.g. --config.optimizer.learning_rate=1e-3); --helpfull lists every flag.")


def _config_problem(argv: list[str]) -> str | None:
  """Why ``--config`` failed: the config file's own error (e.g. an unknown variant), or
  "<parent> has no field 'x'; valid fields: ..." for the first bad ``--config.*``."""
  path = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  if path is None:
    return None
  try:
    config = configs.load_config_file(path)
  except Exception as e:  # pylint: disable=broad-except  # Reported instead of a traceback.
    return f"{type(e).__name__}: {e}"
  for override in (a for a in argv if a.startswith("--config.")):
    parts = override[len("--config."):].split("=", 1)[0].split(".")
    node = config
    for index, part in enumerate(parts):
      if not hasattr(node, "keys"):
        break
      if part not in node:
        parent = ".".join(["config", *parts[:index]])
        return (f"{parent} has no field {part!r}; valid fields: "
                f"{', '.join(sorted(node.keys()))}")
      node = node[part]
  return None


def _user_errors() -> tuple[type[BaseException], ...]:
  classes = [FileNotFoundError]
  for module, name in USER_ERRORS:
    if module in sys.modules:
      classes.append(getattr(sys.modules[module], name))
  return tuple(classes)


def _reporting_errors(main):
  def wrapped(argv):
    try:
      return main(argv)
    except Exception as e:  # pylint: disable=broad-except
      if not isinstance(e, _user_errors()):
        raise
      print(f"error: {e}", file=sys.stderr)
      sys.exit(1)
  return wrapped


def run(main, argv=None) -> None:
  """``absl.app.run`` after resolving ``--config=<name>``; help exits 0, bad flags 2."""
  from absl import app
  argv = list(sys.argv if argv is None else argv)
  if any(a in HELP_FLAGS for a in argv[1:]):
    _print_help(full="--helpfull" in argv)
    sys.exit(0)
  argv = configs.resolve_config_argv(argv)
  try:
    remaining = flags.FLAGS(argv)  # Applies the --config.a.b=v overrides.
  except (AttributeError, KeyError, ValueError, flags.Error) as e:
    overrides = [a for a in argv[1:] if a.startswith("--config.")]
    while isinstance(e, BaseException) and e.args:  # KeyError wrapped in AttributeError.
      e = e.args[0]
    message = str(e).replace("\n", " ")
    problem = _config_problem(argv)
    if problem and "Error whilst parsing config file" in message:
      message = problem  # ml_collections wraps it in a whole traceback.
    elif problem:
      message += f"\n  {problem}"
    print(f"error: bad flag or config override ({' '.join(overrides) or argv[1:]}): {message}",
          file=sys.stderr)
    sys.exit(2)
  app.run(_reporting_errors(main), argv=argv, flags_parser=lambda _: remaining)
