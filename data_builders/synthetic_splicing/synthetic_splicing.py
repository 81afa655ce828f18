"""Synthetic genes with consensus splice signals, in the records of ``spliceai_gencode``.

The embedded default for splice-site models (DESIGN.md, decision 8): SpliceAI-style
blocks (Jaganathan et al., Cell 2019) of genes whose exons, introns and splice sites are
known by construction, so a model trains out of the box and its attributions can be
checked against the planted signals. Synthetic, and says so.

A gene, written 5'->3' on an i.i.d. background of per-gene GC fraction, is
``exon (intron exon)*``: 2-5 exons (``tiny``) or 3-12 (``default``), exon lengths
uniform in [50, 250] nt, introns uniform in [80, 400] nt (``tiny``) or log-uniform in
[80, 5000] nt (``default``). Every intron carries the major-spliceosome signals
(Burge, Tuschl & Sharp 1999; Shapiro & Senapathy 1987):

* 5' splice site: the exon's last three bases and the intron's first six drawn from
  ``DONOR_FREQUENCIES`` (MAG|GTRAGT consensus; human frequencies with the GTRAG core
  made invariant);
* branch point ``YTRAC`` (the mammalian YTNAY with the branch A fourth), 22-41 nt
  upstream of the 3' splice site;
* a polypyrimidine tract of 12-20 pyrimidines, 0-3 nt before the 3' end;
* 3' splice site ``YAG|`` followed by an exon starting with G half of the time;
  no AG between the branch point and the 3' AG (the AG exclusion zone; Gooding et al.
  2006).

Labels are the designed sites: acceptor (1) on each non-first exon's first base,
donor (2) on each non-last exon's last base, 0 elsewhere, -1 past the gene end.
Decoys that look like sites but are not, at ``decoys_per_kb``:

* decoy donors: a donor 9-mer followed 1-4 nt later by ``TAGGGA``, the high-affinity
  hnRNP A1 site (an intronic splicing silencer; Burd & Dreyfuss 1994);
* decoy acceptors: polypyrimidine tract + ``YAG|G`` with no branch point upstream.

The background is then scrubbed, outside planted signals, of accidental ``GTRAG``
donor cores, ``YTRAC`` branch points and ``TAGGG[AT]`` silencers, so the grammar above
is the whole truth. ``decoy`` marks each decoy's would-be site (1 acceptor-like, 2
donor-like) for interpretation checks.

Records follow ``spliceai_gencode``: ``block_length`` labels with ``context / 2`` nt of
N-padded sequence on each side (the gene is alone on its "chromosome"), keyed
``<gene>:<block>``, written unshuffled. Gene ``i`` of split ``s`` uses
``np.random.default_rng([seed, SPLITS.index(s), i])``.

Per-tissue usage (configs ``usage`` and ``tiny_usage``: the same genes as ``default`` and
``tiny``), for Pangolin (Zeng & Li, Genome Biology 2022), is SYNTHETIC: a deterministic
function of the sequence around each designed site, not biology. A site's strength in
[0, 1] is (`site_strength`)

* donor: the log-probability of its 9-mer under ``DONOR_FREQUENCIES`` over the variable
  positions (-3, -2, -1, +3, +6), scaled from the weakest possible (0) to the consensus
  (1);
* acceptor: 0.4 x the pyrimidine run before the ``AG`` (10 -> 0, >= 30 nt -> 1) + 0.3 if
  the ``YAG`` is ``CAG`` + 0.3 if the exon starts with G;

and its usage in tissue ``t`` is ``sigmoid(8 (strength - center_t) + gc_weight_t (gc -
0.45) / 0.1)``, set to 0 (unused there) below 0.1, with ``gc`` the GC fraction of the 61
nt centred on the site and (center, gc_weight) from ``TISSUE_USAGE_RULES``: testis
permissive, liver strict, brain favouring GC-rich surroundings. Other positions have
usage 0 (decoys included) and padding -1, as in ``spliceai_gencode``'s ``gencode_usage``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from data_builders.spliceai_gencode import spliceai_gencode
from genereg_jax.data import encoding

SPLITS = ("train", "valid", "test")
ACCEPTOR, DONOR = spliceai_gencode.ACCEPTOR, spliceai_gencode.DONOR
_A, _C, _G, _T = range(4)
_LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)

# 5' splice site base frequencies, positions -3..-1 (exon) and +1..+6 (intron), columns
# A, C, G, T: human frequencies (rounded from Shapiro & Senapathy 1987) except +3..+5,
# fixed to the RAG consensus so every donor has the GTRAG core (about half of human
# donors do); weaker donors would be indistinguishable from background GTs.
DONOR_FREQUENCIES = np.array([
    [0.35, 0.35, 0.18, 0.12],
    [0.60, 0.13, 0.14, 0.13],
    [0.09, 0.03, 0.80, 0.08],
    [0.00, 0.00, 1.00, 0.00],
    [0.00, 0.00, 0.00, 1.00],
    [0.62, 0.00, 0.38, 0.00],
    [1.00, 0.00, 0.00, 0.00],
    [0.00, 0.00, 1.00, 0.00],
    [0.15, 0.15, 0.20, 0.50],
])
DONOR_EXONIC_BASES = 3
BRANCH_POINT_TO_SITE = (22, 41)
SILENCER = "TAGGGA"
#: Synthetic usage rules per tissue: (strength center, weight of local GC); see above.
#: Of the tiny genes' sites, about 9% are unused in liver, 2% in brain, 1% in heart.
TISSUE_USAGE_RULES = {"heart": (0.5, 0.0), "liver": (0.7, 0.0), "brain": (0.55, 1.0),
                      "testis": (0.3, -0.5)}
_USAGE_SLOPE, _MIN_USAGE, _GC_HALF_WINDOW = 8.0, 0.1, 30
_SCRUB = re.compile(r"(?=(GT[AG]AG|[CT]T[AG]AC|TAGGG[AT]))")


@dataclasses.dataclass(eq=False)
class SyntheticSplicingConfig(tfds.core.BuilderConfig):
  """Size and gene structure of a ``synthetic_splicing`` build.

  Attributes:
    block_length: labelled nucleotides per record.
    context: flanking nucleotides per record, half on each side (even).
    num_train: genes in ``train``.
    num_valid: genes in ``valid``.
    num_test: genes in ``test``.
    num_exons: (min, max) exons per gene, uniform.
    exon_length: (min, max) exon length, uniform.
    intron_length: (min, max) intron length.
    log_uniform_introns: draw intron lengths log-uniformly (else uniformly).
    gc_range: (low, high) of the per-gene uniform background GC fraction.
    decoys_per_kb: expected decoy donors and decoy acceptors per 1,000 nt, each.
    seed: first entry of every gene's RNG seed.
    tissues: tissues of the synthetic ``usage`` target (keys of
      ``TISSUE_USAGE_RULES``); empty for none.
  """

  block_length: int = 5000
  context: int = 10000
  num_train: int = 800
  num_valid: int = 100
  num_test: int = 100
  num_exons: tuple[int, int] = (3, 12)
  exon_length: tuple[int, int] = (50, 250)
  intron_length: tuple[int, int] = (80, 5000)
  log_uniform_introns: bool = True
  gc_range: tuple[float, float] = (0.35, 0.6)
  decoys_per_kb: float = 1.0
  seed: int = 0
  tissues: tuple[str, ...] = ()

  def __post_init__(self):
    unknown = sorted(set(self.tissues) - set(TISSUE_USAGE_RULES))
    if unknown:
      raise ValueError(f"no synthetic usage rule for tissues {unknown}; have "
                       f"{sorted(TISSUE_USAGE_RULES)}")
    if self.context % 2 or self.context < 0 or self.block_length < 1:
      raise ValueError(f"need block_length >= 1 and an even context >= 0, got "
                       f"{self.block_length}, {self.context}")
    if min(self.num_train, self.num_valid, self.num_test) < 1:
      raise ValueError("every split needs at least one gene")
    if self.num_exons[0] < 2 or self.exon_length[0] < 2 * DONOR_EXONIC_BASES:
      raise ValueError("genes need >= 2 exons of >= 6 nt to carry splice sites")
    if self.intron_length[0] < 80:
      raise ValueError("introns need >= 80 nt for the donor, branch point and tract")

  def num_genes(self, split: str) -> int:
    """Number of genes of ``split`` (one of ``SPLITS``)."""
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


def _draw(rng: np.random.Generator, frequencies: np.ndarray) -> np.ndarray:
  """One base per row of ``[n, 4]`` frequencies."""
  cdf = np.cumsum(frequencies / frequencies.sum(1, keepdims=True), axis=1)
  return np.minimum((rng.random(len(cdf))[:, None] >= cdf).sum(1), 3).astype(np.uint8)


def _pyrimidines(rng: np.random.Generator, n: int) -> np.ndarray:
  return np.where(rng.random(n) < 0.45, _C, _T).astype(np.uint8)


def _branch_point(rng: np.random.Generator) -> np.ndarray:
  """``YTRAC``."""
  return np.array([_pyrimidines(rng, 1)[0], _T, _A if rng.random() < 0.5 else _G, _A, _C],
                  dtype=np.uint8)


def _acceptor_tail(rng: np.random.Generator, with_branch_point: bool) -> np.ndarray:
  """Intron 3' end: [branch point, spacer,] tract, 0-3 nt, YAG (AG only at the end)."""
  tract = _pyrimidines(rng, int(rng.integers(12, 21)))
  gap = _pyrimidines(rng, int(rng.integers(0, 4)))
  end = np.array([_C if rng.random() < 0.7 else _T, _A, _G], dtype=np.uint8)
  parts = [tract, gap, end]
  if with_branch_point:
    core = len(tract) + len(gap) + len(end)
    low = max(BRANCH_POINT_TO_SITE[0] - core - 5, 0)
    high = max(BRANCH_POINT_TO_SITE[1] - core - 5, low)
    # A pyrimidine spacer cannot create an AG.
    spacer = _pyrimidines(rng, int(rng.integers(low, high + 1)))
    parts = [_branch_point(rng), spacer] + parts
  return np.concatenate(parts)


def _donor(rng: np.random.Generator) -> np.ndarray:
  """A donor 9-mer; +2..+6 = TAGGG (a silencer's start) is redrawn."""
  while True:
    motif = _draw(rng, DONOR_FREQUENCIES)
    if _LETTERS[motif[4:]].tobytes() != b"TAGGG":
      return motif


@dataclasses.dataclass
class SyntheticGene:
  """A designed gene 5'->3': bases (0..3 = A,C,G,T), labels, decoys, exons."""
  bases: np.ndarray
  labels: np.ndarray
  decoys: np.ndarray
  exons: list[tuple[int, int]]
  gc: float


def _scrub(rng: np.random.Generator, bases: np.ndarray, protected: np.ndarray) -> None:
  """Mutates accidental donor cores, branch points and silencers outside ``protected``."""
  for _ in range(50):
    text = _LETTERS[bases].tobytes().decode()
    hits = [(m.start(), len(m.group(1))) for m in _SCRUB.finditer(text)]
    hits = [(s, n) for s, n in hits if not protected[s:s + n].all()]
    if not hits:
      return
    for start, width in hits:
      free = np.flatnonzero(~protected[start:start + width]) + start
      position = free[rng.integers(len(free))]
      bases[position] = (bases[position] + rng.integers(1, 4)) % 4
  raise RuntimeError("scrubbing did not converge")


def sample_gene(rng: np.random.Generator, config: SyntheticSplicingConfig) -> SyntheticGene:
  """One gene drawn from the grammar in the module docstring."""
  gc = float(rng.uniform(*config.gc_range))
  at = (1 - gc) / 2
  num_exons = int(rng.integers(config.num_exons[0], config.num_exons[1] + 1))
  exon_lengths = rng.integers(config.exon_length[0], config.exon_length[1] + 1, num_exons)
  low, high = config.intron_length
  if config.log_uniform_introns:
    intron_lengths = np.exp(rng.uniform(np.log(low), np.log(high + 1), num_exons - 1))
  else:
    intron_lengths = rng.uniform(low, high + 1, num_exons - 1)
  intron_lengths = intron_lengths.astype(int)
  total = int(exon_lengths.sum() + intron_lengths.sum())
  bases = rng.choice(4, size=total, p=[at, gc / 2, gc / 2, at]).astype(np.uint8)
  labels = np.zeros(total, dtype=np.int8)
  decoys = np.zeros(total, dtype=np.int8)
  protected = np.zeros(total, dtype=bool)

  def plant(start: int, motif: np.ndarray) -> None:
    bases[start:start + len(motif)] = motif
    protected[start:start + len(motif)] = True

  exons, position = [], 0
  for i, exon_length in enumerate(exon_lengths):
    exons.append((position, position + int(exon_length)))
    position += int(exon_length)
    if i < num_exons - 1:
      position += int(intron_lengths[i])
  for i, (start, end) in enumerate(exons):
    if i > 0:
      tail = _acceptor_tail(rng, with_branch_point=True)
      plant(start - len(tail), tail)
      if rng.random() < 0.5:
        plant(start, np.array([_G], np.uint8))
      else:
        protected[start] = True
      labels[start] = ACCEPTOR
    if i < num_exons - 1:
      plant(end - DONOR_EXONIC_BASES, _donor(rng))
      labels[end - 1] = DONOR

  # Decoys go where they overlap no planted signal, 10 nt clear of it.
  num_decoys = rng.poisson(config.decoys_per_kb * total / 1000, size=2)
  for kind, count in zip((ACCEPTOR, DONOR), num_decoys):
    for _ in range(count):
      if kind == DONOR:
        motif = np.concatenate([_donor(rng), _pyrimidines(rng, int(rng.integers(1, 5))),
                                encoding.one_hot_dna(SILENCER).argmax(1).astype(np.uint8)])
        site = DONOR_EXONIC_BASES - 1
        upstream_clear = 0
      else:
        motif = np.concatenate([_acceptor_tail(rng, with_branch_point=False),
                                np.array([_G], np.uint8)])
        site = len(motif) - 1
        upstream_clear = 45  # No planted branch point within reach upstream.
      start = int(rng.integers(upstream_clear, max(total - len(motif), upstream_clear + 1)))
      window = slice(max(start - upstream_clear - 10, 0), start + len(motif) + 10)
      if start + len(motif) > total or protected[window].any():
        continue
      plant(start, motif)
      decoys[start + site] = kind

  _scrub(rng, bases, protected)
  return SyntheticGene(bases, labels, decoys, exons, gc)


def site_strength(gene: SyntheticGene) -> dict[int, float]:
  """Strength in [0, 1] of each designed site, by position (module docstring)."""
  frequencies = DONOR_FREQUENCIES[[0, 1, 2, 5, 8]]
  logs = np.log(np.where(frequencies > 0, frequencies, np.nan))
  weakest, consensus = np.nansum(np.nanmin(logs, 1)), np.nansum(np.nanmax(logs, 1))
  strengths = {}
  for site in np.flatnonzero(gene.labels == DONOR):
    variable = gene.bases[site - DONOR_EXONIC_BASES + 1 + np.array([0, 1, 2, 5, 8])]
    score = logs[np.arange(5), variable].sum()
    strengths[int(site)] = float((score - weakest) / (consensus - weakest))
  for site in np.flatnonzero(gene.labels == ACCEPTOR):
    run = 0
    while site - 3 - run >= 0 and gene.bases[site - 3 - run] in (_C, _T):
      run += 1
    strengths[int(site)] = float(0.4 * np.clip((run - 10) / 20, 0, 1)
                                 + 0.3 * (gene.bases[site - 3] == _C)
                                 + 0.3 * (gene.bases[site] == _G))
  return strengths


def synthetic_usage(gene: SyntheticGene, tissues: tuple[str, ...]) -> np.ndarray:
  """``float32[len(gene.bases), len(tissues)]`` synthetic usage (module docstring)."""
  usage = np.zeros((len(gene.bases), len(tissues)), np.float32)
  is_gc = np.isin(gene.bases, (_C, _G))
  for site, strength in site_strength(gene).items():
    window = is_gc[max(site - _GC_HALF_WINDOW, 0):site + _GC_HALF_WINDOW + 1]
    for t, tissue in enumerate(tissues):
      center, gc_weight = TISSUE_USAGE_RULES[tissue]
      value = 1 / (1 + np.exp(-(_USAGE_SLOPE * (strength - center)
                                + gc_weight * (window.mean() - 0.45) / 0.1)))
      usage[site, t] = value if value >= _MIN_USAGE else 0.0
  return usage


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  """The generator of one gene: ``default_rng([seed, split_id, index])``."""
  return np.random.default_rng([seed, SPLITS.index(split), index])


def gene_records(gene: SyntheticGene, block_length: int, context: int,
                 tissues: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
  """``spliceai_gencode``-style records of one gene (N outside it), plus ``decoy`` and,
  with ``tissues``, the synthetic ``usage``."""
  half = context // 2
  one_hot = np.zeros((len(gene.bases) + context, 4), dtype=np.uint8)
  one_hot[np.arange(len(gene.bases)) + half, gene.bases] = 1
  blocks = lambda targets: {i: t for i, _, t in spliceai_gencode.cut_blocks(
      one_hot, targets, block_length, context)}
  decoys = blocks(gene.decoys)
  usage = blocks(synthetic_usage(gene, tissues)) if tissues else {}
  for index, sequence, labels in spliceai_gencode.cut_blocks(
      one_hot, gene.labels, block_length, context):
    record = {"sequence": sequence, "label": labels,
              "decoy": np.maximum(decoys[index], 0).astype(np.int8),
              "start": index * block_length, "block_index": index}
    if tissues:
      record["usage"] = usage[index]
    yield record


class SyntheticSplicing(tfds.core.GeneratorBasedBuilder):
  """Designed genes with consensus splice signals and decoys, as SpliceAI blocks."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release: donor/branch point/tract/acceptor + decoys."}
  BUILDER_CONFIGS = [
      SyntheticSplicingConfig(
          name="default", description="5,000-nt blocks, 10,000 nt context "
          "(SpliceAI-10k); 800/100/100 genes of 3-12 exons."),
      SyntheticSplicingConfig(
          name="tiny", block_length=200, context=80, num_train=600, num_valid=60,
          num_test=60, num_exons=(2, 5), intron_length=(80, 400),
          log_uniform_introns=False,
          description="200-nt blocks, 80 nt context (SpliceAI-80nt), for tests."),
      SyntheticSplicingConfig(
          name="usage", tissues=spliceai_gencode.PANGOLIN_TISSUES,
          description="default's genes plus synthetic usage in Pangolin's four tissues."),
      SyntheticSplicingConfig(
          name="tiny_usage", block_length=200, context=80, num_train=600, num_valid=60,
          num_test=60, num_exons=(2, 5), intron_length=(80, 400),
          log_uniform_introns=False, tissues=spliceai_gencode.PANGOLIN_TISSUES,
          description="tiny's genes plus synthetic usage in Pangolin's four tissues."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    length = config.block_length + config.context
    features = spliceai_gencode.record_features(config.block_length, config.context,
                                                config.tissues)
    features["decoy"] = tfds.features.Tensor(shape=(config.block_length,), dtype=np.int8)
    features["gc"] = tfds.features.Scalar(dtype=np.float32)
    usage_metadata = {}
    if config.tissues:
      usage_metadata = dict(
          tissues=list(config.tissues), usage_unknown=spliceai_gencode.USAGE_UNKNOWN,
          synthetic_usage_rules={t: list(TISSUE_USAGE_RULES[t]) for t in config.tissues})
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict(features),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            classes=["neither", "acceptor", "donor"], padding_label=-1,
            block_length=config.block_length, context=config.context,
            sequence_length=length, donor_frequencies=DONOR_FREQUENCIES.tolist(),
            silencer=SILENCER, branch_point="YTRAC",
            branch_point_to_site=list(BRANCH_POINT_TO_SITE), **usage_metadata),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for index in range(config.num_genes(split)):
      gene = sample_gene(example_rng(config.seed, split, index), config)
      name = f"synthetic_{split}_{index}"
      for record in gene_records(gene, config.block_length, config.context,
                                 config.tissues):
        yield f"{index}:{record['block_index']}", {
            **record, "gene_id": name, "gene_name": name, "transcript_id": name,
            "chrom": name, "strand": 1, "gc": np.float32(gene.gc)}
