r"""Attributions of a trained checkpoint on FASTA records, BED regions or a dataset split.

  python -m experiments.interpret --workdir=/tmp/deepsea --method=deeplift_shap \
      --fasta=seqs.fa --target=CTCF --out=/tmp/deepsea/attr
  python -m experiments.interpret --workdir=W --method=ism --bed=peaks.bed \
      --genome=hg38.fa --target=0 --out=DIR
  python -m experiments.interpret --workdir=W --method=integrated_gradients \
      --split=test --max_sequences=500 --target=3 --out=DIR

Methods (``genereg_jax.interpret`` documents each): ``saliency``, ``input_x_gradient``,
``integrated_gradients`` (zero baseline, ``--n_steps``), ``deeplift_shap``
(``--n_shuffles`` dinucleotide-shuffled references, ``--seed``) and ``ism`` (tangermeme's
summary of saturation mutagenesis). The explained scalar is the task prediction
``--output`` (needed when the model has several, e.g. Enformer's heads) at ``--target``
(a label/track name or an index; a bad one lists the valid ones), summed over positions
for coverage and profile outputs (``genereg_jax.interpret.readout``).

Writes to ``--out`` (a directory): ``attributions.npz`` with ``x`` (one-hot),
``attributions`` (``[N, L, 4]``, the contributions of the bases present) and, for
``deeplift_shap``, ``ism``, ``saliency`` and ``input_x_gradient``, ``hypothetical``
(every base's contribution, as TF-MoDISco reads them; the gradient for the two gradient
methods), float16 unless ``--float32``; ``records.tsv`` (one row per record: index,
its name or region, the prediction and the attribution sum); ``interpret.json``
(method, output, target and provenance); ``logos/top<k>_record<i>.png``, attribution
logos of the ``--logos`` windows of ``--logo_width`` bp with the largest summed
|attribution| (one per record). With ``--bigwig`` and ``--bed``, ``attributions.bw``
holds the per-base attribution (summed over bases) in genome coordinates, overlapping
windows averaged (chromosome sizes from the genome's FASTA index). With ``--modisco``
(methods with hypothetical contributions), TF-MoDISco patterns go to ``modisco.meme``,
``modisco_logos.png``, ``modisco.md`` and ``modisco_matches.tsv`` (JASPAR matches by
memelite's TomTom, the default, and the TomTom-like matcher;
``genereg_jax.interpret.modisco``). Sequences are fitted to the model's input length as
``predict`` does. A progress bar shows sequences/s.
"""

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS

METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "deeplift_shap", "ism")


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(config_required=False)
  flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "Which checkpoint.")
  flags.DEFINE_integer("step", None, "A specific checkpoint step (default: newest/best).")
  flags.DEFINE_enum("method", "deeplift_shap", list(METHODS), "Attribution method.")
  flags.DEFINE_string("fasta", None, "FASTA of sequences (any lengths).")
  flags.DEFINE_string("bed", None, "BED regions (needs --genome).")
  flags.DEFINE_string("genome", None, "Genome FASTA the --bed coordinates refer to.")
  flags.DEFINE_string("split", None, "A split of the config's dataset instead.")
  flags.DEFINE_integer("max_sequences", None, "At most this many sequences.", lower_bound=1)
  flags.DEFINE_string("output", None, "Which model output (default: the only one).")
  flags.DEFINE_string("target", None, "Label/track name or index to explain.",
                      required=True)
  flags.DEFINE_string("out", None, "Output directory.", required=True)
  flags.DEFINE_integer("batch_size", 8, "Sequences per call.", lower_bound=1)
  flags.DEFINE_integer("n_shuffles", 20, "deeplift_shap references per sequence.",
                       lower_bound=1)
  flags.DEFINE_integer("n_steps", 50, "integrated_gradients steps.", lower_bound=2)
  flags.DEFINE_integer("seed", 0, "Seed of the deeplift_shap shuffles.")
  flags.DEFINE_bool("float32", False, "Write float32 arrays instead of float16.")
  flags.DEFINE_bool("zero_missing_inputs", False,
                    "Feed zeros for model inputs other than the sequence.")
  flags.DEFINE_integer("logos", 5, "Attribution logos of this many top windows "
                       "(logos/*.png).", lower_bound=0)
  flags.DEFINE_integer("logo_width", 50, "bp per logo window.", lower_bound=5)
  flags.DEFINE_bool("modisco", False, "Run TF-MoDISco on the hypothetical contributions "
                    "and match its motifs to JASPAR (modisco.meme/.md, modisco_matches.tsv).")
  flags.DEFINE_enum("matcher", "tomtom", ["tomtom", "tomtom_like"],
                    "--modisco's default JASPAR matcher (both are reported).")
  flags.DEFINE_integer("modisco_min_seqlets", 100,
                       "Fewest seqlets of a sign that TF-MoDISco clusters.", lower_bound=1)
  flags.DEFINE_bool("bigwig", False, "With --bed: also write attributions.bw, the "
                    "per-base attribution (sum over bases; overlapping windows averaged).")


def _split_records(config, split: str, limit):
  import numpy as np
  from genereg_jax.predict import Record
  from genereg_jax.train import trainer
  source = trainer.load_split(config, split, trainer.heads(config)[0])
  count = len(source) if limit is None else min(limit, len(source))
  key = config.model_inputs[0]
  return [Record((str(i),), np.asarray(source[i][key])) for i in range(count)], ("index",)


def _attribute(method: str, fn, x, target: int):
  """``(attributions, hypothetical or None)`` for one batch."""
  from genereg_jax import interpret
  if method == "deeplift_shap":
    kwargs = dict(n_shuffles=FLAGS.n_shuffles, seed=FLAGS.seed)
    hypothetical = interpret.deeplift_shap(fn, x, target, hypothetical=True, **kwargs)
    return hypothetical * x, hypothetical
  if method == "ism":
    hypothetical = interpret.ism_attributions(fn, x, target, hypothetical=True)
    return hypothetical * x, hypothetical
  if method == "integrated_gradients":
    return interpret.integrated_gradients(fn, x, target, n_steps=FLAGS.n_steps), None
  gradient = interpret.saliency(fn, x, target)
  return (gradient, gradient) if method == "saliency" else (gradient * x, gradient)


def top_windows(attributions, count: int, width: int):
  """``(record, start)`` of the ``count`` windows of ``width`` bp with the largest
  summed |attribution|, at most one per record."""
  import numpy as np
  per_base = np.abs(np.asarray(attributions, np.float32).sum(-1))
  width = min(width, per_base.shape[1])
  sums = np.cumsum(np.pad(per_base, ((0, 0), (1, 0))), axis=1)
  windows = sums[:, width:] - sums[:, :-width]
  best = windows.argmax(axis=1)
  order = np.argsort(-windows[np.arange(len(best)), best], kind="stable")[:count]
  return [(int(i), int(best[i])) for i in order]


def _write_logos(attributions, records) -> None:
  import os
  from genereg_jax import plots
  os.makedirs(os.path.join(FLAGS.out, "logos"), exist_ok=True)
  for rank, (i, start) in enumerate(top_windows(attributions, FLAGS.logos,
                                                FLAGS.logo_width)):
    end = start + min(FLAGS.logo_width, attributions.shape[1])
    name = ":".join(map(str, records[i].ids))
    plots.attribution_logo(os.path.join(FLAGS.out, "logos", f"top{rank}_record{i}.png"),
                           attributions[i, start:end], start=start,
                           title=f"{name} [{start}, {end}) {FLAGS.method}")


def _write_bigwig(attributions, windows) -> None:
  import os
  from genereg_jax import predict
  predict.write_bigwig(os.path.join(FLAGS.out, "attributions.bw"),
                       predict.genome_sizes(FLAGS.genome), windows,
                       attributions.sum(-1))


def _write_modisco(arrays) -> None:
  from genereg_jax.interpret import filter_motifs
  from genereg_jax.interpret import modisco
  if "hypothetical" not in arrays:
    raise SystemExit(f"error: --modisco needs hypothetical contributions, which "
                     f"{FLAGS.method} does not give; use deeplift_shap or ism")
  patterns = modisco.run_modisco(arrays["x"], arrays["hypothetical"],
                                 min_metacluster_size=FLAGS.modisco_min_seqlets)
  jaspar = filter_motifs.load_jaspar()
  motifs = [p.motif for p in patterns]
  matches = {m: modisco.match_motifs(motifs, jaspar, m) for m in modisco.MATCHERS}
  background = arrays["x"].reshape(-1, 4).sum(0)
  paths = modisco.write_modisco_report(FLAGS.out, patterns, matches,
                                       default=FLAGS.matcher,
                                       background=background / max(background.sum(), 1))
  agreement = modisco.compare_matchers(matches["tomtom"], matches["tomtom_like"])
  print(f"TF-MoDISco: {len(patterns)} patterns -> {paths['report']}; tomtom_like agrees "
        f"with TomTom on {agreement['top1']:.0%} of best matches")


def main(argv):
  del argv
  import itertools
  import os

  import numpy as np
  from data_builders.intervals import BedFormatError
  from data_builders.intervals import FastaFormatError
  from genereg_jax import files
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  from genereg_jax.train import compile_cache
  from genereg_jax.train import reporting

  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = common.config_or_saved()
  compile_cache.setup(config.get("compilation_cache_dir"))
  sources = [FLAGS.fasta is not None, FLAGS.bed is not None, FLAGS.split is not None]
  if sum(sources) != 1:
    raise SystemExit("error: give one of --fasta, --bed (with --genome) or --split")
  if FLAGS.bigwig and FLAGS.bed is None:
    raise SystemExit("error: --bigwig needs --bed regions (genome coordinates)")
  try:
    if FLAGS.split is not None:
      records, id_columns = _split_records(config, FLAGS.split, FLAGS.max_sequences)
      inputs = ()
    else:
      opened = predict.open_records(predict.model_input_length(config), fasta=FLAGS.fasta,
                                    bed=FLAGS.bed, genome=FLAGS.genome)
      message = opened.report.message()
      if message:
        logging.warning("%s", message)
      records = list(itertools.islice(opened, FLAGS.max_sequences))
      id_columns, inputs = opened.id_columns, opened.inputs
      if FLAGS.bed is not None:
        windows = list(zip(opened.bed.chroms, opened.window_starts.tolist()))
      opened.close()
  except (FastaFormatError, BedFormatError, ValueError) as e:
    raise SystemExit(f"error: {e}") from None
  paths = {name: os.path.join(FLAGS.out, name)
           for name in ("attributions.npz", "records.tsv", "interpret.json")}
  for path in paths.values():
    files.check_output_path(path, *inputs)

  predictor, step = predict.load_predictor(config, FLAGS.workdir, FLAGS.checkpoint,
                                           FLAGS.step,
                                           zero_missing_inputs=FLAGS.zero_missing_inputs)
  try:
    model_readout = readout.predictor_readout(predictor, FLAGS.output)
    target = readout.resolve_target(model_readout.names, FLAGS.target)
  except ValueError as e:
    raise SystemExit(f"error: {e}") from None
  fn = model_readout.fn

  x_all, attr_all, hyp_all, predictions = [], [], [], []
  with reporting.progress_bar(len(records), desc=FLAGS.method, unit="seq") as bar:
    for start in range(0, len(records), FLAGS.batch_size):
      batch = records[start:start + FLAGS.batch_size]
      x = np.stack([r.sequence for r in batch]).astype(np.float32)
      rows = len(x)
      if rows < FLAGS.batch_size:  # One compiled shape: pad with copies of the last.
        x = np.concatenate([x, np.repeat(x[-1:], FLAGS.batch_size - rows, 0)])
      attributions, hypothetical = _attribute(FLAGS.method, fn, x, target)
      x_all.append(x[:rows])
      attr_all.append(np.asarray(attributions, np.float32)[:rows])
      if hypothetical is not None:
        hyp_all.append(np.asarray(hypothetical, np.float32)[:rows])
      predictions.append(np.asarray(fn(x), np.float32)[:rows, target])
      bar.update(rows)

  dtype = np.float32 if FLAGS.float32 else np.float16
  arrays = {"x": np.concatenate(x_all), "attributions": np.concatenate(attr_all)}
  if hyp_all:
    arrays["hypothetical"] = np.concatenate(hyp_all)
  predictions = np.concatenate(predictions)
  os.makedirs(FLAGS.out, exist_ok=True)
  with files.atomic_path(paths["attributions.npz"]) as tmp:
    with open(tmp, "wb") as f:
      np.savez(f, **{k: v.astype(dtype) for k, v in arrays.items()})
  sums = arrays["attributions"].sum(axis=(1, 2))
  with files.atomic_write(paths["records.tsv"]) as f:
    f.write("\t".join(["record", *id_columns, "prediction", "attribution_sum"]) + "\n")
    for i, (record, y, total) in enumerate(zip(records, predictions, sums)):
      f.write("\t".join([str(i), *map(str, record.ids), f"{y:.6g}", f"{total:.6g}"]) + "\n")
  files.write_json(paths["interpret.json"], {
      "method": FLAGS.method, "output": model_readout.output,
      "target": model_readout.names[target], "target_index": target,
      "records": len(records), "arrays": {k: list(v.shape) for k, v in arrays.items()},
      "dtype": np.dtype(dtype).name, "workdir": FLAGS.workdir,
      "checkpoint": FLAGS.checkpoint, "step": step})
  if FLAGS.logos:
    _write_logos(arrays["attributions"], records)
  if FLAGS.bigwig:
    _write_bigwig(arrays["attributions"], windows[:len(records)])
  if FLAGS.modisco:
    _write_modisco(arrays)
  print(f"{len(records)} records, {FLAGS.method} of {model_readout.output}"
        f"[{model_readout.names[target]}] from step {step} -> {FLAGS.out}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
