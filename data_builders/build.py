r"""Builds a dataset into ``data_dir`` (array_record) with progress bars.

  python -m data_builders.build --dataset=synthetic_motifs/default
  python -m data_builders.build --dataset=deepsea --manual_dir=/data/deepsea_train
"""

from absl import app
from absl import flags

from genereg_jax.data import pipeline

flags.DEFINE_string("dataset", None, "Builder name, optionally with /config.", required=True)
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default ~/tensorflow_datasets).")
flags.DEFINE_string("manual_dir", None, "Directory holding manually downloaded files.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  builder = pipeline.load_builder(FLAGS.dataset, FLAGS.data_dir, build_if_missing=True,
                                  manual_dir=FLAGS.manual_dir)
  print(f"{FLAGS.dataset}: {builder.data_dir}")
  for name, split in builder.info.splits.items():
    print(f"  {name}: {split.num_examples} examples")


if __name__ == "__main__":
  app.run(main)
