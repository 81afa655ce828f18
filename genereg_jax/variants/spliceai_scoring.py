"""SpliceAI delta scores of VCF variants, as the official ``spliceai`` 1.3.1 tool computes.

A reimplementation of ``spliceai.utils.get_delta_scores`` (Jaganathan et al., Cell 2019)
on the Flax port of the five released SpliceAI-10k models, batched and jitted. For a
record at ``POS`` and each annotated transcript containing it (``TX_START < POS <=
TX_END`` in the annotation's 0-based start / 1-based end convention), with ``d`` the
distance and ``C`` the model's context (10,000):

1. The ``C + 2d + 1`` reference bases centred on ``POS`` are read; bases outside the
   transcript are N (the model sees pre-mRNA, as in training).
2. The alternative window replaces ``REF`` by ``ALT`` at the centre, so it is
   ``len(ALT) - len(REF)`` longer.
3. For minus-strand genes both windows are reverse-complemented and the predictions
   reversed back, so everything below is in genomic order.
4. The ensemble's mean probabilities give ``y_ref [2d + 1, 3]`` and ``y_alt``. A
   deletion (``len(REF) > 1``, ``len(ALT) == 1``) gets zeros inserted in ``y_alt`` for
   the deleted bases, after the ALT base; an insertion (``len(REF) == 1``, ``len(ALT) >
   1``) has its inserted bases collapsed into one by a maximum. Both now span
   ``POS - d .. POS + d``.
5. ``DS_AG = max(y_alt - y_ref)`` over acceptor probabilities, ``DS_AL = max(y_ref -
   y_alt)``, and ``DS_DG``, ``DS_DL`` likewise for donors; ``DP_*`` is the position of
   the maximum relative to ``POS`` (first one on ties).
6. With ``mask``, a gain at the annotated exon boundary nearest ``POS`` and a loss
   anywhere else are set to 0 (the official "-M 1").
7. The INFO entry is ``ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL``
   with scores to two decimals, one per ALT and gene (ALTs outer, genes inner).

As in the official tool: ALTs ``.``, ``-``, ``*`` and symbolic ``<...>`` alleles are
not scored; REF and ALT both longer than one base give an entry of dots; a REF longer
than ``2d`` or not matching the genome skips the record; records outside every gene get
no entry. Deliberate differences, each so that every record gets a defined answer:

* windows reaching past a chromosome end are padded with N, where the official tool
  skips the record ("near chromosome end" past the last base; before the first base
  pyfaidx returns an empty window and the record fails the REF check, "ref issue");
  those bases lie outside every transcript of the chromosome and would be N anyway, so
  the scores are those the official computation gives without the skip;
* genome letters other than ACGTN (IUPAC codes) read as N; the official encoder maps
  them to arbitrary bases (byte value mod 5);
* REF is compared with the genome case-insensitively;
* breakend ALTs (containing ``[`` or ``]``) are not scored (the official tool would
  read them as insertions of bracket characters);
* VCF lines are handled as text: every input line is written out, unchanged unless it
  gets a ``SpliceAI`` entry, and each record not (fully) scored is reported with its
  line number and the reason (`Issue`). htslib (pysam, cyvcf2) stops at or drops a
  malformed line without giving its text or line number, which would lose records.
  A malformed record (too few columns, a POS that is not ASCII digits, bytes that are
  not UTF-8, which are written back unchanged) is such an issue, not an error.

Output is safe (`score_vcf`): an output that is the input is refused, the header is
read and checked before any output is opened, and the output is written under a
temporary name renamed onto ``--out`` only when complete, so an interrupted or failed
run leaves no file that looks finished (a BGZF prefix with a valid EOF block would
pass ``gzip -t``) and an existing ``--out`` untouched. A truncated ``.gz`` input stops
the run with a `VcfFormatError` naming the file and the last line read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation
from genereg_jax.files import check_output_path
from genereg_jax.variants import vcf
# The VCF reading and writing these names refer to lives in `vcf`, shared with the
# generic scorer; kept here under their old names for callers of this module.
from genereg_jax.variants.vcf import BgzfWriter  # noqa: F401
from genereg_jax.variants.vcf import Issue
from genereg_jax.variants.vcf import Variant
from genereg_jax.variants.vcf import VcfFormatError  # noqa: F401
from genereg_jax.variants.vcf import count_records  # noqa: F401
from genereg_jax.variants.vcf import open_output
from genereg_jax.variants.vcf import vcf_lines

INFO_ID = "SpliceAI"
INFO_FORMAT = "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL"
INFO_HEADER = (
    f'##INFO=<ID={INFO_ID},Number=.,Type=String,Description="SpliceAIv1.3.1 variant '
    "annotation. These include delta scores (DS) and delta positions (DP) for acceptor "
    "gain (AG), acceptor loss (AL), donor gain (DG), and donor loss (DL). Format: "
    f'{INFO_FORMAT}">')
SCORE_NAMES = ("DS_AG", "DS_AL", "DS_DG", "DS_DL")
# The official command line accepts distances 0..4999.
MAX_DISTANCE = 4999
# With a span (a power of two, so the pass is one of BatchedPredictions' length
# buckets, e.g. 2048), positions of one transcript within it share one REF pass. Off
# by default: the pass is a different XLA program than the per-record window, so its
# REF predictions differ in the last float bits (DS within 1e-7), which moves the DP of
# an exactly-zero delta (ALT = REF) away from the official first position.
REGION_SPAN = 0


# ---------------------------------------------------------------------------------------
# Records and results.


@dataclasses.dataclass
class GeneScore:
  """One INFO entry: an ALT allele against one gene.

  Attributes:
    allele: the ALT as written in the VCF.
    gene: the gene symbol.
    scores: ``[DS_AG, DS_AL, DS_DG, DS_DL]`` before rounding, or None for an entry of
      dots (complex substitution).
    positions: ``[DP_AG, DP_AL, DP_DG, DP_DL]`` relative to POS, or None.
  """

  allele: str
  gene: str
  scores: np.ndarray | None = None
  positions: np.ndarray | None = None

  def info(self) -> str:
    """``ALLELE|SYMBOL|DS_AG|...|DP_DL`` as the official tool writes it."""
    if self.scores is None:
      return f"{self.allele}|{self.gene}|.|.|.|.|.|.|.|."
    scores = "|".join(f"{float(s):.2f}" for s in self.scores)
    positions = "|".join(str(int(p)) for p in self.positions)
    return f"{self.allele}|{self.gene}|{scores}|{positions}"


@dataclasses.dataclass
class RecordResult:
  """One input line and what scoring made of it."""

  line_number: int
  line: str
  variant: Variant | None = None
  entries: list[GeneScore] = dataclasses.field(default_factory=list)
  issues: list[Issue] = dataclasses.field(default_factory=list)
  is_record: bool = True

  def output_line(self) -> str:
    """The line to write: the input, with the ``SpliceAI`` INFO entries if any."""
    line = self.line.rstrip("\r\n")
    if not self.entries:
      return line + "\n"
    fields = line.split("\t")
    kept = [item for item in fields[7].split(";")
            if item not in ("", ".") and item.split("=", 1)[0] != INFO_ID]
    kept.append(f"{INFO_ID}=" + ",".join(entry.info() for entry in self.entries))
    fields[7] = ";".join(kept)
    return "\t".join(fields) + "\n"


def parse_record(line: str, line_number: int) -> RecordResult:
  """Reads CHROM, POS, REF and ALT of a VCF data line; problems become an `Issue`."""
  result = RecordResult(line_number, line)
  parsed = vcf.parse_fields(line)
  if isinstance(parsed, str):
    result.issues.append(Issue(line_number, parsed))
  else:
    result.variant = parsed
  return result


# ---------------------------------------------------------------------------------------
# The official tool's arithmetic.


def align_alt_predictions(y_alt: np.ndarray, ref_len: int, alt_len: int,
                          distance: int) -> np.ndarray:
  """Puts ``y_alt`` on the reference's ``2d + 1`` positions (official indel handling).

  Args:
    y_alt: ``[2d + 1 + alt_len - ref_len, 3]`` probabilities of the ALT window.
    ref_len: length of REF.
    alt_len: length of ALT.
    distance: ``d``.

  Returns:
    ``[2d + 1, 3]``: zeros at deleted bases (after the ALT base) for deletions, the
    maximum over the inserted bases at POS for insertions, ``y_alt`` otherwise.
  """
  if ref_len > 1 and alt_len == 1:
    split = distance + alt_len
    zeros = np.zeros((ref_len - alt_len, y_alt.shape[-1]), dtype=y_alt.dtype)
    return np.concatenate([y_alt[:split], zeros, y_alt[split:]])
  if ref_len == 1 and alt_len > 1:
    inserted = y_alt[distance:distance + alt_len].max(axis=0, keepdims=True)
    return np.concatenate([y_alt[:distance], inserted, y_alt[distance + alt_len:]])
  return y_alt


def delta_scores(y_ref: np.ndarray, y_alt: np.ndarray, ref_len: int, alt_len: int,
                 distance: int, nearest_boundary: int, mask: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
  """The four delta scores and positions of one ALT against one gene.

  Args:
    y_ref: ``[2d + 1, 3]`` reference probabilities (neither, acceptor, donor), genomic
      order, centred on POS.
    y_alt: ALT-window probabilities, ``[2d + 1 + alt_len - ref_len, 3]``.
    ref_len: length of REF.
    alt_len: length of ALT.
    distance: ``d``.
    nearest_boundary: offset from POS of the nearest annotated exon boundary (first
      or last exon base), the official ``dist_exon_bdry``.
    mask: mask gains at, and losses away from, that boundary.

  Returns:
    ``(scores [DS_AG, DS_AL, DS_DG, DS_DL], positions [DP_AG, DP_AL, DP_DG, DP_DL])``.
  """
  y_alt = align_alt_predictions(y_alt, ref_len, alt_len, distance)
  if y_alt.shape != y_ref.shape:
    raise ValueError(f"aligned ALT predictions {y_alt.shape} differ from REF "
                     f"{y_ref.shape}")
  scores, positions = [], []
  for channel in (1, 2):
    for gain in (True, False):
      difference = (y_alt[:, channel] - y_ref[:, channel] if gain
                    else y_ref[:, channel] - y_alt[:, channel])
      index = int(np.argmax(difference))
      at_boundary = index - distance == nearest_boundary
      masked = mask and (at_boundary if gain else not at_boundary)
      scores.append(float(difference[index]) * (0 if masked else 1))
      positions.append(index - distance)
  # Official order: AG, AL, DG, DL.
  return np.array(scores), np.array(positions)


def nearest_exon_boundary(transcript: gene_annotation.Transcript, pos: int) -> int:
  """Offset from 1-based ``pos`` to the nearest exon first/last base (lower on ties)."""
  offsets = np.array(transcript.exon_boundaries()) + 1 - pos
  return int(offsets[np.argmin(np.abs(offsets))])


def reference_window(genome: gene_annotation.Genome, chrom: str, pos: int, width: int,
                     transcript: gene_annotation.Transcript) -> str:
  """``width`` bases centred on 1-based ``pos``, N outside the transcript."""
  half = width // 2
  bases = genome.fetch(chrom, pos - half - 1, pos + half)
  pad_left = max(half + transcript.tx_start + 1 - pos, 0)
  pad_right = max(half - (transcript.tx_end - pos), 0)
  return "N" * pad_left + bases[pad_left:width - pad_right] + "N" * pad_right


# ---------------------------------------------------------------------------------------
# Batched model evaluation.


class Predictor:
  """``uint8[batch, length, 4] -> float32[batch, length - context, 3]`` probabilities.

  Jitted once per input shape. With several devices the batch is split over them
  (``batch`` a multiple of ``num_devices``) and the parameters are replicated.
  """

  def __init__(self, model: Any, variables: Any):
    devices = jax.devices()
    self.num_devices = len(devices)
    mesh = jax.sharding.Mesh(np.array(devices), ("data",))
    self._batch_sharding = jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec("data"))
    self._variables = jax.device_put(
        variables, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
    self._apply = jax.jit(
        lambda variables, one_hot: model.apply(variables, one_hot.astype(jnp.float32)))

  def __call__(self, one_hot: np.ndarray) -> jax.Array:
    if self.num_devices > 1:
      one_hot = jax.device_put(one_hot, self._batch_sharding)
    return self._apply(self._variables, one_hot)


class BatchedPredictions:
  """Runs many variable-length windows through a model in fixed-shape batches.

  Windows are padded on the right with N to a length bucket (the SNV window length, or
  that plus a power of two for insertions) and batched ``batch_size`` at a time, so
  the jitted model compiles once per bucket. Output position ``j`` depends only on
  input positions ``j .. j + context``, so the padding changes nothing that is kept.
  """

  def __init__(self, predict: Callable[[np.ndarray], Any], context: int, base_length: int,
               batch_size: int):
    self.predict = predict
    self.context = context
    self.base_length = base_length
    devices = getattr(predict, "num_devices", 1)  # Batches split evenly over devices.
    self.batch_size = -(-batch_size // devices) * devices
    self.num_windows = 0
    self.num_batches = 0

  def bucket(self, length: int) -> int:
    """Padded length for a window of ``length``: the base, or base + a power of 2 >= 16."""
    extra = length - self.base_length
    if extra <= 0:
      return self.base_length
    return self.base_length + max(16, 1 << (extra - 1).bit_length())

  def __call__(self, windows: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``[length_i, 4]`` uint8 one-hot windows -> ``[length_i - context, 3]`` each."""
    by_bucket: dict[int, list[int]] = {}
    for index, window in enumerate(windows):
      by_bucket.setdefault(self.bucket(len(window)), []).append(index)
    pending = []
    for length, indices in sorted(by_bucket.items()):
      for start in range(0, len(indices), self.batch_size):
        chunk = indices[start:start + self.batch_size]
        batch = np.zeros((self.batch_size, length, 4), dtype=np.uint8)
        for row, index in enumerate(chunk):
          batch[row, :len(windows[index])] = windows[index]
        # Dispatch every batch before reading any back: JAX runs them asynchronously.
        pending.append((chunk, self.predict(batch)))
        self.num_batches += 1
    outputs: list[np.ndarray | None] = [None] * len(windows)
    for chunk, predictions in pending:
      predictions = np.asarray(predictions)
      for row, index in enumerate(chunk):
        outputs[index] = predictions[row, :len(windows[index]) - self.context]
    self.num_windows += len(windows)
    return outputs


class ConeEnsemble:
  """The ensemble's REF predictions of a window, keeping every layer for SNV ALTs.

  An SNV changes layer ``i`` of SpliceAI only within ``Q_i`` positions of it, and the
  delta scores read only the ``2d + 1`` outputs around it, so each layer of the ALT is
  recomputed only where both cones meet (`genereg_jax.nn.cone` on
  `genereg_jax.models.spliceai.cone_split`), on the stored REF layers of the window that
  holds the variant. SpliceAI-10k, d = 50: about a quarter of a whole ALT window's
  multiply-adds. Members run one after another (``lax.map``).

  Args:
    model: one member (`SpliceAI`, probabilities output).
    variables: the members' variables stacked under ``members`` (`SpliceAIEnsemble`).
    distance: ``d``.
    mutants_per_call: ALTs per compiled call (padded), one compile per window length.
  """

  def __init__(self, model: Any, variables: Any, distance: int, mutants_per_call: int = 4):
    from genereg_jax.models import spliceai
    from genereg_jax.nn import cone
    self.context = model.context
    self.distance = distance
    self.mutants_per_call = mutants_per_call
    members = {k: v["members"] for k, v in variables.items()}

    def reference(one_hot):
      def member(member_variables):
        split = spliceai.cone_split(model, member_variables)
        cache = cone.prepare(split.tower, one_hot.astype(jnp.float32)[None],
                             out_radius=distance)
        return split.head(cache.unpadded(len(split.tower.layers)))[0], cache
      probs, caches = jax.lax.map(member, members)
      return jnp.mean(probs, axis=0), caches

    def alternatives(caches, positions, values):
      def member(member_and_cache):
        split = spliceai.cone_split(model, member_and_cache[0])
        return jax.lax.map(lambda pv: split.head(cone.mutant_cone(
            split.tower, member_and_cache[1], pv[0], pv[1][None, None]))[0],
                           (positions, values.astype(jnp.float32)))
      return jnp.mean(jax.lax.map(member, (members, caches)), axis=0)

    self._reference = jax.jit(reference)
    self._alternatives = jax.jit(alternatives)
    self.num_windows = 0
    self.num_alternatives = 0

  def __call__(self, window: np.ndarray, snvs: Sequence[tuple[int, np.ndarray]]
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """REF probabilities of ``window`` and the ALT ones of its SNVs.

    Args:
      window: ``uint8[length, 4]`` one-hot; every SNV at least ``context / 2 + d``
        from both ends.
      snvs: ``(index in window, uint8[4] ALT letter)`` each.

    Returns:
      ``float32[length - context, 3]`` and ``[2d + 1, 3]`` per SNV (positions
      ``index - d .. index + d``).
    """
    probs, caches = self._reference(window)
    outputs = []
    for start in range(0, len(snvs), self.mutants_per_call):
      chunk = snvs[start:start + self.mutants_per_call]
      padded = chunk + [chunk[0]] * (self.mutants_per_call - len(chunk))
      positions = np.array([index for index, _ in padded], np.int32)
      values = np.stack([value for _, value in padded])
      outputs.append((len(chunk), self._alternatives(caches, positions, values)))
    self.num_windows += 1
    self.num_alternatives += len(snvs)
    alts = [row for count, out in outputs for row in np.asarray(out)[:count]]
    return np.asarray(probs), alts


# ---------------------------------------------------------------------------------------
# Scoring records.


class GeneIndex:
  """Transcripts by chromosome for ``TX_START < pos <= TX_END`` lookups."""

  def __init__(self, transcripts: Iterable[gene_annotation.Transcript]):
    by_chrom: dict[str, list] = {}
    for transcript in transcripts:
      by_chrom.setdefault(transcript.chrom, []).append(transcript)
    self._transcripts = by_chrom
    self._starts = {c: np.array([t.tx_start for t in ts]) for c, ts in by_chrom.items()}
    self._ends = {c: np.array([t.tx_end for t in ts]) for c, ts in by_chrom.items()}

  def chromosome(self, name: str) -> str | None:
    """The annotation's spelling of chromosome ``name``, or None."""
    return gene_annotation.match_chromosome(name, self._transcripts)

  def at(self, chrom: str, pos: int) -> list[gene_annotation.Transcript]:
    """Transcripts containing 1-based ``pos`` on ``chrom`` (annotation order)."""
    name = self.chromosome(chrom)
    if name is None:
      return []
    hits = np.flatnonzero((self._starts[name] < pos) & (pos <= self._ends[name]))
    return [self._transcripts[name][i] for i in hits]


class SpliceAIScorer:
  """Official SpliceAI delta scores for VCF records (see the module docstring).

  Attributes:
    genome: the reference the VCF was called against.
    genes: annotated transcripts.
    distance: ``d``, the largest distance from POS of a scored gain or loss (0..4999).
    mask: mask annotated gains and unannotated losses (official ``-M 1``).
    context: the model's flanking context (10,000 for SpliceAI-10k).
    region_span: records of one transcript whose positions lie within this many
      bases share one REF pass (see `reference_passes`); 0 gives one REF window
      per record.
    cone: a `ConeEnsemble` (of ``distance``): REF windows run through it and SNV ALTs
      are computed from their stored layers; None runs every ALT window whole.
  """

  def __init__(self, predict: Callable[[np.ndarray], Any], context: int,
               genome: gene_annotation.Genome, genes: GeneIndex, distance: int = 50,
               mask: bool = False, batch_size: int = 32,
               region_span: int = REGION_SPAN, cone: ConeEnsemble | None = None):
    if not 0 <= distance <= MAX_DISTANCE:
      raise ValueError(f"distance must be in 0..{MAX_DISTANCE}, got {distance}")
    if context % 2:
      raise ValueError(f"context must be even, got {context}")
    if region_span & (region_span - 1) or region_span < 0:
      raise ValueError(f"region_span must be 0 or a power of two, got {region_span}")
    self.genome = genome
    self.genes = genes
    self.distance = distance
    self.mask = mask
    self.context = context
    self.width = context + 2 * distance + 1
    self.region_span = region_span
    self.batched = BatchedPredictions(predict, context, self.width, batch_size)
    if cone is not None and (cone.distance, cone.context) != (distance, context):
      raise ValueError(f"cone is for distance {cone.distance} and context "
                       f"{cone.context}, the scorer for {distance} and {context}")
    self.cone = cone

  def _plan(self, result: RecordResult) -> tuple[str | None, list[tuple]]:
    """Checks one record: (FASTA chromosome, [(allele, transcript, kind)] in order)."""
    variant = result.variant

    def issue(reason, severity="warning", **where):
      result.issues.append(Issue(result.line_number, reason, severity, **where))

    chrom = self.genome.chromosome(variant.chrom)
    if chrom is None and self.genes.chromosome(variant.chrom) is None:
      issue(f"unknown chromosome {variant.chrom}: in neither the annotation nor the "
            f"FASTA {self.genome.path}")
      return None, []
    transcripts = self.genes.at(variant.chrom, variant.pos)
    if not transcripts:
      issue(f"{variant.chrom}:{variant.pos} is outside every annotated gene", "info")
      return None, []
    if chrom is None:
      issue(f"chromosome {variant.chrom} is annotated but not in the FASTA "
            f"{self.genome.path}")
      return None, []
    if variant.pos + len(variant.ref) - 1 > self.genome.sizes[chrom]:
      issue(f"{variant.chrom}:{variant.pos} REF ends past the chromosome end "
            f"({self.genome.sizes[chrom]} nt)")
      return None, []
    genome_ref = self.genome.fetch(chrom, variant.pos - 1,
                                   variant.pos - 1 + len(variant.ref))
    if genome_ref.upper() != variant.ref.upper():
      issue(f"reference mismatch at {variant.chrom}:{variant.pos}: REF {variant.ref}, "
            f"genome {genome_ref}")
      return None, []
    if len(variant.ref) > 2 * self.distance:
      issue(f"REF of {len(variant.ref)} nt is longer than 2 x distance "
            f"({2 * self.distance}); rerun with a larger --distance", "info")
      return None, []
    plan = []
    for alt in variant.alts:
      for transcript in transcripts:
        where = dict(allele=alt, gene=transcript.gene_name)
        if vcf.is_symbolic(alt):
          issue(f"ALT {alt} (missing, deleted, symbolic or breakend allele) is not "
                "scored", "info", **where)
        elif not vcf.is_bases(alt):
          issue(f"ALT {alt!r} is not a sequence of A, C, G, T, N", **where)
        elif len(variant.ref) > 1 and len(alt) > 1:
          plan.append((alt, transcript, "complex"))
          issue(f"REF {variant.ref} and ALT {alt} are both longer than 1 nt: written as "
                "dots, as the official tool does", "info", **where)
        else:
          plan.append((alt, transcript, "score"))
    return chrom, plan

  def score(self, results: Sequence[RecordResult]) -> Sequence[RecordResult]:
    """Fills ``entries`` and ``issues`` of parsed records, running the model in batches."""
    half = self.width // 2
    windows: list[np.ndarray] = []  # REF windows first, then every ALT window.
    alternatives: list[np.ndarray] = []
    work = []
    snvs = []  # (work index, transcript, pos, alt) for the cone
    needed: dict[int, tuple] = {}  # Per transcript: (transcript, chrom, REF positions).
    for result in results:
      if result.variant is None:
        continue
      chrom, plan = self._plan(result)
      variant = result.variant
      for alt, transcript, kind in plan:
        if kind == "complex":
          work.append((result, alt, transcript, None))
          continue
        needed.setdefault(id(transcript), (transcript, chrom, set()))[2].add(variant.pos)
        if self.cone is not None and len(variant.ref) == len(alt) == 1:
          snvs.append((len(work), transcript, variant.pos, alt))
          work.append((result, alt, transcript, -1))
          continue
        bases = reference_window(self.genome, chrom, variant.pos, self.width, transcript)
        alternative = bases[:half] + alt + bases[half + len(variant.ref):]
        work.append((result, alt, transcript, len(alternatives)))
        alternatives.append(_oriented(alternative, transcript.strand == "-"))
    # REF passes: one window per group of nearby positions of a transcript.
    references: dict[tuple[int, int], tuple[int, int]] = {}
    for transcript, chrom, positions in needed.values():
      for first, group in reference_passes(sorted(positions), self.region_span):
        span = self.region_span if len(group) > 1 else 0
        bases = reference_window(self.genome, chrom, first + span // 2, self.width + span,
                                 transcript)
        for pos in group:
          references[(id(transcript), pos)] = (len(windows), pos - first)
        windows.append(_oriented(bases, transcript.strand == "-"))
    first_alt = len(windows)
    cone_alts = {}
    if self.cone is not None:
      reference_predictions, cone_alts = self._cone_passes(windows, references, snvs)
      windows = []
    windows += alternatives
    predictions = self.batched(windows) if windows else []
    if self.cone is not None:
      predictions = reference_predictions + predictions
    for work_index, (result, alt, transcript, alt_index) in enumerate(work):
      entry = GeneScore(alt, transcript.gene_name)
      if alt_index is not None:
        step = -1 if transcript.strand == "-" else 1
        ref_index, offset = references[(id(transcript), result.variant.pos)]
        y_ref = predictions[ref_index][::step][offset:offset + 2 * self.distance + 1]
        y_alt = (cone_alts[work_index] if alt_index < 0
                 else predictions[first_alt + alt_index])
        entry.scores, entry.positions = delta_scores(
            y_ref, y_alt[::step],
            len(result.variant.ref), len(alt), self.distance,
            nearest_exon_boundary(transcript, result.variant.pos), self.mask)
      result.entries.append(entry)
    return results


  def _cone_passes(self, windows, references, snvs):
    """REF predictions of every window and, by work index, the cone's SNV ALTs."""
    by_window: dict[int, list] = {}
    for work_index, transcript, pos, alt in snvs:
      ref_index, offset = references[(id(transcript), pos)]
      index = offset + self.width // 2  # Genomic index of pos in its window.
      value = encoding.one_hot_dna(alt)
      if transcript.strand == "-":
        index = len(windows[ref_index]) - 1 - index
        value = encoding.reverse_complement(value)
      by_window.setdefault(ref_index, []).append((work_index, index, value[0]))
    predictions, alts = [], {}
    for ref_index, window in enumerate(windows):
      group = by_window.get(ref_index, [])
      probs, outputs = self.cone(window, [(index, value) for _, index, value in group])
      predictions.append(probs)
      alts.update({work_index: out for (work_index, _, _), out in zip(group, outputs)})
    return predictions, alts


def reference_passes(positions: Sequence[int], span: int
                     ) -> Iterator[tuple[int, list[int]]]:
  """Sorted positions in groups ``(first, [positions within span of first])``.

  A group of several positions gets one REF window of ``width + span`` bases from
  ``first - width // 2``: output position ``j`` of SpliceAI depends only on input
  positions ``j .. j + context``, so the REF predictions around each position are
  those of its own window (the same bases, N outside the transcript), computed once.
  Every group window has the same length, so it adds one compiled shape.
  """
  group: list[int] = []
  for pos in positions:
    if group and pos - group[0] > span:
      yield group[0], group
      group = []
    group.append(pos)
  if group:
    yield group[0], group


def _oriented(window: str, reverse: bool) -> np.ndarray:
  one_hot = encoding.one_hot_dna(window)
  return np.ascontiguousarray(encoding.reverse_complement(one_hot)) if reverse else one_hot


# ---------------------------------------------------------------------------------------
# VCF files.


def read_header(lines: Iterator[tuple[int, str]], path: str) -> list[str]:
  """Meta lines and the ``#CHROM`` line, with the SpliceAI INFO line added or replaced."""
  meta, chrom_line = vcf.split_header(lines, path)
  meta = [line for line in meta if not line.startswith(f"##INFO=<ID={INFO_ID},")]
  return meta + [INFO_HEADER + "\n", chrom_line]


def score_vcf(scorer: SpliceAIScorer, vcf_in: str | os.PathLike, vcf_out: str | os.PathLike,
              chunk_records: int = 256, progress: Any = None,
              on_issue: Callable[[Issue, RecordResult], None] | None = None
              ) -> dict[str, int]:
  """Scores every record of ``vcf_in`` into ``vcf_out``; every line is written.

  ``vcf_out`` appears only when complete (see the module docstring); it must not be
  ``vcf_in``, and a bad header raises `VcfFormatError` before it is opened.

  Args:
    scorer: the configured scorer.
    vcf_in: input VCF (plain or gzip).
    vcf_out: output VCF (BGZF if it ends in ``.gz``).
    chunk_records: records read, scored and written together.
    progress: a tqdm-like object updated once per record, or None.
    on_issue: called with each `Issue` and its record, in file order.

  Returns:
    Counts: ``records``, ``scored`` (records with a SpliceAI entry), ``entries``,
    ``warnings`` and ``info`` issues.
  """
  vcf_in = os.fspath(vcf_in)
  check_output_path(vcf_out, vcf_in)
  with contextlib.closing(vcf_lines(vcf_in)) as lines:
    header = read_header(lines, vcf_in)
    return _score_lines(scorer, header, lines, vcf_out, chunk_records, progress, on_issue)


def _score_lines(scorer: SpliceAIScorer, header: Sequence[str],
                 lines: Iterable[tuple[int, str]], vcf_out: str | os.PathLike,
                 chunk_records: int, progress: Any,
                 on_issue: Callable[[Issue, RecordResult], None] | None,
                 only_scored: bool = False) -> dict[str, int]:
  """`score_vcf` after the header; ``only_scored`` writes only records with entries."""
  counts = dict(records=0, scored=0, entries=0, warnings=0, info=0)
  with open_output(vcf_out) as sink:
    sink.writelines(header)
    chunk: list[RecordResult] = []

    def flush():
      scorer.score(chunk)
      for result in chunk:
        if result.entries or not only_scored:
          sink.write(result.output_line())
        if not result.is_record:
          continue
        counts["records"] += 1
        counts["scored"] += bool(result.entries)
        counts["entries"] += len(result.entries)
        for issue in result.issues:
          counts["warnings" if issue.severity == "warning" else "info"] += 1
          if on_issue is not None:
            on_issue(issue, result)
        if progress is not None:
          progress.update(1)
      chunk.clear()

    for line_number, line in lines:
      if not line.strip() or line.startswith("#"):  # Kept in place, not scored.
        chunk.append(RecordResult(line_number, line, is_record=False))
        continue
      chunk.append(parse_record(line, line_number))
      if len(chunk) >= chunk_records:
        flush()
    if chunk:
      flush()
  return counts


def parse_region(region: str, genome: gene_annotation.Genome) -> tuple[str, int, int]:
  """``chrom:start-end`` (1-based, inclusive, commas allowed) -> (FASTA name, start, end)."""
  try:
    chrom, span = region.rsplit(":", 1)
    start, end = (int(v.replace(",", "")) for v in span.split("-"))
  except ValueError:
    raise ValueError(f"region {region!r} is not chrom:start-end") from None
  name = genome.chromosome(chrom)
  if name is None:
    raise ValueError(f"region {region}: chromosome {chrom} is not in {genome.path}")
  if not 1 <= start <= end <= genome.sizes[name]:
    raise ValueError(f"region {region}: need 1 <= start <= end <= {genome.sizes[name]} "
                     f"(the length of {name})")
  return name, start, end


def score_region_snvs(scorer: SpliceAIScorer, region: str, vcf_out: str | os.PathLike,
                      chunk_records: int = 3 * 2048, progress: Any = None,
                      on_issue: Callable[[Issue, RecordResult], None] | None = None
                      ) -> dict[str, int]:
  """Every SNV of ``region``, as the published precomputed SpliceAI scores list them.

  Three records per base (the other letters, in A, C, G, T order; bases other than
  ACGT are skipped), scored as VCF records are (nearby positions share REF passes, with
  a `ConeEnsemble` SNV ALTs reuse their layers); only records inside an annotated gene
  are written, each with its ``SpliceAI`` INFO, as in the official precomputed VCFs.

  Returns:
    Counts as `score_vcf`'s.
  """
  chrom, start, end = parse_region(region, scorer.genome)
  header = ["##fileformat=VCFv4.2\n",
            f"##contig=<ID={chrom},length={scorer.genome.sizes[chrom]}>\n",
            INFO_HEADER + "\n", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"]

  def lines():
    number = len(header)
    for offset in range(start - 1, end, 4096):
      bases = scorer.genome.fetch(chrom, offset, min(offset + 4096, end)).upper()
      for i, ref in enumerate(bases):
        if ref not in "ACGT":
          continue
        for alt in "ACGT".replace(ref, ""):
          number += 1
          yield number, f"{chrom}\t{offset + i + 1}\t.\t{ref}\t{alt}\t.\t.\t.\n"

  return _score_lines(scorer, header, lines(), vcf_out, chunk_records, progress, on_issue,
                      only_scored=True)
