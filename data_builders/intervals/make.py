r"""Builds an ``intervals`` dataset from a FASTA and BED files, no code needed.

  python -m data_builders.intervals.make --fasta=hg38.fa \
      --bed=K562_CTCF.narrowPeak --bed=K562_DNase.narrowPeak \
      --window=600 --valid=chr7 --test=chr8,chr9 --name=k562 --data_dir=D

writes ``D/intervals/k562/1.0.0`` (array_record) and prints the split sizes
and the flags that train on it. ``--label_columns`` reads one BED whose 4th
and later columns are the labels instead. The dataset then loads by name like
any other: ``pipeline.load_builder("intervals/k562", "D")`` (TFDS reads a
config it does not know from the files), or ``--config.dataset.name=
intervals/k562`` in training.

The dataset's metadata records a fingerprint of the FASTA, the BEDs and every option
(``genereg_jax.data.fingerprint``): rerunning with the same ``--name`` reuses the dataset
only when they are unchanged; otherwise the command lists what changed and stops, or
rebuilds with ``--overwrite``.

``--beam_options=--runner=DirectRunner,--direct_running_mode=multi_processing,--direct_num_workers=8``
reads the chromosomes with Apache Beam instead, here in 8 processes, or on a Spark or
Flink cluster (``--beam_runner``, BUILD.md "Big builds"); the records are the same.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import tensorflow_datasets as tfds

from genereg_jax.data import fingerprint
from data_builders import sharded
from data_builders.intervals import intervals


def _chromosomes(text: str) -> tuple[str, ...]:
  return tuple(c.strip() for c in text.split(",") if c.strip())


def parser() -> argparse.ArgumentParser:
  """The command-line interface (one flag per ``IntervalsConfig`` field)."""
  p = argparse.ArgumentParser(
      prog="python -m data_builders.intervals.make",
      description="Build a TFDS dataset of genome windows labelled by BEDs.")
  p.add_argument("--fasta", required=True, help="Genome FASTA.")
  p.add_argument("--bed", action="append", required=True,
                 help="BED file; repeat for one label per file (peaks mode).")
  p.add_argument("--label_columns", action="store_true",
                 help="One BED whose 4th+ columns are the labels.")
  p.add_argument("--window", type=int, required=True, help="Window in bp.")
  p.add_argument("--valid", type=_chromosomes, default=(),
                 help="Comma-separated chromosomes of the valid split.")
  p.add_argument("--test", type=_chromosomes, default=(),
                 help="Comma-separated chromosomes of the test split.")
  p.add_argument("--name", required=True,
                 help="Config name: the dataset is intervals/<name>.")
  p.add_argument("--data_dir", default=None,
                 help="TFDS data_dir (default ~/tensorflow_datasets).")
  p.add_argument("--label_names", type=_chromosomes, default=None,
                 help="Comma-separated label names (default: BED stems or "
                      "the BED header).")
  p.add_argument("--label_center", type=int, default=None,
                 help="Peaks mode: central bp that set the labels "
                      "(default: the whole window).")
  p.add_argument("--min_overlap", type=int, default=1,
                 help="Peaks mode: bp of the centre a peak must cover.")
  p.add_argument("--negative_ratio", type=float, default=1.0,
                 help="Peaks mode: GC-matched background windows per positive.")
  p.add_argument("--gc_bins", type=int, default=20,
                 help="Peaks mode: GC bins for matching the background.")
  p.add_argument("--max_n_fraction", type=float, default=0.0,
                 help="Largest fraction of non-ACGT bases in a window.")
  p.add_argument("--seed", type=int, default=0, help="Background sampling seed.")
  p.add_argument("--description", default=None, help="Free-text description.")
  p.add_argument("--overwrite", action="store_true",
                 help="Rebuild a dataset of this name built from other inputs "
                      "(default: stop and list what changed).")
  p.add_argument("--beam_runner", default=None, help=sharded.RUNNER_HELP)
  p.add_argument("--beam_options", default=None, help=sharded.OPTIONS_HELP)
  return p


def config_from_args(args: argparse.Namespace) -> intervals.IntervalsConfig:
  """An ``IntervalsConfig`` with absolute paths, from parsed arguments."""
  return intervals.IntervalsConfig(
      name=args.name,
      description=args.description or (
          f"{args.window} bp windows of {os.path.basename(args.fasta)} "
          f"labelled by {', '.join(os.path.basename(b) for b in args.bed)}"),
      fasta=os.path.abspath(args.fasta),
      beds=tuple(os.path.abspath(b) for b in args.bed),
      label_columns=args.label_columns,
      window=args.window,
      valid_chromosomes=args.valid,
      test_chromosomes=args.test,
      label_names=args.label_names,
      label_center=args.label_center,
      min_overlap=args.min_overlap,
      negative_ratio=args.negative_ratio,
      gc_bins=args.gc_bins,
      max_n_fraction=args.max_n_fraction,
      seed=args.seed,
  )


def build(config: intervals.IntervalsConfig, data_dir: str | None = None,
          overwrite: bool = False, beam_runner: str | None = None,
          beam_options: str | None = None) -> tfds.core.DatasetBuilder:
  """Builds ``intervals/<config.name>`` into ``data_dir`` (array_record).

  An existing dataset of that name is reused when built from the same inputs and
  options, rebuilt when ``overwrite``, and refused (``ValueError``) otherwise. With
  ``beam_runner`` or ``beam_options`` it is built with Apache Beam
  (`data_builders.sharded.download_config`).
  """
  options = {**config.as_dict(), "label_names": config.label_names}
  return fingerprint.prepare(
      lambda: intervals.Intervals(config=config, data_dir=data_dir,
                                  file_format="array_record"),
      fingerprint.fingerprint([config.fasta, *config.beds], options),
      overwrite=overwrite, file_format="array_record",
      download_config=sharded.download_config(beam_runner, beam_options))


def main(argv: Sequence[str] | None = None) -> tfds.core.DatasetBuilder:
  """Parses ``argv``, builds, prints the splits and the training flags."""
  args = parser().parse_args(argv)
  try:
    config = config_from_args(args)
  except ValueError as e:
    parser().error(str(e))
  try:
    builder = build(config, args.data_dir, args.overwrite, args.beam_runner,
                    args.beam_options)
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  info = builder.info
  print(f"intervals/{config.name}: {builder.data_dir}")
  for name, split in info.splits.items():
    print(f"  {name}: {split.num_examples} windows")
  labels = info.metadata["label_names"]
  print(f"  {len(labels)} labels: {', '.join(labels[:10])}"
        + (" ..." if len(labels) > 10 else ""))
  data_dir_flag = (f" --config.dataset.data_dir={args.data_dir}"
                   if args.data_dir else "")
  print("Train on it with:\n  --config.dataset.name=intervals/"
        f"{config.name}{data_dir_flag} --config.dataset.build_if_missing=False"
        f" --config.model.num_outputs={len(labels)}")
  return builder


if __name__ == "__main__":
  main(sys.argv[1:])
