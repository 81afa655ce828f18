"""Variant-effect scores of VCF records for any trained model, in batches, resumable.

The scoring of DeepSEA (Zhou & Troyanskaya 2015: probability difference and log-odds
difference per chromatin feature), Basenji/Enformer (Kelley et al. 2018, Avsec et al.
2021: SAD, the sum over bins of ALT minus REF coverage, and SED/logSAD,
``log2((sum ALT + 1) / (sum REF + 1))``) and ChromBPNet's variant scorer (log-count
difference and the Jensen-Shannon divergence of the REF and ALT profiles), on a
predictor ``[batch, L, 4] one-hot -> {output name: float32[batch, ...]}`` such as
`genereg_jax.predict.Predictor` (jitted, batch split over the mesh's data devices,
optional reverse-complement averaging).

Windows. For a record at 1-based ``POS`` with REF of ``r`` bases, the REF window is the
``L`` genome bases whose index ``h = L // 2`` is the first REF base. An ALT of ``a``
bases replaces REF there. A deletion (``a < r``) fills the window from the genome to
the right of it; an insertion (``a > r``, ``k = a - r``) drops ``k // 2`` bases on the
left and ``k - k // 2`` on the right so the variant stays centred. In the terms of
`effects` (tangermeme's edits): a deletion is ``deletion_effect`` (``left=False``) on the
REF window extended to the right, an insertion ``insertion_effect`` (``left=False``) on
the REF window moved ``k // 2`` bases right (tests check both). A window that needs
bases past a chromosome end is not scored. The REF window is predicted once per record,
whatever the number of ALTs. A predictor with ``predict_snvs`` (`ConeSubstitutions`:
fastISM's receptive-cone reuse, `genereg_jax.nn.cone`) gets the records with one SNV ALT
as REF windows plus the ALT base at index ``h``, and returns both predictions from one
REF pass, recomputing for the ALT only the positions the SNV can change. A predictor
that also has ``predict_snv_region`` (`ConeSubstitutions.region`, offered only for
models whose outputs never see a window's padding: BPNet as bpnet-lite trims it) shares
REF passes between SNVs: nearby records' overlapping windows are one stretch of genome,
run through the tower once, and each window's REF activations are cut out of it
(`Scorer.predict_packed_snvs`). For such models this gives each window's own outputs
(to float rounding, ~1e-6) at a fraction of the REF cost when records are clustered.

Positional outputs (per-example rank 2: bins or bases x tracks) are compared on REF
coordinates. Outputs are taken as centred on the window with ``resolution`` bases per
bin (given, or ``L / bins`` when that divides, else 1), so the variant's bin is
``c = bins // 2``. An indel moves the ALT flanks by ``left = -(k // 2)`` and ``right =
a - r - (k // 2 if k > 0 else 0)`` bases; each ALT bin left of ``c`` is read
``round(left / resolution)`` bins away and each bin from ``c`` on ``round(right /
resolution)`` away. Bins of deleted bases get 0 (no ALT signal there, as SpliceAI
inserts zeros), bins of inserted bases are left out (no REF counterpart), and REF bins
whose ALT partner falls outside the window keep the REF value (no effect measured).

Scores (``SCORES``): on per-example vectors (``[tracks]``) ``diff`` and
``log_odds_diff`` (logits of probabilities clipped to [1e-6, 1 - 1e-6]), and
``log_count_diff`` (ALT - REF of an output that is already log counts); on positional
outputs ``SAD``, ``logSAD`` (``SED`` is the same number under Borzoi's name),
``max_abs_diff`` (largest |ALT - REF| over bins) and ``JSD`` (Jensen-Shannon divergence,
natural log, of each track's profile normalised over bins). Each output gets the
requested scores that apply to its shape; by default every output gets those of its
kind (``default_scores``).

Genes (Borzoi's SED, Linder et al. 2025). With a GTF (`GeneExons`), positional scores
are per gene: for each gene with an exon (of any of its transcripts) overlapping a bin
of the output window, ``SAD``, ``logSAD``/``SED``, ``max_abs_diff`` and ``JSD`` are taken
over the bins overlapping that gene's exons only, one row per variant x ALT x gene
(columns ``gene_id gene_name``); bin ``b`` covers genome bases ``[w + o + b res, w + o +
(b + 1) res)`` for the REF window's start ``w`` and the centring offset ``o = (L - bins
res) // 2``. A record whose window holds no exon bin of any gene is an issue.

Runs and outputs (`score_vcf`): records are read in chunks of ``chunk_records`` data
lines; chunk ``i`` belongs to process ``i % process_count``, which writes it under
``<out>/parts/`` when done (atomically), so an interrupted run continues after the last
written chunk and several processes write separate shards. `merge` then writes:

* ``scores.tsv`` and/or ``scores.parquet`` (``formats``; the same columns, scores as
  float32 in Parquet): one row per record x ALT (``line chrom pos id ref alt``), then
  per output and score either one column per selected track (``tracks``) or, by
  default, the score of the track with the largest |score| and that track's name;
* ``scores.h5``: per output and score a chunked ``float16`` (by default)
  ``[variants, tracks]`` dataset with the track names, and the variant columns;
* ``issues.tsv``: every record or ALT not scored, with its line and the reason;
* optionally ``scores.vcf.gz`` (BGZF): the records with the top tracks in INFO;
* only for the variants listed in ``save_bins`` (`read_variant_list`: VCF IDs or
  ``chrom:pos:ref:alt``), ``bins.h5``: per output ``<output>/ref`` and
  ``<output>/alt`` float32 ``[variants, ...]`` predictions, ALT on REF bins (as scored),
  with the variant columns. By default nothing per bin is kept: the outputs hold
  2 bytes x tracks per variant and score.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from absl import logging

from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation
from genereg_jax.data import genome as genome_lib
from genereg_jax.files import atomic_path
from genereg_jax.files import atomic_write
from genereg_jax.files import write_json
from genereg_jax.files import check_output_path
from genereg_jax.variants import vcf

SCORES = ("diff", "log_odds_diff", "log_count_diff", "SAD", "logSAD", "SED",
          "max_abs_diff", "JSD")
VECTOR_SCORES = ("diff", "log_odds_diff", "log_count_diff")
ID_COLUMNS = ("line", "chrom", "pos", "id", "ref", "alt")
GENE_COLUMNS = ("gene_id", "gene_name")
_EPS = 1e-6


# ---------------------------------------------------------------------------------------
# Scores of one output.


def default_scores(name: str, rank: int) -> tuple[str, ...]:
  """The scores an output gets by default, from its per-example rank and its name."""
  if name.endswith("log_probs"):
    return ()  # The same profile as "*_probs", in logs.
  if name.endswith("log_counts"):
    return ("log_count_diff",)
  if rank == 1:
    return ("diff", "log_odds_diff")
  if name.endswith("probs"):
    return ("JSD",)
  return ("SAD", "logSAD", "max_abs_diff")


def applies(score: str, rank: int) -> bool:
  """Whether ``score`` is defined for outputs of per-example ``rank``."""
  return (score in VECTOR_SCORES) == (rank == 1)


def _logit(p: np.ndarray) -> np.ndarray:
  p = np.clip(p, _EPS, 1 - _EPS)
  return np.log(p) - np.log1p(-p)


def _jsd(p: np.ndarray, q: np.ndarray) -> np.ndarray:
  """Jensen-Shannon divergence over axis -2 (positions) of non-negative profiles."""
  p = p / np.maximum(p.sum(-2, keepdims=True), 1e-12)
  q = q / np.maximum(q.sum(-2, keepdims=True), 1e-12)
  m = (p + q) / 2

  def kl(a):
    with np.errstate(divide="ignore", invalid="ignore"):
      return np.where(a > 0, a * np.log(a / m), 0).sum(-2)
  return (kl(p) + kl(q)) / 2


def score(name: str, ref: np.ndarray, alt: np.ndarray) -> np.ndarray:
  """Score ``name`` of ``[n, tracks]`` or ``[n, bins, tracks]`` predictions: ``[n, tracks]``.

  Positional ``alt`` must already be on REF coordinates (`align_to_reference`).
  """
  ref, alt = np.asarray(ref, np.float64), np.asarray(alt, np.float64)
  if name in ("diff", "log_count_diff"):
    return alt - ref
  if name == "log_odds_diff":
    return _logit(alt) - _logit(ref)
  if name == "SAD":
    return alt.sum(-2) - ref.sum(-2)
  if name in ("logSAD", "SED"):
    return np.log2((alt.sum(-2) + 1) / (ref.sum(-2) + 1))
  if name == "max_abs_diff":
    return np.abs(alt - ref).max(-2)
  if name == "JSD":
    return _jsd(ref, alt)
  raise ValueError(f"unknown score {name!r}; known: {', '.join(SCORES)}")


# ---------------------------------------------------------------------------------------
# Windows and alignment.


def flank_shifts(ref_len: int, alt_len: int) -> tuple[int, int]:
  """Bases by which the ALT window moves the left and right flanks (ALT = REF + shift)."""
  inserted = max(alt_len - ref_len, 0)
  left = -(inserted // 2)
  return left, alt_len - ref_len + left


def windows(genome: genome_lib.Genome, chrom: str, pos: int, ref: str,
            alts: Sequence[str], length: int) -> tuple[str, list[str]] | None:
  """REF and ALT windows of ``length`` centred on 1-based ``pos``, or None off the ends.

  See the module docstring: deletions fill from the right flank, insertions trim both.
  """
  half = length // 2
  start = pos - 1 - half  # 0-based genome position of window index 0.
  size = genome.sizes[chrom]
  need_start, need_end = start, start + length
  for alt in alts:
    left, right = flank_shifts(len(ref), len(alt))
    need_start = min(need_start, start - left)
    need_end = max(need_end, start + length - right)
  if need_start < 0 or need_end > size:
    return None
  reference = genome.fetch(chrom, start, start + length)
  variant_end = pos - 1 + len(ref)
  alternatives = []
  for alt in alts:
    left, right = flank_shifts(len(ref), len(alt))
    left_flank = genome.fetch(chrom, start - left, pos - 1)
    right_flank = genome.fetch(chrom, variant_end,
                               variant_end + length - len(left_flank) - len(alt))
    alternatives.append(left_flank + alt + right_flank)
  return reference, alternatives


def resolution_of(input_length: int, bins: int, resolution: int | None = None) -> int:
  """Bases per output bin: given, else ``input_length / bins`` when that divides, else 1."""
  if resolution:
    return resolution
  return input_length // bins if input_length % bins == 0 else 1


def align_to_reference(ref: np.ndarray, alt: np.ndarray, ref_len: int, alt_len: int,
                       resolution: int) -> np.ndarray:
  """``[bins, tracks]`` ALT predictions on REF bins (the rule in the module docstring)."""
  if ref_len == alt_len:
    return alt
  bins = ref.shape[0]
  centre = bins // 2
  left, right = flank_shifts(ref_len, alt_len)
  left, right = round(left / resolution), round(right / resolution)
  aligned = ref.copy()
  index = np.arange(bins)
  source = np.where(index < centre, index + left, index + right)
  inside = (source >= 0) & (source < bins)
  aligned[inside] = alt[source[inside]]
  if alt_len < ref_len:  # The deleted bases' bins, just right of the variant.
    deleted = -(right - left)
    aligned[centre:centre + max(deleted, 0)] = 0
  return aligned


class GeneExons:
  """Exons of every gene of a GTF (union over its transcripts), looked up by window.

  Read with `gene_annotation.read_gtf` (GENCODE/Ensembl GTF, plain or gzipped; a bad
  line is an ``AnnotationFormatError`` naming ``path:line``); every gene type is kept.
  """

  def __init__(self, path: str | os.PathLike):
    self.path = os.fspath(path)
    genes: dict[str, tuple[str, str, set]] = {}
    for t in gene_annotation.read_gtf(self.path, gene_types=None, all_transcripts=True):
      genes.setdefault(t.gene_id, (t.gene_name, t.chrom, set()))[2].update(t.exons)
    by_chrom: dict[str, list] = {}
    for gene_id, (name, chrom, exons) in genes.items():
      by_chrom.setdefault(chrom, []).extend((s, e, gene_id, name) for s, e in exons)
    self._index = {}
    for chrom, exons in by_chrom.items():
      exons.sort()
      starts = np.array([e[0] for e in exons], np.int64)
      ends = np.array([e[1] for e in exons], np.int64)
      self._index[chrom] = (starts, ends, [e[2:] for e in exons],
                            int((ends - starts).max()))

  def _chrom(self, chrom: str) -> str | None:
    other = chrom[3:] if chrom.startswith("chr") else f"chr{chrom}"
    return next((c for c in (chrom, other) if c in self._index), None)

  def masks(self, chrom: str, bin_starts: np.ndarray, resolution: int
            ) -> list[tuple[str, str, np.ndarray]]:
    """``(gene_id, gene_name, bool[bins])`` of each gene with an exon on a bin (bins
    ``[start, start + resolution)`` at ``bin_starts``), in order of first exon."""
    name = self._chrom(chrom)
    if name is None or not len(bin_starts):
      return []
    starts, ends, genes, longest = self._index[name]
    lo, hi = int(bin_starts[0]), int(bin_starts[-1]) + resolution
    first = np.searchsorted(starts, lo - longest)
    last = np.searchsorted(starts, hi)
    found: dict[tuple[str, str], np.ndarray] = {}
    bin_ends = bin_starts + resolution
    for i in range(first, last):
      if ends[i] <= lo:
        continue
      hit = (bin_starts < ends[i]) & (bin_ends > starts[i])
      if hit.any():
        mask = found.setdefault(genes[i], np.zeros(len(bin_starts), bool))
        mask |= hit
    return [(gene_id, gene_name, mask) for (gene_id, gene_name), mask in found.items()]


def variant_key(chrom: str, pos: int, ref: str, alt: str) -> str:
  """``chrom:pos:ref:alt``, how `read_variant_list` names a variant."""
  return f"{chrom}:{pos}:{ref}:{alt}"


def read_variant_list(spec: str) -> frozenset[str]:
  """Variants named in a file (one per line) or a comma-separated list: VCF IDs or
  ``chrom:pos:ref:alt``; blank lines and ``#`` comments are skipped."""
  from genereg_jax.data import text
  if os.path.isfile(spec):
    items = [line.split("#", 1)[0].strip() for _, line in text.numbered_lines(spec)]
  else:
    items = [item.strip() for item in spec.split(",")]
  return frozenset(item for item in items if item)


class ConeSubstitutions:
  """SNV predictions of a `genereg_jax.nn.cone.Split` model (e.g. `bpnet.cone_model`)
  reusing REF activations (fastISM's receptive cones, `genereg_jax.nn.cone`).

  Calling it is a predictor's ``predict_snvs``: jitted ``(x [batch, L, 4], position,
  value [batch, 1, 4]) -> (REF outputs, ALT outputs)``; the tower runs once per window
  (`cone.prepare`) and each ALT recomputes every layer only on its receptive cone around
  ``position`` (`cone.mutant_final`), then the head. `region` is a predictor's
  ``predict_snv_region``: one REF pass over a sequence holding many windows
  (`cone.window_mutants`), exact only when ``split.padding_free``. Outputs pass through
  ``readout``.

  Args:
    split: the model.
    readout: maps the head's outputs to ``{name: array}``.
    windows_per_call: windows per compiled call of `region` (the last call padded).
  """

  def __init__(self, split: Any, readout: Callable[[Any], Mapping[str, Any]] = dict,
               windows_per_call: int = 8):
    import jax
    from genereg_jax.nn import cone
    self.padding_free = split.padding_free
    self.windows_per_call = windows_per_call

    def run(x, position, value):
      cache = cone.prepare(split.tower, x.astype("float32"))
      ref = split.head(cache.unpadded(len(split.tower.layers)))
      alt = split.head(cone.mutant_final(split.tower, cache, position,
                                         value.astype("float32")))
      return readout(ref), readout(alt)

    def windows(cache, starts, values, length):
      ref, alt = cone.window_mutants(split.tower, cache, starts, length, length // 2,
                                     values.astype("float32"))
      return readout(split.head(ref)), readout(split.head(alt))

    self._run = jax.jit(run)
    self._prepare = jax.jit(lambda x: cone.prepare(split.tower, x.astype("float32")))
    self._windows = jax.jit(windows, static_argnums=3)

  def __call__(self, x, position, value):
    return self._run(x, position, value)

  def region(self, sequence: np.ndarray, starts: np.ndarray, values: np.ndarray,
             length: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """REF and ALT outputs (``[n, ...]`` each) of the windows ``sequence[starts[j]:
    starts[j] + length]`` with ``values[j]`` (``[1, 4]``) at index ``length // 2``;
    ``sequence`` is ``[P, 4]`` one-hot, one compiled program per ``P``."""
    if not self.padding_free:
      raise ValueError("the model's outputs may see the window's padding "
                       "(Split.padding_free is False): score windows one by one")
    cache = self._prepare(sequence[None])
    k, pending = self.windows_per_call, []
    for first in range(0, len(starts), k):
      n = min(k, len(starts) - first)
      chunk_starts = np.zeros(k, np.int32)  # Padding rows: window 0, all N.
      chunk_values = np.zeros((k, *values.shape[1:]), values.dtype)
      chunk_starts[:n], chunk_values[:n] = starts[first:first + n], values[first:first + n]
      pending.append((n, self._windows(cache, chunk_starts, chunk_values, length)))
    sides = []
    for side in (0, 1):
      names = pending[0][1][side] if pending else {}
      sides.append({name: np.concatenate([np.asarray(out[side][name])[:n]
                                          for n, out in pending]) for name in names})
    return sides[0], sides[1]


# ---------------------------------------------------------------------------------------
# Scoring records.


@dataclasses.dataclass
class Row:
  """One scored record x ALT (x gene): its id columns, ``{(output, score): float[tracks]}``
  and, when it is listed in ``save_bins``, ``{output: (REF, ALT on REF bins)}``."""

  ids: tuple[Any, ...]
  scores: dict[tuple[str, str], np.ndarray]
  bins: dict[str, tuple[np.ndarray, np.ndarray]] | None = None


class Scorer:
  """Scores of VCF records for a predictor (see the module docstring).

  Args:
    predictor: ``uint8[batch, L, 4] -> {name: float32[batch, ...]}``, with attributes
      ``input_length`` and ``data_devices`` (batches are a multiple of it) and
      ``output_names(name, size)``, as `genereg_jax.predict.Predictor`; optionally
      ``predict_snvs`` and ``predict_snv_region(sequence uint8[P, 4], starts int32[n],
      values uint8[n, 1, 4]) -> (REF, ALT)`` (``{name: [n, ...]}`` each) of the windows
      ``sequence[starts[j]:starts[j] + L]`` with ``values[j]`` at index ``L // 2``, as
      `ConeSubstitutions` gives them (see the module docstring).
    genome: the reference FASTA the VCF was called on.
    scores: the scores to compute (each where it applies), or None for the defaults.
    batch_size: windows per predictor call (rounded up to a multiple of the devices).
    resolution: bases per bin of positional outputs (None: inferred).
    genes: `GeneExons`: positional scores per gene over its exon bins (Borzoi's SED).
    save_bins: variants (`read_variant_list`) whose per-bin predictions are kept.
    pack_length: with a predictor's ``predict_snv_region``, the longest REF pass (bases,
      before rounding up to a power of two); 0 predicts each SNV's REF window alone.
  """

  def __init__(self, predictor: Any, genome: genome_lib.Genome,
               scores: Sequence[str] | None = None, batch_size: int = 64,
               resolution: int | None = None, genes: GeneExons | None = None,
               save_bins: frozenset[str] | None = None, pack_length: int = 65_536):
    unknown = sorted(set(scores or ()) - set(SCORES))
    if unknown:
      raise ValueError(f"unknown scores {unknown}; known: {', '.join(SCORES)}")
    self.predictor = predictor
    self.genome = genome
    self.scores = tuple(scores) if scores else None
    devices = getattr(predictor, "data_devices", 1)
    self.batch_size = -(-batch_size // devices) * devices
    self.resolution = resolution
    self.genes = genes
    self.save_bins = frozenset(save_bins or ())
    self.id_columns = ID_COLUMNS + (GENE_COLUMNS if genes is not None else ())
    self.input_length = int(predictor.input_length)
    self.pack_length = pack_length
    self.num_windows = 0
    self.num_packs = 0
    self._renamed: set[str] = set()

  def scores_for(self, name: str, rank: int) -> tuple[str, ...]:
    if self.scores is None:
      return default_scores(name, rank)
    return tuple(s for s in self.scores if applies(s, rank))

  def predict(self, sequences: Sequence[str]) -> dict[str, np.ndarray]:
    """Predictions of many windows, in full batches (the last padded with N)."""
    outputs: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(sequences), self.batch_size):
      chunk = sequences[start:start + self.batch_size]
      batch = np.zeros((self.batch_size, self.input_length, 4), np.uint8)
      for row, sequence in enumerate(chunk):
        batch[row] = encoding.one_hot_dna(sequence)
      for name, value in self.predictor(batch).items():
        outputs.setdefault(name, []).append(np.asarray(value)[:len(chunk)])
    self.num_windows += len(sequences)
    return {name: np.concatenate(parts) for name, parts in outputs.items()}

  def predict_snvs(self, references: Sequence[str], alts: Sequence[str]
                   ) -> dict[str, np.ndarray]:
    """``{name: [n, 2, ...]}`` REF and ALT predictions of SNVs at index ``L // 2`` of
    REF windows, through the predictor's ``predict_snvs`` (in full batches)."""
    outputs: dict[str, list[np.ndarray]] = {}
    position = self.input_length // 2
    for start in range(0, len(references), self.batch_size):
      chunk = references[start:start + self.batch_size]
      batch = np.zeros((self.batch_size, self.input_length, 4), np.uint8)
      value = np.zeros((self.batch_size, 1, 4), np.uint8)
      for row, (sequence, alt) in enumerate(zip(chunk, alts[start:start + len(chunk)])):
        batch[row] = encoding.one_hot_dna(sequence)
        value[row] = encoding.one_hot_dna(alt)
      ref, alt = self.predictor.predict_snvs(batch, position, value)
      for name in ref:
        outputs.setdefault(name, []).append(np.stack(
            [np.asarray(ref[name]), np.asarray(alt[name])], 1)[:len(chunk)])
    self.num_windows += len(references)
    return {name: np.concatenate(parts) for name, parts in outputs.items()}

  def predict_packed_snvs(self, plans: Sequence[tuple]) -> dict[int, dict[str, np.ndarray]]:
    """``{plan index: {name: [2, ...]}}`` REF and ALT predictions of the single-SNV
    records among ``plans`` with shared REF passes, or ``{}`` when the predictor has no
    ``predict_snv_region`` (or ``pack_length`` is 0).

    The SNVs' REF windows, sorted by chromosome and start, are packed into sequences of
    at most ``pack_length`` bases: a window that overlaps the previous one extends its
    stretch of genome (a stretch holds nearby variants' windows once), any other
    starts a new stretch after it. Each pack, padded with N to a power of two (a few
    compiled shapes), gets one REF pass; every window is cut out of it. This relies on
    the model's outputs never seeing a window's padding (`cone.Split.padding_free`),
    which the predictor guarantees by offering ``predict_snv_region``.
    """
    region = getattr(self.predictor, "predict_snv_region", None)
    if region is None or not self.pack_length:
      return {}
    length = self.input_length
    snvs = sorted((plan[4], plan[0][2] - 1 - length // 2, i)
                  for i, plan in enumerate(plans) if self._by_cone(plan))
    done: dict[int, dict[str, np.ndarray]] = {}
    stretches, members, size = [], [], 0  # [chrom, start, end, pack offset]; (plan, offset)
    for chrom, start, i in snvs:
      joins = bool(stretches) and stretches[-1][0] == chrom and start < stretches[-1][2]
      grow = start + length - stretches[-1][2] if joins else length
      if members and size + grow > self.pack_length:
        self._predict_pack(region, plans, stretches, members, size, done)
        stretches, members, size, joins, grow = [], [], 0, False, length
      if joins:
        stretches[-1][2] = start + length
      else:
        stretches.append([chrom, start, start + length, size])
      size += grow
      members.append((i, stretches[-1][3] + start - stretches[-1][1]))
    if members:
      self._predict_pack(region, plans, stretches, members, size, done)
    return done

  def _predict_pack(self, region: Callable, plans: Sequence[tuple], stretches: list,
                    members: list, size: int, done: dict) -> None:
    """One REF pass over the stretches (see `predict_packed_snvs`) into ``done``."""
    sequence = np.zeros((1 << (size - 1).bit_length(), 4), np.uint8)  # N-padded.
    for chrom, start, end, offset in stretches:
      sequence[offset:offset + end - start] = encoding.one_hot_dna(
          self.genome.fetch(chrom, start, end))
    starts = np.array([offset for _, offset in members], np.int32)
    values = np.stack([encoding.one_hot_dna(plans[i][1][0]) for i, _ in members])
    ref, alt = region(sequence, starts, values)
    ref = {name: np.asarray(v) for name, v in ref.items()}
    alt = {name: np.asarray(v) for name, v in alt.items()}
    for j, (i, _) in enumerate(members):
      done[i] = {name: np.stack([ref[name][j], alt[name][j]]) for name in ref}
    self.num_windows += len(members)
    self.num_packs += 1

  def _chromosome(self, name: str) -> str | None:
    chrom = self.genome.chromosome(name)
    if chrom is not None and chrom != name and not self._renamed:
      logging.warning("VCF chromosome %s is %s in the FASTA %s; mapping names with and "
                      "without 'chr' (warned once)", name, chrom, self.genome.path)
    if chrom is not None and chrom != name:
      self._renamed.add(name)
    return chrom

  def _plan(self, line_number: int, line: str, parsed: vcf.Variant | str,
            issues: list[tuple]) -> tuple[tuple, list[str], str, list[str]] | None:
    """Checks a record: (ids, ALTs scored, REF window, ALT windows), or None."""
    fields = line.rstrip("\r\n").split("\t")

    def issue(reason, alt=""):
      where = fields[:2] + fields[3:4] if len(fields) >= 4 else ["", "", ""]
      # Bytes that are not UTF-8 (kept as surrogates by the reader) are written as U+FFFD.
      where = [f.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
               for f in where]
      issues.append((line_number, *where, alt, reason))

    if isinstance(parsed, str):
      issue(parsed)
      return None
    chrom = self._chromosome(parsed.chrom)
    if chrom is None:
      issue(f"off-contig: chromosome {parsed.chrom} is not in the FASTA {self.genome.path}")
      return None
    if parsed.pos - 1 + len(parsed.ref) > self.genome.sizes[chrom]:
      issue(f"REF ends past the end of {chrom} ({self.genome.sizes[chrom]} nt)")
      return None
    genome_ref = self.genome.fetch(chrom, parsed.pos - 1, parsed.pos - 1 + len(parsed.ref))
    if genome_ref.upper() != parsed.ref.upper():
      issue(f"REF mismatch: REF {parsed.ref}, genome {genome_ref}")
      return None
    alts = []
    for alt in parsed.alts:
      if vcf.is_symbolic(alt):
        issue(f"symbolic ALT {alt} (missing, deleted, symbolic or breakend) is not scored",
              alt)
      elif not vcf.is_bases(alt):
        issue(f"malformed ALT {alt!r}: not a sequence of A, C, G, T, N", alt)
      elif alt.upper() == parsed.ref.upper():
        issue(f"ALT {alt} equals REF", alt)
      else:
        alts.append(alt)
    if not alts:
      return None
    built = windows(self.genome, chrom, parsed.pos, parsed.ref, alts, self.input_length)
    if built is None:
      issue(f"window of {self.input_length} nt runs off the end of {chrom} "
            f"({self.genome.sizes[chrom]} nt)")
      return None
    ids = (line_number, parsed.chrom, parsed.pos, fields[2], parsed.ref)
    return ids, alts, built[0], built[1], chrom

  def score_records(self, records: Sequence[tuple[int, str, vcf.Variant | str]]
                    ) -> tuple[list[Row], list[tuple]]:
    """Rows of the scored record x ALTs and the issues, in file order.

    Records are predicted a batch at a time and scored at once, so only one batch of
    (possibly large, e.g. Enformer's) positional predictions is held; single SNVs that
    share REF passes (`predict_packed_snvs`) are predicted for all ``records`` first.
    """
    issues: list[tuple] = []
    rows: list[Row] = []
    plans = [plan for line_number, line, parsed in records
             if (plan := self._plan(line_number, line, parsed, issues)) is not None]
    packed = self.predict_packed_snvs(plans)
    group, windows_in_group = [], 0
    for i, plan in enumerate(plans):
      # Model inputs it still needs.
      windows = 0 if i in packed else 1 if self._by_cone(plan) else 1 + len(plan[1])
      if group and windows_in_group + windows > self.batch_size:
        rows += self._score_group(group, issues)
        group, windows_in_group = [], 0
      group.append((plan, packed.pop(i, None)))
      windows_in_group += windows
    if group:
      rows += self._score_group(group, issues)
    issues.sort(key=lambda issue: issue[0])
    return rows, issues

  def _score_group(self, group: Sequence[tuple[tuple, dict | None]], issues: list[tuple]
                   ) -> list[Row]:
    """Rows of ``(plan, its predictions or None)``; the missing ones are predicted."""
    plans = [plan for plan, _ in group]
    sequences, firsts = [], []
    # {plan index: {output: [1 + ALTs, ...]}}: given, single-SNV records through the
    # predictor's predict_snvs (when it has one), the rest as whole windows.
    by_plan = {i: done for i, (_, done) in enumerate(group) if done is not None}
    snvs = [i for i, plan in enumerate(plans) if i not in by_plan and self._by_cone(plan)]
    if snvs:
      both = self.predict_snvs([plans[i][2] for i in snvs], [plans[i][1][0] for i in snvs])
      for j, i in enumerate(snvs):
        by_plan[i] = {name: values[j] for name, values in both.items()}
    others = [i for i in range(len(plans)) if i not in by_plan]
    for i in others:
      firsts.append(len(sequences))
      sequences += [plans[i][2], *plans[i][3]]
    if others:
      predictions = self.predict(sequences)
      for i, first in zip(others, firsts):
        by_plan[i] = {name: values[first:first + 1 + len(plans[i][1])]
                      for name, values in predictions.items()}
    rows = []
    for i, (ids, alts, _, _, chrom) in enumerate(plans):
      predictions = by_plan[i]
      for k, alt in enumerate(alts):
        pairs = {}  # output -> (REF, ALT on REF bins)
        for name, values in predictions.items():
          ref, alt_values = values[0], values[1 + k]
          if ref.ndim == 2:
            alt_values = align_to_reference(ref, alt_values, len(ids[4]), len(alt),
                                            self._resolution(ref))
          pairs[name] = (ref, alt_values)
        keep = self.save_bins and (ids[3] in self.save_bins or variant_key(
            ids[1], ids[2], ids[4], alt) in self.save_bins)
        if self.genes is None:
          rows.append(Row((*ids, alt), self._scores(pairs), pairs if keep else None))
          continue
        positional = [v[0] for v in predictions.values() if v.ndim == 3]
        genes = self._gene_masks(chrom, ids[2], positional[0]) if positional else []
        if not genes:
          issues.append((ids[0], ids[1], str(ids[2]), ids[4], alt, (
              f"no exon of a gene in {self.genes.path} overlaps the output window"
              if positional else "--gtf needs a positional output (bins x tracks); "
              f"the model's are {', '.join(predictions)}")))
        for g, (gene_id, gene_name, mask) in enumerate(genes):
          rows.append(Row((*ids, alt, gene_id, gene_name), self._scores(pairs, mask),
                          pairs if keep and g == 0 else None))
    return rows

  def _by_cone(self, plan: tuple) -> bool:
    """Whether a record goes through the predictor's ``predict_snvs``: one SNV ALT."""
    ids, alts = plan[0], plan[1]
    return (getattr(self.predictor, "predict_snvs", None) is not None and len(alts) == 1
            and len(alts[0]) == len(ids[4]) == 1)

  def _resolution(self, ref: np.ndarray) -> int:
    return resolution_of(self.input_length, ref.shape[0], self.resolution)

  def _gene_masks(self, chrom: str, pos: int, ref: np.ndarray) -> list:
    """`GeneExons.masks` of the output bins of the window centred on 1-based ``pos``."""
    bins, resolution = ref.shape[0], self._resolution(ref)
    first = pos - 1 - self.input_length // 2 + (self.input_length - bins * resolution) // 2
    return self.genes.masks(chrom, first + resolution * np.arange(bins), resolution)

  def _scores(self, pairs: Mapping[str, tuple[np.ndarray, np.ndarray]],
              mask: np.ndarray | None = None) -> dict[tuple[str, str], np.ndarray]:
    scores = {}
    for name, (ref, alt) in pairs.items():
      rank = ref.ndim
      if rank > 2:
        continue  # Per-example outputs of rank 3+ have no score defined here.
      if rank == 2 and mask is not None:
        ref, alt = ref[mask], alt[mask]
      for score_name in self.scores_for(name, rank):
        scores[(name, score_name)] = score(score_name, ref[None], alt[None])[0]
    return scores


# ---------------------------------------------------------------------------------------
# Runs: chunks, resumption, merge.


def _chunks(path: str, chunk_records: int) -> Iterator[list[tuple[int, str, Any]]]:
  with contextlib.closing(vcf.vcf_lines(path)) as lines:
    vcf.split_header(lines, path)
    chunk = []
    for record in vcf.records(lines):
      chunk.append(record)
      if len(chunk) == chunk_records:
        yield chunk
        chunk = []
    if chunk:
      yield chunk


def _part_path(out: str, index: int) -> str:
  return os.path.join(out, "parts", f"chunk_{index:07d}.npz")


def _write_part(path: str, rows: list[Row], issues: list[tuple],
                columns: Sequence[str] = ID_COLUMNS) -> None:
  keys = sorted({key for row in rows for key in row.scores})
  arrays = {f"score:{name}:{s}": np.stack([row.scores[(name, s)] for row in rows])
            for name, s in keys}
  kept = [i for i, row in enumerate(rows) if row.bins]
  for name in (rows[kept[0]].bins if kept else ()):
    for j, side in enumerate(("ref", "alt")):
      arrays[f"bins:{name}:{side}"] = np.stack([rows[i].bins[name][j] for i in kept])
  with atomic_path(path) as tmp, open(tmp, "wb") as f:
    np.savez(f, ids=json.dumps([list(row.ids) for row in rows]),
             issues=json.dumps(issues), columns=json.dumps(list(columns)),
             bins_rows=np.array(kept, np.int64), **arrays)


def _read_part(path: str) -> dict[str, Any]:
  with np.load(path) as data:
    return {"ids": json.loads(str(data["ids"])), "issues": json.loads(str(data["issues"])),
            "columns": json.loads(str(data["columns"])),
            "scores": {tuple(k.split(":", 2)[1:]): data[k] for k in data.files
                       if k.startswith("score:")},
            "bins_rows": data["bins_rows"],
            "bins": {tuple(k.split(":")[1:]): data[k] for k in data.files
                     if k.startswith("bins:")}}


def _run_settings(vcf_path: str, scorer: Scorer, chunk_records: int) -> dict[str, Any]:
  stat = os.stat(vcf_path)
  return {"vcf": os.path.abspath(vcf_path), "vcf_size": stat.st_size,
          "vcf_mtime_ns": stat.st_mtime_ns, "chunk_records": chunk_records,
          "scores": scorer.scores, "input_length": scorer.input_length,
          "resolution": scorer.resolution,
          "gtf": os.path.abspath(scorer.genes.path) if scorer.genes else None,
          "save_bins": sorted(scorer.save_bins)}


def score_vcf(scorer: Scorer, vcf_path: str, out: str, *, chunk_records: int = 256,
              process_index: int = 0, process_count: int = 1,
              progress: Any = None, stop_after: int | None = None) -> dict[str, int]:
  """Scores this process's chunks of ``vcf_path`` into ``<out>/parts/``.

  Chunks already written (by an interrupted run with the same settings) are skipped.
  ``stop_after`` stops after that many new chunks (for tests of resumption).

  Returns:
    ``{"chunks": written now, "skipped": found done, "records": scored now}``.
  """
  check_output_path(out, vcf_path)
  os.makedirs(os.path.join(out, "parts"), exist_ok=True)
  settings = _run_settings(vcf_path, scorer, chunk_records)
  settings_path = os.path.join(out, "parts", "settings.json")
  if os.path.exists(settings_path):
    with open(settings_path) as f:
      previous = json.load(f)
    if previous != json.loads(json.dumps(settings)):
      raise ValueError(f"{out} holds parts of a run with other settings ({previous}); "
                       "use a new --out or delete its parts/ folder")
  elif process_index == 0:
    write_json(settings_path, settings)
  counts = dict(chunks=0, skipped=0, records=0)
  for index, chunk in enumerate(_chunks(vcf_path, chunk_records)):
    if index % process_count != process_index:
      continue
    path = _part_path(out, index)
    if os.path.exists(path):
      counts["skipped"] += 1
    else:
      if stop_after is not None and counts["chunks"] >= stop_after:
        break
      rows, issues = scorer.score_records(chunk)
      _write_part(path, rows, issues, scorer.id_columns)
      counts["chunks"] += 1
      counts["records"] += len(chunk)
    if progress is not None:
      progress.update(len(chunk))
  return counts


def _track_names(names: Callable[[str, int], Sequence[str]] | None, output: str,
                 size: int) -> list[str]:
  return list(names(output, size)) if names else [str(i) for i in range(size)]


def select_tracks(spec: str | None, names_by_key: Mapping[Any, Sequence[str]]
                  ) -> dict[Any, list[int]]:
  """Track indices per output from ``--tracks`` (comma-separated names or indices).

  A name selects that track in every output that has it, an index the track at that
  index in every output long enough; None selects every track. An item that selects
  nothing anywhere is an error.
  """
  if not spec:
    return {key: list(range(len(names))) for key, names in names_by_key.items()}
  items = [item.strip() for item in spec.split(",") if item.strip()]
  chosen = {key: [] for key in names_by_key}
  for item in items:
    found = False
    for key, names in names_by_key.items():
      names = list(names)
      if item in names:
        chosen[key].append(names.index(item))
      elif item.isdigit() and int(item) < len(names):
        chosen[key].append(int(item))
      else:
        continue
      found = True
    if not found:
      examples = sorted({n for names in names_by_key.values() for n in names})[:10]
      raise ValueError(f"track {item!r} is neither a track name nor an index of any "
                       f"output (names: {', '.join(examples)} ...)")
  return chosen


FORMATS = ("tsv", "parquet")


def _table(ids: list, keys: list, scores: Mapping, names: Mapping, chosen: Mapping,
           tracks: str | None, columns: Sequence[str]) -> dict[str, list]:
  """The rows of ``scores.tsv`` as ``{column: values}`` (score columns as arrays)."""
  table = {column: [row[j] for row in ids] for j, column in enumerate(columns)}
  for key in keys:
    prefix = f"{key[0]}/{key[1]}"
    values = scores[key][:, chosen[key]]
    if tracks:
      for j, t in enumerate(chosen[key]):
        table[f"{prefix}/{names[key][t]}"] = values[:, j]
    elif chosen[key]:
      top = np.argmax(np.abs(values), axis=1)
      table[f"{prefix}/max"] = values[np.arange(len(values)), top]
      table[f"{prefix}/max_track"] = [names[key][chosen[key][t]] for t in top]
  return table


def _write_strings(h5, ids: list, columns: Sequence[str]) -> None:
  """The variant columns of ``ids`` as HDF5 datasets (integers for line and pos)."""
  import h5py
  for j, column in enumerate(columns):
    if column in ("line", "pos"):
      h5.create_dataset(column, data=np.array([r[j] for r in ids], np.int64))
    else:
      h5.create_dataset(column, data=np.array([str(r[j]) for r in ids], dtype=object),
                        dtype=h5py.string_dtype())


def merge(out: str, *, output_names: Callable[[str, int], Sequence[str]] | None = None,
          tracks: str | None = None, dtype: str = "float16", vcf_top: int = 0,
          vcf_path: str | None = None, formats: Sequence[str] = ("tsv",)
          ) -> dict[str, Any]:
  """Writes ``scores.tsv`` / ``scores.parquet`` (``formats``), ``scores.h5``,
  ``issues.tsv`` (and ``scores.vcf.gz``, ``bins.h5``) from every process's parts;
  returns a summary. Nothing is written under the final names until each file is
  complete."""
  import h5py
  unknown = sorted(set(formats) - set(FORMATS))
  if unknown or not formats:
    raise ValueError(f"unknown table formats {unknown}; known: {', '.join(FORMATS)}")
  parts = sorted(glob.glob(os.path.join(out, "parts", "chunk_*.npz")))
  ids, issues, scores, bins, columns = [], [], {}, {}, list(ID_COLUMNS)
  for path in parts:
    part = _read_part(path)
    for key, value in part["scores"].items():
      scores.setdefault(key, []).append(value)
    for key, value in part["bins"].items():
      bins.setdefault(key, []).append(value)
    bins.setdefault("rows", []).append(part["bins_rows"] + len(ids))
    ids += part["ids"]
    issues += part["issues"]
    columns = part["columns"]
  scores = {key: np.concatenate(values) for key, values in scores.items()}
  keys = sorted(scores)
  names = {key: _track_names(output_names, key[0], scores[key].shape[1]) for key in keys}
  chosen = select_tracks(tracks, names)

  table = _table(ids, keys, scores, names, chosen, tracks, columns)
  if "tsv" in formats:
    with atomic_write(os.path.join(out, "scores.tsv")) as f:
      f.write("\t".join(table) + "\n")
      cells = [[f"{v:.6g}" for v in values] if isinstance(values, np.ndarray)
               else [str(v) for v in values] for values in table.values()]
      for row in zip(*cells):
        f.write("\t".join(row) + "\n")
  if "parquet" in formats:
    import pyarrow as pa
    import pyarrow.parquet as pq
    with atomic_path(os.path.join(out, "scores.parquet")) as tmp:
      pq.write_table(pa.table({k: pa.array(v.astype(np.float32) if isinstance(v, np.ndarray)
                                           else v) for k, v in table.items()}), tmp)

  with atomic_path(os.path.join(out, "scores.h5")) as tmp, h5py.File(tmp, "w") as h5:
    _write_strings(h5, ids, columns)
    for key in keys:
      data = scores[key].astype(dtype)  # Every track; --tracks picks TSV columns.
      dataset = h5.create_dataset(f"{key[0]}/{key[1]}", data=data,
                                  chunks=(min(max(len(data), 1), 1024), data.shape[1])
                                  if data.size else None)
      dataset.attrs["tracks"] = list(names[key])

  rows = np.concatenate(bins.pop("rows")) if parts else np.zeros(0, np.int64)
  if len(rows):  # Per-bin REF and ALT of the variants listed in save_bins.
    with atomic_path(os.path.join(out, "bins.h5")) as tmp, h5py.File(tmp, "w") as h5:
      _write_strings(h5, [ids[i] for i in rows], columns)
      for (name, side), values in sorted(bins.items()):
        h5.create_dataset(f"{name}/{side}", data=np.concatenate(values))

  with atomic_write(os.path.join(out, "issues.tsv")) as f:
    f.write("line\tchrom\tpos\tref\talt\treason\n")
    for issue in sorted(issues, key=lambda i: i[0]):
      f.write("\t".join(str(v) for v in issue) + "\n")

  in_vcf = [key for key in keys if chosen[key]]
  if vcf_top and vcf_path and in_vcf:  # The first output and score with tracks chosen.
    _write_vcf(os.path.join(out, "scores.vcf.gz"), vcf_path, ids, scores, in_vcf[0],
               names[in_vcf[0]], chosen[in_vcf[0]], vcf_top)
  return {"variants": len(ids), "issues": len(issues), "parts": len(parts),
          "scores": [f"{k[0]}/{k[1]}" for k in keys], "bins": len(rows)}


def _write_vcf(path: str, vcf_path: str, ids: list, scores: Mapping, key: tuple,
               names: Sequence[str], chosen: Sequence[int], top: int) -> None:
  """The input VCF with ``VES=ALT|track|score|...`` for the ``top`` tracks of ``key``."""
  info_id = "VES"
  by_line: dict[int, list[str]] = {}
  for i, row in enumerate(ids):
    values = scores[key][i, chosen]
    order = np.argsort(-np.abs(values))[:top]
    entry = "|".join([row[5]] + [f"{names[chosen[j]]}|{values[j]:.4g}" for j in order])
    by_line.setdefault(row[0], []).append(entry)
  description = (f'##INFO=<ID={info_id},Number=.,Type=String,Description="Variant effect '
                 f"{key[0]}/{key[1]}, top {top} tracks by |score|. Format: "
                 'ALT|track|score|track|score...">\n')
  with contextlib.closing(vcf.vcf_lines(vcf_path)) as lines, vcf.open_output(path) as sink:
    meta, chrom_line = vcf.split_header(lines, vcf_path)
    sink.writelines([m for m in meta if not m.startswith(f"##INFO=<ID={info_id},")]
                    + [description, chrom_line])
    for line_number, line in lines:
      line = line.rstrip("\r\n")
      fields = line.split("\t")
      if line_number in by_line and len(fields) >= 8:
        kept = [item for item in fields[7].split(";") if item not in ("", ".")]
        fields[7] = ";".join(kept + [f"{info_id}=" + ",".join(by_line[line_number])])
        line = "\t".join(fields)
      sink.write(line + "\n")
