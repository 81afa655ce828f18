r"""Builds a ``bpnet_profiles`` dataset from a FASTA, peaks and bigWigs.

  python -m data_builders.bpnet_profiles.make --name=mesc \
      --fasta=mm10.fa --peaks=Oct4.narrowPeak,Sox2.narrowPeak \
      --task=Oct4:Oct4.pos.bw,Oct4.neg.bw --task=Sox2:Sox2.pos.bw,Sox2.neg.bw \
      --control=patchcap.pos.bw,patchcap.neg.bw \
      --valid=chr2,chr3,chr4 --test=chr1,chr8,chr9 --exclude=chrX,chrY \
      --input_length=2114 --output_length=1000 --data_dir=/data/tfds

writes ``<data_dir>/bpnet_profiles/<name>/1.0.0`` (array_record) and prints
the split sizes, the read-depth statistics and the training command. The
dataset is then ``bpnet_profiles/<name>`` for ``--config.dataset.name``.
A task is ``NAME:plus.bw,minus.bw`` (stranded) or ``NAME:signal.bw``; the
file formats are described in ``bpnet_profiles.py``. Rerunning with the same
``--name`` reuses the dataset only if its inputs and options are unchanged (a
fingerprint in its metadata, ``genereg_jax.data.fingerprint``); otherwise the command
lists what changed and stops, or rebuilds with ``--overwrite``.

``--beam_options=--runner=DirectRunner,--direct_running_mode=multi_processing,--direct_num_workers=8``
reads the windows with Apache Beam instead, here in 8 processes, or on a Spark or Flink
cluster (``--beam_runner``, BUILD.md "Big builds"); the records are the same.
"""

from __future__ import annotations

import json

from absl import app
from absl import flags

from genereg_jax.data import fingerprint
from data_builders import sharded
from data_builders.bpnet_profiles import bpnet_profiles

flags.DEFINE_string("name", None, "Dataset config name, e.g. mesc.", required=True)
flags.DEFINE_string("fasta", None, "Genome FASTA.", required=True)
flags.DEFINE_list("peaks", None, "narrowPeak/BED files (comma-separated).",
                  required=True)
flags.DEFINE_multi_string("task", None, "NAME:plus.bw,minus.bw or NAME:signal.bw;"
                          " repeat per task.", required=True)
flags.DEFINE_list("control", [], "Control bigWigs: plus,minus (or one).")
flags.DEFINE_list("valid", [], "Validation chromosomes.")
flags.DEFINE_list("test", [], "Test chromosomes.")
flags.DEFINE_list("exclude", [], "Chromosomes used in no split.")
flags.DEFINE_integer("input_length", 2114, "Sequence bp per example.")
flags.DEFINE_integer("output_length", 1000, "Profile bp per example.")
flags.DEFINE_integer("max_jitter", 0, "Extra bp stored per side for jitter.")
flags.DEFINE_float("negative_ratio", 0.0, "GC-matched background windows per peak.")
flags.DEFINE_integer("gc_bins", 50, "GC bins for background matching.")
flags.DEFINE_enum("peak_format", "auto", list(bpnet_profiles.PEAK_FORMATS),
                  "Peak file format.")
flags.DEFINE_integer("seed", 0, "Seed of the background sampling.")
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default ~/tensorflow_datasets).")
flags.DEFINE_bool("overwrite", False, "Rebuild a dataset of this name built from other "
                  "inputs (default: stop and list what changed).")
flags.DEFINE_string("beam_runner", None, sharded.RUNNER_HELP)
flags.DEFINE_string("beam_options", None, sharded.OPTIONS_HELP)
FLAGS = flags.FLAGS


def config_from_flags() -> bpnet_profiles.BpnetProfilesConfig:
  """The builder config the command-line flags describe."""
  tasks = tuple(bpnet_profiles.parse_track_set(t) for t in FLAGS.task)
  return bpnet_profiles.BpnetProfilesConfig(
      name=FLAGS.name,
      description=(f"{len(tasks)} task(s) from {', '.join(FLAGS.peaks)}; "
                   f"{FLAGS.input_length} bp in, {FLAGS.output_length} bp out."),
      fasta=FLAGS.fasta, peaks=tuple(FLAGS.peaks), tasks=tasks,
      control=tuple(FLAGS.control), input_length=FLAGS.input_length,
      output_length=FLAGS.output_length, max_jitter=FLAGS.max_jitter,
      valid_chroms=tuple(FLAGS.valid), test_chroms=tuple(FLAGS.test),
      exclude_chroms=tuple(FLAGS.exclude), negative_ratio=FLAGS.negative_ratio,
      gc_bins=FLAGS.gc_bins, peak_format=FLAGS.peak_format, seed=FLAGS.seed)


def input_fingerprint(config: bpnet_profiles.BpnetProfilesConfig) -> dict:
  """Fingerprint of the config's files (FASTA, peaks, bigWigs) and options."""
  files = [config.fasta, *config.peaks, *config.control,
           *(path for task in config.tasks for path in task.bigwigs)]
  return fingerprint.fingerprint(files, fingerprint.config_options(config))


def main(argv):
  del argv
  config = config_from_flags()
  try:
    builder = fingerprint.prepare(
        lambda: bpnet_profiles.BpnetProfiles(config=config, data_dir=FLAGS.data_dir,
                                             file_format="array_record"),
        input_fingerprint(config), overwrite=FLAGS.overwrite,
        download_config=sharded.download_config(FLAGS.beam_runner, FLAGS.beam_options))
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  metadata = builder.info.metadata
  print(f"bpnet_profiles/{config.name}: {builder.data_dir}")
  for split, info in builder.info.splits.items():
    print(f"  {split}: {info.num_examples} examples "
          f"{metadata['examples'][split]}")
  print(f"  dropped peaks: {metadata['dropped_peaks']}")
  print(f"  tracks: {metadata['track_names']}")
  if "suggested_count_weight" in metadata:
    print("  count-loss weight (--config.task.count_weight): "
          + json.dumps(metadata["suggested_count_weight"]))
  data_dir = f" --config.dataset.data_dir={FLAGS.data_dir}" if FLAGS.data_dir else ""
  print("train with:\n  python -m experiments.train --config=bpnet_mesc "
        f"--config.dataset.name=bpnet_profiles/{config.name}{data_dir} "
        "--workdir=<workdir>")


if __name__ == "__main__":
  app.run(main)
