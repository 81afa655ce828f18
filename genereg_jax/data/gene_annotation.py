"""Gene models from GENCODE/Ensembl GTF files and the SpliceAI annotation tables.

Two upstream formats are read into one `Transcript` record (0-based, half-open genomic
coordinates, exons sorted by start):

* GTF 2.2 as released by GENCODE and Ensembl (9 tab-separated columns, 1-based
  inclusive ``start``/``end``, attributes ``key "value";``; ``tag`` may repeat).
  `read_gtf` keeps one principal transcript per gene: the one tagged
  ``Ensembl_canonical`` (GENCODE >= 38 / Ensembl >= 104), else ``MANE_Select``, else the
  longest (most exonic bases, then widest span, then smallest transcript ID).
* The gene tables shipped inside the ``spliceai`` package (``annotations/grch37.txt``
  and ``grch38.txt``, GENCODE V24lift37 / V24 canonical transcripts): tab-separated,
  header ``#NAME CHROM STRAND TX_START TX_END EXON_START EXON_END``, exon starts/ends
  as comma-terminated lists. Starts are 0-based and ends 1-based inclusive (UCSC
  convention: the official tool adds 1 to every start and to nothing else), i.e.
  exactly our half-open intervals.

Splice sites follow SpliceAI (Jaganathan et al., Cell 2019): an acceptor is the first
nucleotide of an exon and a donor its last, in transcript (5'->3') orientation, except
the transcript's first base and its last.

The matching reference FASTA is read with `genome.Genome` (re-exported here), N beyond
chromosome ends.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import pathlib
import re
from collections.abc import Iterator, Sequence

from genereg_jax.data import text as text_files
from genereg_jax.data.genome import Genome, match_chromosome, without_chr  # noqa: F401
from genereg_jax.files import InputFormatError

SPLICEAI_TABLE_COLUMNS = ("#NAME", "CHROM", "STRAND", "TX_START", "TX_END", "EXON_START",
                          "EXON_END")
PRINCIPAL_TAGS = ("Ensembl_canonical", "MANE_Select")

_ATTRIBUTE = re.compile(r'\s*([^\s";]+)\s+(?:"([^"]*)"|([^\s;]+))\s*;?')


class AnnotationFormatError(InputFormatError):
  """A malformed annotation line; ``str(error)`` is ``path:line: problem``."""


@dataclasses.dataclass(frozen=True)
class Transcript:
  """One transcript on the genome, 0-based half-open coordinates.

  Attributes:
    gene_id: stable gene ID (GTF ``gene_id``; the gene name for SpliceAI tables).
    gene_name: gene symbol.
    transcript_id: transcript ID (the gene name for SpliceAI tables).
    chrom: chromosome name as written in the annotation.
    strand: ``"+"`` or ``"-"``.
    tx_start: first transcribed base.
    tx_end: one past the last transcribed base.
    exons: ``((start, end), ...)`` sorted by start, non-overlapping, within the
      transcript.
    gene_type: GTF ``gene_type`` / ``gene_biotype`` ("" if unknown).
    tags: GTF ``tag`` values.
  """

  gene_id: str
  gene_name: str
  transcript_id: str
  chrom: str
  strand: str
  tx_start: int
  tx_end: int
  exons: tuple[tuple[int, int], ...]
  gene_type: str = ""
  tags: frozenset[str] = frozenset()

  @property
  def exonic_length(self) -> int:
    """Spliced length in nucleotides."""
    return sum(end - start for start, end in self.exons)

  def splice_sites(self) -> tuple[list[int], list[int]]:
    """``(acceptors, donors)``: 0-based genomic positions, ascending.

    Acceptor = first base of an exon, donor = last base, read 5'->3' on the
    transcript's strand; the transcript's first and last bases are neither.
    """
    starts = [start for start, _ in self.exons[1:]]
    ends = [end - 1 for _, end in self.exons[:-1]]
    return (starts, ends) if self.strand == "+" else (ends, starts)

  def exon_boundaries(self) -> list[int]:
    """0-based positions of every exon's first and last base (SpliceAI's masking)."""
    return sorted({p for start, end in self.exons for p in (start, end - 1)})


def _check_transcript(transcript: Transcript, where: tuple) -> Transcript:
  if transcript.strand not in ("+", "-"):
    raise AnnotationFormatError(*where, f"strand must be + or -, got "
                                f"{transcript.strand!r}")
  if not transcript.exons:
    raise AnnotationFormatError(*where, f"transcript {transcript.transcript_id} has no "
                                "exons")
  previous_end = None
  for start, end in transcript.exons:
    if not start < end:
      raise AnnotationFormatError(*where, f"exon [{start}, {end}) of "
                                  f"{transcript.transcript_id} is empty or reversed")
    if previous_end is not None and start < previous_end:
      raise AnnotationFormatError(*where, f"exons of {transcript.transcript_id} "
                                  f"overlap at {start}")
    previous_end = end
  if (transcript.exons[0][0] < transcript.tx_start
      or transcript.exons[-1][1] > transcript.tx_end or transcript.tx_start < 0):
    raise AnnotationFormatError(*where, f"exons of {transcript.transcript_id} leave the "
                                f"transcript [{transcript.tx_start}, {transcript.tx_end})")
  return transcript


# ---------------------------------------------------------------------------------------
# SpliceAI tables.


def spliceai_table_path(name: str) -> pathlib.Path:
  """``annotations/<name>.txt`` (``grch37``/``grch38``) of the installed ``spliceai``.

  Found without importing the package: its ``__init__`` replaces the SIGINT handler.
  """
  if name not in ("grch37", "grch38"):
    raise ValueError(f"SpliceAI ships annotations grch37 and grch38, not {name!r}")
  spec = importlib.util.find_spec("spliceai")
  for location in list(spec.submodule_search_locations or []) if spec else []:
    path = pathlib.Path(location, "annotations", f"{name}.txt")
    if path.is_file():
      return path
  raise FileNotFoundError(
      f"The SpliceAI {name} annotation comes with the PyPI package 'spliceai' "
      "(spliceai/annotations/<name>.txt); install it with "
      "`pip install --no-deps spliceai==1.3.1`.")


def _int_list(text: str, where: tuple, column: str) -> list[int]:
  items = text.split(",")
  if items and items[-1] == "":
    items.pop()
  values = [text_files.ascii_int(item) for item in items]
  if None in values:
    raise AnnotationFormatError(*where, f"{column} must be comma-separated integers, "
                                f"got {text!r}")
  return values


def read_spliceai_table(path: str | os.PathLike) -> list[Transcript]:
  """Transcripts of a SpliceAI annotation table (``grch38.txt`` format), in file order."""
  path = os.fspath(path)
  transcripts = []
  line_no = 0
  for line_no, line in text_files.numbered_lines(path, AnnotationFormatError):
    line = line.rstrip("\r\n")
    where = (path, line_no)
    if line_no == 1:
      header = line.split("\t")
      if header[:len(SPLICEAI_TABLE_COLUMNS)] != list(SPLICEAI_TABLE_COLUMNS):
        raise AnnotationFormatError(
            *where, f"expected the SpliceAI header {' '.join(SPLICEAI_TABLE_COLUMNS)} "
            f"(tab-separated), got {' '.join(header)!r}")
      continue
    if not line:
      continue
    fields = line.split("\t")
    if len(fields) < len(SPLICEAI_TABLE_COLUMNS):
      raise AnnotationFormatError(*where, f"expected {len(SPLICEAI_TABLE_COLUMNS)} "
                                  f"tab-separated columns, got {len(fields)}")
    name, chrom, strand, tx_start, tx_end, exon_starts, exon_ends = fields[:7]
    tx_start, tx_end = text_files.ascii_int(tx_start), text_files.ascii_int(tx_end)
    if tx_start is None or tx_end is None:
      raise AnnotationFormatError(*where, f"TX_START/TX_END must be integers, got "
                                  f"{fields[3]!r}, {fields[4]!r}")
    starts = _int_list(exon_starts, where, "EXON_START")
    ends = _int_list(exon_ends, where, "EXON_END")
    if len(starts) != len(ends):
      raise AnnotationFormatError(*where, f"{len(starts)} exon starts but {len(ends)} "
                                  "exon ends")
    transcripts.append(_check_transcript(Transcript(
        gene_id=name, gene_name=name, transcript_id=name, chrom=chrom, strand=strand,
        tx_start=tx_start, tx_end=tx_end, exons=tuple(sorted(zip(starts, ends)))),
        where))
  if line_no == 0:
    raise AnnotationFormatError(path, None, "empty file; expected the SpliceAI header "
                                + " ".join(SPLICEAI_TABLE_COLUMNS))
  return transcripts


# ---------------------------------------------------------------------------------------
# GTF.


def _gtf_attributes(text: str, where: tuple) -> dict[str, list[str]]:
  attributes: dict[str, list[str]] = {}
  position = 0
  text = text.strip()
  while position < len(text):
    match = _ATTRIBUTE.match(text, position)
    if match is None or match.end() == position:
      raise AnnotationFormatError(*where, f"cannot parse GTF attributes at "
                                  f"{text[position:position + 40]!r}")
    key, quoted, bare = match.groups()
    attributes.setdefault(key, []).append(quoted if quoted is not None else bare)
    position = match.end()
  return attributes


@dataclasses.dataclass
class _GtfTranscript:
  gene_id: str
  gene_name: str
  gene_type: str
  chrom: str
  strand: str
  first_line: int
  exons: list = dataclasses.field(default_factory=list)
  tags: set = dataclasses.field(default_factory=set)


def _gtf_transcripts(path, gene_types: frozenset[str] | None) -> Iterator[Transcript]:
  path = os.fspath(path)
  found: dict[str, _GtfTranscript] = {}
  for line_no, line in text_files.numbered_lines(path, AnnotationFormatError):
    if line.startswith("#") or not line.strip():
      continue
    fields = line.rstrip("\r\n").split("\t")
    where = (path, line_no)
    if len(fields) != 9:
      raise AnnotationFormatError(*where, f"expected 9 tab-separated GTF columns, got "
                                  f"{len(fields)}")
    if fields[2] not in ("exon", "transcript"):
      continue
    attributes = _gtf_attributes(fields[8], where)
    gene_type = (attributes.get("gene_type") or attributes.get("gene_biotype") or [""])[0]
    if gene_types is not None and gene_type not in gene_types:
      continue
    if "transcript_id" not in attributes or "gene_id" not in attributes:
      raise AnnotationFormatError(*where, f"{fields[2]} line without gene_id and "
                                  "transcript_id attributes")
    start, end = text_files.ascii_int(fields[3]), text_files.ascii_int(fields[4])
    if start is None or end is None:
      raise AnnotationFormatError(*where, f"start/end must be integers, got "
                                  f"{fields[3]!r}, {fields[4]!r}")
    start -= 1  # GTF is 1-based inclusive.
    if fields[6] not in ("+", "-"):
      raise AnnotationFormatError(*where, f"strand must be + or -, got {fields[6]!r}")
    transcript_id = attributes["transcript_id"][0]
    gene_id = attributes["gene_id"][0]
    record = found.get(transcript_id)
    if record is None:
      record = found[transcript_id] = _GtfTranscript(
          gene_id=gene_id, gene_name=attributes.get("gene_name", [gene_id])[0],
          gene_type=gene_type, chrom=fields[0], strand=fields[6], first_line=line_no)
    elif (record.gene_id, record.chrom, record.strand) != (gene_id, fields[0], fields[6]):
      raise AnnotationFormatError(*where, f"transcript {transcript_id} changes gene, "
                                  "chromosome or strand (first seen at line "
                                  f"{record.first_line})")
    record.tags.update(attributes.get("tag", []))
    if fields[2] == "exon":
      record.exons.append((start, end))
  for transcript_id, record in found.items():
    if not record.exons:
      raise AnnotationFormatError(path, record.first_line, f"transcript "
                                  f"{transcript_id} has no exon lines")
    exons = tuple(sorted(record.exons))
    yield _check_transcript(Transcript(
        gene_id=record.gene_id, gene_name=record.gene_name, transcript_id=transcript_id,
        chrom=record.chrom, strand=record.strand, tx_start=exons[0][0],
        tx_end=exons[-1][1], exons=exons, gene_type=record.gene_type,
        tags=frozenset(record.tags)), (path, record.first_line))


def principal_transcript(transcripts: Sequence[Transcript]) -> Transcript:
  """Ensembl_canonical, else MANE_Select, else the longest (exonic bases, span, ID)."""
  for tag in PRINCIPAL_TAGS:
    tagged = [t for t in transcripts if tag in t.tags]
    if tagged:
      transcripts = tagged
      break
  return min(transcripts, key=lambda t: (-t.exonic_length, -(t.tx_end - t.tx_start),
                                         t.transcript_id))


def read_gtf(path: str | os.PathLike, gene_types: Sequence[str] | None = ("protein_coding",),
             all_transcripts: bool = False) -> list[Transcript]:
  """Transcripts of a GENCODE/Ensembl GTF, one principal transcript per gene by default.

  Args:
    path: ``.gtf`` or ``.gtf.gz``.
    gene_types: keep genes whose ``gene_type`` (GENCODE) or ``gene_biotype`` (Ensembl)
      is listed; None keeps every gene.
    all_transcripts: return every transcript instead of one per gene.

  Returns:
    Transcripts sorted by chromosome, start and gene ID.
  """
  keep = None if gene_types is None else frozenset(gene_types)
  transcripts = list(_gtf_transcripts(path, keep))
  if not all_transcripts:
    by_gene: dict[str, list[Transcript]] = {}
    for transcript in transcripts:
      by_gene.setdefault(transcript.gene_id, []).append(transcript)
    transcripts = [principal_transcript(group) for group in by_gene.values()]
  return sorted(transcripts, key=lambda t: (t.chrom, t.tx_start, t.gene_id))


def is_gtf(path: str | os.PathLike) -> bool:
  """Whether ``path`` names a GTF (``.gtf``/``.gtf.gz``/``.gff2``) rather than a table."""
  name = os.fspath(path).lower()
  return name.endswith((".gtf", ".gtf.gz", ".gff2", ".gff2.gz"))


def load_annotation(spec: str | os.PathLike,
                    gene_types: Sequence[str] | None = ("protein_coding",)
                    ) -> list[Transcript]:
  """``grch37``/``grch38`` (SpliceAI's tables), a GTF path, or a SpliceAI-table path.

  ``gene_types`` applies to GTFs only (the SpliceAI tables carry no gene type).
  """
  spec = os.fspath(spec)
  if spec in ("grch37", "grch38"):
    return read_spliceai_table(spliceai_table_path(spec))
  if not os.path.isfile(spec):
    raise FileNotFoundError(f"annotation {spec!r} is neither grch37/grch38 nor a file")
  if is_gtf(spec):
    return read_gtf(spec, gene_types)
  return read_spliceai_table(spec)


