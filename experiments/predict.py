r"""Predicts a trained checkpoint on FASTA records or BED regions; writes TSV (+ .npy).

  python -m experiments.predict --workdir=/tmp/deepsea --fasta=seqs.fa --out=preds.tsv \
      [--checkpoint=best] [--reverse_complement_average]
  python -m experiments.predict --workdir=/tmp/deepsea --bed=peaks.bed --genome=hg38.fa \
      --out=preds.tsv

The config is the one saved in the workdir unless ``--config`` is given (it must then
describe the same model). One TSV row per record (``name``, or ``chrom start end`` for BED) with one column per
label; outputs with more than one axis per example (coverage tracks, profiles, one per
Enformer head) go to ``<out stem>.<output>.npy`` beside it, and ``<out stem>.json``
describes them. With ``--bigwig`` (BED input), every positional output's tracks are also
written as bigWig (``<out stem>.<output>.<track>.bw``) for IGV or the UCSC browser.
Sequences are centre-cropped or N-padded to the model's input length
(BED regions are re-centred in the genome instead) with a warning saying how many;
``genereg_jax.predict`` has the details. A progress bar shows sequences/s and the ETA.
"""

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(config_required=False)
  flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
  flags.DEFINE_integer("step", None, "A specific checkpoint step (default: newest/best).")
  flags.DEFINE_string("fasta", None, "FASTA of sequences to predict (any lengths).")
  flags.DEFINE_string("bed", None, "BED regions to predict (needs --genome).")
  flags.DEFINE_string("genome", None, "Genome FASTA the --bed coordinates refer to.")
  flags.DEFINE_string("out", None, "Output TSV; .npy/.json files go beside it.",
                      required=True)
  flags.DEFINE_bool("reverse_complement_average", False,
                    "Average predictions of both strands.")
  flags.DEFINE_integer("batch_size", 64, "Sequences per model call.", lower_bound=1)
  flags.DEFINE_bool("zero_missing_inputs", False,
                    "Feed zeros for model inputs other than the sequence (e.g. BPNet's "
                    "control tracks).")
  flags.DEFINE_bool("bigwig", False,
                    "With --bed: also write <out stem>.<output>.<track>.bw, each "
                    "positional output's tracks in genome coordinates (overlapping "
                    "windows averaged; chromosome sizes from the genome's FASTA index).")
  flags.DEFINE_integer("bigwig_bin_size", None,
                       "bp per output bin for --bigwig (default: input length / bins, "
                       "i.e. outputs that span the whole input; give the pool width "
                       "for cropped outputs such as Enformer's 128).", lower_bound=1)


def main(argv):
  del argv
  from data_builders.intervals import BedFormatError
  from data_builders.intervals import FastaFormatError
  from genereg_jax import predict
  from genereg_jax.train import compile_cache
  from genereg_jax.train import reporting
  input_errors = (FastaFormatError, BedFormatError)

  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = common.config_or_saved()
  compile_cache.setup(config.get("compilation_cache_dir"))
  if (FLAGS.fasta is None) == (FLAGS.bed is None):
    raise SystemExit("error: give either --fasta or --bed (with --genome)")
  if FLAGS.bigwig and FLAGS.bed is None:
    raise SystemExit("error: --bigwig needs --bed regions (genome coordinates)")
  if FLAGS.bed is not None and FLAGS.genome is None:
    raise SystemExit(f"error: --bed {FLAGS.bed} needs --genome, the FASTA its "
                     "coordinates refer to")
  # Inputs are read (and checked) before the slower checkpoint restore.
  try:
    records = predict.open_records(predict.model_input_length(config),
                                   fasta=FLAGS.fasta, bed=FLAGS.bed, genome=FLAGS.genome)
  except input_errors as e:
    raise SystemExit(f"error: {e}") from None
  predictor, step = predict.load_predictor(
      config, FLAGS.workdir, FLAGS.checkpoint, FLAGS.step,
      reverse_complement_average=FLAGS.reverse_complement_average,
      zero_missing_inputs=FLAGS.zero_missing_inputs)
  try:
    summary = predict.predict_to_files(
        predictor, records, FLAGS.out, batch_size=FLAGS.batch_size,
        provenance={"workdir": FLAGS.workdir, "checkpoint": FLAGS.checkpoint, "step": step})
  except input_errors as e:  # A bad letter found while reading a record.
    raise SystemExit(f"error: {e}") from None
  arrays = "".join(f", {name} -> {a['file']} {tuple(a['shape'])}"
                   for name, a in summary["arrays"].items())
  if FLAGS.bigwig:
    written = predict.write_prediction_bigwigs(
        FLAGS.out, {name: a["file"] for name, a in summary["arrays"].items()},
        lambda name, size: summary["arrays"][name]["last_axis_names"],
        predict.genome_sizes(FLAGS.genome),
        list(zip(records.bed.chroms, records.window_starts.tolist())),
        summary["input_length"], FLAGS.bigwig_bin_size)
    arrays += f", {len(written)} bigWig tracks"
  print(f"{summary['records']} records from step {step} -> {FLAGS.out} "
        f"({len(summary['columns'])} columns){arrays}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
