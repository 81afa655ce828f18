"""Per-gene polyadenylation site usage -> padded PAS sets (DeeReCT-APA) and site pairs
(Leung et al. 2018), from real tables in ``manual_dir``.

Two input layouts:

* The DeeReCT-APA repository's (``lzx325/DeeReCT-APA-repo``, ``APA_ML/Parental``):
  ``*.usage.txt``, a pandas-written table whose header names only the samples (``BL\\tSP``)
  and whose rows are ``<gene>:<pas number>\\t<usage>...`` (3'-READS usage fractions of each
  site in each sample, mouse BL and SP), plus the sites' sequences, either a table
  ``*.sequence.txt`` with a header holding a ``sequence`` column (the site id in the first
  column, as the repository's ``pd.read_table`` input) or a FASTA ``*.fa``/``*.fasta``
  whose record names are the site ids. Sites are ordered by their PAS number (1 first;
  the repository numbers sites along the gene). A site with a sequence but no usage row
  has usage 0 (the repository's ``fillna(0)``); a usage row without a sequence is an
  error.
* Genomic sites (PolyASite 2.0 / 3'-READS tables): ``*.tsv`` with a header holding
  ``gene_id``, ``chrom``, ``position`` (1-based cleavage site), ``strand`` and one column
  per sample of reads or TPM, plus one genome FASTA. Usage is each site's share of its
  gene's total per sample; sites are ordered 5'->3' on the gene's strand (proximal first);
  the sequence is the ``window`` nt centred on the site, read on its strand.

Sequences are upper-cased, centred in ``window`` nt (455, DeeReCT-APA's longest site
sequence) with N padding or trimmed equally at both ends. Genes with one site or more
than ``max_pas`` sites are skipped (counted in the build log). Splits: five folds by a
CRC32 of the gene id, 1-3 train, 4 valid, 5 test (DeeReCT-APA's 5-fold split by gene).

Configs: ``default`` (padded sets of the first sample), ``pairs`` (every pair of sites of
a gene, proximal first, whose usages differ by > 0.05: DeeReCT-APA's comparison rule;
``label`` 1 when the proximal site is used more). ``--config.sample``-style choice of
another sample is the config field ``sample``.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import zlib
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text
from genereg_jax.files import InputFormatError

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
COMPARISON_MARGIN = 0.05


def centred(sequence: str, window: int) -> str:
  """``sequence`` centred in ``window`` nt: N-padded or trimmed equally at both ends."""
  sequence = sequence.upper()
  if len(sequence) >= window:
    start = (len(sequence) - window) // 2
    return sequence[start:start + window]
  left = (window - len(sequence)) // 2
  return "N" * left + sequence + "N" * (window - len(sequence) - left)


def read_usage_table(path: str) -> tuple[list[str], dict[str, dict[int, np.ndarray]]]:
  """``(samples, {gene: {pas number: usage per sample}})`` of a DeeReCT-APA usage table."""
  samples, genes = None, {}
  for number, line in text.numbered_lines(path):
    fields = line.rstrip("\r\n").split("\t")
    if not line.strip():
      continue
    if samples is None:
      samples = [f for f in fields if f]
      continue
    gene, sep, pas = fields[0].rpartition(":")
    if not sep or text.ascii_int(pas) is None:
      raise InputFormatError(path, number, f"expected a <gene>:<pas number> id, got {fields[0]!r}")
    if len(fields) != len(samples) + 1:
      raise InputFormatError(path, number, f"expected the id and {len(samples)} usage values "
                                           f"({', '.join(samples)}), got {len(fields)} fields")
    try:
      values = np.array([float(v) if v not in ("", "NA", "nan") else 0.0 for v in fields[1:]])
    except ValueError:
      raise InputFormatError(path, number, f"usage values must be numbers: {fields[1:]}") from None
    genes.setdefault(gene, {})[text.ascii_int(pas)] = values
  if samples is None:
    raise InputFormatError(path, 1, "empty usage table")
  return samples, genes


def read_site_sequences(path: str) -> dict[str, str]:
  """Site id -> sequence from a ``sequence`` table or a FASTA."""
  sequences, column, header, name = {}, None, [], None
  for number, line in text.numbered_lines(path):
    line = line.rstrip("\r\n")
    if path.endswith((".fa", ".fasta", ".fa.gz", ".fasta.gz")):
      if line.startswith(">"):
        name = line[1:].split()[0]
        sequences[name] = ""
      elif name is None and line:
        raise InputFormatError(path, number, "sequence before the first '>' header")
      elif line:
        sequences[name] += line.strip().upper()
      continue
    fields = line.split("\t")
    if column is None:
      header = [f.strip().lower() for f in fields]
      if "sequence" not in header:
        raise InputFormatError(path, number, f"the header needs a 'sequence' column: {fields}")
      column = header.index("sequence")
      continue
    if len(fields) < 2:
      raise InputFormatError(path, number, "expected <site id>\t...<sequence>")
    # A pandas-written table's header omits the index column: rows have one field more.
    value = fields[column + (len(fields) == len(header) + 1)].strip().upper()
    if set(value) - set("ACGTN"):
      raise InputFormatError(path, number, f"not a DNA sequence: {value[:20]!r}...")
    sequences[fields[0]] = value
  return sequences


def deerect_genes(usage_path: str, sequence_path: str, sample: str | None
                  ) -> Iterator[tuple[str, list[str], np.ndarray]]:
  """``(gene, site sequences in PAS-number order, usage of ``sample``)``."""
  samples, usage = read_usage_table(usage_path)
  column = samples.index(sample) if sample else 0
  sequences = read_site_sequences(sequence_path)
  by_gene: dict[str, dict[int, str]] = {}
  for site_id, sequence in sequences.items():
    gene, _, pas = site_id.rpartition(":")
    if text.ascii_int(pas) is not None:
      by_gene.setdefault(gene, {})[text.ascii_int(pas)] = sequence
  for gene, sites in usage.items():
    missing = sorted(set(sites) - set(by_gene.get(gene, {})))
    if missing:
      raise InputFormatError(sequence_path, None, f"no sequence for {gene}:{missing[0]}, "
                                                  f"which {usage_path} quantifies")
  for gene in sorted(by_gene):
    order = sorted(by_gene[gene])
    values = np.array([usage.get(gene, {}).get(p, np.zeros(len(samples)))[column] for p in order])
    yield gene, [by_gene[gene][p] for p in order], values


def genomic_genes(table_path: str, genome: genome_lib.Genome, sample: str | None,
                  window: int) -> Iterator[tuple[str, list[str], np.ndarray]]:
  """Genes of a genomic site table, sites proximal first, usage = share of reads."""
  columns, rows = None, {}
  for number, line in text.numbered_lines(table_path):
    fields = line.rstrip("\r\n").split("\t")
    if not line.strip():
      continue
    if columns is None:
      names = [f.strip() for f in fields]
      lowered = [n.lower() for n in names]
      try:
        index = [lowered.index(n) for n in ("gene_id", "chrom", "position", "strand")]
      except ValueError:
        raise InputFormatError(table_path, number, "the header needs gene_id, chrom, "
                               f"position and strand columns; got {names}") from None
      sample_columns = [i for i in range(len(names)) if i not in index]
      if not sample_columns:
        raise InputFormatError(table_path, number, "no sample columns")
      chosen = names.index(sample) if sample else sample_columns[0]
      columns = (*index, chosen)
      continue
    try:
      gene, chrom, position, strand, value = (fields[i].strip() for i in columns)
      position, value = int(position), float(value)
    except (IndexError, ValueError):
      raise InputFormatError(table_path, number, f"bad row {fields}") from None
    if strand not in ("+", "-"):
      raise InputFormatError(table_path, number, f"strand must be + or -, got {strand!r}")
    rows.setdefault(gene, []).append((chrom, position - 1, strand, value))
  for gene in sorted(rows):
    sites = sorted(rows[gene], key=lambda s: s[1] if s[2] == "+" else -s[1])
    sequences = []
    for chrom, position, strand, _ in sites:
      name = genome.chromosome(chrom)
      if name is None:
        raise InputFormatError(table_path, None, f"chromosome {chrom!r} is not in the genome")
      start = position - window // 2 if strand == "+" else position - (window - 1 - window // 2)
      bases = genome.fetch(name, start, start + window).upper()
      sequences.append(bases if strand == "+" else bases.translate(_COMPLEMENT)[::-1])
    values = np.array([s[3] for s in sites], float)
    yield gene, sequences, values


def split_of(gene: str) -> str:
  fold = zlib.crc32(gene.encode()) % 5 + 1
  return "train" if fold <= 3 else ("valid" if fold == 4 else "test")


def _find(manual_dir: str, *suffixes: str) -> list[str]:
  return sorted(os.path.join(manual_dir, f) for f in os.listdir(manual_dir)
                if f.lower().endswith(suffixes))


@dataclasses.dataclass(eq=False)
class APAUsageConfig(tfds.core.BuilderConfig):
  """``kind``: ``"sets"`` or ``"pairs"``; ``window`` nt per site; ``max_pas`` sites per
  gene; ``sample``: usage column (None: the first)."""
  kind: str = "sets"
  window: int = 455
  max_pas: int = 12
  sample: str | None = None


class APAUsage(tfds.core.GeneratorBasedBuilder):
  """Polyadenylation site usage per gene: padded sets or site pairs."""

  name = "apa_usage"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      APAUsageConfig(name="default", description="Padded PAS sets of every gene."),
      APAUsageConfig(name="pairs", kind="pairs", description="Site pairs (|du| > 0.05)."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    if config.kind == "sets":
      features = {
          "sequence": tfds.features.Tensor(shape=(config.max_pas, config.window, 4),
                                           dtype=np.uint8),
          "pas_mask": tfds.features.Tensor(shape=(config.max_pas,), dtype=np.float32),
          "usage": tfds.features.Tensor(shape=(config.max_pas,), dtype=np.float32),
          "gene_id": tfds.features.Text()}
    else:
      features = {"sequence": tfds.features.Tensor(shape=(2, config.window, 4), dtype=np.uint8),
                  "label": tfds.features.Scalar(dtype=np.int32),
                  "usage": tfds.features.Tensor(shape=(2,), dtype=np.float32),
                  "gene_id": tfds.features.Text()}
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(window=config.window, max_pas=config.max_pas,
                                        sample=config.sample,
                                        comparison_margin=COMPARISON_MARGIN))

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    config = self.builder_config
    usage_tables = _find(manual_dir, ".usage.txt")
    if usage_tables:
      sequences = _find(manual_dir, ".sequence.txt", ".fa", ".fasta")
      if len(usage_tables) != 1 or len(sequences) != 1:
        raise FileNotFoundError(f"{manual_dir}: need one *.usage.txt and one *.sequence.txt "
                                f"or FASTA; found {usage_tables} and {sequences}")
      genes = deerect_genes(usage_tables[0], sequences[0], config.sample)
    else:
      tables = _find(manual_dir, ".tsv", ".tsv.gz")
      fastas = _find(manual_dir, ".fa", ".fasta", ".fa.gz", ".fasta.gz")
      if len(tables) != 1 or len(fastas) != 1:
        raise FileNotFoundError(f"{manual_dir}: need a DeeReCT-APA *.usage.txt, or one site "
                                f"table *.tsv and one genome FASTA; found {tables}, {fastas}")
      genes = genomic_genes(tables[0], genome_lib.Genome(fastas[0]), config.sample,
                            config.window)
    records = {"train": [], "valid": [], "test": []}
    skipped = 0
    for gene, sequences, values in genes:
      total = values.sum()
      if not 2 <= len(sequences) <= config.max_pas or total <= 0:
        skipped += 1
        continue
      usage = (values / total).astype(np.float32)
      one_hot = np.stack([encoding.one_hot_dna(centred(s, config.window)) for s in sequences])
      split = records[split_of(gene)]
      if config.kind == "sets":
        padded = np.zeros((config.max_pas, config.window, 4), np.uint8)
        padded[:len(sequences)] = one_hot
        mask = np.zeros(config.max_pas, np.float32)
        mask[:len(sequences)] = 1
        split.append((gene, {"sequence": padded, "pas_mask": mask,
                             "usage": np.pad(usage, (0, config.max_pas - len(usage))),
                             "gene_id": gene}))
      else:
        for i, j in itertools.combinations(range(len(sequences)), 2):
          if abs(usage[i] - usage[j]) > COMPARISON_MARGIN:
            split.append((f"{gene}:{i}:{j}", {
                "sequence": one_hot[[i, j]], "label": int(usage[i] > usage[j]),
                "usage": usage[[i, j]], "gene_id": gene}))
    logging.info("apa_usage: skipped %d genes (one site, > %d sites, or no reads)", skipped,
                 config.max_pas)
    # A split with no records (a small input) is left out: TFDS cannot write it empty.
    return {split: self._generate_examples(rows) for split, rows in records.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
