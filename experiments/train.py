r"""Trains a named config.

  python -m experiments.train --config=deepsea --workdir=/tmp/deepsea
  python -m experiments.train --config=deepsea:tiny --workdir=/tmp/t \
      --config.optimizer.learning_rate=3e-3

Relaunching with the same workdir resumes from its newest checkpoint
(``--config.restore_step=N`` from an earlier kept one). The workdir is locked while the
run lasts, and refuses a config other than the one it was trained with unless
``--config.allow_config_change=True``. Compiled steps are kept in
``--config.compilation_cache_dir`` (default ``$XDG_CACHE_HOME/genereg_jax/xla``; ``''``
turns it off), so a relaunch loads them instead of compiling again.
"""

from absl import flags
from absl import logging

from experiments import common

common.define_config_flags()
common.define_distributed_flags()
FLAGS = flags.FLAGS


def main(argv):
  del argv
  # Imported here so that flag and config mistakes are reported before JAX loads.
  import jax
  from genereg_jax.train import compile_cache
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  common.initialize_distributed()  # Before anything touches a device.
  config = FLAGS.config
  logging.info("compilation cache: %s",
               compile_cache.setup(config.get("compilation_cache_dir")) or "off")
  logging.info("devices: %s", jax.devices())
  final = trainer.train_and_evaluate(config, FLAGS.workdir)
  for split, results in final.items():
    shown = {k: round(float(v), 4) for k, v in results.items() if not hasattr(v, "__len__")}
    print(f"final {split}: {shown}")


if __name__ == "__main__":
  common.run(main)
