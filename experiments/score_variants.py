r"""Scores VCF variants with any trained model, or with SpliceAI-10k as ``spliceai`` does.

  python -m experiments.score_variants --workdir=W --vcf=in.vcf.gz --fasta=genome.fa \
      --out=DIR [--config=NAME] [--scores=SAD,logSAD] [--tracks=names|indices] \
      [--reverse_complement_average] [--batch_size 64] [--vcf_top 3] \
      [--format=tsv|parquet|both] [--gtf=genes.gtf.gz] [--save_bins=ids.txt]

scores every record x ALT with the workdir's checkpoint (the config saved there unless
``--config`` is given): REF/ALT windows of the model's input length centred on the
variant, SNVs and indels, ``chr1``/``1`` names mapped, multi-ALT records split. Scores
(`genereg_jax.variants.scoring`): ``diff``, ``log_odds_diff`` (probabilities),
``SAD``, ``logSAD``/``SED``, ``max_abs_diff`` (coverage), ``log_count_diff``, ``JSD``
(profiles); by default those that fit each output. ``DIR`` gets ``scores.tsv`` (one row
per variant x ALT), ``scores.h5`` (float16 ``[variants, tracks]`` per output and score),
``issues.tsv`` (every record not scored, with line and reason) and with ``--vcf_top`` a
``scores.vcf.gz`` with the top tracks in INFO; ``--format=parquet`` (or ``both``) writes
the table as ``scores.parquet``. ``--gtf`` scores positional outputs per gene over the
bins overlapping its exons (Borzoi's SED; one row per variant x ALT x gene), and
``--save_bins`` (a file of VCF IDs or ``chrom:pos:ref:alt``, one per line, or a
comma-separated list) keeps those variants' per-bin REF/ALT predictions in ``bins.h5``. Work is saved per chunk of records under
``DIR/parts``; rerunning the same command after an interruption continues after the last
written chunk. On several processes (``--jax_distributed`` where JAX finds the cluster
itself, or ``--coordinator_address=HOST:PORT --num_processes=N --process_id=I``) each
process scores its share of the chunks (chunk ``i`` on process ``i % N``) on its own
devices, and process 0 merges them once all are written.

SpliceAI mode (no ``--workdir``):

  python -m experiments.score_variants --config=spliceai_10k --vcf in.vcf \
      --fasta genome.fa --annotation grch38 --out out.vcf [--distance 50] [--mask 0|1] \
      [--batch_size 1] [--region_span 2048] [--all_snvs chr1:10000-20000]

is ``spliceai -I in.vcf -O out.vcf -R genome.fa -A grch38 -D 50 -M 0`` (Jaganathan et
al., Cell 2019) on the Flax port of the five released models, batched and jitted
(`genereg_jax.variants.spliceai_scoring` lists the few deliberate differences).
``--annotation`` is ``grch38`` / ``grch37`` (the gene tables inside the ``spliceai``
package), a table in their format, or a GENCODE/Ensembl GTF (principal transcripts of
protein-coding genes). ``--out`` ending in ``.gz`` is written as BGZF (tabix-ready).
Records of one gene within ``--region_span`` bases share one REF pass (one window of
10,101 + span nt) instead of one REF window each: about 2x fewer windows on dense VCFs,
scores equal to float rounding (0 turns it off). The ALT of an SNV is then computed
only on each layer's receptive cone over the stored REF layers of that pass
(`genereg_jax.nn.cone`; ``--nosnv_cone`` runs whole ALT windows); indels run whole
windows. Compiled programs are kept in ``--compilation_cache`` (default
``$JAX_COMPILATION_CACHE_DIR`` or ``~/.cache/genereg_jax/xla``), so compilation is paid
once per machine. ``--all_snvs chrom:start-end`` instead of ``--vcf`` scores every SNV
of the region (3 per base) into ``--out``, only records inside genes, as the published
precomputed SpliceAI files.

Every input line is written out. Records (or alleles) left unscored are listed with
line number and reason in ``--log`` (default ``<out>.issues.tsv``); input problems
(malformed records, reference mismatches, unknown chromosomes) are also printed as
warnings. A progress bar shows variants/s and the ETA. The inputs are checked before
the model loads (an ``--out`` or ``--log`` that is an input is refused, the VCF header
is read), and both outputs appear only when complete.
"""

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(workdir_required=False, config_required=False)
  flags.DEFINE_string("vcf", None, "Input VCF (plain, gzip or bgzip); required unless "
                      "--all_snvs.")
  flags.DEFINE_string("fasta", None, "Reference genome FASTA the VCF was called on.",
                      required=True)
  flags.DEFINE_string("annotation", None,
                      "SpliceAI mode: grch38, grch37, a SpliceAI-format gene table or a "
                      "GTF.")
  flags.DEFINE_string("out", None, "Output folder (with --workdir), or the output VCF "
                      "(.gz for BGZF) in SpliceAI mode.", required=True)
  flags.DEFINE_list("scores", None, "With --workdir: scores to compute (default: those "
                    "that fit each output).")
  flags.DEFINE_string("tracks", None, "With --workdir: tracks for the TSV columns, names "
                      "or indices, comma-separated (default: the top track per score).")
  flags.DEFINE_bool("reverse_complement_average", False,
                    "With --workdir: average predictions of both strands.")
  flags.DEFINE_integer("resolution", None, "With --workdir: bases per bin of positional "
                       "outputs (default: input length / bins if it divides, else 1).",
                       lower_bound=1)
  flags.DEFINE_integer("vcf_top", 0, "With --workdir: also write DIR/scores.vcf.gz with "
                       "this many top tracks in INFO.", lower_bound=0)
  flags.DEFINE_enum("format", "tsv", ["tsv", "parquet", "both"], "With --workdir: the "
                    "score table as scores.tsv, scores.parquet or both.")
  flags.DEFINE_string("gtf", None, "With --workdir: GENCODE/Ensembl GTF (.gz); positional "
                      "scores per gene over its exon bins (SED), a row per variant x gene.")
  flags.DEFINE_string("save_bins", None, "With --workdir: variants whose per-bin REF/ALT "
                      "predictions go to bins.h5: a file of VCF IDs or chrom:pos:ref:alt, "
                      "one per line, or a comma-separated list.")
  common.define_distributed_flags("With --workdir: ")
  flags.DEFINE_enum("checkpoint", "latest", ["latest", "best"], "With --workdir: which "
                    "checkpoint.")
  flags.DEFINE_integer("distance", 50, "Largest distance between the variant and a "
                       "gained/lost splice site (0-4999).", lower_bound=0, upper_bound=4999)
  flags.DEFINE_enum("mask", "0", ["0", "1"], "1 masks gains of annotated and losses of "
                    "unannotated splice sites.")
  # 1 is the fastest on CPU (ensemble windows/s, interleaved A/B: batch 1 0.47-0.54,
  # batch 32 0.35-0.36 loaded; issue 12 quiet: 1.98 vs 1.58-1.67); on an accelerator
  # pass a larger batch.
  flags.DEFINE_integer("batch_size", None, "Windows per model call (default 1 in SpliceAI "
                       "mode, 64 with --workdir).", lower_bound=1)
  flags.DEFINE_integer("chunk_records", 512, "Records read and scored together.",
                       lower_bound=1)
  # Shared REF passes, on the benchmark's VCF (SpliceAI-10k, batch 1, A/B interleaved
  # in one process, 2 cores shared, load 1.4-4.6): 24 records 44 -> 23 windows, 48
  # records 92 -> 47; time ratios of the four pairs 2.12, 1.96, 1.15, 1.92 (median
  # 1.94x); max |dDS| 3e-8, all 272 DP identical. The extra 12,149-nt shape compiles
  # once (~1.5 s); one such pass costs 1.10 s against 0.83 s for a 10,101-nt window.
  flags.DEFINE_integer("region_span", 2048, "SpliceAI mode: records of one gene within "
                       "this many bases share one REF pass (0 or a power of two; 0: one "
                       "REF window per record).", lower_bound=0)
  flags.DEFINE_string("log", None, "TSV of unscored records (default <out>.issues.tsv).")
  flags.DEFINE_string("all_snvs", None, "SpliceAI mode, instead of --vcf: score every "
                      "SNV (3 per base) of the region chrom:start-end (1-based, "
                      "inclusive) into --out, as the published precomputed scores.")
  flags.DEFINE_bool("snv_cone", True, "SpliceAI mode: compute SNV ALTs only on each "
                    "layer's receptive cone over the stored REF layers (same scores; "
                    "indels always run whole windows).")
  flags.DEFINE_string("compilation_cache", None,
                      "JAX persistent compilation cache folder, so a machine compiles "
                      "the model once, not once per run (default: the config's "
                      "compilation_cache_dir, normally $XDG_CACHE_HOME/genereg_jax/xla; "
                      "'' turns it off).")


def _setup_compilation_cache(config) -> None:
  """``--compilation_cache``, else the config's folder (`genereg_jax.train.compile_cache`)."""
  from genereg_jax.train import compile_cache
  compile_cache.setup(config.get("compilation_cache_dir") if FLAGS.compilation_cache is None
                      else FLAGS.compilation_cache)


def load_official_predictor(config, cone_distance: int | None = None):
  """The five released SpliceAI-10k models averaged, checked against the config.

  Returns ``(predictor, context, cone)``: with ``cone_distance`` a
  `spliceai_scoring.ConeEnsemble` for SNV ALTs at that distance, else None.
  """
  from genereg_jax.models import spliceai
  from genereg_jax.train import trainer
  from genereg_jax.variants import spliceai_scoring
  model = trainer.build_model(config)
  ensemble = spliceai.SpliceAIEnsemble()
  geometry = lambda m: (m.channels, tuple(m.kernel_sizes), tuple(m.dilations),
                        tuple(m.units_per_group))
  if not isinstance(model, spliceai.SpliceAI) or geometry(model) != geometry(ensemble):
    raise SystemExit(
        f"error: the official weights are SpliceAI-10k; config model {config.model_name!r} "
        f"(preset {config.get('model_preset')!r}) is a different network. Use "
        "--config=spliceai_10k.")
  variables = spliceai.load_official_weights(None)
  cone = None if cone_distance is None else spliceai_scoring.ConeEnsemble(
      spliceai.SpliceAI(**spliceai.PRESETS["10k"]), variables, cone_distance)
  return spliceai_scoring.Predictor(ensemble, variables), model.context, cone


def score_with_workdir() -> None:
  """The generic mode: any trained model's variant-effect scores into --out/."""
  import jax
  from genereg_jax import predict
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.train import reporting
  from genereg_jax.variants import scoring
  from genereg_jax.variants import vcf

  reporting.quiet_library_logs()
  common.initialize_distributed()
  config = common.config_or_saved()
  _setup_compilation_cache(config)
  try:
    total = vcf.count_records(FLAGS.vcf)
    genes = scoring.GeneExons(FLAGS.gtf) if FLAGS.gtf else None
    save_bins = scoring.read_variant_list(FLAGS.save_bins) if FLAGS.save_bins else None
    genome = genome_lib.Genome(FLAGS.fasta)
  except (ValueError, OSError) as e:  # InputFormatError is a ValueError.
    raise SystemExit(f"error: {e}") from None
  predictor, step = predict.load_predictor(
      config, FLAGS.workdir, FLAGS.checkpoint,
      reverse_complement_average=FLAGS.reverse_complement_average)
  try:
    scorer = scoring.Scorer(predictor, genome, FLAGS.scores,
                            batch_size=FLAGS.batch_size or 64, resolution=FLAGS.resolution,
                            genes=genes, save_bins=save_bins)
    with reporting.progress_bar(total, desc="scoring", unit="variant") as progress:
      counts = scoring.score_vcf(scorer, FLAGS.vcf, FLAGS.out,
                                 chunk_records=FLAGS.chunk_records,
                                 process_index=jax.process_index(),
                                 process_count=jax.process_count(), progress=progress)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      multihost_utils.sync_global_devices("score_variants parts written")
    if jax.process_index() == 0:
      summary = scoring.merge(FLAGS.out, output_names=predictor.output_names,
                              tracks=FLAGS.tracks, vcf_top=FLAGS.vcf_top,
                              vcf_path=FLAGS.vcf,
                              formats=(("tsv", "parquet") if FLAGS.format == "both"
                                       else (FLAGS.format,)))
  except ValueError as e:
    raise SystemExit(f"error: {e}") from None
  finally:
    genome.close()
  if jax.process_index() == 0:
    print(f"{FLAGS.out}: {summary['variants']} variant x ALT rows from step {step} "
          f"({counts['chunks']} chunks scored now, {counts['skipped']} found done; "
          f"{scorer.num_windows} windows), {summary['issues']} records or ALTs not "
          f"scored (issues.tsv); scores {', '.join(summary['scores'])}"
          + (f"; per-bin predictions of {summary['bins']} in bins.h5" if summary["bins"]
             else ""))


def main(argv):
  del argv
  if (FLAGS.vcf is None) == (FLAGS.all_snvs is None or FLAGS.workdir is not None):
    raise SystemExit("error: give --vcf (or, in SpliceAI mode, --all_snvs chrom:start-end "
                     "instead)")
  if FLAGS.workdir is not None:
    logging.set_verbosity(logging.INFO)
    score_with_workdir()
    return
  if FLAGS.config is None or FLAGS.annotation is None:
    raise SystemExit("error: give --workdir (a trained model), or --config=spliceai_10k "
                     "with --annotation (SpliceAI mode)")
  from genereg_jax import files
  from genereg_jax.data import gene_annotation
  from genereg_jax.train import reporting
  from genereg_jax.variants import spliceai_scoring

  logging.set_verbosity(logging.INFO)
  log_path = FLAGS.log or FLAGS.out + ".issues.tsv"
  # Every check on the inputs runs before the model loads and before anything is
  # written; --out and --log appear (renamed from temporary names) only when complete.
  inputs = tuple(p for p in (FLAGS.vcf, FLAGS.fasta, FLAGS.annotation) if p)
  try:
    files.check_output_path(FLAGS.out, *inputs)
    files.check_output_path(log_path, FLAGS.out, *inputs)
    genome = gene_annotation.Genome(FLAGS.fasta)
    if FLAGS.all_snvs:
      _, start, end = spliceai_scoring.parse_region(FLAGS.all_snvs, genome)
      total = 3 * (end - start + 1)
    else:
      total = spliceai_scoring.count_records(FLAGS.vcf)
    genes = spliceai_scoring.GeneIndex(gene_annotation.load_annotation(FLAGS.annotation))
  except (ValueError, OSError) as e:  # InputFormatError is a ValueError.
    raise SystemExit(f"error: {e}") from None
  _setup_compilation_cache(FLAGS.config)
  predict, context, cone = load_official_predictor(
      FLAGS.config, FLAGS.distance if FLAGS.snv_cone else None)
  scorer = spliceai_scoring.SpliceAIScorer(
      predict, context, genome, genes, distance=FLAGS.distance, mask=FLAGS.mask == "1",
      batch_size=FLAGS.batch_size or 1, region_span=FLAGS.region_span, cone=cone)
  with files.atomic_write(log_path) as log, reporting.progress_bar(
      total, desc="scoring", unit="variant") as progress:
    log.write("line\tchrom\tpos\tref\talt\tgene\tseverity\treason\n")

    def on_issue(issue, record):
      variant = record.variant
      chrom, pos, ref = ((variant.chrom, variant.pos, variant.ref) if variant
                         else ("", "", ""))
      log.write(f"{issue.line_number}\t{chrom}\t{pos}\t{ref}\t{issue.allele}\t"
                f"{issue.gene}\t{issue.severity}\t{issue.reason}\n")
      if issue.severity == "warning":
        progress.write(f"warning: {FLAGS.vcf or FLAGS.all_snvs}:{issue.line_number}: "
                       f"{issue.reason}; "
                       "record written unchanged")

    if FLAGS.all_snvs:
      counts = spliceai_scoring.score_region_snvs(scorer, FLAGS.all_snvs, FLAGS.out,
                                                  progress=progress, on_issue=on_issue)
    else:
      counts = spliceai_scoring.score_vcf(scorer, FLAGS.vcf, FLAGS.out,
                                          chunk_records=FLAGS.chunk_records,
                                          progress=progress, on_issue=on_issue)
  genome.close()
  print(f"{FLAGS.out}: {counts['scored']} of {counts['records']} records scored "
        f"({counts['entries']} SpliceAI entries, {scorer.batched.num_windows} windows"
        + (f", {cone.num_windows} REF windows with {cone.num_alternatives} SNV ALTs "
           "through the cone" if cone else "") + "); "
        f"{counts['warnings']} warnings, {counts['info']} notes in {log_path}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
