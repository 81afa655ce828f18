r"""Trains with hard-negative rounds and reports TSS calls (DeeReCT-PromID).

  python -m experiments.hard_negatives --config=promid:hard_negatives --workdir=/tmp/hn
  python -m experiments.hard_negatives --config=promid:tiny --workdir=/tmp/hn_tiny
  python -m experiments.hard_negatives --config=promid:real --workdir=/tmp/hn_epd \
      --config.hard_negatives.genome_fasta=hg38.fa --config.hard_negatives.tss_bed=tss.bed

Each round trains in ``<workdir>/round_<r>/model``, mines the top-scoring false positives
of the mining chromosomes and reports precision / recall of TSS calls within +-500 bp on
the evaluation chromosomes (`genereg_jax.train.hard_negatives`). Relaunching resumes:
finished rounds are read from their ``report.json``, an unfinished one resumes its
training from its checkpoints. Without ``genome_fasta``/``tss_bed`` the embedded
``synthetic_promoters`` genome is written into ``<workdir>/genome``.

One JSON line per round is printed, with the paper's own measures beside ours
(`promid_measures`): PromID's evaluation (``TestPromID.java`` in the authors'
``umarov90/PromStudy``) counts a TSS as found by its first call within +-500 bp, every
call farther than that from it as an error, and reports recall, precision = found /
(found + errors), F1, errors per correct call and errors per 1,000 bp scanned.
"""

import json
import os

import numpy as np
from absl import flags
from absl import logging

from experiments import common


def define_flags() -> None:
  """Flags, defined when run as a command (not on import, so that modules which
  share ``--config`` can be imported together)."""
  common.define_config_flags()


FLAGS = flags.FLAGS


def genome_and_sites(config, workdir: str) -> tuple[str, str]:
  """The config's genome FASTA and TSS BED, or the synthetic ones written into workdir."""
  settings = config.hard_negatives
  if settings.genome_fasta or settings.tss_bed:
    if not (settings.genome_fasta and settings.tss_bed):
      raise ValueError("set both --config.hard_negatives.genome_fasta and "
                       "--config.hard_negatives.tss_bed (or neither, for the synthetic genome)")
    return settings.genome_fasta, settings.tss_bed
  from data_builders.synthetic_promoters import synthetic_promoters
  return synthetic_promoters.write_genome(os.path.join(workdir, "genome"),
                                          **settings.synthetic_genome.to_dict())


def promid_measures(report: dict, scanned_bp: int) -> dict[str, float]:
  """PromID's measures (module docstring) of one round's report; ``scanned_bp`` counts
  both strands. Calls within +-500 bp of a found TSS beyond its first are neither right
  nor errors there; ours count them right (`hard_negatives.score_calls`)."""
  found, errors = report["tss_tss_found"], report["tss_calls"] - report["tss_right_calls"]
  tss = report["tss_tss"]
  return {"promid_precision": found / (found + errors) if found + errors else float("nan"),
          # 2 P R / (P + R) with P = found / (found + errors), R = found / TSSs.
          "promid_f1": 2 * found / (found + errors + tss) if found + errors + tss else 0.0,
          "errors": errors, "errors_per_correct": errors / found if found else float("inf"),
          "errors_per_kb": 1000 * errors / scanned_bp}


def promid_precision_at_recall(calls, sites, match_distance: int, recall: float) -> float:
  """PromID's precision (found / (found + errors)) at the best call threshold whose recall
  reaches ``recall`` (nan if none): the paper's measure at matched recall."""
  from genereg_jax.train import hard_negatives
  scores, right, best = hard_negatives.call_outcomes(calls, sites, match_distance)
  precision = float("nan")
  for threshold in np.unique(scores):
    found = int(((best >= threshold) & (best > 0)).sum())
    if sites and found >= recall * len(sites):
      value = found / (found + int(((scores >= threshold) & ~right).sum()))
      precision = value if not precision >= value else precision
  return precision


def main(argv):
  del argv
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.train import hard_negatives
  from genereg_jax.train import reporting
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = FLAGS.config
  if "hard_negatives" not in config:
    raise ValueError(f"config {config.model_name!r} has no hard_negatives section; use "
                     "e.g. --config=promid:hard_negatives")
  fasta, bed = genome_and_sites(config, FLAGS.workdir)
  settings = config.hard_negatives
  sites = hard_negatives.read_tss_bed(bed)
  reports = hard_negatives.run(config, FLAGS.workdir, fasta, sites)
  evaluation = [s for s in sites if s.chrom in settings.evaluation_chromosomes]
  genome = genome_lib.Genome(fasta)
  scanned_bp = 2 * sum(genome.sizes[genome.chromosome(c)]
                       for c in settings.evaluation_chromosomes)
  genome.close()
  for report in reports:
    line = {**{k: report[k] for k in (
        "round", "hard_negatives_used", "tss_tss", "tss_calls", "tss_precision",
        "tss_recall", "tss_f1", "precision_at_recall")},
        **promid_measures(report, scanned_bp)}
    calls_path = os.path.join(FLAGS.workdir, f"round_{report['round']}", "calls.npz")
    if os.path.exists(calls_path):  # Rounds run before calls were kept have none.
      with np.load(calls_path) as saved:
        calls = list(zip(*(saved[k].tolist() for k in hard_negatives.CALL_FIELDS))) \
            if saved.files else []
      line["promid_precision_at_recall"] = {
          str(q): promid_precision_at_recall(calls, evaluation, settings.match_distance, q)
          for q in (0.5, 0.7, 0.8, 0.9)}
    print(json.dumps(line))


if __name__ == "__main__":
  define_flags()
  common.run(main)
