r"""Writes a fine-tuned checkpoint's weights with LoRA / IA3 merged into the kernels.

  python -m experiments.export_lora --workdir=/tmp/lora --out=/tmp/lora_merged.npz
  python -m experiments.export_lora --workdir=/tmp/lora --out=merged.npz --checkpoint=best

The config is the one saved in the workdir unless ``--config`` is given. A checkpoint
stored by reference reloads its base through the config's ``init_from`` first (and
refuses a base whose fingerprint differs). The ``.npz`` holds ``"params/a/b"`` arrays of
the bare model (the config without ``adapters``): load it with
``genereg_jax.train.finetune.load_base`` or as ``init_from_kwargs.path`` of another run.
A checkpoint without adapters is written as it is.
"""

import os

from absl import flags

from experiments import common

common.define_config_flags(config_required=False)
flags.DEFINE_string("out", None, "The .npz to write.", required=True)
flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  import jax
  from genereg_jax import files
  from genereg_jax.train import finetune
  files.check_output_path(FLAGS.out, os.path.join(FLAGS.workdir, "config.json"))
  config = common.config_or_saved()
  variables = finetune.export_merged(config, FLAGS.workdir, FLAGS.out, FLAGS.checkpoint)
  count = sum(x.size for x in jax.tree.leaves(variables["params"]))
  print(f"wrote {FLAGS.out}: {count:,} parameters ({config.adapters.get('kind', 'none')} "
        "merged)")


if __name__ == "__main__":
  common.run(main)
