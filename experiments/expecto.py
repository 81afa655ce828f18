r"""ExPecto (Zhou et al., Nat. Genet. 2018): tissue expression and variant effects from sequence.

  # 1. chromatin features of every gene (200 Beluga windows over +-20 kb, spatial transform)
  python -m experiments.expecto features --tss=geneanno.pc.sorted.bed --fasta=hg19.fa \
      --beluga_weights=deepsea.beluga.npz --out=features.npz
  # 2. per-tissue ridge models of log(expression + 1e-4); chromosome 8 held out
  python -m experiments.expecto train --tss=geneanno.pc.sorted.bed \
      --expression=GTEx_gene_median_tpm.gct --features=features.npz --out=models/
  # 3. expression effects of variants: one row per variant x ALT x gene, one column per tissue
  python -m experiments.expecto variants --vcf=in.vcf.gz --fasta=hg19.fa \
      --tss=geneanno.pc.sorted.bed --model=models/model.npz \
      --beluga_weights=deepsea.beluga.npz --out=effects.tsv

The chromatin model is ``--beluga_weights`` (an ``.npz`` of the reference
``deepsea.beluga.pth`` state dict, converted by `genereg_jax.models.beluga`), or a
trained workdir (``--workdir`` [``--config``]) whose model takes the layout's window, or
``--motif_counts=truth.json`` (a synthetic set's ideal model). ``--features`` may also
be the paper's ``Xreducedall.2002.npy`` (rows in TSS-table order). Table formats:
`data_builders.expecto.tables`; method and defaults: `genereg_jax.expecto`.

Embedded example with a known truth (planted enhancer motifs, ``--layout=synthetic``:
200 bp windows every 20 bp):

  python -m experiments.expecto synthetic --out=/tmp/expecto
  python -m experiments.expecto features --layout=synthetic \
      --motif_counts=/tmp/expecto/truth.json --tss=/tmp/expecto/tss.bed \
      --fasta=/tmp/expecto/genome.fa --out=/tmp/expecto/features.npz
  python -m experiments.expecto train --tss=/tmp/expecto/tss.bed \
      --expression=/tmp/expecto/expression.csv --features=/tmp/expecto/features.npz \
      --out=/tmp/expecto/models        # held-out Spearman ~0.97 per tissue
"""

import os

from absl import flags
from absl import logging

from experiments import common

FLAGS = flags.FLAGS
COMMANDS = ("synthetic", "features", "train", "variants")


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  common.define_config_flags(workdir_required=False, config_required=False)
  flags.DEFINE_string("out", None, "Output: a folder (synthetic, train) or a file.",
                      required=True)
  flags.DEFINE_string("tss", None, "Gene TSS table: ExPecto BED, BED6 or geneanno.csv.")
  flags.DEFINE_string("fasta", None, "Reference genome FASTA.")
  flags.DEFINE_string("expression", None, "Expression per gene and tissue: geneanno.exp.csv "
                      "layout, GTEx GCT or TSV.")
  flags.DEFINE_string("features", None, "train: features.npz from the features command, or "
                      "the paper's Xreducedall .npy.")
  flags.DEFINE_string("model", None, "variants: model.npz from the train command.")
  flags.DEFINE_string("vcf", None, "variants: input VCF (plain, gzip or bgzip).")
  flags.DEFINE_string("beluga_weights", None, "Chromatin model: .npz of the reference Beluga "
                      "state dict.")
  flags.DEFINE_string("motif_counts", None, "Chromatin model: the ideal motif counter of a "
                      "synthetic set, given its truth.json.")
  flags.DEFINE_bool("jaspar_motifs", False, "synthetic: plant the JASPAR consensus of CTCF, "
                    "SPI1, CEBPB, TP53 (learned by --config=expecto:tiny) instead of SP1, "
                    "NRF1, CREB1, YY1.")
  flags.DEFINE_enum("layout", "paper", ["paper", "synthetic"], "Windows around the TSS: the "
                    "paper's (2 kb every 200 bp, +-20 kb) or the synthetic set's (10x smaller).")
  flags.DEFINE_list("l2", ["100"], "Ridge lambda (paper: 100); several: chosen per tissue "
                    "on --validation_chromosomes.")
  flags.DEFINE_list("validation_chromosomes", ["chr9"], "Genes held out to choose lambda.")
  flags.DEFINE_enum("windows", "gene_grid", ["gene_grid", "variant_shifts"], "variants: the "
                    "gene's windows containing the variant, or the reference's +-800 bp shifts.")
  flags.DEFINE_integer("batch_size", 100, "Windows per chromatin-model call (a gene has 200: "
                       "100 fills every batch).")
  flags.DEFINE_bool("reverse_complement_average", True, "Average forward and "
                    "reverse-complement chromatin predictions (the paper does).")
  flags.DEFINE_integer("num_genes", 500, "synthetic: genes.")
  flags.DEFINE_integer("num_tissues", 4, "synthetic: tissues.")
  flags.DEFINE_integer("seed", 0, "synthetic: random seed.")


def _layout():
  from data_builders.expecto import synthetic
  from genereg_jax import expecto
  return synthetic.LAYOUT if FLAGS.layout == "synthetic" else expecto.Layout()


def _require(command: str, *names: str) -> None:
  from absl import app
  if missing := [f"--{n}" for n in names if not getattr(FLAGS, n)]:
    raise app.UsageError(f"{command} needs {', '.join(missing)}")


def _chromatin_fn(window: int):
  """``[batch, window, 4]`` -> probabilities, from the flag that names the model."""
  sources = [bool(FLAGS.beluga_weights), bool(FLAGS.workdir), bool(FLAGS.motif_counts)]
  if sum(sources) != 1:
    from absl import app
    raise app.UsageError("give exactly one chromatin model: --beluga_weights, --workdir or "
                     "--motif_counts")
  from genereg_jax import expecto
  if FLAGS.motif_counts:
    import json
    from data_builders.expecto import synthetic
    with open(FLAGS.motif_counts) as f:
      return synthetic.motif_counts_fn(json.load(f)["motifs"])
  if FLAGS.beluga_weights:
    from genereg_jax.models import beluga
    model, params = beluga.load_state_dict(FLAGS.beluga_weights, input_length=window)
    return expecto.probability_fn(model, params)
  from genereg_jax import predict
  predictor, _ = predict.load_predictor(common.config_or_saved(), FLAGS.workdir)
  if predictor.input_length != window:
    raise ValueError(f"the workdir's model reads {predictor.input_length} bp, the layout's "
                     f"windows are {window} bp")
  return lambda x: next(iter(predictor(x).values()))


def synthetic_command() -> None:
  from data_builders.expecto import synthetic
  motifs = synthetic.jaspar_consensus() if FLAGS.jaspar_motifs else None
  data = synthetic.make(FLAGS.num_genes, FLAGS.num_tissues, seed=FLAGS.seed, motifs=motifs)
  paths = synthetic.write(data, FLAGS.out)
  print("wrote " + ", ".join(paths.values()))


def features_command() -> None:
  import numpy as np
  from data_builders.expecto import tables
  from genereg_jax import expecto
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.files import atomic_write
  from genereg_jax.files import check_output_path
  from genereg_jax.train import reporting
  _require("features", "tss", "fasta")
  check_output_path(FLAGS.out, FLAGS.tss, FLAGS.fasta)
  layout = _layout()
  genes = tables.read_tss(FLAGS.tss)
  with genome_lib.Genome(FLAGS.fasta) as genome:
    chroms = [genome.chromosome(c) for c in genes.chroms]
    keep = np.array([c is not None for c in chroms])
    if not keep.all():
      logging.warning("%d genes on chromosomes missing from %s are left out",
                      (~keep).sum(), FLAGS.fasta)
    genes = genes.subset(np.flatnonzero(keep))
    chroms = [c for c in chroms if c is not None]
    predict_fn = _chromatin_fn(layout.window)
    rows = []
    with reporting.progress_bar(len(chroms), desc="genes", unit="gene") as bar:
      for i in range(len(chroms)):  # one gene at a time: [genes, 10 F] is what is kept
        preds = expecto.gene_window_predictions(
            predict_fn, genome, chroms[i:i + 1], genes.tss[i:i + 1], genes.strand[i:i + 1],
            layout, FLAGS.batch_size, FLAGS.reverse_complement_average)
        rows.append(expecto.spatial_features(preds, genes.strand[i:i + 1], layout=layout)[0])
        bar.update(1)
  with atomic_write(FLAGS.out, "wb") as f:
    np.savez(f, gene_ids=np.asarray(genes.ids), features=np.stack(rows),
             window=layout.window, step=layout.step, span=layout.span,
             decays=np.asarray(layout.decays))
  print(f"wrote {FLAGS.out}: {len(rows)} genes x {len(rows[0])} spatial features")


def _read_features(path: str, genes):
  """``(features [genes kept, D], index of the genes kept, layout)`` for ``genes``."""
  import numpy as np
  from genereg_jax import expecto
  from genereg_jax.files import InputFormatError
  if path.endswith(".npy"):  # the paper's Xreducedall: rows in TSS-table order
    features = np.load(path, mmap_mode="r")
    if features.shape[0] != len(genes.ids):
      raise InputFormatError(path, None, f"{features.shape[0]} rows, but the TSS table has "
                             f"{len(genes.ids)} genes (rows must follow its order)")
    return np.asarray(features), np.arange(len(genes.ids)), _layout()
  with np.load(path) as data:
    row_of = {str(g): i for i, g in enumerate(data["gene_ids"])}
    index = np.array([i for i, g in enumerate(genes.ids) if g in row_of], np.int64)
    layout = expecto.Layout(int(data["window"]), int(data["step"]), int(data["span"]),
                            tuple(float(c) for c in data["decays"]))
    return data["features"][[row_of[genes.ids[i]] for i in index]], index, layout


def train_command() -> None:
  import numpy as np
  from scipy import stats
  from data_builders.expecto import tables
  from genereg_jax import expecto
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.files import write_json
  _require("train", "tss", "expression", "features")
  table = tables.training_table(tables.read_tss(FLAGS.tss), tables.read_expression(
      FLAGS.expression), expression_path=FLAGS.expression)
  features, index, layout = _read_features(FLAGS.features, table.genes)
  genes, targets, split = table.genes.subset(index), table.targets[index], table.split[index]
  if len(index) < len(table.genes.ids):
    logging.warning("%d genes without features are left out",
                    len(table.genes.ids) - len(index))
  grid = [float(v) for v in FLAGS.l2]
  validation_names = {genome_lib.without_chr(c) for c in FLAGS.validation_chromosomes}
  is_validation = np.array([genome_lib.without_chr(c) in validation_names
                            for c in genes.chroms]) & (split == "train") & (len(grid) > 1)
  train, test = (split == "train") & ~is_validation, split == "test"
  if not train.any():
    raise ValueError("no training genes (all on held-out or excluded chromosomes)")
  model = expecto.fit_expression_model(
      features[train], targets[train], table.tissues, grid,
      (features[is_validation], targets[is_validation]) if len(grid) > 1 else None,
      layout=layout)
  os.makedirs(FLAGS.out, exist_ok=True)
  model.save(os.path.join(FLAGS.out, "model.npz"))
  table.split[index[is_validation]] = "validation"
  tables.write_training_table(os.path.join(FLAGS.out, "training_table.tsv"), table)
  metrics = {"genes": {"train": int(train.sum()), "validation": int(is_validation.sum()),
                       "test": int(test.sum())},
             "l2": dict(zip(table.tissues, model.l2.tolist()))}
  if test.sum() > 2:
    predicted = model.predict(features[test])
    metrics["test_spearman"] = {
        t: float(stats.spearmanr(predicted[:, i], targets[test][:, i])[0])
        for i, t in enumerate(table.tissues)}
    print("held-out Spearman: " + ", ".join(f"{t} {r:.3f}" for t, r in
                                              metrics["test_spearman"].items()))
  write_json(os.path.join(FLAGS.out, "metrics.json"), metrics)
  print(f"wrote {FLAGS.out}/model.npz, training_table.tsv, metrics.json")


def variants_command() -> None:
  import contextlib
  import numpy as np
  from data_builders.expecto import tables
  from genereg_jax import expecto
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.files import atomic_write
  from genereg_jax.files import check_output_path
  from genereg_jax.train import reporting
  from genereg_jax.variants import vcf
  _require("variants", "vcf", "fasta", "tss", "model")
  issues_path = FLAGS.out + ".issues.tsv"
  check_output_path(FLAGS.out, FLAGS.vcf, FLAGS.fasta, FLAGS.tss, FLAGS.model)
  check_output_path(issues_path, FLAGS.vcf, FLAGS.fasta, FLAGS.tss, FLAGS.model)
  model = expecto.ExpressionModel.load(FLAGS.model)
  layout = model.layout
  genes = tables.read_tss(FLAGS.tss)
  reach = layout.span + layout.window // 2  # farthest base any gene window covers
  by_chrom = {}
  for i, chrom in enumerate(genes.chroms):
    by_chrom.setdefault(genome_lib.without_chr(chrom), []).append(i)
  by_chrom = {c: np.array(sorted(v, key=lambda i: genes.tss[i])) for c, v in by_chrom.items()}
  rows, pairs, issues = [], [], []
  with genome_lib.Genome(FLAGS.fasta) as genome, contextlib.closing(
      vcf.vcf_lines(FLAGS.vcf)) as lines:
    vcf.split_header(lines, FLAGS.vcf)
    for line_number, line, record in vcf.records(lines):  # checks first: cheap
      if isinstance(record, str):
        issues.append((line_number, record))
        continue
      chrom = genome.chromosome(record.chrom)
      if chrom is None:
        issues.append((line_number, f"chromosome {record.chrom} is not in the FASTA"))
        continue
      pos = record.pos - 1
      if genome.fetch(chrom, pos, pos + len(record.ref)).upper() != record.ref.upper():
        issues.append((line_number, f"REF {record.ref} does not match the FASTA"))
        continue
      candidates = by_chrom.get(genome_lib.without_chr(record.chrom), np.zeros(0, int))
      near = candidates[np.abs(genes.tss[candidates] - pos) <= reach]
      if not near.size:
        issues.append((line_number, f"no TSS within {reach} bp"))
        continue
      fields = line.rstrip("\r\n").split("\t")
      for alt in record.alts:
        if vcf.is_symbolic(alt) or not vcf.is_bases(alt):
          issues.append((line_number, f"ALT {alt} is not a sequence of bases"))
          continue
        for g in near:
          pairs.append((chrom, pos, record.ref, alt, int(genes.tss[g]), int(genes.strand[g])))
          rows.append([fields[0], fields[1], fields[2], record.ref, alt, genes.ids[g],
                       "+" if genes.strand[g] > 0 else "-",
                       str((pos - int(genes.tss[g])) * int(genes.strand[g]))])
    predict_fn = _chromatin_fn(layout.window)
    with reporting.progress_bar(len(pairs), desc="variant x gene", unit="pair") as bar:
      effects = expecto.variant_effects(model, predict_fn, genome, pairs, FLAGS.windows,
                                        FLAGS.batch_size, FLAGS.reverse_complement_average,
                                        progress=bar)
  for row, effect in zip(rows, effects):
    row.extend(f"{v:.6g}" for v in effect)
  with atomic_write(FLAGS.out) as f:
    f.write("\t".join(["chrom", "pos", "id", "ref", "alt", "gene_id", "strand",
                       "tss_distance", *model.tissues]) + "\n")
    f.writelines("\t".join(row) + "\n" for row in rows)
  with atomic_write(issues_path) as f:
    f.write("line\treason\n")
    f.writelines(f"{n}\t{reason}\n" for n, reason in issues)
  print(f"wrote {FLAGS.out}: {len(rows)} variant x gene rows ({len(model.tissues)} tissues, "
        f"log(expression) change); {len(issues)} issues in {issues_path}")


def main(argv):
  from absl import app
  logging.set_verbosity(logging.INFO)
  if len(argv) != 2 or argv[1] not in COMMANDS:
    raise app.UsageError(f"give one command of {', '.join(COMMANDS)}; got {argv[1:]}")
  globals()[f"{argv[1]}_command"]()


if __name__ == "__main__":
  define_flags()
  common.run(main)
