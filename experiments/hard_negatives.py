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
"""

import json
import os

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


def main(argv):
  del argv
  from genereg_jax.train import hard_negatives
  from genereg_jax.train import reporting
  logging.set_verbosity(logging.INFO)
  reporting.quiet_library_logs()
  config = FLAGS.config
  if "hard_negatives" not in config:
    raise ValueError(f"config {config.model_name!r} has no hard_negatives section; use "
                     "e.g. --config=promid:hard_negatives")
  fasta, bed = genome_and_sites(config, FLAGS.workdir)
  reports = hard_negatives.run(config, FLAGS.workdir, fasta,
                               hard_negatives.read_tss_bed(bed))
  for report in reports:
    print(json.dumps({k: report[k] for k in ("round", "hard_negatives_used", "tss_precision",
                                             "tss_recall", "tss_calls", "precision_at_recall")}))


if __name__ == "__main__":
  define_flags()
  common.run(main)
