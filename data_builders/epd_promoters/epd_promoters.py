"""Promoter / non-promoter windows around annotated TSSs of real promoter collections.

Promoters (``manual_dir`` holds one promoter file and the genome FASTA):

* **EPD / EPDnew** (Dreos et al., NAR 2017; human, mouse, Arabidopsis ...), either of
  its two download formats:

  - BED (``*.bed``, e.g. ``Hs_EPDnew_006_hg38.bed``): ``chrom start end name score
    strand [thickStart thickEnd]``. The TSS is the 1-bp thick interval when given,
    else a 1-bp interval itself, else EPD's -49..+10 region (TSS 49 nt after the start
    on ``+``, 50 nt before the end on ``-``).
  - FPS (``*.fps``/``*.FP``), the SIB "functional position set" format of the
    Signal Search Analysis tools: one ``FP`` line per promoter, e.g.
    ``FP   Hs_NOC2L_1        :+S  EU:NC_000001.11       1-    959256; 26038.001``
    (description, ``:`` + flags, ``database:accession``, ``1`` + strand, 1-based
    position, ``;`` + EPD id). Accessions are matched to the FASTA's records by name,
    else RefSeq chromosome accessions are translated (``REFSEQ_CHROMOSOMES``: human
    NC_000001-24, mouse NC_000067-87, Arabidopsis NC_003070-76).

* **RegulonDB** (Santos-Zavaleta et al., NAR 2019; E. coli): the promoter / TSS set
  (``PromoterSet.txt``/``*.txt``), tab-separated with a ``#`` comment header whose
  ``# (n) ...`` lines name the columns: identifier, name, strand (``forward`` /
  ``reverse``), TSS position (+1, 1-based), sigma factor, sequence, evidence,
  confidence. Rows of other sigma factors than ``sigma`` (``Sigma70``, as CNNProm's
  E. coli set) and rows without a position are skipped.
* **DBTBS** (Sierro et al., NAR 2008; B. subtilis): its promoter table exported as
  tab-separated text (``*.tsv``) with a header naming at least ``Gene``, ``Sigma``,
  ``TSS`` (1-based genome position) and ``Strand`` (``+``/``-``) columns (case and
  order free); rows of other sigma factors than ``sigma`` (``SigA``) are skipped.

Windows (``window`` nt, the TSS at ``tss_index``, read 5'->3' on the promoter's strand):
positives around every TSS; one negative per positive, its kind cycling through
``negatives``:

* ``random``: a random window of the genome at least ``MIN_DISTANCE`` nt from every
  annotated TSS (both strands), on a random strand, without N -- the papers' random
  genomic fragments;
* ``gc_matched``: the random window, out of ``MATCH_DRAWS`` draws, whose GC fraction and
  CpG observed/expected are closest to the positive's (CpG-matched negatives, so
  composition alone cannot tell them apart);
* ``shuffled``: the positive's own bases, dinucleotide-shuffled
  (`genereg_jax.interpret.shuffle`), keeping its composition and CpG content.

Splits from the CRC32 of the promoter's id: 10% test, 10% valid, the rest train.
Records: ``sequence [window, 4]``, ``label`` (1 promoter), ``kind`` (``promoter`` or the
negative's kind), ``name``. Malformed lines raise `genereg_jax.files.InputFormatError`
(``path:line: message``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from genereg_jax.interpret import shuffle

MIN_DISTANCE = 1000
MATCH_DRAWS = 20
EPD_UPSTREAM = 49  # EPD's BED regions are -49..+10 around the TSS.
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
Fetch = Callable[[str, int, int], str]  # (chrom, start, end) -> bases, N off the ends.
_FP_LINE = re.compile(r"^FP\s+(?P<name>.*?)\s*:(?P<flags>\S*)\s+(?P<db>[A-Za-z]+):"
                      r"(?P<accession>\S+)\s+\d(?P<strand>[+-])\s*(?P<position>\d+);\s*"
                      r"(?P<id>\S*)")


def _refseq_chromosomes() -> dict[str, str]:
  names = {}
  for i in range(1, 25):  # Human: NC_000001 .. NC_000024 (23 = X, 24 = Y).
    names[f"NC_{i:06d}"] = "chr" + {23: "X", 24: "Y"}.get(i, str(i))
  for i in range(67, 88):  # Mouse: NC_000067 (chr1) .. NC_000085 (chr19), X, Y.
    names[f"NC_{i:06d}"] = "chr" + {86: "X", 87: "Y"}.get(i, str(i - 66))
  for accession, chrom in (("NC_003070", "Chr1"), ("NC_003071", "Chr2"),
                           ("NC_003074", "Chr3"), ("NC_003075", "Chr4"),
                           ("NC_003076", "Chr5")):  # Arabidopsis (TAIR10).
    names[accession] = chrom
  return names


#: RefSeq chromosome accession (version dropped) -> UCSC/TAIR chromosome name.
REFSEQ_CHROMOSOMES = _refseq_chromosomes()


@dataclasses.dataclass(frozen=True)
class Promoter:
  """An annotated TSS: chromosome as written in the file, 0-based +1 base, strand."""
  name: str
  chrom: str
  position: int
  strand: str


def read_epd_bed(path: str) -> list[Promoter]:
  """EPD's BED download (module docstring)."""
  promoters = []
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith(("#", "track", "browser")):
      continue
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) < 6 or fields[5] not in ("+", "-"):
      raise InputFormatError(path, number, "expected BED6+ (chrom, start, end, name, score, "
                                           "strand '+'/'-')")
    start, end = text.ascii_int(fields[1]), text.ascii_int(fields[2])
    if start is None or end is None or end <= start:
      raise InputFormatError(path, number, f"bad start/end {fields[1]!r}, {fields[2]!r}")
    thick = [text.ascii_int(f) for f in fields[6:8]] if len(fields) >= 8 else [None, None]
    if None not in thick and thick[1] - thick[0] == 1:
      position = thick[0]
    elif end - start == 1:
      position = start
    elif fields[5] == "+":
      position = start + EPD_UPSTREAM
    else:
      position = end - 1 - EPD_UPSTREAM
    promoters.append(Promoter(fields[3], fields[0], position, fields[5]))
  return promoters


def read_fps(path: str) -> list[Promoter]:
  """EPD's FPS download: the ``FP`` lines (other lines are ignored, as the SSA tools do)."""
  promoters = []
  for number, line in text.numbered_lines(path):
    if not line.startswith("FP"):
      continue
    match = _FP_LINE.match(line.rstrip("\r\n"))
    if not match:
      raise InputFormatError(path, number, "expected an FP line 'FP   <description> :<flags> "
                                           "<db>:<accession> 1<strand> <position>; <id>'")
    name = match["name"].split()[0] if match["name"].strip() else match["id"]
    promoters.append(Promoter(name, match["accession"], int(match["position"]) - 1,
                              match["strand"]))
  if not promoters:
    raise InputFormatError(path, None, "no FP lines")
  return promoters


def _header_columns(path: str) -> dict[str, int]:
  """RegulonDB's ``# (n) description`` header lines -> {lower-case description: n - 1}."""
  columns = {}
  for _, line in text.numbered_lines(path):
    if not line.startswith("#"):
      break
    match = re.match(r"#\s*\((\d+)\)\s*(.+)", line)
    if match:
      columns[match[2].strip().lower()] = int(match[1]) - 1
  return columns


def _find(columns: dict[str, int], *words: str, default: int) -> int:
  for description, index in columns.items():
    if all(w in description for w in words):
      return index
  return default


def read_regulondb(path: str, sigma: str = "Sigma70") -> list[Promoter]:
  """RegulonDB's promoter set (module docstring); positions are on the E. coli K-12
  chromosome, named by the genome FASTA's single record (or ``chromosome``)."""
  columns = _header_columns(path)
  name_i = _find(columns, "name", default=1)
  strand_i = _find(columns, "strand", default=2)
  position_i = _find(columns, "+1", default=_find(columns, "position", default=3))
  sigma_i = _find(columns, "sigma", default=4)
  promoters = []
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith("#"):
      continue
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) <= max(name_i, strand_i, position_i, sigma_i):
      raise InputFormatError(path, number, f"expected at least "
                             f"{max(name_i, strand_i, position_i, sigma_i) + 1} tab-separated "
                             f"columns, got {len(fields)}")
    strand = {"forward": "+", "reverse": "-", "+": "+", "-": "-"}.get(fields[strand_i].strip())
    if strand is None:
      raise InputFormatError(path, number, f"strand {fields[strand_i]!r} is not "
                                           "forward/reverse")
    position = text.ascii_int(fields[position_i].strip())
    if position is None or position <= 0:  # Promoters without a mapped TSS.
      continue
    if sigma and sigma.lower() not in fields[sigma_i].lower().replace(" ", ""):
      continue
    promoters.append(Promoter(fields[name_i], "chromosome", position - 1, strand))
  return promoters


def read_dbtbs(path: str, sigma: str = "SigA") -> list[Promoter]:
  """DBTBS's promoter table as TSV with named columns (module docstring)."""
  promoters, header = [], None
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith("#"):
      continue
    fields = [f.strip() for f in line.rstrip("\r\n").split("\t")]
    if header is None:
      lower = [f.lower() for f in fields]
      try:
        header = {key: next(i for i, f in enumerate(lower) if f.startswith(key))
                  for key in ("gene", "sigma", "tss", "strand")}
      except StopIteration:
        raise InputFormatError(path, number, "the header needs Gene, Sigma, TSS and Strand "
                                             f"columns; got {fields}") from None
      continue
    try:
      gene, factor, tss, strand = (fields[header[k]] for k in ("gene", "sigma", "tss",
                                                               "strand"))
    except IndexError:
      raise InputFormatError(path, number, f"expected {len(header)}+ columns") from None
    position = text.ascii_int(tss)
    if position is None or strand not in ("+", "-"):
      raise InputFormatError(path, number, f"bad TSS/strand {tss!r} {strand!r}")
    if sigma and sigma.lower() not in factor.lower():
      continue
    promoters.append(Promoter(gene, "chromosome", position - 1, strand))
  return promoters


def stranded(fetch: Fetch, chrom: str, start: int, length: int, strand: str) -> str:
  """``length`` bases of ``chrom`` from ``start`` (N off its ends), read on ``strand``."""
  bases = fetch(chrom, start, start + length).upper()
  return bases if strand == "+" else bases.translate(_COMPLEMENT)[::-1]


def window_start(position: int, strand: str, window: int, tss_index: int) -> int:
  return position - tss_index if strand == "+" else position - (window - 1 - tss_index)


def composition(bases: str) -> tuple[float, float]:
  """GC fraction and CpG observed/expected (Gardiner-Garden & Frommer 1987)."""
  c, g = bases.count("C"), bases.count("G")
  ratio = bases.count("CG") * len(bases) / (c * g) if c and g else 0.0
  return (c + g) / max(len(bases), 1), ratio


def split_of(key: str) -> str:
  fold = zlib.crc32(key.encode()) % 10
  return "test" if fold == 0 else ("valid" if fold == 1 else "train")


def promoter_windows(promoters: Sequence[Promoter], fetch: Fetch, sizes: dict[str, int],
                     window: int, tss_index: int, negatives: Sequence[str], seed: int = 0
                     ) -> Iterator[tuple[str, str, dict]]:
  """``(key, split, record)`` of every positive and its negative (module docstring).

  ``fetch(chrom, start, end)`` reads bases (N off the ends, as `genome.Genome.fetch`);
  ``sizes`` are the chromosomes random negatives are drawn from, with their lengths.
  """
  rng = np.random.default_rng(seed)
  sites = {}
  for p in promoters:
    sites.setdefault(p.chrom, []).append(p.position)
  sites = {k: np.sort(v) for k, v in sites.items()}
  names = sorted(sizes)
  lengths = np.array([sizes[n] for n in names], np.float64)

  def random_window() -> str:
    for _ in range(1000):
      chrom = names[rng.choice(len(names), p=lengths / lengths.sum())]
      position = int(rng.integers(0, sizes[chrom]))
      near = sites.get(chrom, np.zeros(0))
      j = np.searchsorted(near, position)
      if any(abs(near[k] - position) < MIN_DISTANCE for k in (j - 1, j) if 0 <= k < len(near)):
        continue
      strand = "+" if rng.random() < 0.5 else "-"
      bases = stranded(fetch, chrom, window_start(position, strand, window, tss_index),
                       window, strand)
      if "N" not in bases:
        return bases
    raise ValueError(f"no N-free window at least {MIN_DISTANCE} nt from every TSS in 1000 "
                     "draws; is the genome mostly N or crowded with TSSs?")

  for index, promoter in enumerate(promoters):
    bases = stranded(fetch, promoter.chrom,
                     window_start(promoter.position, promoter.strand, window, tss_index),
                     window, promoter.strand)
    key = f"{promoter.name}:{promoter.chrom}:{promoter.position}:{promoter.strand}"
    split = split_of(key)
    yield key, split, {"sequence": encoding.one_hot_dna(bases), "label": 1,
                       "kind": "promoter", "name": promoter.name}
    kind = negatives[index % len(negatives)]
    if kind == "random":
      negative = encoding.one_hot_dna(random_window())
    elif kind == "gc_matched":
      target = np.array(composition(bases))
      draws = [random_window() for _ in range(MATCH_DRAWS)]
      distance = [np.abs(np.array(composition(d)) - target).sum() for d in draws]
      negative = encoding.one_hot_dna(draws[int(np.argmin(distance))])
    elif kind == "shuffled":
      negative = shuffle.dinucleotide_shuffle(encoding.one_hot_dna(bases)[None], n=1,
                                              seed=int(rng.integers(2**31)))[0, 0]
    else:
      raise ValueError(f"unknown negative kind {kind!r}; valid: random, gc_matched, shuffled")
    yield f"{key}:{kind}", split, {"sequence": np.asarray(negative, np.uint8), "label": 0,
                                   "kind": kind, "name": promoter.name}


def on_genome(promoters: Sequence[Promoter], genome: genome_lib.Genome) -> list[Promoter]:
  """Promoters whose chromosome the FASTA has, renamed to its spelling: ``chromosome``
  (RegulonDB, DBTBS) is its only record; RefSeq accessions (FPS) are translated."""
  records = list(genome.sizes)
  kept = []
  for p in promoters:
    chrom = genome.chromosome(p.chrom)
    if chrom is None and p.chrom == "chromosome" and len(records) == 1:
      chrom = records[0]
    if chrom is None:
      alias = REFSEQ_CHROMOSOMES.get(p.chrom.split(".")[0])
      chrom = genome.chromosome(alias) if alias else None
    if chrom is not None:
      kept.append(dataclasses.replace(p, chrom=chrom))
  return kept


@dataclasses.dataclass(eq=False)
class EpdPromotersConfig(tfds.core.BuilderConfig):
  """Source, window and negatives of an ``epd_promoters`` build.

  Attributes:
    source: ``"epd"`` (BED or FPS), ``"regulondb"`` or ``"dbtbs"``.
    window: nt per window; tss_index: the TSS's index in it.
    negatives: kinds cycled through, one negative per positive.
    sigma: sigma factor kept (RegulonDB, DBTBS).
  """
  source: str = "epd"
  window: int = 251
  tss_index: int = 200
  negatives: tuple[str, ...] = ("random", "gc_matched", "shuffled")
  sigma: str = ""


class EpdPromoters(tfds.core.GeneratorBasedBuilder):
  """Promoter windows from EPD / RegulonDB / DBTBS + genome FASTA, with three kinds of
  negatives (CNNProm, DeeReCT-PromID)."""

  name = "epd_promoters"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      EpdPromotersConfig(name="human", description="EPDnew human, 251 bp (-200..+50)."),
      EpdPromotersConfig(name="mouse", description="EPDnew mouse, 251 bp."),
      EpdPromotersConfig(name="arabidopsis", description="EPDnew Arabidopsis, 251 bp."),
      EpdPromotersConfig(name="human_promid", window=600, tss_index=200,
                         negatives=("random",),
                         description="EPDnew human, 600 bp (-200..+400), random negatives "
                                     "(DeeReCT-PromID's initial set)."),
      EpdPromotersConfig(name="ecoli", source="regulondb", window=81, tss_index=60,
                         sigma="Sigma70", description="RegulonDB sigma70, 81 bp (-60..+20)."),
      EpdPromotersConfig(name="bsubtilis", source="dbtbs", window=81, tss_index=60,
                         sigma="SigA", description="DBTBS SigA, 81 bp (-60..+20)."),
  ]

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(config.window, 4), dtype=np.uint8),
            "label": tfds.features.Scalar(dtype=np.int32),
            "kind": tfds.features.Text(),
            "name": tfds.features.Text()}),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(window=config.window, tss_index=config.tss_index,
                                        negatives=list(config.negatives),
                                        label_names=["promoter"]))

  def _promoters(self, manual_dir: str) -> list[Promoter]:
    config = self.builder_config
    files = sorted(os.listdir(manual_dir))
    pick = lambda *suffixes: [os.path.join(manual_dir, f) for f in files
                              if f.lower().endswith(suffixes)]
    if config.source == "epd":
      beds, fps = pick(".bed", ".bed.gz"), pick(".fps", ".fp", ".fps.gz")
      if len(beds) + len(fps) != 1:
        raise FileNotFoundError(f"{manual_dir} needs one EPD promoter file (.bed or .fps); "
                                f"found {beds + fps}")
      return read_epd_bed(beds[0]) if beds else read_fps(fps[0])
    tables = pick(".txt", ".tsv", ".txt.gz", ".tsv.gz")
    if len(tables) != 1:
      raise FileNotFoundError(f"{manual_dir} needs one {config.source} table (.txt/.tsv); "
                              f"found {tables}")
    reader = read_regulondb if config.source == "regulondb" else read_dbtbs
    return reader(tables[0], config.sigma)

  def _split_generators(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    fastas = [os.path.join(manual_dir, f) for f in sorted(os.listdir(manual_dir))
              if f.lower().endswith((".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz"))]
    if len(fastas) != 1:
      raise FileNotFoundError(f"{manual_dir} needs one genome FASTA; found {fastas}")
    config = self.builder_config
    records: dict[str, list] = {"train": [], "valid": [], "test": []}
    with genome_lib.Genome(fastas[0]) as genome:
      promoters = on_genome(self._promoters(manual_dir), genome)
      if not promoters:
        raise ValueError(f"no promoter of {manual_dir} is on a chromosome of {fastas[0]}")
      for key, split, record in promoter_windows(promoters, genome.fetch, genome.sizes,
                                                 config.window, config.tss_index,
                                                 config.negatives):
        records[split].append((key, record))
    # A split with no records (a small input) is left out: TFDS cannot write it empty.
    return {split: self._generate_examples(rows) for split, rows in records.items() if rows}

  def _generate_examples(self, rows):
    yield from rows
