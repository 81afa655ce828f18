r"""Designs under an oracle: do sequences a model scores high carry the planted grammar?

  python -m experiments.train --config=deepbind:tiny --workdir=/tmp/deepbind_tiny
  python -m experiments.benchmarks.design_oracle --workdir=/tmp/deepbind_tiny --target=CTCF

A model trained on the embedded ``synthetic_motifs`` data (labels a known function of
planted JASPAR motifs) is the design's ``fn``; the oracle is the data's own label rule:
it scans a sequence for sites scoring at least ``--site_fraction`` (the builder's 0.7) of
each motif's consensus log-odds on either strand, takes them as the motif instances and
applies ``labels_from_motifs`` (the builder's single source of truth). Four groups of
``--n`` sequences are scored by the model (the target's logit, what the designs
maximise) and by the oracle (the target label, and the mean best site of each motif the
label's rule reads, as a fraction of its consensus score): uniform random sequences, the
``--n`` training sequences the model scores highest, Fast SeqProp designs (``--steps``)
and greedy evolution designs (``--rounds`` from random sequences). Prints a table and
writes it as JSON with ``--output``. Measured: README.md, "Sequence design".

``--family=utr`` / ``--family=aparent`` do the same for the issue-18 regressions on the
embedded ``synthetic_expression`` data (``cuperus_utr``, ``aparent`` workdirs): the
model's output (``expression``; APARENT's proximal ``isoform`` as log-odds, its library
input zero) is what the designs maximise, and the oracle is the builder's
``utr_oracle`` / ``isoform_oracle`` (no library offset, the same for every group), so
the table shows whether sequences the model scores above every training sequence also
score high under the planted grammar:

  python -m experiments.train --config=aparent:tiny --workdir=/tmp/aparent_tiny
  python -m experiments.benchmarks.design_oracle --family=aparent --workdir=/tmp/aparent_tiny
"""

from __future__ import annotations

import json
import time

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS


def define_flags() -> None:
  """The command's flags (defined by the entry point only, so importing it is inert)."""
  flags.DEFINE_string("workdir", None, "A trained synthetic_motifs workdir.", required=True)
  flags.DEFINE_enum("family", "motifs", ["motifs", "utr", "aparent"],
                    "motifs: synthetic_motifs labels; utr / aparent: synthetic_expression.")
  flags.DEFINE_string("target", "CTCF", "Label designed for.")
  flags.DEFINE_integer("n", 100, "Sequences per group.")
  flags.DEFINE_integer("steps", 300, "SeqProp steps.")
  flags.DEFINE_integer("rounds", 20, "Evolution rounds.")
  flags.DEFINE_float("site_fraction", 0.7, "Oracle site threshold (fraction of consensus).")
  flags.DEFINE_integer("seed", 0, "Random seed.")
  flags.DEFINE_string("output", None, "Write the table here as JSON.")


def oracle(x: np.ndarray, motifs, fraction: float) -> tuple[np.ndarray, dict]:
  """``(labels float[N, NUM_LABELS], {motif: best site / consensus float[N]})``."""
  from data_builders.synthetic_motifs import synthetic_motifs as sm
  from genereg_jax.design import constraints
  x = np.asarray(x, np.float32)
  widths = {name: m.width for name, m in motifs.items()}
  sites = [([], [], []) for _ in x]
  best = {}
  for name, motif in motifs.items():
    log_odds = motif.log_odds().astype(np.float32)
    threshold = fraction * motif.max_score()
    best[name] = np.zeros(len(x))
    for strand, matrix in ((1, log_odds), (-1, log_odds[::-1, ::-1])):
      scores = constraints.motif_scores(x, matrix)
      best[name] = np.maximum(best[name], scores.max(1) / motif.max_score())
      for b, start in zip(*np.nonzero(scores >= threshold)):
        sites[b][0].append(name), sites[b][1].append(start), sites[b][2].append(strand)
  labels = np.stack([sm.labels_from_motifs(*s, x.shape[1], widths) for s in sites])
  return labels, best


def design_groups(config, input_key: str, fn, objective, length: int):
  """What both families compare: (score function, training inputs, their scores,
  {random, top_training, seqprop, evolution} sequences, seconds per design method)."""
  import jax.numpy as jnp
  from genereg_jax import design
  from genereg_jax.train import trainer

  def score(x):
    return np.concatenate([np.asarray(objective(fn(jnp.asarray(x[i:i + 512]))))
                           for i in range(0, len(x), 512)])

  source = trainer.load_split(config, "train", trainer.heads(config)[0])
  train_x = np.stack([np.asarray(source[i][input_key], np.float32)
                      for i in range(len(source))])
  train_scores = score(train_x)
  groups = {"random": design.random_start(FLAGS.n, length, design.Constraints(),
                                          seed=FLAGS.seed + 1),
            "top_training": train_x[np.argsort(-train_scores)[:FLAGS.n]]}
  seconds = {}
  begin = time.perf_counter()
  groups["seqprop"] = design.seqprop(fn, objective, FLAGS.n, length, steps=FLAGS.steps,
                                     seed=FLAGS.seed).x
  seconds["seqprop"] = time.perf_counter() - begin
  begin = time.perf_counter()
  start = design.random_start(FLAGS.n, length, design.Constraints(), seed=FLAGS.seed)
  groups["evolution"] = design.evolve(fn, objective, start, rounds=FLAGS.rounds).x
  seconds["evolution"] = time.perf_counter() - begin
  return score, train_x, train_scores, groups, seconds


def main(argv):
  del argv
  import jax
  from data_builders.synthetic_motifs import synthetic_motifs as sm
  from genereg_jax import design
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  from genereg_jax.train import workdir

  config = workdir.load_saved_config(FLAGS.workdir)
  if FLAGS.family != "motifs":
    return expression_family(config)
  predictor, step = predict.load_predictor(config, FLAGS.workdir)
  target = readout.resolve_target(sm.LABEL_NAMES, FLAGS.target)
  state, model = predictor.state, predictor.experiment.model
  variables = {"params": state.params,
               **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
  # The raw logits: the sigmoid's probability saturates at 1 for strong sequences.
  fn = jax.jit(lambda x: model.apply(variables, **{predictor.sequence_key: x}, train=False))
  objective = design.maximise(target)
  length = predictor.input_length
  score, train_x, train_scores, groups, seconds = design_groups(
      config, config.model_inputs[0], fn, objective, length)

  motifs = sm.load_motifs()
  rule = dict(sm.GRAMMAR)[sm.LABEL_NAMES[target]]
  # The motifs the rule reads: their best sites show what the designs hold.
  rule_motifs = [getattr(rule, a) for a in ("motif", "motif_a", "motif_b", "absent")
                 if hasattr(rule, a)] + list(getattr(rule, "motifs", ()))
  rows = {}
  for name, x in groups.items():
    labels, best = oracle(x, motifs, FLAGS.site_fraction)
    model_scores = score(x)
    rows[name] = {"model_logit_mean": float(model_scores.mean()),
                  "model_logit_min": float(model_scores.min()),
                  "model_logit_max": float(model_scores.max()),
                  "oracle_label_rate": float(labels[:, target].mean()),
                  "seconds": seconds.get(name)}
    rows[name]["best_site_fraction"] = {m: float(best[m].mean()) for m in rule_motifs}
  print(f"target {sm.LABEL_NAMES[target]} ({rule.describe()}), model step {step}, "
        f"n={FLAGS.n}, {length} bp, training set {len(train_x)}")
  print(f"{'group':14s} {'logit mean':>10s} {'min':>7s} {'max':>7s} {'oracle':>7s} "
        f"{'seconds':>8s}  best site / consensus")
  for name, row in rows.items():
    took = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
    sites = " ".join(f"{m} {v:.2f}" for m, v in row["best_site_fraction"].items())
    print(f"{name:14s} {row['model_logit_mean']:10.2f} {row['model_logit_min']:7.2f} "
          f"{row['model_logit_max']:7.2f} {row['oracle_label_rate']:7.2f} {took:>8s}  "
          f"{sites}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump({"target": sm.LABEL_NAMES[target], "step": step, "n": FLAGS.n,
                 "groups": rows}, f, indent=2)


def expression_family(config) -> None:
  """The ``--family=utr``/``aparent`` table: model vs oracle for four groups."""
  import jax
  from data_builders.synthetic_expression import synthetic_expression as se
  from genereg_jax import design
  from genereg_jax import predict
  from genereg_jax.interpret import readout

  aparent = FLAGS.family == "aparent"
  predictor, step = predict.load_predictor(config, FLAGS.workdir, zero_missing_inputs=aparent)
  model_readout = readout.predictor_readout(predictor, "isoform" if aparent else None)
  objective = design.maximise(0, logit=aparent)
  oracle = ((lambda x: np.log(se.isoform_oracle(x) / (1 - se.isoform_oracle(x))))
            if aparent else se.utr_oracle)
  fn = jax.jit(model_readout.fn)
  length = predictor.input_length
  score, train_x, train_scores, groups, seconds = design_groups(
      config, predictor.sequence_key, fn, objective, length)
  train_oracle = oracle(train_x)
  rows = {}
  for name, x in groups.items():
    model_scores, truth = score(x), oracle(x)
    rows[name] = {"model_mean": float(model_scores.mean()), "model_min": float(model_scores.min()),
                  "model_max": float(model_scores.max()), "oracle_mean": float(truth.mean()),
                  "oracle_min": float(truth.min()),
                  "above_every_training_sequence_model": float(
                      (model_scores > train_scores.max()).mean()),
                  "above_every_training_sequence_oracle": float(
                      (truth > train_oracle.max()).mean()),
                  "seconds": seconds.get(name)}
  what = "log-odds of proximal isoform" if aparent else "expression"
  print(f"{FLAGS.family}: {what}, model step {step}, n={FLAGS.n}, {length} nt, training "
        f"set {len(train_x)}: model max {train_scores.max():.2f}, oracle max "
        f"{train_oracle.max():.2f}")
  print(f"{'group':14s} {'model mean':>10s} {'min':>7s} {'oracle mean':>11s} {'min':>7s} "
        f"{'>train (model)':>14s} {'>train (oracle)':>15s} {'seconds':>8s}")
  for name, row in rows.items():
    took = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
    print(f"{name:14s} {row['model_mean']:10.2f} {row['model_min']:7.2f} "
          f"{row['oracle_mean']:11.2f} {row['oracle_min']:7.2f} "
          f"{row['above_every_training_sequence_model']:14.2f} "
          f"{row['above_every_training_sequence_oracle']:15.2f} {took:>8s}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump({"family": FLAGS.family, "step": step, "n": FLAGS.n,
                 "training_model_max": float(train_scores.max()),
                 "training_oracle_max": float(train_oracle.max()), "groups": rows}, f, indent=2)


if __name__ == "__main__":
  define_flags()
  app.run(main)
