r"""Prioritises variants from score_variants' per-track effects: Zhou et al. 2019 or DeepWAS.

  python -m experiments.prioritise_variants zhou --scores=DIR/scores.h5 \
      --labels=labelled.tsv|labelled.vcf.gz --out=OUT [--folds=5] [--seed=0] [--C=1]

trains the disease impact score model (L2 logistic regression on absolute per-track
effects; `genereg_jax.variants.prioritise`) on the labelled variants found in the
scores, with stratified k-fold AUROC. ``OUT`` gets ``model.npz``,
``cross_validation.json``, ``coefficients.tsv`` (tracks by |coefficient|) and
``disease_impact.tsv`` (out-of-fold probability, probability, e-value, DIS). With
``--model=OUT/model.npz`` instead of ``--labels`` it scores the variants of ``--scores``
(with the score the model was trained on unless ``--score_key`` says otherwise):

  python -m experiments.prioritise_variants zhou --scores=new/scores.h5 \
      --model=OUT/model.npz --out=OUT2

DeepWAS (Arloth et al. 2020) on a PLINK fileset and a phenotype table:

  python -m experiments.prioritise_variants deepwas --scores=DIR/scores.h5 \
      --bfile=genotypes --pheno=pheno.tsv [--covar=covar.tsv] [--background=bg.h5] \
      [--evalue=5e-5 | --min_abs_effect=0.1] [--cutoff=0.7] [--pfer=1] --out=OUT

writes ``OUT/deepwas.tsv`` (every tested SNP x feature: selection probability, stable,
p/q-value of the stable ones) and ``OUT/summary.json``. Scores come from ``scores.h5``
(or a ``scores.tsv`` written with ``--tracks``); ``--score_key=output/score`` picks one
(default: ``diff``, then ``log_odds_diff`` ...). Outputs appear only when complete; a
bad input file is one ``error:`` line naming file and line.

Synthetic inputs with known causal tracks/SNPs: ``python -m
data_builders.prioritise.synthetic --out=DIR``.
"""

from __future__ import annotations

import os

import numpy as np
from absl import flags

from experiments import common

FLAGS = flags.FLAGS
MODES = ("zhou", "deepwas")


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  flags.DEFINE_string("scores", None, "score_variants' scores.h5 (or scores.tsv with "
                      "per-track columns).", required=True)
  flags.DEFINE_string("score_key", None, "output/score to use (default: diff, then "
                      "log_odds_diff, ...).")
  flags.DEFINE_string("out", None, "Output folder.", required=True)
  flags.DEFINE_integer("seed", 0, "Seed of the folds / half-samples.")
  # zhou
  flags.DEFINE_string("labels", None, "zhou: labelled variants, TSV (chrom pos ref alt "
                      "label) or VCF with the label in INFO.")
  flags.DEFINE_string("label_field", "LABEL", "zhou: the INFO field holding the label.")
  flags.DEFINE_string("model", None, "zhou: a trained model.npz; score --scores with it.")
  flags.DEFINE_integer("folds", 5, "zhou: cross-validation folds.", lower_bound=2)
  flags.DEFINE_float("C", 1.0, "zhou: inverse L2 penalty of the logistic regression.",
                     lower_bound=0.0)
  # deepwas
  flags.DEFINE_string("bfile", None, "deepwas: PLINK fileset prefix (.bed/.bim/.fam).")
  flags.DEFINE_string("pheno", None, "deepwas: phenotype table (FID IID value ...).")
  flags.DEFINE_string("pheno_name", None, "deepwas: phenotype column (default: first).")
  flags.DEFINE_string("covar", None, "deepwas: covariate table (FID IID c1 c2 ...).")
  flags.DEFINE_string("background", None, "deepwas: scores of background variants for "
                      "the e-values (default: the --scores variants).")
  flags.DEFINE_float("evalue", 5e-5, "deepwas: functional SNP when its feature e-value "
                     "is below this.")
  flags.DEFINE_float("min_abs_effect", None, "deepwas: functional SNP when |effect| is at "
                     "least this (instead of --evalue).")
  flags.DEFINE_float("cutoff", 0.7, "deepwas: stability selection cutoff.")
  flags.DEFINE_float("pfer", 1.0, "deepwas: per-family error rate bound.", lower_bound=0.0)
  flags.DEFINE_integer("pairs", 50, "deepwas: complementary half-sample pairs.",
                       lower_bound=1)
  flags.DEFINE_enum("binary", "auto", ["auto", "yes", "no"], "deepwas: phenotype is "
                    "case/control (auto: when it has two values).")


def _write_tsv(path: str, header: list[str], rows) -> None:
  from genereg_jax.files import atomic_write
  with atomic_write(path) as f:
    f.write("\t".join(header) + "\n")
    for row in rows:
      f.write("\t".join(v if isinstance(v, str) else f"{v:.6g}" if isinstance(v, float)
                        else str(v) for v in row) + "\n")


def run_zhou() -> None:
  from genereg_jax.data import variant_labels
  from genereg_jax.files import write_json
  from genereg_jax.variants import prioritise

  if bool(FLAGS.model) == bool(FLAGS.labels):
    raise SystemExit("error: zhou needs either --labels (to train) or --model (to score)")
  model = prioritise.DiseaseImpactModel.load(FLAGS.model) if FLAGS.model else None
  # Scoring reads the score the model was trained on unless told otherwise.
  effects = prioritise.read_effects(FLAGS.scores, FLAGS.score_key or (model and model.key)
                                    or None)
  table = os.path.join(FLAGS.out, "disease_impact.tsv")
  ids = lambda i: [effects.chrom[i], str(effects.pos[i]), effects.ref[i], effects.alt[i]]
  if model is not None:
    if model.tracks != effects.tracks:
      raise SystemExit(f"error: {FLAGS.scores} ({effects.key}) has {len(effects.tracks)} "
                       f"tracks that differ from the model's {len(model.tracks)}")
    score = model.score(effects.values)
    _write_tsv(table, ["chrom", "pos", "ref", "alt", "probability", "evalue", "dis"],
               (ids(i) + [float(score[k][i]) for k in ("probability", "evalue", "dis")]
                for i in range(len(effects.pos))))
    print(f"{table}: {len(effects.pos)} variants scored with {FLAGS.model}")
    return
  variants = variant_labels.read_labelled_variants(FLAGS.labels, FLAGS.label_field)
  rows, labels = prioritise.match_labels(effects, variants)
  if not len(rows):
    raise SystemExit(f"error: none of the {len(variants)} labelled variants of "
                     f"{FLAGS.labels} is in {FLAGS.scores}")
  x = effects.values[rows]
  cv = prioritise.cross_validate(x, labels, FLAGS.folds, FLAGS.seed, FLAGS.C)
  model = prioritise.fit_disease_impact(x, labels, FLAGS.C, effects.tracks, effects.key)
  model.save(os.path.join(FLAGS.out, "model.npz"))
  score = model.score(x)
  _write_tsv(table, ["chrom", "pos", "ref", "alt", "label", "out_of_fold_probability",
                     "probability", "evalue", "dis"],
             (ids(r) + [str(labels[i]), float(cv["out_of_fold"][i])]
              + [float(score[k][i]) for k in ("probability", "evalue", "dis")]
              for i, r in enumerate(rows)))
  _write_tsv(os.path.join(FLAGS.out, "coefficients.tsv"), ["track", "coefficient"],
             ([t, c] for t, c in prioritise.top_coefficients(model, len(model.tracks))))
  summary = {k: v for k, v in cv.items() if k != "out_of_fold"}
  summary.update(score_key=effects.key, disease=int(labels.sum()),
                 control=int(len(labels) - labels.sum()),
                 labelled_without_scores=len(variants) - len(rows))
  write_json(os.path.join(FLAGS.out, "cross_validation.json"), summary)
  print(f"{FLAGS.out}: {len(rows)} labelled variants ({summary['disease']} disease, "
        f"{summary['control']} control; {summary['labelled_without_scores']} without "
        f"scores), {FLAGS.folds}-fold AUROC {cv['mean_auroc']:.3f} (pooled "
        f"{cv['pooled_auroc']:.3f}); top tracks "
        + ", ".join(t for t, _ in prioritise.top_coefficients(model, 3)))


def run_deepwas() -> None:
  from genereg_jax.data import plink
  from genereg_jax.files import write_json
  from genereg_jax.variants import prioritise

  if not (FLAGS.bfile and FLAGS.pheno):
    raise SystemExit("error: deepwas needs --bfile and --pheno")
  effects = prioritise.read_effects(FLAGS.scores, FLAGS.score_key)
  genotypes = plink.read_plink(FLAGS.bfile)
  names, table = plink.read_sample_table(FLAGS.pheno)
  column = names.index(FLAGS.pheno_name) if FLAGS.pheno_name in names else 0
  if FLAGS.pheno_name and FLAGS.pheno_name not in names:
    raise SystemExit(f"error: {FLAGS.pheno} has no column {FLAGS.pheno_name!r} "
                     f"(columns: {', '.join(names)})")
  phenotype = plink.align_samples(genotypes, table, len(names))[:, column]
  covariates = None
  if FLAGS.covar:
    covar_names, covar_table = plink.read_sample_table(FLAGS.covar)
    covariates = plink.align_samples(genotypes, covar_table, len(covar_names))
  matched = prioritise.match_snps(effects, genotypes.chrom, genotypes.pos,
                                  genotypes.allele_1, genotypes.allele_2)
  scored = np.flatnonzero(matched >= 0)
  if not len(scored):
    raise SystemExit(f"error: none of the {len(matched)} SNPs of {FLAGS.bfile}.bim has "
                     f"scores in {FLAGS.scores} (matched on chrom, pos and alleles)")
  background = None
  if FLAGS.background:
    background = prioritise.read_effects(FLAGS.background, effects.key)
    if background.tracks != effects.tracks:
      raise SystemExit(f"error: {FLAGS.background} has other tracks than {FLAGS.scores}")
    background = background.values
  functional = prioritise.functional_snps(effects.values[matched[scored]], FLAGS.evalue,
                                          background, FLAGS.min_abs_effect)
  if not functional.any():
    size = len(background) if background is not None else len(scored)
    raise SystemExit(f"error: no SNP has a feature e-value below {FLAGS.evalue} (against "
                     f"{size} background variants e-values cannot fall below 1/{size}); "
                     "pass --background with more variants, or --min_abs_effect")
  binary = None if FLAGS.binary == "auto" else FLAGS.binary == "yes"
  rows = prioritise.deepwas(genotypes.dosage[:, scored], phenotype, functional,
                            covariates=covariates, tracks=effects.tracks,
                            cutoff=FLAGS.cutoff, pfer=FLAGS.pfer, pairs=FLAGS.pairs,
                            seed=FLAGS.seed, binary=binary)
  rows.sort(key=lambda r: (not r["stable"], -r["selection_probability"]))
  snp = lambda r: int(scored[r["snp"]])
  _write_tsv(os.path.join(FLAGS.out, "deepwas.tsv"),
             ["feature", "snp", "chrom", "pos", "allele_1", "allele_2",
              "selection_probability", "stable", "p_value", "q_value", "snps_tested", "q",
              "pfer_bound"],
             ([r["track"], genotypes.sid[snp(r)], genotypes.chrom[snp(r)],
               str(genotypes.pos[snp(r)]), genotypes.allele_1[snp(r)],
               genotypes.allele_2[snp(r)], r["selection_probability"],
               str(int(r["stable"])), r["p_value"], r["q_value"], str(r["snps_tested"]),
               str(r["q"]), r["pfer_bound"]] for r in rows))
  stable = [r for r in rows if r["stable"]]
  summary = {"score_key": effects.key, "snps": len(matched), "snps_with_scores":
             len(scored), "samples_with_phenotype": int((~np.isnan(phenotype)).sum()),
             "features_tested": len({r["track"] for r in rows}), "pairs_tested": len(rows),
             "stable_pairs": [[r["track"], genotypes.sid[snp(r)]] for r in stable],
             "cutoff": FLAGS.cutoff, "pfer": FLAGS.pfer, "half_sample_pairs": FLAGS.pairs,
             "evalue": None if FLAGS.min_abs_effect is not None else FLAGS.evalue,
             "min_abs_effect": FLAGS.min_abs_effect, "seed": FLAGS.seed}
  write_json(os.path.join(FLAGS.out, "summary.json"), summary)
  print(f"{FLAGS.out}: {len(stable)} stable SNP-feature pairs of {len(rows)} tested "
        f"({summary['features_tested']} features, {len(scored)} of {len(matched)} SNPs "
        "with scores)")


def main(argv):
  from genereg_jax import files
  mode = argv[1:]
  if len(mode) != 1 or mode[0] not in MODES:
    raise SystemExit(f"error: give one mode, {' or '.join(MODES)}; got {mode or 'none'}")
  inputs = (FLAGS.scores, FLAGS.labels, FLAGS.model, FLAGS.pheno, FLAGS.covar,
            FLAGS.background, *((FLAGS.bfile + e for e in (".bed", ".bim", ".fam"))
                                if FLAGS.bfile else ()))
  try:
    for name in ("model.npz", "disease_impact.tsv", "deepwas.tsv", "summary.json"):
      files.check_output_path(os.path.join(FLAGS.out, name), *inputs)
    (run_zhou if mode[0] == "zhou" else run_deepwas)()
  except (ValueError, OSError) as e:  # InputFormatError is a ValueError.
    raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
  define_flags()
  common.run(main)
