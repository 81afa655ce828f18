"""Cis features of a cassette exon, as the splicing code reads them.

A cassette exon ``A`` sits between an upstream constitutive exon ``C1`` and a
downstream one ``C2``: ``C1 - I1 - A - I2 - C2`` in transcript orientation. The splicing
code (Barash et al., Nature 2010, ~1,400 features; Xiong et al., Science 2015) and DARTS
(Zhang et al., Nat. Methods 2019, 2,926 cis features) describe it with hand-made
feature groups; we compute these groups (`FEATURE_GROUPS`):

* ``kmers``: counts of every k-mer (k = 4 by default, 256 per region) per kilobase in
  three regions: the last 300 nt of ``I1``, the exon ``A``, the first 300 nt of ``I2``
  (the proximal intronic and exonic regions where splicing enhancers and silencers act);
* ``splice_sites``: log-odds position-weight-matrix strengths (MaxEntScan-like; a PWM,
  not MaxEntScan's maximum-entropy model) of the four splice sites: ``C1`` donor, ``A``
  acceptor, ``A`` donor, ``C2`` acceptor, on MaxEntScan's windows (9 nt: 3 exonic + 6
  intronic for donors; 23 nt: 20 intronic + 3 exonic for acceptors);
* ``lengths``: log10 lengths of ``C1, I1, A, I2, C2`` and whether ``A``'s length is a
  multiple of 3 (skipping it keeps the reading frame);
* ``motifs``: occurrences of known splicing-regulator motifs (`KNOWN_MOTIFS`: Rbfox,
  Nova, PTB, Mbnl, CELF, QKI, ESRP, hnRNP A1, SR-protein ESE) in each region, as the
  published feature sets list known RBP motifs (Barash 2010; DARTS);
* ``gc``: GC fraction of the three regions;
* ``conservation``: mean conservation (e.g. phyloP) of the three regions when given,
  with a presence flag (zeros and flag 0 otherwise).

Not computed (stated, as the issue asks): Barash's RNA secondary-structure features,
nucleosome positioning, translatability/PTC features and the published motif lists
beyond `KNOWN_MOTIFS` (CISBP-RNA, motif clusters and their positions); k-mer counts
stand in for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

REGIONS = ("I1_proximal", "A", "I2_proximal")
PROXIMAL_INTRON = 300
SPLICE_SITES = ("C1_donor", "A_acceptor", "A_donor", "C2_acceptor")
LENGTHS = ("C1", "I1", "A", "I2", "C2")
DONOR_EXONIC, DONOR_INTRONIC = 3, 6  # MaxEntScan's 9-mer donor window.
ACCEPTOR_INTRONIC, ACCEPTOR_EXONIC = 20, 3  # MaxEntScan's 23-mer acceptor window.

# One representative motif per regulator (DNA letters; exact matches counted).
KNOWN_MOTIFS = {
    "RBFOX": "TGCATG", "NOVA": "TCATCA", "PTBP1": "CTCTCT", "MBNL": "GCTTGC",
    "CELF": "TGTGTG", "QKI": "ACTAAC", "ESRP": "TGGTGG", "HNRNPA1": "TAGGGA",
    "SRSF1": "GAAGAA"}

_INDEX = np.full(256, 4, np.int64)
for _i, _b in enumerate("ACGT"):
  _INDEX[ord(_b)] = _INDEX[ord(_b.lower())] = _i
_INDEX[ord("U")] = _INDEX[ord("u")] = 3

# Human splice-site base frequencies (A, C, G, T) per position, rounded from the
# consensus logos (MAG|GURAGU donors; (Y)n N C A G|G acceptors).
DONOR_FREQUENCIES = np.array([
    [.33, .36, .18, .13], [.60, .13, .14, .13], [.09, .04, .79, .08],  # Exon -3..-1.
    [0, 0, 1, 0], [0, 0, 0, 1], [.60, .03, .34, .03], [.70, .08, .12, .10],
    [.08, .05, .79, .08], [.16, .16, .20, .48]])  # Intron +1..+6.
_TRACT = [.10, .32, .12, .46]  # The polypyrimidine tract, -20..-5.
ACCEPTOR_FREQUENCIES = np.array(
    [_TRACT] * 16 + [[.25, .30, .20, .25], [.03, .72, .01, .24], [1, 0, 0, 0], [0, 0, 1, 0],
                     [.25, .13, .49, .13], [.25, .25, .25, .25], [.25, .25, .25, .25]])
_FLOOR = 1e-3  # A consensus mismatch scores log2(1e-3 / 0.25) ~ -8 bits, not -inf.
DONOR_LOG_ODDS = np.log2(np.maximum(DONOR_FREQUENCIES, _FLOOR) / 0.25)
ACCEPTOR_LOG_ODDS = np.log2(np.maximum(ACCEPTOR_FREQUENCIES, _FLOOR) / 0.25)


def codes(sequence: str) -> np.ndarray:
  """``int64[length]`` with A, C, G, T/U = 0..3 and anything else 4."""
  return _INDEX[np.frombuffer(sequence.encode("ascii"), np.uint8)]


def pwm_score(window: str, log_odds: np.ndarray) -> float:
  """Sum of per-position log-odds (bits); other letters (N) score 0."""
  if len(window) != len(log_odds):
    raise ValueError(f"splice-site window {window!r} has {len(window)} nt, the PWM "
                     f"{len(log_odds)}")
  c = codes(window)
  known = c < 4
  return float(log_odds[np.arange(len(c))[known], c[known]].sum())


def donor_strength(exon: str, intron: str) -> float:
  """PWM strength of the donor between ``exon`` and ``intron`` (N-padded if short)."""
  window = exon[-DONOR_EXONIC:].rjust(DONOR_EXONIC, "N") + intron[:DONOR_INTRONIC].ljust(
      DONOR_INTRONIC, "N")
  return pwm_score(window, DONOR_LOG_ODDS)


def acceptor_strength(intron: str, exon: str) -> float:
  """PWM strength of the acceptor between ``intron`` and ``exon``."""
  window = intron[-ACCEPTOR_INTRONIC:].rjust(ACCEPTOR_INTRONIC, "N") + exon[
      :ACCEPTOR_EXONIC].ljust(ACCEPTOR_EXONIC, "N")
  return pwm_score(window, ACCEPTOR_LOG_ODDS)


def kmer_counts(sequence: str, k: int) -> np.ndarray:
  """``float32[4**k]`` counts of each k-mer (lexicographic ACGT order); k-mers with N skipped."""
  c = codes(sequence)
  if len(c) < k:
    return np.zeros(4 ** k, np.float32)
  windows = np.lib.stride_tricks.sliding_window_view(c, k)
  windows = windows[(windows < 4).all(1)]
  index = windows @ (4 ** np.arange(k - 1, -1, -1))
  return np.bincount(index, minlength=4 ** k).astype(np.float32)


def kmer_names(k: int) -> list[str]:
  return ["".join(p) for p in itertools.product("ACGT", repeat=k)]


def regions(c1: str, i1: str, a: str, i2: str, c2: str) -> tuple[str, str, str]:
  """The three k-mer regions: ``I1``'s last and ``I2``'s first 300 nt around ``A``."""
  del c1, c2
  return i1[-PROXIMAL_INTRON:], a, i2[:PROXIMAL_INTRON]


def feature_names(k: int = 4) -> list[str]:
  """Names of `cassette_features`' columns, in order."""
  names = [f"kmer_{region}_{kmer}" for region in REGIONS for kmer in kmer_names(k)]
  names += [f"motif_{region}_{name}" for region in REGIONS for name in KNOWN_MOTIFS]
  names += [f"strength_{site}" for site in SPLICE_SITES]
  names += [f"log10_length_{part}" for part in LENGTHS] + ["A_length_multiple_of_3"]
  names += [f"gc_{region}" for region in REGIONS]
  names += [f"conservation_{region}" for region in REGIONS] + ["conservation_given"]
  return names


FEATURE_GROUPS = ("kmers", "motifs", "splice_sites", "lengths", "gc", "conservation")


def motif_count(sequence: str, motif: str) -> int:
  """Occurrences of ``motif`` in ``sequence``, overlaps included."""
  return sum(sequence.startswith(motif, i) for i in range(len(sequence) - len(motif) + 1))


def cassette_features(c1: str, i1: str, a: str, i2: str, c2: str, k: int = 4,
                      conservation: Sequence[float] | None = None) -> np.ndarray:
  """``float32[num_features]`` (`feature_names`) of one cassette exon.

  Args:
    c1, i1, a, i2, c2: upstream exon, upstream intron, cassette exon, downstream
      intron, downstream exon, 5'->3' on the transcript strand (DNA or RNA letters).
    k: k-mer length of the ``kmers`` group.
    conservation: mean conservation of the three `REGIONS`, if known.
  """
  parts = regions(c1, i1, a, i2, c2)
  kmers = [kmer_counts(r, k) * (1000.0 / max(len(r), 1)) for r in parts]  # Per kb.
  motifs = [np.array([motif_count(r.upper().replace("U", "T"), m) for r in parts
                      for m in KNOWN_MOTIFS.values()], np.float32)]
  strengths = [donor_strength(c1, i1), acceptor_strength(i1, a), donor_strength(a, i2),
               acceptor_strength(i2, c2)]
  lengths = [np.log10(max(len(s), 1)) for s in (c1, i1, a, i2, c2)] + [float(len(a) % 3 == 0)]
  gc = []
  for r in parts:
    c = codes(r)
    gc.append(float(np.isin(c, (1, 2)).sum() / max((c < 4).sum(), 1)))
  given = conservation is not None
  cons = list(conservation) if given else [0.0] * len(REGIONS)
  if len(cons) != len(REGIONS):
    raise ValueError(f"conservation needs one value per region {REGIONS}, got {len(cons)}")
  return np.concatenate(kmers + motifs + [np.array(strengths + lengths + gc + cons + [float(given)],
                                          np.float32)]).astype(np.float32)
