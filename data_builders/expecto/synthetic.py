"""Synthetic ExPecto data with a known truth: expression driven by planted enhancer motifs.

A random genome (chr1..chr10, uniform bases) holds genes 6 kb apart; around each TSS
(both strands) consensus sites of four promoter/enhancer factors (``MOTIFS``) are
planted at random strand-oriented distances within the layout's span, in random
orientation. Each tissue ``t`` has an activity ``a[t, m]`` per motif (standard normal),
and its log expression is

  ``y[g, t] = 2 + sum_{sites i of g} a[t, m_i] * h(d_i) + noise``,
  ``h(d) = exp(-|d| / 800)`` upstream (``d <= 0``), ``exp(-|d| / 400)`` downstream,

with Gaussian noise of 10% of the signal's standard deviation; the written expression
is ``exp(y)`` (TPM-like). ``h`` is not one of ExPecto's decay bases (those are
``exp(-c floor(|d|/step))``), so the spatial transform has to approximate it.

The window size is scaled down with the rest (``LAYOUT``: 200 bp windows every 20 bp,
±2 kb, 200 positions as in the paper), so the pipeline runs in seconds. The ideal
chromatin model, `motif_counts_fn`, counts each motif's sites (either orientation) in
a window; with it, stage 1 -> spatial transform -> ridge recovers held-out expression
(``tests/expecto``: Spearman > 0.8 on chromosome 8 in every tissue).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from data_builders.expecto import tables
from genereg_jax import expecto
from genereg_jax.data import encoding
from genereg_jax.files import atomic_write
from genereg_jax.files import write_json

# Consensus sites (JASPAR-style consensus of the factors named): SP1 GC box, NRF1,
# CREB1 CRE, YY1.
MOTIFS = {"SP1": "GGGGCGGGGC", "NRF1": "GCGCATGCGC", "CREB1": "TGACGTCA",
          "YY1": "AAGATGGCGGC"}
LAYOUT = expecto.Layout(window=200, step=20, span=2000)
DECAY_UPSTREAM, DECAY_DOWNSTREAM = 800.0, 400.0  # bp, the truth's h(d)
GENE_SPACING = 6000


@dataclasses.dataclass
class SyntheticExpecto:
  """Genome, genes, expression and the truth that generated them."""
  genome: dict[str, str]
  genes: tables.Genes
  tissues: list[str]
  expression: np.ndarray  # [genes, tissues], exp(log expression)
  activity: np.ndarray  # [tissues, motifs]
  sites: list[list[tuple[str, int]]]  # per gene: (motif, strand-oriented distance)
  motifs: dict[str, str]
  layout: expecto.Layout = LAYOUT


def _reverse_complement(sequence: str) -> str:
  return sequence.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def truth_decay(distance: np.ndarray) -> np.ndarray:
  """``h(d)`` of the module docstring."""
  d = np.asarray(distance, np.float64)
  return np.where(d <= 0, np.exp(-np.abs(d) / DECAY_UPSTREAM), np.exp(-np.abs(d) / DECAY_DOWNSTREAM))


def jaspar_consensus(names: tuple[str, ...] = ("CTCF", "SPI1", "CEBPB", "TP53")
                     ) -> dict[str, str]:
  """Consensus (most likely base per column) of ``synthetic_motifs``' JASPAR matrices, so
  a chromatin model trained on that set (``--config=expecto:tiny``) recognises the sites."""
  from data_builders.synthetic_motifs import synthetic_motifs
  matrices = synthetic_motifs.load_motifs(
      motif_ids={n: synthetic_motifs.MOTIF_IDS[n] for n in names})
  return {n: "".join("ACGT"[i] for i in m.probabilities.argmax(1)) for n, m in matrices.items()}


def make(num_genes: int = 500, num_tissues: int = 4, sites_per_gene: float = 8.0,
         seed: int = 0, layout: expecto.Layout = LAYOUT,
         motifs: dict[str, str] | None = None) -> SyntheticExpecto:
  """Draws a synthetic set (see the module docstring); ``motifs`` replaces ``MOTIFS``."""
  rng = np.random.default_rng(seed)
  motifs = dict(motifs or MOTIFS)
  names = list(motifs)
  chromosomes = [f"chr{i}" for i in range(1, 11)]
  per_chrom = -(-num_genes // len(chromosomes))
  margin = layout.span + layout.window
  length = margin + per_chrom * GENE_SPACING
  genome = {c: np.array(list("ACGT"))[rng.integers(0, 4, length)] for c in chromosomes}
  ids, chroms, tss, strand, sites = [], [], [], [], []
  for g in range(num_genes):
    chrom, slot = chromosomes[g % len(chromosomes)], g // len(chromosomes)
    position, sign = margin + slot * GENE_SPACING, int(rng.choice([-1, 1]))
    taken = np.zeros(2 * layout.span, bool)
    gene_sites = []
    for _ in range(rng.poisson(sites_per_gene)):
      motif = names[rng.integers(len(names))]
      site = motifs[motif] if rng.random() < 0.5 else _reverse_complement(motifs[motif])
      distance = int(rng.integers(-layout.span + 50, layout.span - 50))
      start = position + sign * distance  # genomic first base of the site
      lo = start - position + layout.span
      if taken[max(lo - 2, 0):lo + len(site) + 2].any():
        continue
      taken[lo:lo + len(site)] = True
      genome[chrom][start:start + len(site)] = list(site)
      gene_sites.append((motif, distance))
    ids.append(f"GENE{g:05d}")
    chroms.append(chrom)
    tss.append(position)
    strand.append(sign)
    sites.append(gene_sites)
  activity = rng.normal(size=(num_tissues, len(names)))
  signal = np.zeros((num_genes, num_tissues))
  for g, gene_sites in enumerate(sites):
    for motif, distance in gene_sites:
      signal[g] += activity[:, names.index(motif)] * truth_decay(distance)
  noise = rng.normal(size=signal.shape) * 0.1 * signal.std(0)
  expression = np.exp(2.0 + signal + noise)
  genes = tables.Genes(ids, chroms, np.asarray(tss), np.asarray(strand))
  return SyntheticExpecto({c: "".join(s) for c, s in genome.items()}, genes,
                          [f"tissue_{t}" for t in range(num_tissues)], expression, activity,
                          sites, motifs, layout)


def write(data: SyntheticExpecto, out_dir: str | os.PathLike) -> dict[str, str]:
  """Writes ``genome.fa``, ``tss.bed`` (the paper's 5-column layout), ``expression.csv``
  (the paper's ``geneanno.exp.csv`` layout with a gene-id column) and ``truth.json``."""
  out_dir = os.fspath(out_dir)
  os.makedirs(out_dir, exist_ok=True)
  paths = {k: os.path.join(out_dir, v) for k, v in
           (("fasta", "genome.fa"), ("tss", "tss.bed"), ("expression", "expression.csv"),
            ("truth", "truth.json"))}
  with atomic_write(paths["fasta"]) as f:
    for chrom, sequence in data.genome.items():
      f.write(f">{chrom}\n")
      f.writelines(sequence[i:i + 60] + "\n" for i in range(0, len(sequence), 60))
  genes = data.genes
  with atomic_write(paths["tss"]) as f:
    for i, gene_id in enumerate(genes.ids):
      f.write(f"{genes.chroms[i]}\t{genes.tss[i]}\t{genes.tss[i] + 1}\t"
              f"{'+' if genes.strand[i] > 0 else '-'}\t{gene_id}\n")
  with atomic_write(paths["expression"]) as f:
    f.write(",".join(["gene_id", *data.tissues]) + "\n")
    for gene_id, row in zip(genes.ids, data.expression):
      f.write(",".join([gene_id, *(f"{v:.6g}" for v in row)]) + "\n")
  write_json(paths["truth"], {
      "motifs": data.motifs, "tissues": data.tissues, "activity": data.activity.tolist(),
      "decay_upstream_bp": DECAY_UPSTREAM, "decay_downstream_bp": DECAY_DOWNSTREAM,
      "layout": dataclasses.asdict(data.layout)})
  return paths


def motif_counts_fn(motifs: dict[str, str] | None = None):
  """The ideal chromatin model: ``[batch, window, 4]`` one-hot -> ``[batch, motifs]``
  counts of each motif's sites (either orientation) lying wholly in the window."""
  patterns = []
  for site in (motifs or MOTIFS).values():
    variants = {site, _reverse_complement(site)}
    patterns.append([encoding.one_hot_dna(v, np.float32) for v in variants])

  def count(one_hot: np.ndarray) -> np.ndarray:
    one_hot = np.asarray(one_hot, np.float32)
    out = np.zeros((one_hot.shape[0], len(patterns)), np.float32)
    for m, orientations in enumerate(patterns):
      for pattern in orientations:
        k = pattern.shape[0]
        positions = one_hot.shape[1] - k + 1
        score = sum(one_hot[:, j:j + positions] @ pattern[j] for j in range(k))
        out[:, m] += (score > k - 0.5).sum(1)
    return out
  return count
