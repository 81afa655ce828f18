"""Cassette exons with PSI per sample group, from rMATS output + GTF + FASTA.

Files in ``--manual_dir``:

* ``SE.MATS.JC.txt``: rMATS (>= 4.0) skipped-exon events with junction counts, tab
  separated, header ``ID GeneID geneSymbol chr strand exonStart_0base exonEnd
  upstreamES upstreamEE downstreamES downstreamEE ID IJC_SAMPLE_1 SJC_SAMPLE_1
  IJC_SAMPLE_2 SJC_SAMPLE_2 IncFormLen SkipFormLen PValue FDR IncLevel1 IncLevel2
  IncLevelDifference`` (``ID`` twice, gene fields quoted, replicate counts and
  IncLevels comma-separated, ``NA`` allowed in IncLevels/PValue/FDR). Starts are
  0-based and ends exclusive; "upstream"/"downstream" are genomic (lower/higher
  coordinate), so on the minus strand the transcript's upstream exon is rMATS's
  downstream one.
* a genome FASTA (``*.fa``/``*.fasta``, optionally gzipped with ``.fai``): sequences of
  the exons and introns, reverse-complemented on the minus strand.
* optionally a GTF (``*.gtf``/``*.gtf.gz``): marks whether exon ``A`` is an exon of an
  annotated transcript of the event's gene (``annotated``), and fills missing gene names.
* for the ``darts`` config, ``rbp_expression.tsv``: header ``gene <cond1> <cond2>``,
  one RBP per row, expression (TPM) in sample groups 1 and 2.

Per event: the cassette features of `genereg_jax.splicing.features`; replicate counts
summed per sample group; ``psi`` per group from the length-normalised counts
(``(I / IncFormLen) / (I / IncFormLen + S / SkipFormLen)``, -1 under 10 reads) with its
low/medium/high posterior mass ``lmh`` (uniform prior), the "tissues" being
``SAMPLE_1`` and ``SAMPLE_2``. ``darts``: ``trans`` = log2(TPM + 1) of the RBPs in both
groups, ``counts`` (I1, S1, I2, S2), ``lengths``, ``delta_psi`` = rMATS's
``-IncLevelDifference`` (our delta is group 2 minus group 1), and ``label`` from
DARTS-BHT with the flat prior (> 0.9 -> 1, < 0.1 -> 0, else -1).
Events are split 80/10/10 by a hash of the gene ID (a gene's events stay together); an
empty split is not written.
Bad lines raise `InputFormatError` with ``file:line``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import gene_annotation
from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.splicing import bht
from genereg_jax.splicing import features as cis

RMATS_SE_COLUMNS = (
    "ID", "GeneID", "geneSymbol", "chr", "strand", "exonStart_0base", "exonEnd",
    "upstreamES", "upstreamEE", "downstreamES", "downstreamEE", "ID", "IJC_SAMPLE_1",
    "SJC_SAMPLE_1", "IJC_SAMPLE_2", "SJC_SAMPLE_2", "IncFormLen", "SkipFormLen", "PValue",
    "FDR", "IncLevel1", "IncLevel2", "IncLevelDifference")
GROUPS = ("SAMPLE_1", "SAMPLE_2")
MIN_READS = 10
SPLITS = ("train", "valid", "test")


@dataclasses.dataclass
class RmatsEvent:
  """One rMATS skipped-exon event; coordinates 0-based half-open, genomic order."""
  event_id: str
  gene_id: str
  gene_name: str
  chrom: str
  strand: str
  exon: tuple[int, int]
  upstream: tuple[int, int]
  downstream: tuple[int, int]
  counts: np.ndarray  # [4]: I1, S1, I2, S2, replicates summed.
  lengths: np.ndarray  # [2]: IncFormLen, SkipFormLen.
  inc_level_difference: float  # rMATS IncLevel1 - IncLevel2 (NaN if NA).


def _replicates(field: str, path, number, name) -> int:
  try:
    return sum(int(x) for x in field.split(","))
  except ValueError:
    raise InputFormatError(path, number, f"{name} must be comma-separated counts, got "
                                         f"{field!r}") from None


def read_rmats_se(path) -> list[RmatsEvent]:
  """Events of an rMATS ``SE.MATS.JC.txt`` (see the module docstring)."""
  events = []
  for number, line in text.numbered_lines(path):
    fields = line.rstrip("\r\n").split("\t")
    if number == 1:
      if tuple(fields) != RMATS_SE_COLUMNS:
        raise InputFormatError(path, 1, f"not an rMATS SE.MATS.JC.txt header: expected "
                                        f"{' '.join(RMATS_SE_COLUMNS)}")
      continue
    if not line.strip():
      continue
    if len(fields) != len(RMATS_SE_COLUMNS):
      raise InputFormatError(path, number, f"{len(fields)} fields, expected "
                                           f"{len(RMATS_SE_COLUMNS)}")
    row = dict(zip(RMATS_SE_COLUMNS[:11], fields[:11]))
    try:
      coords = [int(fields[i]) for i in range(5, 11)]
      lengths = np.array([float(fields[16]), float(fields[17])], np.float32)
    except ValueError:
      raise InputFormatError(path, number, "coordinates and IncFormLen/SkipFormLen must be "
                                           "numbers") from None
    exon, upstream, downstream = (coords[0], coords[1]), (coords[2], coords[3]), (
        coords[4], coords[5])
    if not (upstream[0] < upstream[1] <= exon[0] < exon[1] <= downstream[0] < downstream[1]):
      raise InputFormatError(path, number, f"exons are not ordered upstream < exon < "
                                           f"downstream: {coords}")
    if row["strand"] not in ("+", "-"):
      raise InputFormatError(path, number, f"strand must be + or -, got {row['strand']!r}")
    if (lengths <= 0).any():
      raise InputFormatError(path, number, "IncFormLen and SkipFormLen must be > 0")
    counts = np.array([_replicates(fields[i], path, number, RMATS_SE_COLUMNS[i])
                       for i in (12, 13, 14, 15)], np.float32)
    try:
      difference = float(fields[22]) if fields[22] != "NA" else float("nan")
    except ValueError:
      raise InputFormatError(path, number, f"IncLevelDifference is not a number: "
                                           f"{fields[22]!r}") from None
    events.append(RmatsEvent(
        event_id=fields[0], gene_id=row["GeneID"].strip('"'),
        gene_name=row["geneSymbol"].strip('"'), chrom=row["chr"], strand=row["strand"],
        exon=exon, upstream=upstream, downstream=downstream, counts=counts,
        lengths=lengths, inc_level_difference=difference))
  return events


_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def cassette_sequences(event: RmatsEvent, genome: gene_annotation.Genome
                       ) -> tuple[str, str, str, str, str]:
  """``(C1, I1, A, I2, C2)`` 5'->3' on the event's strand."""
  chrom = genome.chromosome(event.chrom)
  if chrom is None:
    raise ValueError(f"event {event.event_id}: chromosome {event.chrom!r} is not in "
                     f"{genome.path}")
  cuts = [event.upstream, (event.upstream[1], event.exon[0]), event.exon,
          (event.exon[1], event.downstream[0]), event.downstream]
  parts = [genome.fetch(chrom, start, end).upper() for start, end in cuts]
  if event.strand == "-":
    parts = [p.translate(_COMPLEMENT)[::-1] for p in parts[::-1]]
  return tuple(parts)


def read_rbp_expression(path) -> tuple[list[str], np.ndarray]:
  """``(genes, log2(TPM + 1) [2, genes])`` from ``gene <cond1> <cond2>`` rows."""
  genes, values = [], []
  for number, line in text.numbered_lines(path):
    fields = line.rstrip("\r\n").split("\t")
    if number == 1 or not line.strip():
      continue
    if len(fields) != 3:
      raise InputFormatError(path, number, f"expected gene and 2 expression values, got "
                                           f"{len(fields)} fields")
    try:
      values.append([float(fields[1]), float(fields[2])])
    except ValueError:
      raise InputFormatError(path, number, "expression values must be numbers") from None
    genes.append(fields[0])
  if not genes:
    raise InputFormatError(path, 1, "no RBP rows")
  return genes, np.log2(np.maximum(np.array(values, np.float32).T, 0) + 1)


def split_of(gene_id: str) -> str:
  bucket = int(hashlib.sha1(gene_id.encode()).hexdigest(), 16) % 10
  return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


@dataclasses.dataclass
class SplicingEventsConfig(tfds.core.BuilderConfig):
  darts: bool = False


class SplicingEvents(tfds.core.GeneratorBasedBuilder):
  """rMATS skipped exons -> cassette features, PSI per group (or DARTS pairs)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put rMATS's SE.MATS.JC.txt, the genome FASTA, optionally the GTF, and (for darts) "
      "rbp_expression.tsv in manual_dir.")
  BUILDER_CONFIGS = [
      SplicingEventsConfig(name="default", description="PSI per sample group."),
      SplicingEventsConfig(name="darts", darts=True,
                           description="DARTS: cis + RBP expression, counts, BHT labels."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _rbp_count(self) -> int:
    # The RBP table fixes the trans width; known only once manual_dir is read.
    return getattr(self, "_num_rbps", 0)

  def _info(self) -> tfds.core.DatasetInfo:
    f = {"event_id": tfds.features.Text(), "gene_id": tfds.features.Text(),
         "gene_name": tfds.features.Text(), "annotated": tfds.features.Scalar(dtype=np.int32),
         "features": tfds.features.Tensor(shape=(len(cis.feature_names()),), dtype=np.float32)}
    if self.builder_config.darts:
      f.update(trans=tfds.features.Tensor(shape=(2, None), dtype=np.float32),
               counts=tfds.features.Tensor(shape=(4,), dtype=np.float32),
               lengths=tfds.features.Tensor(shape=(2,), dtype=np.float32),
               delta_psi=tfds.features.Scalar(dtype=np.float32),
               label=tfds.features.Scalar(dtype=np.int32))
    else:
      f.update(psi=tfds.features.Tensor(shape=(2,), dtype=np.float32),
               lmh=tfds.features.Tensor(shape=(2, 3), dtype=np.float32))
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(f),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(tissues=list(GROUPS),
                                        feature_names=cis.feature_names()))

  def _files(self, manual_dir):
    names = sorted(os.listdir(manual_dir))
    pick = lambda test: [os.path.join(manual_dir, n) for n in names if test(n)]
    rmats = pick(lambda n: n == "SE.MATS.JC.txt")
    fasta = pick(lambda n: n.endswith((".fa", ".fasta", ".fa.gz", ".fasta.gz")))
    gtf = pick(gene_annotation.is_gtf)
    rbp = pick(lambda n: n == "rbp_expression.tsv")
    if len(rmats) != 1 or len(fasta) != 1 or len(gtf) > 1 or (
        self.builder_config.darts and len(rbp) != 1):
      raise FileNotFoundError(
          f"{manual_dir} needs SE.MATS.JC.txt, one genome FASTA, at most one GTF"
          + (" and rbp_expression.tsv" if self.builder_config.darts else "")
          + f"; found {names}")
    return rmats[0], fasta[0], gtf[0] if gtf else None, rbp[0] if rbp else None

  def _split_generators(self, dl_manager):
    rmats, fasta, gtf, rbp = self._files(dl_manager.manual_dir)
    events = read_rmats_se(rmats)
    exons: dict[str, set] = {}
    if gtf:
      for t in gene_annotation.read_gtf(gtf, None, all_transcripts=True):
        exons.setdefault(t.gene_id, set()).update(t.exons)
    trans = read_rbp_expression(rbp)[1] if rbp else None
    splits = {s: [e for e in events if split_of(e.gene_id) == s] for s in SPLITS}
    # TFDS cannot write an empty split; a small table may leave valid or test empty.
    return {s: self._generate_examples(splits[s], fasta, exons, trans)
            for s in SPLITS if splits[s]}

  def _generate_examples(self, events, fasta, exons, trans) -> Iterator[tuple[str, dict]]:
    with gene_annotation.Genome(fasta) as genome:
      for event in events:
        record = {"event_id": event.event_id, "gene_id": event.gene_id,
                  "gene_name": event.gene_name,
                  "annotated": int(event.exon in exons.get(event.gene_id, ())),
                  "features": cis.cassette_features(*cassette_sequences(event, genome))}
        i1, s1, i2, s2 = event.counts
        if self.builder_config.darts:
          flat = float(bht.bayes_test(i1, s1, i2, s2, *event.lengths, 0.5).posterior)
          record.update(trans=trans, counts=event.counts, lengths=event.lengths,
                        delta_psi=np.float32(-event.inc_level_difference),
                        label=np.int32(1 if flat > 0.9 else 0 if flat < 0.1 else -1))
        else:
          inclusion, skipping = np.array([i1, i2]), np.array([s1, s2])
          record.update(psi=bht.psi_from_counts(inclusion, skipping, *event.lengths, MIN_READS),
                        lmh=bht.lmh_posterior(inclusion, skipping, *event.lengths))
        yield event.event_id, record
