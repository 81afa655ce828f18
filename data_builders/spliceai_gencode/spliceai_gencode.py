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

Records are written in annotation order (chromosome, start), one per block, with
``gene_id`` and ``block_index``. ``start`` is the 0-based genomic coordinate of label
position 0; label position ``j`` is at ``start + j`` on the plus strand and ``start - j``
on the minus strand. Genes are read in runs of ``GENES_PER_SHARD``, in the building
process or, with ``data_builders.build --beam_options=...`` (`data_builders.sharded`,
BUILD.md "Big builds"), one run per Apache Beam work item, giving the same records;
Beam workers read the FASTA at the same path, so it must be on a shared file system.

Splice-site usage (config ``gencode_usage``, for Pangolin; Zeng & Li, Genome Biology
2022): records also carry ``usage`` ``float32[block_length, len(tissues)]`` from a
per-tissue usage table (`read_usage_table`), tab-separated with a header::

  chrom  pos    strand  heart  liver  brain  testis
  chr1   14830  -       0.95   0.90   NA     1

one row per splice site seen in RNA-seq: ``pos`` the 1-based position of the site's
nucleotide as labelled here (an acceptor's first exon base, a donor's last exon base),
then the fraction of transcripts spliced at it in each tissue, in [0, 1] (SpliSER's
splice site strength estimate, as Pangolin used, or any PSI-like usage), ``NA`` where
unknown (e.g. the gene is not expressed in that tissue). Per transcript, as Pangolin's
training data (``Pangolin_train``, ``preprocessing/utils_multi.py``): a position missing
from the table has usage 0 (not a site of the tissue), a listed one its value (a site
where > 0), ``NA`` is unknown (-1); a transcript without any table row on its strand is
unknown (-1) throughout, as is the padding past its end. The GTF still gives the
transcripts and ``label``; per-tissue sites come from the table alone.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from data_builders import sharded
from genereg_jax.data import fingerprint
from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation
from genereg_jax.data import text as text_files

SPLITS = ("train", "valid", "test")
PRIMARY_CHROMOSOMES = tuple(str(i) for i in range(1, 23)) + ("X", "Y")
# Jaganathan et al. 2019, STAR Methods: "chromosomes 1, 3, 5, 7, and 9" are the test set.
TEST_CHROMOSOMES = ("1", "3", "5", "7", "9")
NEITHER, ACCEPTOR, DONOR, PADDING = 0, 1, 2, -1
#: Tissues of Pangolin's usage targets (Zeng & Li 2022), in its output order.
PANGOLIN_TISSUES = ("heart", "liver", "brain", "testis")
#: ``usage`` of unquantified positions and of padding.
USAGE_UNKNOWN = -1.0
_NA = frozenset({"", "na", "nan", "."})
# Genes per Beam work item: each opens the FASTA once.
GENES_PER_SHARD = 100

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

The gencode_usage config (Pangolin) also needs

  usage.tsv          per-tissue splice-site usage (plain or gzipped), tab-separated:
                     header "chrom pos strand heart liver brain testis", one row per
                     splice site, pos 1-based (acceptor: first exon base; donor: last
                     exon base), usage in [0, 1] or NA; e.g. SpliSER estimates from
                     GTEx RNA-seq (see BUILD.md, "Splice-site usage for Pangolin").
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
    usage_table: per-tissue usage TSV in ``manual_dir`` (or an absolute path); empty
      for none. With it records carry ``usage`` (module docstring).
    tissues: the table's columns to read, in this order (needed with ``usage_table``).
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
  usage_table: str = ""
  tissues: tuple[str, ...] = ()

  def __post_init__(self):
    if bool(self.usage_table) != bool(self.tissues):
      raise ValueError(f"usage_table and tissues go together, got {self.usage_table!r} "
                       f"and {self.tissues!r}")
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
    labels: ``[length, ...]`` per-nucleotide targets of the transcript (``int8`` labels,
      ``float32`` usage ...).
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side.

  Yields:
    ``(block_index, sequence uint8[block_length + context, 4], labels[block_length,
    ...])`` with the labels' dtype; labels past the transcript end are -1 and the
    sequence there is N.
  """
  length = labels.shape[0]
  if one_hot.shape[0] != length + context:
    raise ValueError(f"one_hot has {one_hot.shape[0]} positions, expected "
                     f"{length} + {context}")
  num_blocks = -(-length // block_length)
  padded_labels = np.full((num_blocks * block_length, *labels.shape[1:]), PADDING,
                          dtype=labels.dtype)
  padded_labels[:length] = labels
  padded = np.zeros((num_blocks * block_length + context, 4), dtype=np.uint8)
  padded[:length + context] = one_hot
  for index in range(num_blocks):
    offset = index * block_length
    yield (index, padded[offset:offset + block_length + context],
           padded_labels[offset:offset + block_length])


def gene_blocks(genome: gene_annotation.Genome, transcript: gene_annotation.Transcript,
                chrom: str, block_length: int, context: int,
                mask_outside_transcript: bool = True,
                usage: np.ndarray | None = None) -> Iterator[dict[str, Any]]:
  """The records of one transcript, block by block (see the module docstring).

  Args:
    genome: the reference.
    transcript: the gene's principal transcript.
    chrom: the transcript's chromosome as spelled in ``genome``.
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side.
    mask_outside_transcript: N outside ``[tx_start, tx_end)``; otherwise the genome
      up to ``context / 2`` past the transcript's ends (what any label can see).
    usage: optional ``float32[tx_end - tx_start, tissues]`` from `transcript_usage`.

  Yields:
    ``{"sequence": uint8[block_length + context, 4], "label": int8[block_length],
    "start": int, "block_index": int}``, plus ``"usage": float32[block_length,
    tissues]`` if ``usage`` is given.
  """
  half = context // 2
  length = transcript.tx_end - transcript.tx_start
  bases = genome.fetch(chrom, transcript.tx_start - half, transcript.tx_end + half)
  if mask_outside_transcript:
    bases = "N" * half + bases[half:half + length] + "N" * half
  one_hot = encoding.one_hot_dna(bases)
  if transcript.strand == "-":
    one_hot = encoding.reverse_complement(one_hot)
  usage_blocks = ({} if usage is None else
                  {i: u for i, _, u in cut_blocks(one_hot, usage, block_length, context)})
  for index, sequence, labels in cut_blocks(one_hot, transcript_labels(transcript),
                                            block_length, context):
    offset = index * block_length
    start = (transcript.tx_start + offset if transcript.strand == "+"
             else transcript.tx_end - 1 - offset)
    record = {"sequence": np.ascontiguousarray(sequence), "label": labels, "start": start,
              "block_index": index}
    if usage is not None:
      record["usage"] = usage_blocks[index]
    yield record


@dataclasses.dataclass
class UsageTable:
  """Per-tissue splice-site usage by (chromosome without ``chr``, strand).

  Attributes:
    tissues: column names, the last axis of ``values``.
    sites: ``{(chrom, strand): (positions int64[n] 0-based ascending, values
      float32[n, tissues] with NaN unknown)}``.
  """
  tissues: tuple[str, ...]
  sites: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]

  def rows_in(self, chrom: str, strand: str, start: int, end: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, values)`` of the sites in ``[start, end)`` on ``strand``."""
    positions, values = self.sites.get(
        (gene_annotation.without_chr(chrom), strand),
        (np.zeros(0, np.int64), np.zeros((0, len(self.tissues)), np.float32)))
    low, high = np.searchsorted(positions, [start, end])
    return positions[low:high], values[low:high]


def _usage_value(text: str, where: tuple, tissue: str) -> float:
  if text.strip().lower() in _NA:
    return float("nan")
  try:
    value = float(text)
  except ValueError:
    value = -1.0
  if not 0.0 <= value <= 1.0:
    raise gene_annotation.AnnotationFormatError(
        *where, f"{tissue} usage must be a number in [0, 1] or NA, got {text!r}")
  return value


def read_usage_table(path: str | os.PathLike, tissues: Sequence[str]) -> UsageTable:
  """Reads a per-tissue splice-site usage TSV (format in the module docstring).

  Lines starting with ``##`` are comments; the first other line is the header (a
  leading ``#`` is allowed), columns ``chrom``, ``pos``, ``strand`` and one per tissue,
  matched case-insensitively; other columns are ignored. A malformed line raises
  `gene_annotation.AnnotationFormatError` naming the file and line.

  Args:
    path: the table, plain or gzipped.
    tissues: tissue columns to read, in output order.

  Returns:
    The table's sites, positions 0-based.
  """
  path = os.fspath(path)
  by_key: dict[tuple[str, str], dict[int, np.ndarray]] = {}
  first_line: dict[tuple[str, str, int], int] = {}
  columns = None
  for number, line in text_files.numbered_lines(path, gene_annotation.AnnotationFormatError):
    line = line.rstrip("\r\n")
    if not line.strip() or line.startswith("##"):
      continue
    where = (path, number)
    fields = line.split("\t")
    if columns is None:
      names = [name.strip().lstrip("#").lower() for name in fields]
      wanted = ["chrom", "pos", "strand", *(t.lower() for t in tissues)]
      missing = [name for name in wanted if name not in names]
      if missing:
        raise gene_annotation.AnnotationFormatError(
            *where, f"the header needs columns {wanted}; missing {missing} (header: "
            f"{names})")
      columns = [names.index(name) for name in wanted]
      width = len(names)
      continue
    if len(fields) != width:
      raise gene_annotation.AnnotationFormatError(
          *where, f"expected {width} tab-separated columns as in the header, got "
          f"{len(fields)}")
    chrom, pos, strand = (fields[i].strip() for i in columns[:3])
    position = (text_files.ascii_int(pos) or 0) - 1
    if position < 0:
      raise gene_annotation.AnnotationFormatError(
          *where, f"pos must be a 1-based position (integer >= 1), got {pos!r}")
    if strand not in ("+", "-"):
      raise gene_annotation.AnnotationFormatError(
          *where, f"strand must be + or -, got {strand!r}")
    site = (gene_annotation.without_chr(chrom), strand, position)
    if site in first_line:
      raise gene_annotation.AnnotationFormatError(
          *where, f"site {chrom}:{pos}:{strand} is already on line {first_line[site]}")
    first_line[site] = number
    by_key.setdefault(site[:2], {})[position] = np.array(
        [_usage_value(fields[i], where, tissue)
         for i, tissue in zip(columns[3:], tissues)], np.float32)
  if columns is None:
    raise gene_annotation.AnnotationFormatError(path, None, "empty usage table, no header")
  sites = {}
  for key, rows in by_key.items():
    positions = np.array(sorted(rows), np.int64)
    sites[key] = (positions, np.stack([rows[p] for p in positions.tolist()]))
  return UsageTable(tuple(tissues), sites)


def transcript_usage(transcript: gene_annotation.Transcript, table: UsageTable
                     ) -> np.ndarray:
  """``float32[tx_end - tx_start, tissues]`` usage in transcript (5'->3') orientation.

  0 at positions the table does not list, the table's value at those it does, -1
  (`USAGE_UNKNOWN`) for ``NA`` and everywhere if the table has no site of the
  transcript (as Pangolin's ``create_datapoints``).
  """
  length = transcript.tx_end - transcript.tx_start
  positions, values = table.rows_in(transcript.chrom, transcript.strand,
                                    transcript.tx_start, transcript.tx_end)
  if not positions.size:
    return np.full((length, len(table.tissues)), USAGE_UNKNOWN, np.float32)
  usage = np.zeros((length, len(table.tissues)), np.float32)
  offsets = positions - transcript.tx_start
  if transcript.strand == "-":
    offsets = length - 1 - offsets
  usage[offsets] = np.where(np.isnan(values), USAGE_UNKNOWN, values)
  return usage


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


def record_features(block_length: int, context: int, tissues: Sequence[str] = ()
                    ) -> dict[str, tfds.features.FeatureConnector]:
  """The TFDS features of a SpliceAI block record, with ``usage`` if ``tissues``."""
  features = {
      "sequence": tfds.features.Tensor(shape=(block_length + context, 4), dtype=np.uint8),
      "label": tfds.features.Tensor(shape=(block_length,), dtype=np.int8),
      "gene_id": tfds.features.Text(),
      "gene_name": tfds.features.Text(),
      "transcript_id": tfds.features.Text(),
      "chrom": tfds.features.Text(),
      "strand": tfds.features.Scalar(dtype=np.int8),
      "start": tfds.features.Scalar(dtype=np.int64),
      "block_index": tfds.features.Scalar(dtype=np.int32),
  }
  if tissues:
    features["usage"] = tfds.features.Tensor(shape=(block_length, len(tissues)),
                                             dtype=np.float32)
  return features


class SpliceaiGencode(sharded.ShardedBuilder):
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
      SpliceaiGencodeConfig(
          name="gencode_usage", usage_table="usage.tsv", tissues=PANGOLIN_TISSUES,
          description="As gencode, plus per-tissue splice-site usage (heart, liver, "
          "brain, testis) from usage.tsv, for Pangolin (Zeng & Li 2022)."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "gencode"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    usage_metadata = {}
    if config.usage_table:
      usage_metadata = dict(tissues=list(config.tissues), usage_table=config.usage_table,
                            usage_unknown=USAGE_UNKNOWN)
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict(
            record_features(config.block_length, config.context, config.tissues)),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            classes=["neither", "acceptor", "donor"], padding_label=PADDING,
            block_length=config.block_length, context=config.context,
            sequence_length=config.sequence_length,
            test_chromosomes=list(config.test_chromosomes),
            valid_fraction=config.valid_fraction, annotation=config.annotation,
            mask_outside_transcript=config.mask_outside_transcript, **usage_metadata),
    )

  def _input_names(self) -> list[str]:
    config = self.builder_config
    packaged = config.annotation.startswith("spliceai:")
    return [config.genome_fasta, *([] if packaged else [config.annotation]),
            *([config.usage_table] if config.usage_table else [])]

  def input_fingerprint(self, manual_dir: str | os.PathLike | None) -> dict | None:
    """Fingerprint of the files this config reads and of its options (stored in the
    metadata at build time; ``data_builders.build`` compares it before reusing a
    dataset). None when the files cannot be located without ``manual_dir``."""
    try:
      paths = [_manual_path(manual_dir, name) for name in self._input_names()]
    except FileNotFoundError:
      return None
    return fingerprint.fingerprint(paths, fingerprint.config_options(self.builder_config))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    needs_manual_dir = not all(os.path.isabs(name) for name in self._input_names())
    # TFDS' manual_dir raises with MANUAL_DOWNLOAD_INSTRUCTIONS when it is missing.
    manual_dir = dl_manager.manual_dir if needs_manual_dir else None
    self.info.metadata[fingerprint.KEY] = self.input_fingerprint(manual_dir)
    fasta = _manual_path(manual_dir, config.genome_fasta)
    transcripts = load_transcripts(config, manual_dir)
    by_split: dict[str, list] = {split: [] for split in SPLITS}
    for transcript in transcripts:
      split = split_of(transcript, config)
      if split is not None:
        by_split[split].append(transcript)
    usage = None
    if config.usage_table:
      path = _manual_path(manual_dir, config.usage_table)
      if not os.path.isfile(path):
        raise FileNotFoundError(f"usage table {path} not found.\n" +
                                MANUAL_DOWNLOAD_INSTRUCTIONS)
      usage = read_usage_table(path, config.tissues)
      if not any(usage.rows_in(t.chrom, t.strand, t.tx_start, t.tx_end)[0].size
                 for genes in by_split.values() for t in genes):
        raise ValueError(
            f"no site of {path} lies in a transcript of {config.annotation} on its "
            "strand: check the chromosome names, 1-based positions and strands.")
    # TFDS cannot write an empty split (e.g. valid_fraction=0); such splits are left out.
    return {split: self._generate_examples(fasta, genes, usage)
            for split, genes in by_split.items() if genes}

  def _generate_examples(self, fasta: str, transcripts: Sequence[gene_annotation.Transcript],
                         usage: UsageTable | None = None):
    config = self.builder_config
    shards = [tuple(transcripts[i:i + GENES_PER_SHARD])
              for i in range(0, len(transcripts), GENES_PER_SHARD)]
    return self.split_examples(
        shards, functools.partial(
            transcript_examples, fasta=fasta, block_length=config.block_length,
            context=config.context, mask_outside_transcript=config.mask_outside_transcript,
            usage=usage),
        sizes=[sum(num_blocks(t, config.block_length) for t in shard) for shard in shards])


def num_blocks(transcript: gene_annotation.Transcript, block_length: int) -> int:
  """Records of one transcript: its length in blocks, rounded up."""
  return -(-(transcript.tx_end - transcript.tx_start) // block_length)


def transcript_examples(transcripts: Sequence[gene_annotation.Transcript], first_key: int,
                        fasta: str, block_length: int, context: int,
                        mask_outside_transcript: bool = True,
                        usage: UsageTable | None = None) -> Iterator[dict[str, Any]]:
  """The records of a run of transcripts, block by block (a shard of a split).

  Args:
    transcripts: principal transcripts, in annotation order.
    first_key: unused (records carry their gene and block).
    fasta: the genome FASTA.
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side.
    mask_outside_transcript: see `gene_blocks`.
    usage: the per-tissue usage table, if records carry ``usage``.

  Raises:
    ValueError: a transcript lies on a chromosome the FASTA lacks, or past its end.
  """
  del first_key
  genome = gene_annotation.Genome(fasta)
  try:
    for transcript in transcripts:
      chrom = genome.chromosome(transcript.chrom)
      if chrom is None:
        raise ValueError(
            f"gene {transcript.gene_name} ({transcript.gene_id}) is on chromosome "
            f"{transcript.chrom}, which {fasta} does not have (chromosomes: "
            f"{', '.join(list(genome.sizes)[:10])}...). Use the annotation that "
            "matches the genome.")
      if transcript.tx_end > genome.sizes[chrom]:
        raise ValueError(
            f"gene {transcript.gene_name} ends at {transcript.tx_end}, past the end of "
            f"{chrom} ({genome.sizes[chrom]} nt) in {fasta}: annotation and genome "
            "assemblies differ.")
      for block in gene_blocks(
          genome, transcript, chrom, block_length, context, mask_outside_transcript,
          None if usage is None else transcript_usage(transcript, usage)):
        yield {
            **block,
            "gene_id": transcript.gene_id,
            "gene_name": transcript.gene_name,
            "transcript_id": transcript.transcript_id,
            "chrom": transcript.chrom,
            "strand": 1 if transcript.strand == "+" else -1,
        }
  finally:
    genome.close()
