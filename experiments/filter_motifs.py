r"""First-layer filters of a trained model as motifs, matched against JASPAR.

  python -m experiments.filter_motifs --workdir=/tmp/deepsea_tiny
  python -m experiments.filter_motifs --workdir=W --split=test \
      --checkpoint=best --out_dir=W/motifs [--fasta=seqs.fa] \
      [--kernel_path=tower/ConvBlock_0/Conv_0]

Scans the split (or a FASTA) with the first convolution layer, collects for each filter
the windows responding above half its maximum (Basset/DanQ), and writes to
``--out_dir`` (default ``<workdir>/filter_motifs_<split>``): ``filters.meme`` (MEME
minimal format), ``filters.tsv``, ``matches.tsv`` (top matches in JASPAR CORE
vertebrates with TomTom-like p/E/q-values) and ``logos.png``. On datasets whose
metadata lists planted motifs (``synthetic_motifs``) it also reports how many of them
are recovered (``planted_motif_recovery.json``). ``genereg_jax.interpret.filter_motifs``
documents the method.
"""

import os

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(config_required=False)
  flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
  flags.DEFINE_integer("step", None, "A specific checkpoint step (default: newest/best).")
  flags.DEFINE_string("split", "test", "Dataset split to scan (unless --fasta).")
  flags.DEFINE_string("fasta", None, "Scan these sequences instead of a split.")
  flags.DEFINE_integer("max_sequences", None, "Scan at most this many sequences.",
                       lower_bound=1)
  flags.DEFINE_string("kernel_path", None, "Conv layer in the params tree, e.g. "
                      "tower/ConvBlock_0/Conv_0 (default: first conv reading DNA).")
  flags.DEFINE_float("threshold_fraction", 0.5, "Fraction of a filter's maximum a "
                     "window must exceed.", lower_bound=0.0, upper_bound=1.0)
  flags.DEFINE_bool("both_strands", False, "Also scan reverse complements.")
  flags.DEFINE_string("out_dir", None, "Output directory.")
  flags.DEFINE_integer("top_k", 5, "Matches per filter in matches.tsv.", lower_bound=1)
  flags.DEFINE_enum("metric", "pcc", ["pcc", "ed"], "Column similarity.")
  flags.DEFINE_integer("min_overlap", 5, "Fewest aligned columns.", lower_bound=1)
  flags.DEFINE_integer("num_shuffles", 20, "Column shuffles of every target in the null.",
                       lower_bound=1)
  flags.DEFINE_float("trim_bits", 0.25, "Trim filter flanks below this information "
                     "(bits) before matching.")
  flags.DEFINE_string("jaspar_release", None, "JASPAR release (default: pyjaspar's).")
  flags.DEFINE_string("jaspar_collection", "CORE", "JASPAR collection.")
  flags.DEFINE_string("tax_group", "vertebrates", "JASPAR taxonomic group ('' = all).")
  flags.DEFINE_integer("batch_size", 256, "Sequences per batch.", lower_bound=1)
  flags.DEFINE_bool("logos", True, "Draw logos.png.")


def _split_batches(source, key: str, batch_size: int, limit: int | None):
  import numpy as np
  count = len(source) if limit is None else min(limit, len(source))

  def batches():
    for start in range(0, count, batch_size):
      yield np.stack([np.asarray(source[i][key])
                      for i in range(start, min(start + batch_size, count))])

  return batches, count


def _fasta_batches(path: str, batch_size: int, limit: int | None):
  import numpy as np
  from data_builders.intervals import Genome
  from genereg_jax.data import encoding
  genome = Genome(path)
  names = list(genome.sizes)[:limit]

  def batches():
    for start in range(0, len(names), batch_size):
      chunk = [encoding.one_hot_dna(genome.sequence(n).tobytes())
               for n in names[start:start + batch_size]]
      padded = np.zeros((len(chunk), max(len(c) for c in chunk), 4), np.uint8)
      for row, one_hot in zip(padded, chunk):  # N-padding never forms a site.
        row[:len(one_hot)] = one_hot
      yield padded

  return batches, len(names)


def main(argv):
  del argv
  from data_builders.intervals import FastaFormatError
  from genereg_jax.interpret import filter_motifs
  from genereg_jax.train import reporting
  from genereg_jax.train import trainer

  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = common.config_or_saved()
  metadata = {}
  try:
    if FLAGS.fasta:
      batches, count = _fasta_batches(FLAGS.fasta, FLAGS.batch_size, FLAGS.max_sequences)
    else:
      source = trainer.load_split(config, FLAGS.split, trainer.heads(config)[0])
      metadata = source.metadata
      batches, count = _split_batches(source, config.model_inputs[0], FLAGS.batch_size,
                                      FLAGS.max_sequences)
  except FastaFormatError as e:
    raise SystemExit(f"error: {e}") from None
  _, state, _ = trainer.restore_for_eval(config, FLAGS.workdir, FLAGS.checkpoint, FLAGS.step)
  try:
    filters = filter_motifs.find_conv_filters(state.params, FLAGS.kernel_path)
  except (KeyError, ValueError) as e:
    raise SystemExit(f"error: {e.args[0]}") from None
  logging.info("filters: %s, %d of width %d", filters.path, filters.num_filters,
               filters.width)
  matcher = filter_motifs.MotifMatcher(
      filter_motifs.load_jaspar(FLAGS.jaspar_collection, FLAGS.tax_group or None,
                                FLAGS.jaspar_release),
      metric=FLAGS.metric, min_overlap=FLAGS.min_overlap, num_shuffles=FLAGS.num_shuffles)
  out_dir = FLAGS.out_dir or os.path.join(
      FLAGS.workdir, "filter_motifs_" + ("fasta" if FLAGS.fasta else FLAGS.split))
  report = filter_motifs.analyse_filters(
      filters, batches, out_dir, matcher=matcher,
      threshold_fraction=FLAGS.threshold_fraction, both_strands=FLAGS.both_strands,
      trim_bits=FLAGS.trim_bits, top_k=FLAGS.top_k, logos=FLAGS.logos,
      num_sequences=count, progress_bar=reporting.progress_bar)
  fired = sum(m is not None for m in report.motifs)
  significant = sum(1 for ms in report.matches.values() if ms and ms[0].q_value <= 0.05)
  print(f"{fired} of {filters.num_filters} filters fired on {count} sequences; "
        f"{significant} match a JASPAR motif at q <= 0.05. Files: "
        + ", ".join(report.files.values()))
  planted = metadata.get("motifs")
  if planted:
    truth = {name: m["matrix_id"].split(".")[0] for name, m in planted.items()}
    summary = {}
    for label, kwargs in {"top1": dict(top_k=1), f"top{FLAGS.top_k}": dict(top_k=FLAGS.top_k),
                          "top1_q05": dict(top_k=1, max_q=0.05),
                          "top1_family": dict(top_k=1, family_level=True)}.items():
      found = filter_motifs.recovered(report.matches, truth, **kwargs)
      summary[label] = {name: filters_ for name, filters_ in found.items() if filters_}
      print(f"planted motifs recovered ({label}): {len(summary[label])} of {len(truth)}: "
            + ", ".join(sorted(summary[label])))
    from genereg_jax import files
    files.write_json(os.path.join(out_dir, "planted_motif_recovery.json"),
                     {"truth": truth, **summary})


if __name__ == "__main__":
  define_flags()
  common.run(main)
