r"""Builds a dataset into ``data_dir`` (array_record) with progress bars.

  python -m data_builders.build --dataset=synthetic_motifs/default
  python -m data_builders.build --dataset=deepsea --manual_dir=/data/deepsea_train

A dataset already built is reused. For builders that read user files from
``--manual_dir`` and record them (``spliceai_gencode``: FASTA, GTF, usage table), it is
reused only if those files and the config are unchanged; otherwise the command lists
what changed and stops, or rebuilds with ``--overwrite`` (``genereg_jax.data.fingerprint``).
"""

from absl import app
from absl import flags

from genereg_jax.data import fingerprint
from genereg_jax.data import pipeline

flags.DEFINE_string("dataset", None, "Builder name, optionally with /config.", required=True)
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default ~/tensorflow_datasets).")
flags.DEFINE_string("manual_dir", None, "Directory holding manually downloaded files.")
flags.DEFINE_bool("overwrite", False, "Rebuild a dataset built from other input files "
                  "(default: stop and list what changed).")
FLAGS = flags.FLAGS


def build(dataset: str, data_dir: str | None = None, manual_dir: str | None = None,
          overwrite: bool = False):
  """The prepared builder of ``dataset``, checking a built one's inputs first."""
  try:
    built = pipeline.load_builder(dataset, data_dir)
  except pipeline.DatasetNotBuiltError:
    built = None
  current = (getattr(built, "input_fingerprint", lambda _: None)(manual_dir)
             if built is not None else None)
  if current is not None:
    fingerprint.check(built, current, overwrite)
  return pipeline.load_builder(dataset, data_dir, build_if_missing=True,
                               manual_dir=manual_dir)


def main(argv):
  del argv
  try:
    builder = build(FLAGS.dataset, FLAGS.data_dir, FLAGS.manual_dir, FLAGS.overwrite)
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  print(f"{FLAGS.dataset}: {builder.data_dir}")
  for name, split in builder.info.splits.items():
    print(f"  {name}: {split.num_examples} examples")


if __name__ == "__main__":
  app.run(main)
