r"""Evaluates a trained checkpoint on a split; prints and writes ``eval_<split>.json``.

  python -m experiments.evaluate --workdir=/tmp/deepsea --split=test
  python -m experiments.evaluate --workdir=/tmp/deepsea --checkpoint=best --out=eval.json

The config is the one saved in the workdir unless ``--config`` is given (it must then
describe the same model). Results are printed before anything is written; ``--out``
writes them elsewhere (e.g. when the workdir is read-only).
"""

import json
import os

from absl import flags
from absl import logging

from experiments import common

common.define_config_flags(config_required=False)
flags.DEFINE_string("split", "test", "Dataset split to evaluate.")
flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
flags.DEFINE_integer("step", None, "A specific checkpoint step (default: newest/best).")
flags.DEFINE_string("out", None, "Where to write the JSON (default: "
                    "<workdir>/eval_<split>.json).")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from genereg_jax import files
  from genereg_jax.train import compile_cache
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  out = FLAGS.out or os.path.join(FLAGS.workdir, f"eval_{FLAGS.split}.json")
  if FLAGS.out:
    files.check_output_path(out, os.path.join(FLAGS.workdir, "config.json"))
  config = common.config_or_saved()
  compile_cache.setup(config.get("compilation_cache_dir"))
  results, record = trainer.evaluate_checkpoint(config, FLAGS.workdir, FLAGS.split,
                                                FLAGS.checkpoint, FLAGS.step)
  scalars = {k: float(v) for k, v in results.items() if not hasattr(v, "__len__")}
  print(json.dumps({"split": FLAGS.split, **scalars}, indent=2), flush=True)
  try:
    files.write_json(out, record)
  except OSError as e:
    raise SystemExit(f"error: results printed above but not written: cannot write {out} "
                     f"({e.strerror or e}); pass --out=<writable path>") from None
  logging.info("wrote %s", out)


if __name__ == "__main__":
  common.run(main)
