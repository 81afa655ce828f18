r"""Evaluates a trained checkpoint on a split; prints and writes ``eval_<split>.json``.

  python -m experiments.evaluate --config=deepsea --workdir=/tmp/deepsea --split=test
"""

import json

from absl import flags
from absl import logging

from experiments import common
from genereg_jax.train import reporting
from genereg_jax.train import trainer

common.define_config_flags()
flags.DEFINE_string("split", "test", "Dataset split to evaluate.")
flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
flags.DEFINE_integer("step", None, "A specific checkpoint step (default: newest/best).")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  results = trainer.evaluate(FLAGS.config, FLAGS.workdir, FLAGS.split, FLAGS.checkpoint,
                             FLAGS.step)
  scalars = {k: float(v) for k, v in results.items() if not hasattr(v, "__len__")}
  print(json.dumps({"split": FLAGS.split, **scalars}, indent=2))


if __name__ == "__main__":
  common.run(main)
