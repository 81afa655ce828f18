r"""A pretraining genome made of ``synthetic_motifs`` regulatory elements (issue 20).

  python -m data_builders.synthetic_motifs.genome --out=/tmp/grammar_genome.fa
  python -m experiments.train --config=dnabert_pretrain:tiny --workdir=/tmp/pre \
      --config.dataset.fasta=/tmp/grammar_genome.fa

Self-supervised pretraining pays off when the unlabelled genome holds the regulatory
grammar that the scarce labels describe (DNABERT, Ji et al., Bioinformatics 2021;
the Nucleotide Transformer, Dalla-Torre et al., Nat. Methods 2024: the genome is the
corpus, the labelled sets are small). The embedded pretraining genome
(``genereg_jax.data.pretrain_sources.synthetic_genome``, data dir ``v2``) plants the
task's JASPAR motifs one by one in a background of fixed GC, so it holds neither the
grammar of ``synthetic_motifs`` (composite Oct-Sox elements, PU.1-C/EBP pairs, liver
motif combinations, GATA1 without PU.1, convergent CTCF pairs) nor its per-example GC
(0.35-0.6): a language model pretrained on it has never seen what the labels are about
beyond single motifs.

This genome (``v3``; ``v2`` stays the default and buildable) is that grammar without
the labels: each chromosome is a run of elements drawn exactly as a
``synthetic_motifs`` builder config draws its examples
(``synthetic_motifs.sample_example``: background GC per element, a grammar scenario or
a decoy, random fillers, strong sites; by default the ``tiny`` config's 200 bp
elements), joined end to end, with a 5-kb N run at each chromosome's start and a 2-kb
one inside it, as ``v2`` (so N-heavy windows exist to skip). Element ``i`` of
chromosome ``c`` uses ``np.random.default_rng([seed, GENOME_STREAM, c, i])``: a
four-number seed, which no builder example's three-number
``example_rng(seed, split, index)`` can equal, so no labelled example is in the genome.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from data_builders.synthetic_motifs import synthetic_motifs
from genereg_jax.data import pretrain_sources

#: Second entry of every element's seed: keeps the genome's draws apart from the builders'.
GENOME_STREAM = 1_000
_BASES = np.frombuffer(b"ACGT", np.uint8)


def builder_config(name: str) -> synthetic_motifs.SyntheticMotifsConfig:
  """The ``synthetic_motifs`` builder config called ``name``."""
  configs = {c.name: c for c in synthetic_motifs.SyntheticMotifs.BUILDER_CONFIGS}
  if name not in configs:
    raise ValueError(f"unknown synthetic_motifs config {name!r}; configs: {sorted(configs)}")
  return configs[name]


def grammar_genome(path: str, *, like: str = "tiny", num_chromosomes: int = 10,
                   length: int = 200_000, seed: int = 0,
                   release: str | None = None) -> str:
  """Writes the grammar genome to ``path`` (a FASTA of ``chr1 … chr{num_chromosomes}``,
  each ``length`` bp) and returns ``path``; elements are drawn as the
  ``synthetic_motifs`` config ``like`` draws examples (see the module docstring)."""
  records = []
  for c in range(num_chromosomes):
    letters = _BASES[elements(c, length, like=like, seed=seed, release=release)[0]]
    letters[:min(5000, length // 10)] = ord("N")
    gap = length // 3
    letters[gap:gap + min(2000, length // 20)] = ord("N")
    records.append((f"chr{c + 1}", letters.tobytes()))
  pretrain_sources.write_fasta(path, records)
  return path


def elements(chromosome: int, length: int, *, like: str = "tiny", seed: int = 0,
             release: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """``(bases, in_motif)`` of chromosome index ``chromosome`` (0-based) before its N
  runs: ``uint8[length]`` base indices (A, C, G, T = 0..3) and bool ``[length]``, True
  on the bases of planted motif sites. Indices ``>= num_chromosomes`` of a written
  genome give fresh sequence of the same kind (held-out diagnostics)."""
  config = builder_config(like)
  motifs = synthetic_motifs.load_motifs(release)
  element = config.sequence_length
  pieces, sites = [], []
  for i in range(-(-length // element)):
    rng = np.random.default_rng([seed, GENOME_STREAM, chromosome, i])
    example = synthetic_motifs.sample_example(
        rng, motifs, element, config.gc_range, planting_window=config.planting_window,
        min_score_fraction=config.min_score_fraction)
    pieces.append(example["sequence"].argmax(-1).astype(np.uint8))
    in_motif = np.zeros(element, bool)
    for name, start in zip(example["motif_name"], example["motif_start"]):
      in_motif[start:start + motifs[name].width] = True
    sites.append(in_motif)
  return np.concatenate(pieces)[:length], np.concatenate(sites)[:length]


def main(argv: Sequence[str] | None = None) -> str:
  """Parses ``argv``, writes the genome, prints its path."""
  parser = argparse.ArgumentParser(prog="python -m data_builders.synthetic_motifs.genome",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--out", required=True, help="FASTA to write.")
  parser.add_argument("--like", default="tiny",
                      help="synthetic_motifs config whose examples are the elements.")
  parser.add_argument("--chromosomes", type=int, default=10,
                      help="chromosomes (dnabert_pretrain holds out chr8 and chr9).")
  parser.add_argument("--length", type=int, default=200_000, help="bases per chromosome.")
  parser.add_argument("--seed", type=int, default=0, help="genome seed.")
  args = parser.parse_args(argv)
  path = grammar_genome(args.out, like=args.like, num_chromosomes=args.chromosomes,
                        length=args.length, seed=args.seed)
  print(path)
  return path


if __name__ == "__main__":
  main(sys.argv[1:])
