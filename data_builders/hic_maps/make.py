r"""Builds a ``hic_maps`` dataset (Akita targets) from contact matrices and a FASTA.

  python -m data_builders.hic_maps.make --name=akita_hg38 --fasta=hg38.ml.fa \
      --targets=targets.txt --resolution=2048 --seq_length=1048576 --crop_bins=32 \
      --valid=chr10 --test=chr8,chr9 --exclude=chrX,chrY,chrM --data_dir=/data/tfds

  python -m data_builders.hic_maps.make --name=hff --fasta=hg38.fa \
      --contacts=HFF:HFF.mcool --contacts=H1:H1hESC.hic --hic_normalization=KR \
      --windows=sequences.bed --data_dir=/data/tfds

writes ``<data_dir>/hic_maps/<name>/1.0.0`` (array_record) and prints the split sizes
and the training command; the dataset is then ``hic_maps/<name>``. ``--targets`` is
Akita's ``targets.txt`` (identifier, file, clip); ``--contacts`` lists ``NAME:path``
instead. Rerunning with the same ``--name`` reuses the dataset only if its inputs and
options are unchanged (``genereg_jax.data.fingerprint``); otherwise the command lists
what changed and stops, or rebuilds with ``--overwrite``.
"""

from __future__ import annotations

import sys

from absl import app
from absl import flags

from data_builders.hic_maps import hic_maps
from genereg_jax.data import fingerprint

flags.DEFINE_string("name", None, "Dataset config name, e.g. akita_hg38.", required=True)
flags.DEFINE_string("fasta", None, "Genome FASTA.", required=True)
flags.DEFINE_string("targets", None, "Akita targets.txt (identifier, file, clip).")
flags.DEFINE_multi_string("contacts", [], "NAME:file.{cool,mcool,hic}; repeat per target.")
flags.DEFINE_integer("resolution", 2048, "Bin size in bp (the resolution read).")
flags.DEFINE_string("hic_normalization", "KR", ".hic normalisation (KR, VC, SCALE, NONE).")
flags.DEFINE_integer("seq_length", 1_048_576, "bp per window.")
flags.DEFINE_integer("crop_bins", 32, "Map bins cropped per side.")
flags.DEFINE_integer("diagonal_offset", 2, "Diagonals left out of the triangle.")
flags.DEFINE_float("kernel_stddev", 0.0, "Gaussian smoothing sd in bins (0: none).")
flags.DEFINE_bool("mask_filtered_bins", True, "Filtered bins NaN (false: Akita's "
                  "interpolation).")
flags.DEFINE_float("max_filtered_fraction", 0.5, "Drop windows with more filtered bins.")
flags.DEFINE_string("windows", "", "BED of windows (chrom start end [split]); default: "
                    "tile the chromosomes.")
flags.DEFINE_integer("stride", 0, "Tiling stride in bp (default seq_length / 2).")
flags.DEFINE_list("valid", [], "Validation chromosomes.")
flags.DEFINE_list("test", [], "Test chromosomes.")
flags.DEFINE_list("exclude", [], "Chromosomes used in no split.")
flags.DEFINE_string("data_dir", None, "TFDS data_dir (default ~/tensorflow_datasets).")
flags.DEFINE_bool("overwrite", False, "Rebuild a dataset of this name built from other "
                  "inputs (default: stop and list what changed).")
FLAGS = flags.FLAGS


def config_from_flags() -> hic_maps.HicMapsConfig:
  """The builder config the command-line flags describe."""
  if bool(FLAGS.targets) == bool(FLAGS.contacts):
    raise ValueError("give either --targets=targets.txt or --contacts=NAME:path")
  targets = (hic_maps.read_targets_table(FLAGS.targets) if FLAGS.targets
             else tuple(hic_maps.parse_target(spec) for spec in FLAGS.contacts))
  return hic_maps.HicMapsConfig(
      name=FLAGS.name,
      description=(f"{len(targets)} contact map(s) at {FLAGS.resolution} bp, "
                   f"{FLAGS.seq_length}-bp windows."),
      fasta=FLAGS.fasta, targets=targets, resolution=FLAGS.resolution,
      hic_normalization=FLAGS.hic_normalization, seq_length=FLAGS.seq_length,
      crop_bins=FLAGS.crop_bins, diagonal_offset=FLAGS.diagonal_offset,
      kernel_stddev=FLAGS.kernel_stddev, mask_filtered_bins=FLAGS.mask_filtered_bins,
      max_filtered_fraction=FLAGS.max_filtered_fraction, windows_bed=FLAGS.windows,
      stride_bp=FLAGS.stride, valid_chroms=tuple(FLAGS.valid),
      test_chroms=tuple(FLAGS.test), exclude_chroms=tuple(FLAGS.exclude))


def input_fingerprint(config: hic_maps.HicMapsConfig) -> dict:
  """Fingerprint of the config's files (FASTA, matrices, windows) and options."""
  files = [config.fasta, *(t.path for t in config.targets),
           *([config.windows_bed] if config.windows_bed else [])]
  return fingerprint.fingerprint(files, fingerprint.config_options(config))


def main(argv):
  del argv
  try:
    config = config_from_flags()
    builder = fingerprint.prepare(
        lambda: hic_maps.HicMaps(config=config, data_dir=FLAGS.data_dir,
                                 file_format="array_record"),
        input_fingerprint(config), overwrite=FLAGS.overwrite)
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  metadata = builder.info.metadata
  print(f"hic_maps/{config.name}: {builder.data_dir}")
  for split, info in builder.info.splits.items():
    print(f"  {split}: {info.num_examples} examples {metadata['examples'].get(split)}")
  print(f"  targets: {metadata['target_names']}; {metadata['n_bins']} bins of "
        f"{metadata['bin_size']} bp, {metadata['n_pairs']} pairs")
  data_dir = f" --config.dataset.data_dir={FLAGS.data_dir}" if FLAGS.data_dir else ""
  print("train with:\n  python -m experiments.train --config=akita "
        f"--config.dataset.name=hic_maps/{config.name}{data_dir} --workdir=<workdir>")


if __name__ == "__main__":
  if any(a in ("-h", "--help", "--helpshort", "-?") for a in sys.argv[1:]):
    # absl exits 1 after --help; a help request is not an error.
    print(__doc__.strip() + "\n\n" + FLAGS.module_help(sys.modules[__name__]))
    sys.exit(0)
  app.run(main)
