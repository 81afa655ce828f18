r"""In-silico deletion of each gene's planted enhancer: does a coverage model read it?

  python -m experiments.enhancer_deletion --truth
  python -m experiments.enhancer_deletion --workdir=/tmp/enf --workdir=/tmp/enf_local \
      --out=/tmp/enhancer_deletion.json
  python -m experiments.enhancer_deletion --workdir=/tmp/enf \
      --contributions=/tmp/enf/enhancer_contributions.png

For the ``synthetic_coverage`` ``*_distal`` data (version 1.1.0), whose records say which
enhancer was planted for which promoter (``element_partner``), and models trained on it
(``enformer_human_mouse:synthetic`` and ``:synthetic_local``). A *gene* is a promoter
whose TSS bin lies in the stored (cropped) target window; its CAGE is read at that bin.

``--truth`` (no model, nothing built: the test split is regenerated with the builder's
sampler, which the build writes identically) prints, per dataset config and CAGE track,
what the data allows: the share of genes with a paired enhancer, their mean expected
CAGE with and without it, the median share of it that the enhancer brings, and
Pearson R over genes against the Poisson targets at the TSS bin, over all genes and
over paired genes: ``oracle`` (the noise-free expected CAGE: the ceiling) and
``promoter_only`` (P, the promoter strength: roughly the best a model blind to
enhancers reads; a monotone map of P may do a little better). The 1.0.0 configs (no
pairs) are there for comparison.

With ``--workdir`` (repeatable; each workdir's saved config and latest checkpoint), per
model, species head and CAGE track, over the test genes:

* ``r_genes`` / ``r_paired``: Pearson R of the predicted and the observed (target)
  CAGE at the TSS bins of all genes / of genes with a paired enhancer;
* ``deletion_r``: Pearson R over paired genes of the predicted deletion effect
  (prediction with the enhancer minus prediction with its bases replaced by random
  bases at the example's GC) against the true one (expected CAGE with minus without
  it, from the builder's ``expected_coverage``);
* ``effect_pred`` / ``effect_true``: their means (counts per bin), so the direction
  and the size of the model's response can be compared with the truth.

``--contributions=PNG`` draws input × gradient (``genereg_jax.interpret``) of the first
workdir's CAGE prediction at one test gene's TSS bin over the whole input, summed per
128-bp bin, above a track marking the promoter and its paired enhancer; the gene is the
paired gene with the largest true deletion effect. It also prints the enhancer's rank
among all input bins away from the TSS (1: the largest contribution).
"""

from __future__ import annotations

import dataclasses
import json

from absl import flags

from experiments import common


def define_flags() -> None:
  """The program's flags (defined when it runs, so importing the module defines none)."""
  flags.DEFINE_multi_string("workdir", [], "Trained workdir (repeatable).")
  flags.DEFINE_integer("step", None, "Checkpoint step of every workdir (default: the latest).")
  flags.DEFINE_bool("truth", False, "What the data allows (no model).")
  flags.DEFINE_list("datasets", ["human", "human_distal", "mouse", "mouse_distal"],
                    "synthetic_coverage configs for --truth.")
  flags.DEFINE_string("split", "test", "Split of the genes.")
  flags.DEFINE_integer("max_examples", None, "At most this many examples per species.",
                       lower_bound=1)
  flags.DEFINE_integer("batch_size", 8, "Sequences per model call.", lower_bound=1)
  flags.DEFINE_integer("seed", 0, "Seed of the random bases that replace an enhancer.")
  flags.DEFINE_string("out", None, "Also write the results here (JSON).")
  flags.DEFINE_string("contributions", None, "PNG of the first workdir's contribution "
                      "scores at one gene's TSS bin.")


FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class Gene:
  """One promoter of an example, with its truth.

  Attributes:
    example: index of the example in the split.
    promoter: index of the promoter among the example's elements.
    partner: index of its paired enhancer, -1 if none.
    bin: the TSS bin in target coordinates (after cropping).
    strength: P, the promoter strength.
    expected: expected CAGE at the TSS bin per CAGE track.
    without: the same with the paired enhancer removed (= ``expected`` if none).
    observed: the target (Poisson draw) at the TSS bin per CAGE track.
  """

  example: int
  promoter: int
  partner: int
  bin: int
  strength: float
  expected: tuple[float, ...]
  without: tuple[float, ...]
  observed: tuple[float, ...]


def cage_tracks(config) -> list[int]:
  """Indices of a ``SyntheticCoverageConfig``'s CAGE tracks."""
  from data_builders.synthetic_coverage import synthetic_coverage as sc
  return [i for i, t in enumerate(config.tracks) if sc.parse_track(t)[0] == "CAGE"]


def genes_of(record, index: int, config, widths) -> list[Gene]:
  """The genes of one record (or ``sample_example`` dict) of ``config``."""
  import numpy as np
  from data_builders.synthetic_coverage import synthetic_coverage as sc
  elements = sc.elements_from_record(record, widths)
  partners = np.asarray(record.get("element_partner", [-1] * len(elements)))
  tracks = cage_tracks(config)
  full = sc.expected_coverage(elements, config)[:, tracks]
  genes = []
  for i, element in enumerate(elements):
    full_bin = element.anchor // config.pool_width
    target_bin = full_bin - config.crop_bins
    if element.kind != "promoter" or not 0 <= target_bin < config.target_length:
      continue
    partner = int(partners[i])
    without = full
    if partner >= 0:
      kept = [e for j, e in enumerate(elements) if j != partner]
      without = sc.expected_coverage(kept, config)[:, tracks]
    genes.append(Gene(index, i, partner, target_bin, sc.promoter_strength(element),
                      tuple(full[full_bin]), tuple(without[full_bin]),
                      tuple(np.asarray(record["target"], np.float64)[target_bin, tracks])))
  return genes


def delete_element(sequence, start: int, end: int, gc: float, rng):
  """``sequence [L, 4]`` one-hot with ``[start, end)`` replaced by random bases at ``gc``."""
  import numpy as np
  at = (1 - gc) / 2
  bases = rng.choice(4, size=end - start, p=[at, gc / 2, gc / 2, at])
  deleted = np.array(sequence, copy=True)
  deleted[start:end] = np.eye(4, dtype=deleted.dtype)[bases]
  return deleted


def _pearson(a, b) -> float:
  """`metrics.pearson_r`, NaN below 3 genes (two points always correlate +-1)."""
  from genereg_jax.tasks import metrics
  return metrics.pearson_r(a, b) if len(a) >= 3 else float("nan")


def truth_summary(genes: list[Gene], track_names) -> dict[str, dict[str, float]]:
  """Per CAGE track: share of paired genes, mean CAGE with/without, oracle Rs."""
  import numpy as np
  paired = [g for g in genes if g.partner >= 0]
  rows = {}
  for t, name in enumerate(track_names):
    observed = [g.observed[t] for g in genes]
    rows[name] = {
        "genes": len(genes), "paired_share": len(paired) / max(len(genes), 1),
        "mean_with": float(np.mean([g.expected[t] for g in paired])) if paired else None,
        "mean_without": float(np.mean([g.without[t] for g in paired])) if paired else None,
        # Share of a paired gene's expected CAGE that its own enhancer brings.
        "median_drop": float(np.median([(g.expected[t] - g.without[t]) / g.expected[t]
                                        for g in paired])) if paired else None,
        "oracle_r": _pearson([g.expected[t] for g in genes], observed),
        "promoter_only_r": _pearson([g.strength for g in genes], observed),
        "oracle_r_paired": _pearson([g.expected[t] for g in paired],
                                    [g.observed[t] for g in paired]),
        "promoter_only_r_paired": _pearson([g.strength for g in paired],
                                           [g.observed[t] for g in paired]),
    }
  return rows


def model_summary(genes: list[Gene], predicted, deleted,
                  track_names) -> dict[str, dict[str, float]]:
  """Per CAGE track: the ``--workdir`` numbers of the module docstring.

  ``predicted [genes, tracks]`` at each gene's TSS bin; ``deleted`` likewise with its
  paired enhancer replaced (NaN rows for genes without one).
  """
  import numpy as np
  paired = np.array([g.partner >= 0 for g in genes])
  observed = np.array([g.observed for g in genes])
  true_effect = np.array([g.expected for g in genes]) - np.array([g.without for g in genes])
  effect = predicted - deleted
  rows = {}
  for t, name in enumerate(track_names):
    rows[name] = {
        "genes": int(len(genes)), "paired": int(paired.sum()),
        "r_genes": _pearson(predicted[:, t], observed[:, t]),
        "r_paired": _pearson(predicted[paired, t], observed[paired, t]),
        "deletion_r": _pearson(effect[paired, t], true_effect[paired, t]),
        "effect_pred": float(effect[paired, t].mean()) if paired.any() else None,
        "effect_true": float(true_effect[paired, t].mean()) if paired.any() else None,
    }
  return rows


def _builder_config(name: str):
  from data_builders.synthetic_coverage import synthetic_coverage as sc
  configs = {c.name: c for c in sc.BUILDER_CONFIGS}
  if name not in configs:
    raise SystemExit(f"error: no synthetic_coverage config {name!r}; configs: "
                     f"{sorted(configs)}")
  return configs[name]


def truth(names, split: str, limit: int | None) -> dict[str, dict]:
  """``--truth``: `truth_summary` of each config's split, regenerated by the sampler."""
  from data_builders.synthetic_coverage import synthetic_coverage as sc
  from data_builders.synthetic_motifs import synthetic_motifs as sm
  motifs = sm.load_motifs()
  widths = {name: m.width for name, m in motifs.items()}
  results = {}
  for name in names:
    config = _builder_config(name)
    genes = []
    for index in range(min(limit or config.num_examples(split), config.num_examples(split))):
      record = sc.sample_example(sc.example_rng(config.seed, config.species, split, index),
                                 motifs, config)
      genes.extend(genes_of(record, index, config, widths))
    tracks = [config.tracks[i] for i in cage_tracks(config)]
    results[name] = truth_summary(genes, tracks)
  return results


def predict_genes(predict, source, config, widths, limit, batch_size: int, seed: int):
  """``(genes, predicted, deleted)`` at the TSS bins of ``source``'s genes.

  ``predict(x [B, L, 4]) -> [B, bins, tracks]`` CAGE-and-all predictions of ``head``.
  """
  import numpy as np
  tracks = cage_tracks(config)
  genes, inputs, owners = [], [], []  # owners: (gene row, is the deletion)
  for index in range(min(limit or len(source), len(source))):
    record = source[index]
    sequence = np.asarray(record["sequence"], np.float32)
    example_genes = genes_of(record, index, config, widths)
    if not example_genes:
      continue
    first = len(genes)
    genes.extend(example_genes)
    inputs.append(sequence)
    owners.append((list(range(first, len(genes))), False))
    for row, gene in enumerate(example_genes, first):
      if gene.partner < 0:
        continue
      rng = np.random.default_rng([seed, index, gene.promoter])
      start = int(record["element_start"][gene.partner])
      end = int(record["element_end"][gene.partner])
      inputs.append(delete_element(sequence, start, end, float(record["gc"]), rng))
      owners.append(([row], True))
  predicted = np.full((len(genes), len(tracks)), np.nan)
  deleted = np.full((len(genes), len(tracks)), np.nan)
  for start in range(0, len(inputs), batch_size):
    x = np.stack(inputs[start:start + batch_size])
    rows = len(x)
    if rows < batch_size:  # One compiled shape.
      x = np.concatenate([x, np.repeat(x[-1:], batch_size - rows, 0)])
    out = np.asarray(predict(x))[:rows]
    for y, (gene_rows, is_deletion) in zip(out, owners[start:start + rows]):
      for row in gene_rows:
        (deleted if is_deletion else predicted)[row] = y[genes[row].bin, tracks]
  return genes, predicted, deleted


def tss_readout(predictor, head: str, bin_index: int, track: int):
  """``x -> [B, 1]``: ``head``'s prediction at one bin and track (for attributions)."""
  experiment, state = predictor.experiment, predictor.state
  variables = {"params": state.params,
               **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
  task = experiment.tasks[head]

  def fn(x):
    raw = experiment.model.apply(variables, **{predictor.sequence_key: x}, train=False)
    return task.predictions(raw)[:, bin_index, track][:, None]
  return fn


def contributions(path: str, predictor, head: str, source, config, genes, widths) -> dict:
  """Input x gradient at the TSS bin of the paired gene with the largest deletion
  effect, per 128-bp bin, drawn with the planted promoter and enhancer (`plots.tracks`)."""
  import numpy as np
  from genereg_jax import interpret
  from genereg_jax import plots
  tracks = cage_tracks(config)
  paired = [g for g in genes if g.partner >= 0]
  if not paired:
    raise SystemExit("error: no gene with a paired enhancer (a *_distal dataset?)")
  effect = lambda g: max(a - b for a, b in zip(g.expected, g.without))
  gene = max(paired, key=effect)
  t = int(np.argmax(np.subtract(gene.expected, gene.without)))
  record = source[gene.example]
  x = np.asarray(record["sequence"], np.float32)[None]
  fn = tss_readout(predictor, head, gene.bin, tracks[t])
  per_base = np.asarray(interpret.input_x_gradient(fn, x, 0))[0].sum(-1)
  width = config.pool_width
  per_bin = np.abs(per_base).reshape(-1, width).sum(1)
  starts, ends = record["element_start"], record["element_end"]
  marks = np.zeros_like(per_bin)
  tss = int(record["element_anchor"][gene.promoter])
  marks[tss // width] = 1.0
  enhancer_bins = np.arange(int(starts[gene.partner]) // width,
                            (int(ends[gene.partner]) - 1) // width + 1)
  marks[enhancer_bins] = 0.5
  centre = (int(starts[gene.partner]) + int(ends[gene.partner])) / 2
  away = np.abs(np.arange(len(per_bin)) - tss // width) > 2
  order = np.argsort(-np.where(away, per_bin, -np.inf), kind="stable")
  rank = int(np.flatnonzero(np.isin(order, enhancer_bins))[0]) + 1
  name = config.tracks[tracks[t]]
  plots.tracks(path, np.stack([per_bin, marks], 1), bin_size=width,
               names=[f"|input x gradient|\nper {width} bp", "TSS (1), its\nenhancer (0.5)"],
               title=f"{head} {name} at the TSS bin of test example {gene.example}: "
                     f"enhancer {abs(centre - tss) / 1000:.1f} kb away, rank {rank} of "
                     f"{int(away.sum())} bins")
  return {"example": gene.example, "track": name, "tss": tss,
          "enhancer_distance_bp": float(abs(centre - tss)), "enhancer_rank": rank,
          "bins_away_from_tss": int(away.sum()),
          "enhancer_share": float(per_bin[enhancer_bins].sum() / per_bin[away].sum())}


def evaluate_workdir(workdir: str, split: str, limit, batch_size: int, seed: int,
                     plot: str | None, step: int | None = None) -> dict:
  """`model_summary` per species head of one trained workdir (+ the contribution plot)."""
  from data_builders.synthetic_motifs import synthetic_motifs as sm
  from genereg_jax import predict as predict_lib
  from genereg_jax.train import trainer
  from genereg_jax.train import workdir as workdir_lib
  config = workdir_lib.load_saved_config(workdir)
  predictor, step = predict_lib.load_predictor(config, workdir, step=step)
  widths = sm.motif_widths()
  results = {"step": step}
  for head in predictor.experiment.heads:
    data = _builder_config(trainer.dataset_name(config, head).split("/")[1].split(":")[0])
    source = trainer.load_split(config, split, head)
    genes, predicted, deleted = predict_genes(
        lambda x: predictor(x)[head], source, data, widths, limit, batch_size, seed)
    tracks = [data.tracks[i] for i in cage_tracks(data)]
    results[head] = model_summary(genes, predicted, deleted, tracks)
    if plot and head == predictor.experiment.heads[0]:
      results[head]["contributions"] = contributions(plot, predictor, head, source, data,
                                                     genes, widths)
  return results


def _print_rows(title: str, rows: dict[str, dict]) -> None:
  print(title)
  for track, row in rows.items():
    if track == "contributions":
      continue
    cells = " ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in row.items())
    print(f"  {track}: {cells}")


def main(argv):
  del argv
  from genereg_jax import files
  if not FLAGS.truth and not FLAGS.workdir:
    raise SystemExit("error: give --truth and/or --workdir")
  results = {}
  if FLAGS.truth:
    results["truth"] = truth(FLAGS.datasets, FLAGS.split, FLAGS.max_examples)
    for name, rows in results["truth"].items():
      _print_rows(f"truth {name} ({FLAGS.split})", rows)
  for i, workdir in enumerate(FLAGS.workdir):
    results[workdir] = evaluate_workdir(workdir, FLAGS.split, FLAGS.max_examples,
                                        FLAGS.batch_size, FLAGS.seed,
                                        FLAGS.contributions if i == 0 else None, FLAGS.step)
    for head, rows in results[workdir].items():
      if isinstance(rows, dict):
        _print_rows(f"{workdir} step {results[workdir]['step']} {head}", rows)
        if "contributions" in rows:
          print(f"  contributions -> {FLAGS.contributions}: "
                f"{json.dumps(rows['contributions'])}")
  if FLAGS.out:
    files.write_json(FLAGS.out, results)


if __name__ == "__main__":
  define_flags()
  common.run(main)
