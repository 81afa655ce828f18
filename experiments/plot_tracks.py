r"""Predicted vs observed tracks per BED region, from what ``experiments.predict`` wrote.

  python -m experiments.predict --workdir=W --bed=regions.bed --genome=hg38.fa \
      --out=preds.tsv
  python -m experiments.plot_tracks --predictions=preds.tsv --bed=regions.bed \
      --genome=hg38.fa --out=plots [--observed=dnase.bw,ctcf.bw --tracks=DNase,CTCF] \
      [--output=human] [--format=svg]

For every positional output of a coverage or profile model (``[records, bins,
tracks]`` in ``preds.<output>.npy``, described by ``preds.json``), one figure per
region (``genereg_jax.plots.tracks``): a panel per track, the prediction as a line and,
with ``--observed``, the observed bigWig's mean over each bin filled grey under it
(one bigWig per plotted track, in ``--tracks`` order). Bins are centred on the
region's input window as ``predict --bigwig`` places them (``bin_size`` = input length
/ bins unless ``--bin_size``). Files: ``<out>/<output>.<chrom>_<start>_<end>.<format>``.
"""

from __future__ import annotations

from absl import flags

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  flags.DEFINE_string("predictions", None, "The TSV predict --bed wrote (its .json and "
                      ".npy files beside it).", required=True)
  flags.DEFINE_string("bed", None, "The BED regions given to predict.", required=True)
  flags.DEFINE_string("genome", None, "The genome FASTA given to predict.", required=True)
  flags.DEFINE_string("out", None, "Output directory.", required=True)
  flags.DEFINE_string("output", None, "Which positional output (default: every one).")
  flags.DEFINE_list("tracks", None, "Track names or indices to plot (default: all).")
  flags.DEFINE_list("observed", None, "bigWig files, one per plotted track.")
  flags.DEFINE_integer("bin_size", None, "bp per output bin (default: input length / "
                       "bins).", lower_bound=1)
  flags.DEFINE_enum("format", "png", ["png", "svg"], "Figure format.")


def observed_bins(bigwig, chrom: str, start: int, bins: int, bin_size: int):
  """Mean of an open pyBigWig over ``bins`` bins of ``bin_size`` bp from ``start``;
  bins off the chromosome or without data are 0."""
  import numpy as np
  size = bigwig.chroms().get(chrom)
  values = np.zeros(bins)
  if size is None:
    return values
  for b in range(bins):
    lo, hi = max(start + b * bin_size, 0), min(start + (b + 1) * bin_size, size)
    if hi > lo:
      mean = bigwig.stats(chrom, lo, hi, type="mean")[0]
      values[b] = 0.0 if mean is None else mean
  return values


def _track_indices(names, wanted) -> list[int]:
  if not wanted:
    return list(range(len(names)))
  indices = []
  for item in wanted:
    if item in names:
      indices.append(names.index(item))
    elif item.lstrip("-").isdigit() and -len(names) <= int(item) < len(names):
      indices.append(int(item) % len(names))
    else:
      raise SystemExit(f"error: unknown track {item!r}; valid: {', '.join(names)}")
  return indices


def main(argv):
  del argv
  import contextlib
  import json
  import os

  import numpy as np
  import pyBigWig
  from genereg_jax import plots
  from genereg_jax import predict

  with open(f"{predict.output_stem(FLAGS.predictions)}.json") as f:
    summary = json.load(f)
  arrays = {name: a for name, a in summary["arrays"].items()
            if FLAGS.output in (None, name) and len(a["shape"]) in (2, 3)}
  if not arrays:
    named = f" named {FLAGS.output!r}" if FLAGS.output else ""
    raise SystemExit(f"error: {FLAGS.predictions} has no positional output{named}; "
                     f"outputs with .npy files: {', '.join(summary['arrays']) or 'none'}")
  regions = predict.BedRegions(FLAGS.bed, FLAGS.genome, summary["input_length"])
  regions.close()
  if len(regions) != summary["records"]:
    raise SystemExit(f"error: {FLAGS.bed} has {len(regions)} regions, the predictions "
                     f"{summary['records']} records")
  os.makedirs(FLAGS.out, exist_ok=True)
  written = 0
  with contextlib.ExitStack() as stack:
    observed = [stack.enter_context(contextlib.closing(pyBigWig.open(path)))
                for path in FLAGS.observed or ()]
    for name, info in arrays.items():
      predictions = np.load(info["file"], mmap_mode="r")
      if predictions.ndim == 2:
        predictions = predictions[..., None]
      names = list(info["last_axis_names"])[:predictions.shape[2]]
      tracks = _track_indices(names, FLAGS.tracks)
      if observed and len(observed) != len(tracks):
        raise SystemExit(f"error: {len(observed)} --observed bigWigs for {len(tracks)} "
                         "tracks; give one per plotted track")
      bins = predictions.shape[1]
      bin_size = FLAGS.bin_size or summary["input_length"] // bins
      offset = (summary["input_length"] - bins * bin_size) // 2
      for i, chrom in enumerate(regions.bed.chroms):
        start = int(regions.window_starts[i]) + offset
        truth = (np.stack([observed_bins(bw, str(chrom), start, bins, bin_size)
                           for bw in observed], -1) if observed else None)
        label = f"{chrom}_{regions.bed.starts[i]}_{regions.bed.ends[i]}"
        plots.tracks(os.path.join(FLAGS.out, f"{name.replace('/', '_')}.{label}."
                                  f"{FLAGS.format}"),
                     predictions[i][:, tracks], truth, names=[names[t] for t in tracks],
                     start=start, bin_size=bin_size,
                     title=f"{name} {chrom}:{regions.bed.starts[i]}-{regions.bed.ends[i]}")
        written += 1
  print(f"{written} track plots ({len(arrays)} outputs x {len(regions)} regions) -> "
        f"{FLAGS.out}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
