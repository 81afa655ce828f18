r"""Builds a dataset into ``data_dir`` (array_record) with progress bars.

  python -m data_builders.build --dataset=synthetic_motifs/default
  python -m data_builders.build --dataset=deepsea --manual_dir=/data/deepsea_train

A dataset already built is reused. For builders that read user files from
``--manual_dir`` and record them (``spliceai_gencode``: FASTA, GTF, usage table), it is
reused only if those files and the config are unchanged; otherwise the command lists
what changed and stops, or rebuilds with ``--overwrite`` (``genereg_jax.data.fingerprint``).

Big datasets (``basenji_barnyard``, ``spliceai_gencode``; ``intervals`` and
``bpnet_profiles`` through their ``make`` commands) build with Apache Beam when given
``--beam_runner`` or ``--beam_options``, passed to TFDS as they are:

  python -m data_builders.build --dataset=basenji_barnyard/human --manual_dir=/data \
      --beam_options=--runner=DirectRunner,--direct_running_mode=multi_processing,--direct_num_workers=8

BUILD.md "Big builds" has the Dataflow, Spark and Flink commands (`data_builders.sharded`).
"""

from absl import app
from absl import flags

from data_builders import sharded
from genereg_jax.data import fingerprint
from genereg_jax.data import pipeline

flags.DEFINE_string("dataset", None, "Builder name, optionally with /config.", required=True)
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default ~/tensorflow_datasets).")
flags.DEFINE_string("manual_dir", None, "Directory holding manually downloaded files.")
flags.DEFINE_bool("overwrite", False, "Rebuild a dataset built from other input files "
                  "(default: stop and list what changed).")
flags.DEFINE_string("beam_runner", None, sharded.RUNNER_HELP)
flags.DEFINE_string("beam_options", None, sharded.OPTIONS_HELP)
FLAGS = flags.FLAGS


def build(dataset: str, data_dir: str | None = None, manual_dir: str | None = None,
          overwrite: bool = False, beam_runner: str | None = None,
          beam_options: str | None = None):
  """The prepared builder of ``dataset``, checking a built one's inputs first; a build
  uses Apache Beam when ``beam_runner`` or ``beam_options`` is given."""
  try:
    built = pipeline.load_builder(dataset, data_dir)
  except pipeline.DatasetNotBuiltError:
    built = None
  current = (getattr(built, "input_fingerprint", lambda _: None)(manual_dir)
             if built is not None else None)
  if current is not None:
    fingerprint.check(built, current, overwrite)
  return pipeline.load_builder(
      dataset, data_dir, build_if_missing=True, manual_dir=manual_dir,
      download_config=sharded.download_config(beam_runner, beam_options,
                                              manual_dir=manual_dir))


def main(argv):
  del argv
  try:
    builder = build(FLAGS.dataset, FLAGS.data_dir, FLAGS.manual_dir, FLAGS.overwrite,
                    FLAGS.beam_runner, FLAGS.beam_options)
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  print(f"{FLAGS.dataset}: {builder.data_dir}")
  for name, split in builder.info.splits.items():
    print(f"  {name}: {split.num_examples} examples")


if __name__ == "__main__":
  app.run(main)
