"""SpliceAI training data from a genome FASTA and a gene annotation (Jaganathan et al. 2019).

Follows the paper's STAR Methods and its training code (``create_datafile.py`` /
``create_datapoints``):

* One principal transcript per gene: from a GENCODE/Ensembl GTF the transcript tagged
  ``Ensembl_canonical``, else ``MANE_Select``, else the longest; protein-coding genes by
  default. Or the canonical-transcript tables shipped in the ``spliceai`` package
  (``annotation="spliceai:grch38"`` / ``"spliceai:grch37"``, GENCODE V24 / V24lift37),
  or any table in that format (see `genereg_jax.data.gene_annotation`).
* Per-nucleotide labels over the pre-mRNA (transcript start to end): 1 = acceptor (an
  exon's first base), 2 = donor (its last base), 0 = neither; the transcript's first
  and last bases are not sites.
* The pre-mRNA is cut into blocks of ``block_length`` (5,000) labelled nucleotides,
  each with ``context / 2`` (5,000) nucleotides of sequence on both sides, so a record
  holds ``block_length + context`` (15,000) nucleotides and ``block_length`` labels.
  The last block's labels past the transcript end are -1 (padding). As in the paper's
  code ("context being provided on the RNA and not the DNA"), sequence outside the
  transcript is N (all zeros); ``mask_outside_transcript=False`` keeps the genomic
  flanks instead (N only beyond chromosome ends).
* Minus-strand genes are reverse-complemented, labels included, so every record
  reads 5'->3' along the transcript.
* The published split: genes on chromosomes 1, 3, 5, 7 and 9 are ``test``; the other
  chromosomes' genes are ``train``, of which a deterministic ``valid_fraction`` (by a
  CRC32 hash of the unversioned gene ID) is held out as ``valid``. Only
  ``chromosomes`` (1-22, X, Y by default) are used. The paper also removed test genes
  with paralogs in the training set; that needs a paralog list and is not done here.

Records are written in annotation order (chromosome, start), one per block, keyed
``<gene_id>:<block>``. ``start`` is the 0-based genomic coordinate of label position 0;
label position ``j`` is at ``start + j`` on the plus strand and ``start - j`` on the
minus strand.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation

SPLITS = ("train", "valid", "test")
PRIMARY_CHROMOSOMES = tuple(str(i) for i in range(1, 23)) + ("X", "Y")
# Jaganathan et al. 2019, STAR Methods: "chromosomes 1, 3, 5, 7, and 9" are the test set.
TEST_CHROMOSOMES = ("1", "3", "5", "7", "9")
NEITHER, ACCEPTOR, DONOR, PADDING = 0, 1, 2, -1

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Put two files in the manual directory (--manual_dir):

  genome.fa          the reference genome FASTA, uncompressed (a .fai index is created
                     if missing), e.g. the GRCh38 primary assembly (gunzip it):
                     https://ftp.ebi.ac.uk/pub/databases/gencode/Gencode_human/release_46/GRCh38.primary_assembly.genome.fa.gz
  annotation.gtf.gz  the matching GENCODE comprehensive or basic GTF, e.g.
                     https://ftp.ebi.ac.uk/pub/databases/gencode/Gencode_human/release_46/gencode.v46.basic.annotation.gtf.gz

For the spliceai_grch38 / spliceai_grch37 configs only genome.fa is needed (GRCh38 or
GRCh37/hg19 respectively); the annotation is the table inside the `spliceai` package
(`pip install --no-deps spliceai==1.3.1`). Chromosome names may differ by a "chr"
prefix between the FASTA and the annotation.
"""


@dataclasses.dataclass(eq=False)
class SpliceaiGencodeConfig(tfds.core.BuilderConfig):
  """Inputs and geometry of a ``spliceai_gencode`` build.

  Attributes:
    genome_fasta: FASTA file name in ``manual_dir`` (or an absolute path).
    annotation: GTF or SpliceAI-table file name in ``manual_dir`` (or an absolute
      path), or ``spliceai:grch38`` / ``spliceai:grch37`` for the package's tables.
    gene_types: GTF gene types to keep; empty keeps all (ignored for tables).
    chromosomes: chromosomes used, written without ``chr``.
    test_chromosomes: chromosomes whose genes form ``test``.
    valid_fraction: fraction of the other genes held out as ``valid``.
    block_length: labelled nucleotides per record (5,000 in the paper).
    context: flanking nucleotides per record, half on each side (10,000 for
      SpliceAI-10k; must be even).
    mask_outside_transcript: N outside the transcript, as the paper's code does.
  """

  genome_fasta: str = "genome.fa"
  annotation: str = "annotation.gtf.gz"
  gene_types: tuple[str, ...] = ("protein_coding",)
  chromosomes: tuple[str, ...] = PRIMARY_CHROMOSOMES
  test_chromosomes: tuple[str, ...] = TEST_CHROMOSOMES
  valid_fraction: float = 0.1
  block_length: int = 5000
  context: int = 10000
  mask_outside_transcript: bool = True

  def __post_init__(self):
    if self.block_length < 1:
      raise ValueError(f"block_length must be positive, got {self.block_length}")
    if self.context < 0 or self.context % 2:
      raise ValueError(f"context must be even and >= 0 (half on each side), got "
                       f"{self.context}")
    if not 0 <= self.valid_fraction < 1:
      raise ValueError(f"valid_fraction must be in [0, 1), got {self.valid_fraction}")

  @property
  def sequence_length(self) -> int:
    """Nucleotides per record: ``block_length + context``."""
    return self.block_length + self.context


def split_of(transcript: gene_annotation.Transcript, config: SpliceaiGencodeConfig
             ) -> str | None:
  """``train``/``valid``/``test`` for a gene, or None if its chromosome is not used."""
  chrom = gene_annotation.without_chr(transcript.chrom)
  if chrom not in {gene_annotation.without_chr(c) for c in config.chromosomes}:
    return None
  if chrom in {gene_annotation.without_chr(c) for c in config.test_chromosomes}:
    return "test"
  # Unversioned, so a GENCODE release keeps each gene's split and the chrX/chrY
  # copies of a pseudoautosomal gene (ENSG..._PAR_Y) land together.
  stable_id = transcript.gene_id.split(".")[0]
  bucket = zlib.crc32(stable_id.encode()) / 2**32
  return "valid" if bucket < config.valid_fraction else "train"


def transcript_labels(transcript: gene_annotation.Transcript) -> np.ndarray:
  """``int8[tx_end - tx_start]`` labels in transcript (5'->3') orientation.

  A one-nucleotide internal exon is both an acceptor and a donor; it is labelled donor.
  """
  length = transcript.tx_end - transcript.tx_start
  labels = np.zeros(length, dtype=np.int8)
  acceptors, donors = transcript.splice_sites()
  for positions, value in ((acceptors, ACCEPTOR), (donors, DONOR)):
    offsets = np.asarray(positions, dtype=np.int64) - transcript.tx_start
    if transcript.strand == "-":
      offsets = length - 1 - offsets
    labels[offsets] = value
  return labels


def cut_blocks(one_hot: np.ndarray, labels: np.ndarray, block_length: int, context: int
               ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
  """Cuts one transcript into SpliceAI records.

  Args:
    one_hot: ``[length + context, 4]``, transcript positions ``[-context/2, length +
      context/2)`` read 5'->3'.
    labels: ``int8[length]`` per-nucleotide labels of the transcript.
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side.

  Yields:
    ``(block_index, sequence uint8[block_length + context, 4], label
    int8[block_length])``; labels past the transcript end are -1 and the sequence
    there is N.
  """
  length = labels.shape[0]
  if one_hot.shape[0] != length + context:
    raise ValueError(f"one_hot has {one_hot.shape[0]} positions, expected "
                     f"{length} + {context}")
  num_blocks = -(-length // block_length)
  padded_labels = np.full(num_blocks * block_length, PADDING, dtype=np.int8)
  padded_labels[:length] = labels
  padded = np.zeros((num_blocks * block_length + context, 4), dtype=np.uint8)
  padded[:length + context] = one_hot
  for index in range(num_blocks):
    offset = index * block_length
    yield (index, padded[offset:offset + block_length + context],
           padded_labels[offset:offset + block_length])


def gene_blocks(genome: gene_annotation.Genome, transcript: gene_annotation.Transcript,
                chrom: str, block_length: int, context: int,
                mask_outside_transcript: bool = True) -> Iterator[dict[str, Any]]:
  """The records of one transcript, block by block (see the module docstring).

  Args:
    genome: the reference.
    transcript: the gene's principal transcript.
    chrom: the transcript's chromosome as spelled in ``genome``.
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side.
    mask_outside_transcript: N outside ``[tx_start, tx_end)``; otherwise the genome
      up to ``context / 2`` past the transcript's ends (what any label can see).

  Yields:
    ``{"sequence": uint8[block_length + context, 4], "label": int8[block_length],
    "start": int, "block_index": int}``.
  """
  half = context // 2
  length = transcript.tx_end - transcript.tx_start
  bases = genome.fetch(chrom, transcript.tx_start - half, transcript.tx_end + half)
  if mask_outside_transcript:
    bases = "N" * half + bases[half:half + length] + "N" * half
  one_hot = encoding.one_hot_dna(bases)
  if transcript.strand == "-":
    one_hot = encoding.reverse_complement(one_hot)
  for index, sequence, labels in cut_blocks(one_hot, transcript_labels(transcript),
                                            block_length, context):
    offset = index * block_length
    start = (transcript.tx_start + offset if transcript.strand == "+"
             else transcript.tx_end - 1 - offset)
    yield {"sequence": np.ascontiguousarray(sequence), "label": labels, "start": start,
           "block_index": index}


def _manual_path(manual_dir, name: str) -> str:
  if os.path.isabs(name):
    return name
  if manual_dir is None:
    raise FileNotFoundError(f"{name} is read from the manual directory; pass "
                            "--manual_dir.\n" + MANUAL_DOWNLOAD_INSTRUCTIONS)
  return os.path.join(os.fspath(manual_dir), name)


def load_transcripts(config: SpliceaiGencodeConfig, manual_dir
                     ) -> list[gene_annotation.Transcript]:
  """The config's principal transcripts, in annotation order."""
  if config.annotation.startswith("spliceai:"):
    return gene_annotation.read_spliceai_table(
        gene_annotation.spliceai_table_path(config.annotation.split(":", 1)[1]))
  path = _manual_path(manual_dir, config.annotation)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"annotation {path} not found.\n" +
                            MANUAL_DOWNLOAD_INSTRUCTIONS)
  if gene_annotation.is_gtf(path):
    return gene_annotation.read_gtf(path, config.gene_types or None)
  return gene_annotation.read_spliceai_table(path)


class SpliceaiGencode(tfds.core.GeneratorBasedBuilder):
  """SpliceAI blocks (Jaganathan et al. 2019) from a genome FASTA + gene annotation."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release: GTF or SpliceAI-table annotations."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = MANUAL_DOWNLOAD_INSTRUCTIONS
  BUILDER_CONFIGS = [
      SpliceaiGencodeConfig(
          name="gencode", description="GENCODE GTF principal transcripts, protein-coding "
          "genes; 5,000-nt blocks with 10,000 nt of context (SpliceAI-10k)."),
      SpliceaiGencodeConfig(
          name="spliceai_grch38", annotation="spliceai:grch38",
          description="The spliceai package's GENCODE V24 canonical transcripts (GRCh38)."),
      SpliceaiGencodeConfig(
          name="spliceai_grch37", annotation="spliceai:grch37",
          description="The spliceai package's GENCODE V24lift37 canonical transcripts."),
      SpliceaiGencodeConfig(
          name="tiny", block_length=200, context=80,
          description="GTF, 200-nt blocks with 80 nt of context (SpliceAI-80nt), tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "gencode"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.sequence_length, 4),
                                             dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(config.block_length,), dtype=np.int8),
            "gene_id": tfds.features.Text(),
            "gene_name": tfds.features.Text(),
            "transcript_id": tfds.features.Text(),
            "chrom": tfds.features.Text(),
            "strand": tfds.features.Scalar(dtype=np.int8),
            "start": tfds.features.Scalar(dtype=np.int64),
            "block_index": tfds.features.Scalar(dtype=np.int32),
        }),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            classes=["neither", "acceptor", "donor"], padding_label=PADDING,
            block_length=config.block_length, context=config.context,
            sequence_length=config.sequence_length,
            test_chromosomes=list(config.test_chromosomes),
            valid_fraction=config.valid_fraction, annotation=config.annotation,
            mask_outside_transcript=config.mask_outside_transcript),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    packaged = config.annotation.startswith("spliceai:")
    needs_manual_dir = not (os.path.isabs(config.genome_fasta)
                            and (packaged or os.path.isabs(config.annotation)))
    # TFDS' manual_dir raises with MANUAL_DOWNLOAD_INSTRUCTIONS when it is missing.
    manual_dir = dl_manager.manual_dir if needs_manual_dir else None
    fasta = _manual_path(manual_dir, config.genome_fasta)
    transcripts = load_transcripts(config, manual_dir)
    by_split: dict[str, list] = {split: [] for split in SPLITS}
    for transcript in transcripts:
      split = split_of(transcript, config)
      if split is not None:
        by_split[split].append(transcript)
    # TFDS cannot write an empty split (e.g. valid_fraction=0); such splits are left out.
    return {split: self._generate_examples(fasta, genes)
            for split, genes in by_split.items() if genes}

  def _generate_examples(self, fasta: str, transcripts: Sequence[gene_annotation.Transcript]
                         ) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    genome = gene_annotation.Genome(fasta)
    try:
      for transcript in transcripts:
        chrom = genome.chromosome(transcript.chrom)
        if chrom is None:
          raise ValueError(
              f"gene {transcript.gene_name} ({transcript.gene_id}) is on chromosome "
              f"{transcript.chrom}, which {fasta} does not have (chromosomes: "
              f"{', '.join(list(genome.lengths)[:10])}...). Use the annotation that "
              "matches the genome.")
        if transcript.tx_end > genome.lengths[chrom]:
          raise ValueError(
              f"gene {transcript.gene_name} ends at {transcript.tx_end}, past the end of "
              f"{chrom} ({genome.lengths[chrom]} nt) in {fasta}: annotation and genome "
              "assemblies differ.")
        for block in gene_blocks(genome, transcript, chrom, config.block_length,
                                 config.context, config.mask_outside_transcript):
          yield f"{transcript.gene_id}:{block['block_index']}", {
              **block,
              "gene_id": transcript.gene_id,
              "gene_name": transcript.gene_name,
              "transcript_id": transcript.transcript_id,
              "chrom": transcript.chrom,
              "strand": 1 if transcript.strand == "+" else -1,
          }
    finally:
      genome.close()
