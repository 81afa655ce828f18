r"""Builds a ``graphreg`` dataset from bigWigs, a contact map or loops, and a GTF.

  python -m data_builders.graphreg.make --name=k562_hic \
      --epi=DNase=k562_dnase.bw --epi=H3K27ac=k562_h3k27ac.bw \
      --epi=H3K4me3=k562_h3k4me3.bw --cage=k562_cage.bw \
      --contacts=k562.mcool --edge_rule=fdr --edge_fdr=0.1 \
      --gtf=gencode.v38.annotation.gtf --fasta=hg38.fa --data_dir=D

writes ``D/graphreg/k562_hic/1.0.0`` (array_record): GraphReg's 6-Mb regions (1,200
nodes of 5 kb) tiled every 2 Mb, valid chr1/chr11, test chr2/chr12 (see
``data_builders.graphreg.graphreg``). ``--loops=fithichip.bed`` takes a HiChIP loop
BEDPE instead of ``--contacts``. The dataset then loads by name: ``--config.dataset.name=
graphreg/k562_hic``. As with ``intervals.make``, the inputs and options are
fingerprinted: rerunning with the same ``--name`` reuses the dataset only when they are
unchanged, otherwise it stops and lists the changes (``--overwrite`` rebuilds).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import tensorflow_datasets as tfds

from data_builders.graphreg import graphreg
from genereg_jax.data import fingerprint


def _names(text: str) -> tuple[str, ...]:
  return tuple(c.strip() for c in text.split(",") if c.strip())


def _named_path(text: str) -> tuple[str | None, str]:
  """``NAME=path`` or ``path``."""
  name, sep, path = text.partition("=")
  return (name, path) if sep and not os.path.exists(text) else (None, text)


def parser() -> argparse.ArgumentParser:
  """The command-line interface (one flag per ``GraphRegConfig`` field)."""
  defaults = graphreg.GraphRegConfig(name="defaults", epi_bigwigs=("x",),
                                     cage_bigwigs=("x",), loops="x", gtf="x")
  p = argparse.ArgumentParser(
      prog="python -m data_builders.graphreg.make",
      description="Build a TFDS dataset of GraphReg regions from real files.")
  p.add_argument("--name", required=True, help="Config name: the dataset is graphreg/<name>.")
  p.add_argument("--epi", action="append", required=True,
                 help="Epigenomic bigWig, optionally NAME=path; repeat per track.")
  p.add_argument("--cage", action="append", required=True,
                 help="CAGE bigWig; repeat to add several (e.g. both strands).")
  p.add_argument("--contacts", default="", help=".cool, .mcool or .hic contact map.")
  p.add_argument("--loops", default="", help="Loop BEDPE (FitHiChIP) instead of --contacts.")
  p.add_argument("--gtf", required=True, help="GENCODE/Ensembl GTF for the TSSs.")
  p.add_argument("--fasta", default="", help="Genome FASTA: also store the sequence.")
  p.add_argument("--regions", default="", help="BED of regions (default: GraphReg tiles).")
  p.add_argument("--chromosomes", type=_names, default=(),
                 help="Comma-separated chromosomes to tile (default: all shared).")
  p.add_argument("--valid", type=_names, default=defaults.valid_chromosomes,
                 help="Comma-separated valid chromosomes (default chr1,chr11).")
  p.add_argument("--test", type=_names, default=defaults.test_chromosomes,
                 help="Comma-separated test chromosomes (default chr2,chr12).")
  p.add_argument("--n_nodes", type=int, default=defaults.n_nodes)
  p.add_argument("--node_size", type=int, default=defaults.node_size)
  p.add_argument("--epi_bin_size", type=int, default=defaults.epi_bin_size)
  p.add_argument("--scored_nodes", type=lambda t: tuple(int(x) for x in _names(t)),
                 default=defaults.scored_nodes,
                 help="first,end node of the loss (default 400,800); tiles step by it.")
  p.add_argument("--epi_stat", choices=graphreg.BIN_STATS, default=defaults.epi_stat)
  p.add_argument("--cage_stat", choices=graphreg.BIN_STATS, default=defaults.cage_stat)
  p.add_argument("--gene_types", default="protein_coding",
                 help="Comma-separated GTF gene types, or 'all'.")
  p.add_argument("--edge_rule", choices=graphreg.graph_edges.EDGE_RULES,
                 default=defaults.edge_rule)
  p.add_argument("--edge_fdr", type=float, default=defaults.edge_fdr)
  p.add_argument("--contact_threshold", type=float, default=defaults.contact_threshold)
  p.add_argument("--top_k", type=int, default=defaults.top_k)
  p.add_argument("--normalization", default=defaults.normalization,
                 help="hictkpy normalization: NONE (raw, for fdr), weight, KR, SCALE, VC.")
  p.add_argument("--loop_fdr", type=float, default=defaults.loop_fdr)
  p.add_argument("--min_edge_distance", type=int, default=defaults.min_edge_distance)
  p.add_argument("--max_edges", type=int, default=defaults.max_edges)
  p.add_argument("--data_dir", default=None, help="TFDS data_dir (default ~/tensorflow_datasets).")
  p.add_argument("--description", default=None, help="Free-text description.")
  p.add_argument("--overwrite", action="store_true",
                 help="Rebuild a dataset of this name built from other inputs.")
  return p


def config_from_args(args: argparse.Namespace) -> graphreg.GraphRegConfig:
  """A ``GraphRegConfig`` with absolute paths, from parsed arguments."""
  epi = [_named_path(e) for e in args.epi]
  names = [n for n, _ in epi]
  absolute = lambda p: os.path.abspath(p) if p else ""  # noqa: E731
  return graphreg.GraphRegConfig(
      name=args.name,
      description=args.description or f"GraphReg regions of {len(epi)} tracks",
      epi_bigwigs=tuple(absolute(p) for _, p in epi),
      epi_names=tuple(n or graphreg.bigwig_stem(p) for n, p in epi) if any(names) else None,
      cage_bigwigs=tuple(absolute(p) for p in args.cage),
      contacts=absolute(args.contacts), loops=absolute(args.loops), gtf=absolute(args.gtf),
      fasta=absolute(args.fasta), regions=absolute(args.regions),
      chromosomes=args.chromosomes, n_nodes=args.n_nodes, node_size=args.node_size,
      epi_bin_size=args.epi_bin_size, scored_nodes=args.scored_nodes,
      epi_stat=args.epi_stat, cage_stat=args.cage_stat,
      gene_types=None if args.gene_types == "all" else _names(args.gene_types),
      edge_rule=args.edge_rule, edge_fdr=args.edge_fdr,
      contact_threshold=args.contact_threshold, top_k=args.top_k,
      normalization=args.normalization, loop_fdr=args.loop_fdr,
      min_edge_distance=args.min_edge_distance, max_edges=args.max_edges,
      valid_chromosomes=args.valid, test_chromosomes=args.test)


def build(config: graphreg.GraphRegConfig, data_dir: str | None = None,
          overwrite: bool = False) -> tfds.core.DatasetBuilder:
  """Builds ``graphreg/<config.name>`` (reused when its inputs are unchanged)."""
  files = [*config.epi_bigwigs, *config.cage_bigwigs, config.contacts, config.loops,
           config.gtf, config.fasta, config.regions]
  return fingerprint.prepare(
      lambda: graphreg.Graphreg(config=config, data_dir=data_dir,
                                file_format="array_record"),
      fingerprint.fingerprint([f for f in files if f], config.as_dict()),
      overwrite=overwrite, file_format="array_record")


def main(argv: Sequence[str] | None = None) -> tfds.core.DatasetBuilder:
  """Parses ``argv``, builds, prints the splits."""
  args = parser().parse_args(argv)
  try:
    config = config_from_args(args)
  except ValueError as e:
    parser().error(str(e))
  try:
    builder = build(config, args.data_dir, args.overwrite)
  except ValueError as e:  # Bad inputs (InputFormatError) or a changed-input refusal.
    raise SystemExit(f"error: {e}") from None
  print(f"graphreg/{config.name}: {builder.data_dir}")
  for name, split in builder.info.splits.items():
    print(f"  {name}: {split.num_examples} regions")
  print(f"  epi tracks: {', '.join(builder.info.metadata['epi_tracks'])}")
  return builder


if __name__ == "__main__":
  main(sys.argv[1:])
