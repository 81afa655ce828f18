r"""Design sequences that a trained checkpoint scores high (``genereg_jax.design``).

  python -m experiments.design --workdir=/tmp/deepbind_tiny --objective=maximise \
      --target=CTCF --n=100 --out=designs.fa
  python -m experiments.design --workdir=W --objective=contrast --target=HepG2 \
      --other=K562 --length=145 --gc_min=0.4 --gc_max=0.6 --forbid=GAATTC,GGTACC \
      --fixed=0:ACTG --method=evolution --rounds=30 --out=designs.fa
  python -m experiments.design --workdir=W --objective=target --target=0 --value=0.5 \
      --out=designs.fa

Objectives on the model's output ``--output`` (``genereg_jax.interpret.readout``: summed
over positions for coverage/profile outputs): ``maximise`` ``--target``; ``target``, aim
``--target`` at ``--value``; ``contrast``, ``--target - --other_weight x --other`` (e.g.
two cell types); ``--logit`` scores a probability's log-odds (a sigmoid saturates at 1).
``--method=seqprop`` (Fast SeqProp, ``--steps`` Adam steps of ``--learning_rate``) or
``evolution`` (greedy ISM, ``--rounds`` rounds from random sequences). Constraints:
``--fixed=START:LETTERS,...`` (0-based in the designed sequence), ``--gc_min`` and
``--gc_max``, ``--forbid=CONSENSUS,...`` (both strands); ``genereg_jax.design.constraints``
says how each method keeps them. ``--length`` below the model's input length designs the
centre, N (all-zero) flanks around it. Writes ``--out`` (FASTA, the score, GC and forbidden matches in each header)
and ``--out`` with ``.tsv`` for its extension (name, score, gc, forbidden_hits and every
target of the output), sorted best first. Progress lines show steps/s and the ETA.
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
  flags.DEFINE_string("output", None, "Which model output (default: the only one).")
  flags.DEFINE_enum("objective", "maximise", ["maximise", "target", "contrast"],
                    "What the designs optimise.")
  flags.DEFINE_string("target", None, "Label/track name or index scored.", required=True)
  flags.DEFINE_float("value", None, "--objective=target: the value aimed at.")
  flags.DEFINE_string("other", None, "--objective=contrast: the label/track subtracted.")
  flags.DEFINE_float("other_weight", 1.0, "--objective=contrast: weight of --other.")
  flags.DEFINE_bool("logit", False, "Score log(p / (1 - p)) of a probability output "
                    "(sigmoid labels), which does not saturate at 1.")
  flags.DEFINE_integer("length", None, "Designed bp (default: the model's input length).",
                       lower_bound=1)
  flags.DEFINE_integer("n", 100, "Sequences designed.", lower_bound=1)
  flags.DEFINE_enum("method", "seqprop", ["seqprop", "evolution"], "Design method.")
  flags.DEFINE_integer("steps", 300, "seqprop: Adam steps.", lower_bound=1)
  flags.DEFINE_float("learning_rate", 0.1, "seqprop: Adam learning rate.")
  flags.DEFINE_integer("rounds", 20, "evolution: rounds (one substitution each).",
                       lower_bound=1)
  flags.DEFINE_integer("seed", 0, "Random seed.")
  flags.DEFINE_string("fixed", None, "Fixed letters, START:LETTERS[,START:LETTERS...].")
  flags.DEFINE_float("gc_min", None, "Lowest GC fraction.")
  flags.DEFINE_float("gc_max", None, "Highest GC fraction.")
  flags.DEFINE_list("forbid", [], "Consensus sequences no design may contain.")
  flags.DEFINE_string("out", None, "Output FASTA (a .tsv of scores is written beside it).",
                      required=True)
  flags.DEFINE_bool("zero_missing_inputs", False,
                    "Feed zeros for model inputs other than the sequence.")


def parse_fixed(text, length: int):
  """``Constraints.fixed`` from ``START:LETTERS,...``."""
  from genereg_jax import design
  letters = {}
  for part in filter(None, (text or "").split(",")):
    start, _, seq = part.partition(":")
    if not start.strip().isdigit() or not seq:
      raise ValueError(f"--fixed entry {part!r} is not START:LETTERS")
    letters[int(start)] = seq.strip()
  return design.fixed_positions(length, letters) if letters else None


def _constraints(length: int):
  from genereg_jax import design
  gc = None
  if FLAGS.gc_min is not None or FLAGS.gc_max is not None:
    gc = (0.0 if FLAGS.gc_min is None else FLAGS.gc_min,
          1.0 if FLAGS.gc_max is None else FLAGS.gc_max)
  return design.Constraints(fixed=parse_fixed(FLAGS.fixed, length), gc_range=gc,
                            forbidden=tuple(design.Motif.consensus(m) for m in FLAGS.forbid))


def _objective(names):
  from genereg_jax import design
  from genereg_jax.interpret import readout
  target = readout.resolve_target(names, FLAGS.target)
  if FLAGS.objective == "target":
    if FLAGS.value is None:
      raise ValueError("--objective=target needs --value")
    return design.target_value(target, FLAGS.value, FLAGS.logit)
  if FLAGS.objective == "contrast":
    if FLAGS.other is None:
      raise ValueError("--objective=contrast needs --other")
    return design.contrast(target, readout.resolve_target(names, FLAGS.other),
                           FLAGS.other_weight, FLAGS.logit)
  return design.maximise(target, FLAGS.logit)


def centred(fn, length: int, input_length: int):
  """``fn`` on ``length`` bp placed in the centre of ``input_length``, N (zero) flanks."""
  import jax.numpy as jnp
  left = (input_length - length) // 2
  if left == 0 and length == input_length:
    return fn
  return lambda x: fn(jnp.pad(x, ((0, 0), (left, input_length - length - left), (0, 0))))


def tsv_path(out: str) -> str:
  """The scores' TSV beside the FASTA ``out``: its extension replaced by ``.tsv``."""
  import os
  return os.path.splitext(out)[0] + ".tsv"


def write_designs(out: str, designs, names, method: str) -> None:
  """FASTA and TSV, best score first."""
  import numpy as np
  from genereg_jax import files
  order = np.argsort(-designs.scores, kind="stable")
  letters = np.array(list("ACGT"))
  with files.atomic_write(out) as f:
    for rank, i in enumerate(order):
      seq = "".join(letters[designs.x[i].argmax(-1)])
      f.write(f">design_{rank} score={designs.scores[i]:.6g} gc={designs.gc[i]:.3f} "
              f"forbidden_hits={designs.forbidden_hits[i]} method={method}\n{seq}\n")
  with files.atomic_write(tsv_path(out)) as f:
    f.write("\t".join(["name", "score", "gc", "forbidden_hits", *names]) + "\n")
    for rank, i in enumerate(order):
      f.write("\t".join([f"design_{rank}", f"{designs.scores[i]:.6g}",
                         f"{designs.gc[i]:.4f}", str(designs.forbidden_hits[i]),
                         *(f"{v:.6g}" for v in designs.outputs[i])]) + "\n")


def main(argv):
  del argv
  import numpy as np
  from genereg_jax import design
  from genereg_jax import files
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  from genereg_jax.train import reporting

  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = common.config_or_saved()
  if tsv_path(FLAGS.out) == FLAGS.out:
    raise SystemExit(f"error: --out {FLAGS.out} is the scores' TSV; name the FASTA .fa")
  files.check_output_path(FLAGS.out)
  predictor, step = predict.load_predictor(config, FLAGS.workdir, FLAGS.checkpoint,
                                           FLAGS.step,
                                           zero_missing_inputs=FLAGS.zero_missing_inputs)
  input_length = predictor.input_length
  length = FLAGS.length or input_length
  if length > input_length:
    raise SystemExit(f"error: --length {length} exceeds the model's input length "
                     f"{input_length}")
  try:
    model_readout = readout.predictor_readout(predictor, FLAGS.output)
    objective = _objective(model_readout.names)
    constraints = _constraints(length)
  except ValueError as e:
    raise SystemExit(f"error: {e}") from None
  fn = centred(model_readout.fn, length, input_length)
  what = objective.describe(model_readout.names)
  logging.info("designing %d x %d bp by %s: %s", FLAGS.n, length, FLAGS.method, what)
  if FLAGS.method == "seqprop":
    with reporting.progress_bar(FLAGS.steps, desc="seqprop", unit="step") as bar:
      designs = design.seqprop(fn, objective, FLAGS.n, length, constraints,
                               steps=FLAGS.steps, learning_rate=FLAGS.learning_rate,
                               seed=FLAGS.seed, progress=lambda _: bar.update(1))
  else:
    start = design.random_start(FLAGS.n, length, constraints, seed=FLAGS.seed)
    with reporting.progress_bar(FLAGS.rounds, desc="evolution", unit="round") as bar:
      designs = design.evolve(fn, objective, start, constraints, rounds=FLAGS.rounds,
                              progress=lambda _: bar.update(1))
  write_designs(FLAGS.out, designs, model_readout.names, FLAGS.method)
  if designs.forbidden_hits.any():
    logging.warning("%d of %d designs still contain a forbidden motif (forbidden_hits)",
                    int((designs.forbidden_hits > 0).sum()), FLAGS.n)
  print(f"{FLAGS.n} designs ({FLAGS.method}, {what}) from step {step}: score "
        f"best {designs.scores.max():.4g} median {np.median(designs.scores):.4g} -> "
        f"{FLAGS.out}")


if __name__ == "__main__":
  define_flags()
  common.run(main)
