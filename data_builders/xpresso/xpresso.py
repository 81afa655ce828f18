"""Xpresso's gene tables (Agarwal & Shendure, Cell Reports 2020), from ``manual_dir``.

The paper's input (``vagarwal87/Xpresso``, e.g.
``Roadmap_FantomAnnotations.InputData.pM10Kb.txt.gz``): a tab-separated table, one row per
gene (its id first, as pandas writes the index), with ``EXPRESSION`` (median RPKM/TPM
across tissues) and eight mRNA half-life features ``UTR5LEN CDSLEN INTRONLEN UTR3LEN
UTR5GC CDSGC UTR3GC ORFEXONDENSITY``, and ``PROMOTER``: the 20-kb sequence centred on the
gene's main CAGE TSS (``setup_training_files.py``). A table without ``PROMOTER`` takes
the promoters from the one FASTA in ``manual_dir`` (records named by gene id).

Preprocessing is the reference's ``preprocess``: log10(x + 0.1) of ``EXPRESSION``, the
four lengths and ``ORFEXONDENSITY``, then every column standardised (mean 0, s.d. 1) over
the table. The model reads ``[tss - upstream, tss + downstream)`` of each promoter with
the TSS at its centre (``len // 2``; the paper's ``leftpos``/``rightpos`` 3,000/13,500
of 20 kb are upstream 7,000, downstream 3,500); a promoter too short for it is an error.
Splits as ``setup_training_files.py -t 1000 -v 1000``: the genes are shuffled with seed 1,
the first ``num_test`` are the test set, the next ``num_valid`` valid.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds

from data_builders.apa_usage import read_site_sequences
from genereg_jax.data import encoding
from genereg_jax.data import tables
from genereg_jax.files import InputFormatError

HALFLIFE_FEATURES = ("UTR5LEN", "CDSLEN", "INTRONLEN", "UTR3LEN", "UTR5GC", "CDSGC",
                     "UTR3GC", "ORFEXONDENSITY")
LOG_COLUMNS = ("EXPRESSION", "UTR5LEN", "CDSLEN", "INTRONLEN", "UTR3LEN", "ORFEXONDENSITY")


def read_genes(table_path: str, fasta_path: str | None
               ) -> tuple[list[str], np.ndarray, list[str]]:
  """``(gene ids, float[genes, 9] EXPRESSION + features (raw), promoters)``."""
  genes, values, promoters = [], [], []
  sequences = read_site_sequences(fasta_path) if fasta_path else None
  for line, row in tables.rows(table_path, ("EXPRESSION", *HALFLIFE_FEATURES)):
    gene = row.get(tables.INDEX) or next(iter(row.values()))
    if sequences is None:
      if "PROMOTER" not in row:
        raise InputFormatError(table_path, line, "no PROMOTER column and no promoter FASTA")
      promoter = row["PROMOTER"].upper()
    elif gene in sequences:
      promoter = sequences[gene]
    else:
      raise InputFormatError(fasta_path, None, f"no promoter for gene {gene!r} "
                                               f"(line {line} of {table_path})")
    genes.append(gene)
    values.append([tables.number(table_path, line, row, c)
                   for c in ("EXPRESSION", *HALFLIFE_FEATURES)])
    promoters.append(promoter)
  return genes, np.asarray(values, np.float64).reshape(-1, 9), promoters


def preprocess(values: np.ndarray) -> np.ndarray:
  """The reference's log10(x + 0.1) of the count-like columns, then standardisation."""
  values = values.copy()
  columns = [("EXPRESSION", *HALFLIFE_FEATURES).index(c) for c in LOG_COLUMNS]
  values[:, columns] = np.log10(values[:, columns] + 0.1)
  std = values.std(axis=0)
  return (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)


@dataclasses.dataclass(eq=False)
class XpressoConfig(tfds.core.BuilderConfig):
  """The window around the TSS and the held-out gene counts."""
  upstream: int = 7000
  downstream: int = 3500
  num_valid: int = 1000
  num_test: int = 1000
  seed: int = 1


class Xpresso(tfds.core.GeneratorBasedBuilder):
  """Promoters, half-life features and median expression per gene (Xpresso)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  # One table per species (the human Roadmap and the mouse tables), same layout.
  BUILDER_CONFIGS = [XpressoConfig(name="human", description="Human, -7 kb/+3.5 kb."),
                     XpressoConfig(name="mouse", description="Mouse, -7 kb/+3.5 kb.")]

  def _info(self) -> tfds.core.DatasetInfo:
    c = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "promoter": tfds.features.Tensor(shape=(c.upstream + c.downstream, 4),
                                             dtype=np.uint8),
            "halflife": tfds.features.Tensor(shape=(len(HALFLIFE_FEATURES),),
                                             dtype=np.float32),
            "expression": tfds.features.Scalar(dtype=np.float32),
            "gene_id": tfds.features.Text()}),
        metadata=tfds.core.MetadataDict(targets=["expression"], tss=c.upstream,
                                        halflife_features=list(HALFLIFE_FEATURES)))

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    names = sorted(os.listdir(manual_dir))
    table = [f for f in names if f.endswith((".txt", ".tsv", ".txt.gz", ".tsv.gz"))]
    fasta = [f for f in names if f.endswith((".fa", ".fasta", ".fa.gz", ".fasta.gz"))]
    if len(table) != 1 or len(fasta) > 1:
      raise FileNotFoundError(f"{manual_dir}: need one gene table (.txt/.tsv) and at most "
                              f"one promoter FASTA; found {table} and {fasta}")
    c = self.builder_config
    table_path = os.path.join(manual_dir, table[0])
    genes, values, promoters = read_genes(
        table_path, os.path.join(manual_dir, fasta[0]) if fasta else None)
    values = preprocess(values)
    order = np.random.default_rng(c.seed).permutation(len(genes))
    split_of = {int(g): ("test" if rank < c.num_test else "valid"
                         if rank < c.num_test + c.num_valid else "train")
                for rank, g in enumerate(order)}
    splits = {"train": [], "valid": [], "test": []}
    for i, gene in enumerate(genes):
      tss = len(promoters[i]) // 2
      if tss < c.upstream or len(promoters[i]) - tss < c.downstream:
        raise InputFormatError(table_path, None, f"gene {gene}: promoter of "
                               f"{len(promoters[i])} bp is too short for -{c.upstream}/"
                               f"+{c.downstream} around its centre")
      window = promoters[i][tss - c.upstream:tss + c.downstream]
      splits[split_of[i]].append((gene, {
          "promoter": encoding.one_hot_dna(window), "halflife": values[i, 1:].astype(np.float32),
          "expression": np.float32(values[i, 0]), "gene_id": gene}))
    return {name: self._generate_examples(rows) for name, rows in splits.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
