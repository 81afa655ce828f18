"""Synthetic expression, UTR, polyadenylation and topic data with known grammars (oracles).

The embedded defaults of the issue-18 expression models (DESIGN.md, decision 8).
SYNTHETIC, and says so: each kind's target is an exact function of the sequence (its
*oracle*, exported here as ``utr_oracle``, ``isoform_oracle``, ``promoter_oracle`` and
``topic_oracle``) plus measurement noise, so designed sequences can be scored by the
truth as well as by the model (``experiments/benchmarks/design_oracle.py``).

* ``utr`` / ``tiny_utr`` (Cuperus et al. 2017): 50-nt yeast 5' UTRs directly upstream of
  the start codon; ``expression`` (log2 growth-rate scale) = ``UTR_BASE`` + Kozak context
  (A at -3 ``+0.8``, G at -3 ``+0.4``, A at -1 / -2 ``+0.3`` / ``+0.2``, each A at -6..-4
  ``+0.1``) - upstream AUGs (``-1.2`` each out of frame with the main ORF, ``-0.6`` in
  frame: an N-terminal extension) - ``2 x max(0, GC - 0.4)`` (structure) + N(0, 0.2).
* ``aparent`` / ``tiny_aparent`` (Bogard et al. 2019): reporters of ``length`` nt from
  one of ``NUM_LIBRARIES`` libraries. Proximal-isoform log-odds = ``-1.5`` + the
  library's offset + for every PAS hexamer (``synthetic_polya.HEXAMER_STRENGTH``) at
  ``i``: ``2.5 w exp(-((i - p)/10)^2)`` with ``p = 0.35 length`` (APARENT's CSE at 70 of
  205) + every GU-rich DSE core ``TGTGT`` at ``j``: ``0.6 exp(-((j - p - 25)/8)^2)`` +
  every USE ``TGTA`` at ``k``: ``0.3 exp(-((k - p + 20)/10)^2)``; 30% of reporters also
  hold an A run of 8-14 nt (a decoy: worth nothing unless its ends form a hexamer, so a
  model cannot take A-richness for a PAS). Cleavage: the proximal
  reads fall around 21 nt past the best-scoring hexamer (s.d. 3 nt), the rest in the
  last (distal) bin. Measured from ``TOTAL_READS``-ish reads per reporter: ``isoform``
  (binomial) and ``cleavage`` (multinomial, normalised); ``true_isoform`` is the oracle.
* ``promoters`` / ``tiny_promoters`` (Xpresso): promoters of ``length`` bp with the TSS
  at ``tss`` (2/3 of the window upstream, as -7/+3.5 kb) and 8 standardised half-life
  features. ``expression`` = TATA box ``TATAAA`` 25-35 bp upstream (``+0.8``) + Inr
  ``TCAGT`` over the TSS (``+0.6``) + ``tanh`` of CpG density in -300..+200 (``+1.0``)
  + Sp1 ``GGGCGG`` sites in -300..0 (``+0.3`` each, at most 3) + ``HALFLIFE_WEIGHTS``
  . features + N(0, 0.3).
* ``topics`` / ``tiny_topics`` (DeepMEL): regions of ``length`` bp labelled by
  ``num_topics`` topics, each a planted motif set from ``TOPIC_MOTIFS`` (one 8-mer, or
  two for the later topics); a topic is on when every motif of its set occurs on either
  strand (the label is the oracle, so it is exact).

Example ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from data_builders.synthetic_polya.synthetic_polya import HEXAMER_STRENGTH
from genereg_jax.data import encoding

SPLITS = ("train", "valid", "test")
_COMPLEMENT = str.maketrans("ACGT", "TGCA")

UTR_LENGTH, UTR_BASE = 50, 0.0
NUM_LIBRARIES = 13  # APARENT's library one-hot width.
LIBRARY_OFFSETS = np.array([0.0, 0.5, -0.5, 1.0] + [0.0] * (NUM_LIBRARIES - 4))
TOTAL_READS = 60
HALFLIFE_FEATURES = ("UTR5LEN", "CDSLEN", "INTRONLEN", "UTR3LEN", "UTR5GC", "CDSGC",
                     "UTR3GC", "ORFEXONDENSITY")
HALFLIFE_WEIGHTS = np.array([-0.2, 0.15, 0.25, -0.1, 0.0, 0.2, 0.1, 0.3])
#: 8-mer consensus sites of melanoma-relevant factors (SOX, MITF, TFAP2, AP-1, TEAD,
#: RUNX, ETS, NFI, FOX, GATA, CREB, ZEB-like).
TOPIC_MOTIFS = ("AACAATGG", "TCACGTGA", "GCCTGAGG", "ATGACTCA", "ACATTCCA", "TGTGGTTT",
                "ACCGGAAG", "TTGGCAGC", "TGTTTACT", "AGATAAGA", "TGACGTCA", "CAGGTGTG")


def topic_sets(num_topics: int) -> tuple[tuple[str, ...], ...]:
  """Topic ``k``'s motifs: motif ``k`` alone for the first 12, then pairs."""
  n = len(TOPIC_MOTIFS)
  return tuple((TOPIC_MOTIFS[k],) if k < n else
               (TOPIC_MOTIFS[k % n], TOPIC_MOTIFS[(5 * k + 1) % n]) for k in range(num_topics))


def as_text(sequences) -> list[str]:
  """Strings from strings or one-hot ``[N, L, 4]`` (all-zero columns read as N)."""
  if isinstance(sequences, str):
    return [sequences]
  if isinstance(sequences, np.ndarray) or hasattr(sequences, "shape"):
    return [encoding.decode_dna(np.asarray(x)) for x in np.asarray(sequences)]
  return list(sequences)


def _starts(text: str, word: str) -> list[int]:
  return [m.start() for m in re.finditer(f"(?={word})", text)]


def _gc(text: str) -> float:
  return (text.count("G") + text.count("C")) / max(len(text), 1)


# --- 5' UTRs (Cuperus et al. 2017) ------------------------------------------------------

def utr_oracle(sequences) -> np.ndarray:
  """``float[N]``: the noiseless expression of 50-nt UTRs (module docstring)."""
  scores = []
  for text in as_text(sequences):
    n = len(text)
    score = UTR_BASE + {"A": 0.8, "G": 0.4}.get(text[n - 3], 0.0)
    score += 0.3 * (text[n - 1] == "A") + 0.2 * (text[n - 2] == "A")
    score += 0.1 * text[n - 6:n - 3].count("A")
    for i in _starts(text, "ATG"):  # In frame: a multiple of 3 nt before the main AUG.
      score -= 0.6 if (n - i) % 3 == 0 else 1.2
    scores.append(score - 2.0 * max(0.0, _gc(text) - 0.4))
  return np.asarray(scores, np.float32)


def utr_example(rng: np.random.Generator) -> dict:
  gc = rng.uniform(0.25, 0.6)
  letters = rng.choice(list("ACGT"), UTR_LENGTH, p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
  for _ in range(rng.binomial(2, 0.3)):  # Extra uAUGs, so the set holds enough of them.
    i = rng.integers(0, UTR_LENGTH - 3)
    letters[i:i + 3] = list("ATG")
  text = "".join(letters)
  truth = float(utr_oracle(text)[0])
  return {"sequence": encoding.one_hot_dna(text),
          "expression": np.float32(truth + rng.normal(0, 0.2)),
          "true_expression": np.float32(truth)}


# --- Polyadenylation reporters (APARENT) -----------------------------------------------

def _pas_terms(text: str) -> tuple[float, int | None]:
  """``(log-odds without the library, best hexamer start)`` of one reporter."""
  p = 0.35 * len(text)
  logit, best, best_term = -1.5, None, 0.0
  for hexamer, weight in HEXAMER_STRENGTH.items():
    for i in _starts(text, hexamer):
      term = 2.5 * weight * np.exp(-((i - p) / 10) ** 2)
      logit += term
      if term > best_term:
        best, best_term = i, term
  logit += sum(0.6 * np.exp(-((j - p - 25) / 8) ** 2) for j in _starts(text, "TGTGT"))
  logit += sum(0.3 * np.exp(-((k - p + 20) / 10) ** 2) for k in _starts(text, "TGTA"))
  return float(logit), best


def isoform_oracle(sequences, library=None) -> np.ndarray:
  """``float[N]``: the true proximal isoform proportion (library index, default none)."""
  texts = as_text(sequences)
  offsets = (np.zeros(len(texts)) if library is None
             else LIBRARY_OFFSETS[np.broadcast_to(np.asarray(library), (len(texts),))])
  logits = np.array([_pas_terms(t)[0] for t in texts]) + offsets
  return (1 / (1 + np.exp(-logits))).astype(np.float32)


def cleavage_profile(text: str, isoform: float) -> np.ndarray:
  """``float[length + 1]``: the true cleavage distribution (last bin: distal)."""
  _, best = _pas_terms(text)
  length = len(text)
  centre = (best if best is not None else 0.35 * length) + 21
  positions = np.arange(length)
  bump = np.exp(-0.5 * ((positions - centre) / 3.0) ** 2)
  return np.append(isoform * bump / bump.sum(), 1 - isoform)


def aparent_example(rng: np.random.Generator, length: int) -> dict:
  letters = rng.choice(list("ACGT"), length, p=[0.3, 0.2, 0.2, 0.3])
  p = int(0.35 * length)
  hexamers = list(HEXAMER_STRENGTH)
  elements = []
  for _ in range(rng.binomial(2, 0.6)):
    elements.append((int(np.clip(p + rng.normal(0, 12), 0, length - 6)),
                     hexamers[rng.integers(len(hexamers))]))
  if rng.random() < 0.5:
    elements.append((int(np.clip(p + 25 + rng.normal(0, 8), 0, length - 5)), "TGTGT"))
  if rng.random() < 0.3:
    elements.append((int(np.clip(p - 20 + rng.normal(0, 8), 0, length - 4)), "TGTA"))
  if rng.random() < 0.3:  # An A-rich decoy: A runs are no PAS unless they hold a hexamer.
    elements.insert(0, (int(rng.integers(0, length - 14)), "A" * int(rng.integers(8, 15))))
  for start, word in elements:
    letters[start:start + len(word)] = list(word)
  text = "".join(letters)
  library = int(rng.integers(4))
  truth = float(isoform_oracle(text, library)[0])
  reads = int(rng.poisson(TOTAL_READS)) + 10
  counts = rng.multinomial(reads, cleavage_profile(text, truth))
  return {"sequence": encoding.one_hot_dna(text),
          "library": np.eye(NUM_LIBRARIES, dtype=np.float32)[library],
          "library_index": np.int32(library),
          "isoform": np.float32(counts[:-1].sum() / reads),
          "cleavage": (counts / reads).astype(np.float32),
          "total_count": np.float32(reads), "true_isoform": np.float32(truth)}


# --- Promoters and half-life features (Xpresso) ----------------------------------------

def promoter_oracle(sequences, tss: int, halflife=None) -> np.ndarray:
  """``float[N]``: the noiseless expression (half-life term only when given)."""
  scores = []
  for text in as_text(sequences):
    score = 0.8 * any(tss - 35 <= i <= tss - 25 for i in _starts(text, "TATAAA"))
    score += 0.6 * any(tss - 4 <= i <= tss for i in _starts(text, "TCAGT"))
    window = text[max(tss - 300, 0):tss + 200]
    score += 1.0 * np.tanh(window.count("CG") / max(len(window), 1) / 0.04)
    score += 0.3 * min(3, len(_starts(text[max(tss - 300, 0):tss], "GGGCGG")))
    scores.append(score)
  scores = np.asarray(scores, np.float32)
  if halflife is not None:
    scores += np.asarray(halflife, np.float32) @ HALFLIFE_WEIGHTS.astype(np.float32)
  return scores


def promoter_example(rng: np.random.Generator, length: int, tss: int) -> dict:
  cpg_island = rng.random() < 0.5
  gc = 0.6 if cpg_island else 0.4
  letters = rng.choice(list("ACGT"), length, p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
  if cpg_island:  # CpG islands keep their CG dinucleotides; elsewhere they decay.
    for i in rng.choice(np.arange(max(tss - 300, 0), min(tss + 199, length - 1)), 25):
      letters[i:i + 2] = list("CG")
  elements = []
  if rng.random() < 0.35:
    elements.append((tss - int(rng.integers(25, 36)), "TATAAA"))
  if rng.random() < 0.5:
    elements.append((tss - int(rng.integers(0, 5)), "TCAGT"))
  for _ in range(rng.integers(0, 4)):
    elements.append((tss - int(rng.integers(10, 300)), "GGGCGG"))
  for start, word in elements:
    letters[start:start + len(word)] = list(word)
  text = "".join(letters)
  halflife = rng.normal(size=len(HALFLIFE_FEATURES)).astype(np.float32)
  truth = float(promoter_oracle(text, tss, halflife[None])[0])
  return {"promoter": encoding.one_hot_dna(text), "halflife": halflife,
          "expression": np.float32(truth + rng.normal(0, 0.3)),
          "true_expression": np.float32(truth)}


# --- Topics (DeepMEL) ------------------------------------------------------------------

def topic_oracle(sequences, num_topics: int) -> np.ndarray:
  """``int[N, num_topics]``: 1 where every motif of the topic occurs on either strand."""
  rows = []
  for text in as_text(sequences):
    both = text + "N" + text.translate(_COMPLEMENT)[::-1]
    rows.append([all(m in both for m in motifs) for motifs in topic_sets(num_topics)])
  return np.asarray(rows, np.int32)


def topic_example(rng: np.random.Generator, length: int, num_topics: int) -> dict:
  letters = rng.choice(list("ACGT"), length)
  sets = topic_sets(num_topics)
  chosen = rng.choice(num_topics, int(rng.integers(1, 3)), replace=False)
  motifs = [m for k in chosen for m in sets[k]]
  if rng.random() < 0.3:  # A decoy: one motif of some pair topic alone.
    pairs = [s for s in sets if len(s) > 1] or sets
    motifs.append(pairs[rng.integers(len(pairs))][0])
  slots = rng.choice(length // 10 - 1, len(motifs), replace=False) * 10
  for start, motif in zip(slots, motifs):
    if rng.random() < 0.5:
      motif = motif.translate(_COMPLEMENT)[::-1]
    letters[start:start + 8] = list(motif)
  text = "".join(letters)
  return {"sequence": encoding.one_hot_dna(text),
          "label": topic_oracle(text, num_topics)[0]}


@dataclasses.dataclass(eq=False)
class SyntheticExpressionConfig(tfds.core.BuilderConfig):
  """Kind and size of a build.

  Attributes:
    kind: ``"utr"``, ``"aparent"``, ``"promoters"`` or ``"topics"``.
    length: sequence length (``utr``: 50).
    tss: the TSS's index (``promoters``).
    num_topics: topics (``topics``).
    num_train, num_valid, num_test: examples per split.
    seed: first entry of every example's RNG seed.
  """
  kind: str = "utr"
  length: int = UTR_LENGTH
  tss: int = 0
  num_topics: int = 24
  num_train: int = 20000
  num_valid: int = 2000
  num_test: int = 2000
  seed: int = 0

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


def _small(name: str, **kwargs) -> SyntheticExpressionConfig:
  sizes = dict(num_train=4000, num_valid=500, num_test=500)
  return SyntheticExpressionConfig(name=name, description=f"{name[5:]}, small, for tests "
                                   "and demos.", **{**sizes, **kwargs})


class SyntheticExpression(tfds.core.GeneratorBasedBuilder):
  """Planted UTR, PAS, promoter and topic grammars with their oracles."""

  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "aparent: A-run decoys in 30% of reporters."}
  BUILDER_CONFIGS = [
      SyntheticExpressionConfig(name="utr", description="50-nt yeast 5' UTRs (Cuperus)."),
      _small("tiny_utr"),
      SyntheticExpressionConfig(name="aparent", kind="aparent", length=205,
                                description="205-nt APA reporters (APARENT)."),
      _small("tiny_aparent", kind="aparent", length=100),
      SyntheticExpressionConfig(name="promoters", kind="promoters", length=1500, tss=1000,
                                num_train=8000, num_valid=1000, num_test=1000,
                                description="1.5-kb promoters + half-life (Xpresso)."),
      _small("tiny_promoters", kind="promoters", length=600, tss=400, num_train=3000),
      SyntheticExpressionConfig(name="topics", kind="topics", length=500,
                                description="500-bp regions, 24 topics (DeepMEL)."),
      _small("tiny_topics", kind="topics", length=200, num_topics=4),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "utr"

  def _info(self) -> tfds.core.DatasetInfo:
    c = self.builder_config
    seq = lambda n: tfds.features.Tensor(shape=(n, 4), dtype=np.uint8)
    scalar = lambda: tfds.features.Scalar(dtype=np.float32)
    metadata = dict(kind=c.kind, synthetic=True, length=c.length)
    if c.kind == "utr":
      features = {"sequence": seq(c.length), "expression": scalar(),
                  "true_expression": scalar()}
      metadata["targets"] = ["expression"]
    elif c.kind == "aparent":
      features = {"sequence": seq(c.length),
                  "library": tfds.features.Tensor(shape=(NUM_LIBRARIES,), dtype=np.float32),
                  "library_index": tfds.features.Scalar(dtype=np.int32),
                  "isoform": scalar(),
                  "cleavage": tfds.features.Tensor(shape=(c.length + 1,), dtype=np.float32),
                  "total_count": scalar(), "true_isoform": scalar()}
    elif c.kind == "promoters":
      features = {"promoter": seq(c.length),
                  "halflife": tfds.features.Tensor(shape=(len(HALFLIFE_FEATURES),),
                                                   dtype=np.float32),
                  "expression": scalar(), "true_expression": scalar()}
      metadata.update(targets=["expression"], tss=c.tss,
                      halflife_features=list(HALFLIFE_FEATURES))
    else:
      features = {"sequence": seq(c.length),
                  "label": tfds.features.Tensor(shape=(c.num_topics,), dtype=np.int32)}
      metadata.update(label_names=[f"Topic_{k + 1}" for k in range(c.num_topics)],
                      topic_motifs=[list(s) for s in topic_sets(c.num_topics)])
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(features),
        disable_shuffling=True, metadata=tfds.core.MetadataDict(**metadata))

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    c = self.builder_config
    for index in range(c.num_examples(split)):
      rng = np.random.default_rng([c.seed, SPLITS.index(split), index])
      if c.kind == "utr":
        yield str(index), utr_example(rng)
      elif c.kind == "aparent":
        yield str(index), aparent_example(rng, c.length)
      elif c.kind == "promoters":
        yield str(index), promoter_example(rng, c.length, c.tss)
      else:
        yield str(index), topic_example(rng, c.length, c.num_topics)

