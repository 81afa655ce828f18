r"""Prepare step of ``spliceai_scoring``: a synthetic genome, its annotation and VCFs.

  python -m experiments.benchmarks.spliceai_inputs --workdir=/tmp/spliceai_bench --variants=1000

Written to ``--workdir``, deterministic in ``--seed``:

  genome.fa      two chromosomes of i.i.d. background holding designed genes from
                 ``data_builders.synthetic_splicing.sample_gene`` (consensus donors,
                 branch points, polypyrimidine tracts, acceptors) on both strands, at
                 least 5,100 nt from the chromosome ends, plus one gene that starts
                 300 nt into chr2 (edge gene) and an antisense transcript overlapping
                 a plus-strand gene (records in both get two entries).
  genes.txt      the genes as a SpliceAI annotation table (``#NAME CHROM STRAND
                 TX_START TX_END EXON_START EXON_END``, comma-terminated exon lists).
  variants.vcf   ``--variants`` records (default 1,000, so that one compilation per
                 length bucket is amortised) inside genes, sorted: about half within
                 12 nt of an exon boundary (large deltas), the rest anywhere in the
                 transcript; ~76 % SNVs, ~10 % deletions (REF 2-6 nt), ~8 % insertions
                 (ALT 2-5 nt), ~3 % two-ALT records, ~2 % complex (REF and ALT > 1 nt:
                 dots), a few outside every gene, and ``--edge_variants`` within 5,050
                 nt of the start of chr2, which the official tool skips (pyfaidx returns
                 an empty window that starts before the chromosome, so the record fails
                 its REF check: "Skipping record (ref issue)") and ours scores with N
                 padding.
  one.vcf        one SNV inside a gene (the startup run).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

DEFAULT_VARIANTS = 1_000
CHROMOSOMES = ("chr1", "chr2")
FLANK = 5_100          # Background before the first / after the last gene (> 5,050).
EDGE_GENE_START = 300  # The edge gene on chr2 starts here (its windows cross the start).
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _background(rng: np.random.Generator, n: int, gc: float = 0.42) -> str:
  at = (1 - gc) / 2
  return "".join(np.array(list("ACGT"))[rng.choice(4, n, p=[at, gc / 2, gc / 2, at])])


def _designed_gene(rng: np.random.Generator, config) -> tuple[str, list[tuple[int, int]]]:
  """A gene 5'->3' as text and its exons (0-based half-open, gene coordinates)."""
  from data_builders.synthetic_splicing import synthetic_splicing
  gene = synthetic_splicing.sample_gene(rng, config)
  return "".join(np.array(list("ACGT"))[gene.bases]), list(gene.exons)


def make_genome(seed: int) -> tuple[dict[str, str], list[dict]]:
  """Chromosome sequences and transcripts (dicts in the annotation table's terms)."""
  from data_builders.synthetic_splicing import synthetic_splicing
  config = synthetic_splicing.SyntheticSplicingConfig(
      name="benchmark", num_exons=(3, 7), intron_length=(80, 1500))
  layout = {"chr1": ["+", "-", "+", "-"], "chr2": ["edge+", "-", "+"]}
  chroms, transcripts = {}, []
  for chrom_index, (chrom, strands) in enumerate(layout.items()):
    rng = np.random.default_rng([seed, chrom_index])
    parts, position = [], 0
    for gene_index, strand in enumerate(strands):
      gap = (EDGE_GENE_START if strand == "edge+" else
             FLANK if gene_index == 0 else int(rng.integers(800, 2000)))
      if strand != "edge+":  # Only the edge gene comes within 5,050 nt of an end.
        gap = max(gap, FLANK - position)
      parts.append(_background(rng, gap))
      position += gap
      bases, exons = _designed_gene(
          np.random.default_rng([seed, chrom_index, gene_index]), config)
      length = len(bases)
      if strand == "-":
        bases = bases.translate(_COMPLEMENT)[::-1]
        exons = sorted((length - end, length - start) for start, end in exons)
      name = f"G{chrom_index + 1}{gene_index + 1}"
      transcripts.append(dict(name=name, chrom=chrom, strand=strand[-1],
                              tx_start=position, tx_end=position + length,
                              exons=[(position + s, position + e) for s, e in exons],
                              edge=strand == "edge+"))
      parts.append(bases)
      position += length
    parts.append(_background(rng, FLANK))
    chroms[chrom] = "".join(parts)
  # An antisense transcript over the second half of chr1's first gene and beyond: records
  # there get two entries. Its exons are arbitrary (no designed sites on this strand).
  first = transcripts[0]
  start = (first["tx_start"] + first["tx_end"]) // 2
  end = first["tx_end"] + 600
  exons = [(start, start + 150), ((start + end) // 2, (start + end) // 2 + 120),
           (end - 200, end)]
  transcripts.insert(1, dict(name="AS11", chrom="chr1", strand="-", tx_start=start,
                             tx_end=end, exons=exons, edge=False))
  return chroms, transcripts


def make_variants(chroms: dict[str, str], transcripts: list[dict], count: int,
                  edge_count: int, seed: int) -> list[tuple[str, int, str, str]]:
  """``count`` sorted, distinct ``(chrom, pos, ref, alts)`` records (1-based pos)."""
  rng = np.random.default_rng([seed, 99])
  inner = [t for t in transcripts if not t["edge"]]
  edge = [t for t in transcripts if t["edge"]]
  chosen: dict[tuple[str, int], tuple[str, int, str, str]] = {}

  def record(chrom: str, pos: int) -> tuple[str, int, str, str]:
    seq = chroms[chrom]
    ref = seq[pos - 1]
    others = [b for b in "ACGT" if b != ref]
    kind = rng.random()
    if kind < 0.76:
      return chrom, pos, ref, str(rng.choice(others))
    if kind < 0.86:
      length = int(rng.integers(2, 7))
      return chrom, pos, seq[pos - 1:pos - 1 + length], ref
    if kind < 0.94:
      inserted = "".join(rng.choice(list("ACGT"), int(rng.integers(1, 5))))
      return chrom, pos, ref, ref + inserted
    if kind < 0.97:
      first, second = rng.choice(others, 2, replace=False)
      return chrom, pos, ref, f"{first},{second}"
    length = int(rng.integers(2, 4))
    return chrom, pos, seq[pos - 1:pos - 1 + length], "".join(
        rng.choice(list("ACGT"), int(rng.integers(2, 4))))

  def add(chrom: str, pos: int) -> None:
    if (chrom, pos) not in chosen:
      chosen[(chrom, pos)] = record(chrom, pos)

  intergenic = max(count // 50, 2)
  edge_count = min(edge_count, count)
  while len(chosen) < count - intergenic - edge_count:
    t = inner[int(rng.integers(len(inner)))]
    if rng.random() < 0.5:
      boundary = [s + 1 for s, _ in t["exons"]] + [e for _, e in t["exons"]]
      pos = int(rng.choice(boundary)) + int(rng.integers(-12, 13))
    else:
      pos = int(rng.integers(t["tx_start"] + 1, t["tx_end"] + 1))
    if t["tx_start"] < pos <= t["tx_end"] - 6:
      add(t["chrom"], pos)
  for t in edge:
    while sum(1 for c, p in chosen if c == t["chrom"] and p <= t["tx_end"]) < edge_count:
      add(t["chrom"], int(rng.integers(t["tx_start"] + 1, min(t["tx_end"] - 6, 5_000))))
  spans = [(t["chrom"], t["tx_start"], t["tx_end"]) for t in transcripts]
  while len(chosen) < count:
    chrom = CHROMOSOMES[int(rng.integers(2))]
    pos = int(rng.integers(FLANK // 2, len(chroms[chrom]) - FLANK // 2))
    if not any(c == chrom and s < pos + 6 and pos - 1 <= e for c, s, e in spans):
      add(chrom, pos)
  return sorted(chosen.values(), key=lambda r: (CHROMOSOMES.index(r[0]), r[1]))


def write_inputs(workdir: str, count: int, edge_count: int, seed: int) -> dict:
  """genome.fa, genes.txt, variants.vcf and one.vcf (one SNV) under ``workdir``: their
  paths, plus ``records`` and ``transcripts``."""
  os.makedirs(workdir, exist_ok=True)
  chroms, transcripts = make_genome(seed)
  paths = {name: os.path.join(workdir, name)
           for name in ("genome.fa", "genes.txt", "variants.vcf", "one.vcf")}
  for stale in (paths["genome.fa"] + ".fai",):
    if os.path.exists(stale):
      os.remove(stale)
  with open(paths["genome.fa"], "w") as f:
    for name, seq in chroms.items():
      f.write(f">{name}\n" + "".join(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60)))
  with open(paths["genes.txt"], "w") as f:
    f.write("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n")
    for t in transcripts:
      starts = "".join(f"{s}," for s, _ in t["exons"])
      ends = "".join(f"{e}," for _, e in t["exons"])
      f.write(f"{t['name']}\t{t['chrom']}\t{t['strand']}\t{t['tx_start']}\t{t['tx_end']}"
              f"\t{starts}\t{ends}\n")
  records = make_variants(chroms, transcripts, count, edge_count, seed)
  header = (["##fileformat=VCFv4.2"]
            + [f"##contig=<ID={c},length={len(s)}>" for c, s in chroms.items()]
            + ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"])

  def write_vcf(path, rows):
    with open(path, "w") as f:
      f.write("\n".join(header) + "\n")
      for chrom, pos, ref, alts in rows:
        f.write(f"{chrom}\t{pos}\t.\t{ref}\t{alts}\t.\t.\t.\n")

  write_vcf(paths["variants.vcf"], records)
  inner = [t for t in transcripts if not t["edge"]]
  one = next(r for r in records if len(r[2]) == 1 and len(r[3]) == 1
             and any(t["chrom"] == r[0] and t["tx_start"] < r[1] <= t["tx_end"]
                     for t in inner))
  write_vcf(paths["one.vcf"], [one])
  paths["records"] = records
  paths["transcripts"] = transcripts
  return paths


def subset_vcf(source: str, path: str, count: int) -> None:
  """``count`` records of ``source`` spread evenly over it."""
  with open(source) as f:
    lines = f.read().splitlines()
  header = [l for l in lines if l.startswith("#")]
  body = [l for l in lines if not l.startswith("#")]
  picked = sorted(set(np.linspace(0, len(body) - 1, min(count, len(body))).astype(int)))
  with open(path, "w") as f:
    f.write("\n".join(header + [body[i] for i in picked]) + "\n")


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--workdir", default="/tmp/spliceai_bench")
  parser.add_argument("--variants", type=int, default=DEFAULT_VARIANTS)
  parser.add_argument("--edge_variants", type=int, default=4)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  paths = write_inputs(args.workdir, args.variants, args.edge_variants, args.seed)
  print(f"{len(paths['records'])} records on {len(paths['transcripts'])} transcripts in "
        f"{args.workdir}")


if __name__ == "__main__":
  main()
