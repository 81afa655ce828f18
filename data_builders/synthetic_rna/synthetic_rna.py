r"""Synthetic RNA binding and localisation data, in ``rnacompete`` / ``rna_localization`` records.

The embedded default for DeepBind-RNA and RNATracker (DESIGN.md, decision 8). Synthetic,
and says so: readouts are deterministic functions of planted motifs plus noise.

Probes (configs ``probes``, ``tiny_probes``), RNAcompete-like (Ray et al. 2013):
uniform random probes of 30-41 nt, set A (``train`` + ``valid``, split as
``rnacompete``) and set B (``test``). Half of the probes get one planted site, 15% two,
each of a random protein in ``RBP_MOTIFS`` (consensus sites of RNAcompete motifs:
PUM2 UGUAAAUA, QKI ACUAAC, RBFOX1 UGCAUG, HNRNPA1 UAGGGA), exact 60% of the time,
else with one random substitution. A protein's affinity for a probe sums, over every
window of the probe, 2 for an exact site and 0.6 for a one-substitution site; the raw
intensity is ``exp(affinity + N(0, 0.25^2))`` (RNAcompete intensities are skewed),
2% of entries are unmeasured (NaN), and targets are standardised as ``rnacompete``
does (99.95th-percentile clip, set A mean and variance).

Localisation (configs ``localization``, ``localization_structure``, ``tiny`` ...),
CeFra-seq-like (four compartments ``CEFRA_SEQ_COMPARTMENTS``): transcripts of uniform
random length in ``length_range`` (GC 0.45) carry Poisson(1.5) (at most 4) zip codes,
each one of ``ZIP_CODES`` (one per non-cytosolic compartment; invented 7-mers). The
fractions are ``softmax(logits + N(0, 0.2^2))`` with logit 0.5 for the cytosol and
``1.5 x (active zip codes of c)`` for compartment ``c``.

* ``structure_rule=False``: every zip code is active, planted anywhere.
* ``structure_rule=True`` (structure matters): a zip code is active only in a hairpin
  loop. Each is planted either *in a loop* (a 7-bp GC-rich stem ``S``, loop ``A + zip
  + A``, then ``rc(S)``; active) or *sequestered* (``F1 zip F2``, a loop of 4-20 nt,
  then its reverse complement with random G-U wobbles; the zip code is paired; not
  active). Free copies of a sequestered partner are planted elsewhere in a third of the
  transcripts, so neither the zip code nor its partner alone decides; RNAplfold's
  unpaired probability at the zip code does.

With ``structure=True`` records carry ``rna_localization``'s RNAplfold channels.
Transcript ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from data_builders.rna_localization import rna_localization
from data_builders.rnacompete import rnacompete

SPLITS = ("train", "valid", "test")
RBP_MOTIFS = {"PUM2": "UGUAAAUA", "QKI": "ACUAAC", "RBFOX1": "UGCAUG", "HNRNPA1": "UAGGGA"}
CEFRA_SEQ_COMPARTMENTS = rna_localization.CEFRA_SEQ_COMPARTMENTS
ZIP_CODES = {"insoluble": "CAUCGUA", "membrane": "GUACAGU", "nuclear": "ACCUAGC"}
_EXACT_AFFINITY, _MISMATCH_AFFINITY, _INTENSITY_NOISE = 2.0, 0.6, 0.25
_CYTOSOL_LOGIT, _ZIP_LOGIT, _FRACTION_NOISE = 0.5, 1.5, 0.2
_PAIR = {"A": "U", "C": "G", "G": "C", "U": "A"}
_WOBBLE = {"G": "U", "U": "G"}  # Partner of a G may be U, of a U may be G (G-U pairs).


@dataclasses.dataclass(eq=False)
class SyntheticRnaConfig(tfds.core.BuilderConfig):
  """Attributes:
    kind: ``"probes"`` or ``"localization"``.
    num_train, num_valid, num_test: examples per split (probes: set A = train + valid).
    max_length: record length (probes: 41).
    length_range: (min, max) transcript length (localisation).
    structure_rule: zip codes count only in hairpin loops (module docstring).
    structure: add RNAplfold channels (``rna_localization``).
    plfold_window, plfold_span: RNAplfold ``-W`` and ``-L``.
    seed: first entry of every example's RNG seed.
  """
  kind: str = "probes"
  num_train: int = 18000
  num_valid: int = 2000
  num_test: int = 5000
  max_length: int = rnacompete.MAX_PROBE_LENGTH
  length_range: tuple[int, int] = (30, 41)
  structure_rule: bool = False
  structure: bool = False
  plfold_window: int = 80
  plfold_span: int = 60
  seed: int = 0

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([seed, SPLITS.index(split), index])


def _random_rna(rng: np.random.Generator, n: int, gc: float = 0.5) -> str:
  at = (1 - gc) / 2
  return "".join(rng.choice(list("ACGU"), size=n, p=[at, gc / 2, gc / 2, at]))


def _mutate(rng: np.random.Generator, site: str) -> str:
  position = int(rng.integers(len(site)))
  other = [b for b in "ACGU" if b != site[position]]
  return site[:position] + other[int(rng.integers(3))] + site[position + 1:]


def affinity(probe: str, motif: str) -> float:
  """Sum over windows: 2 per exact ``motif``, 0.6 per one-substitution match."""
  total, width = 0.0, len(motif)
  for start in range(len(probe) - width + 1):
    mismatches = sum(a != b for a, b in zip(probe[start:start + width], motif))
    total += _EXACT_AFFINITY if mismatches == 0 else _MISMATCH_AFFINITY if mismatches == 1 else 0
  return total


def sample_probe(rng: np.random.Generator, length_range=(30, 41)) -> tuple[str, np.ndarray]:
  """One probe and its raw intensity per protein of ``RBP_MOTIFS`` (NaN = unmeasured)."""
  length = int(rng.integers(length_range[0], length_range[1] + 1))
  probe = _random_rna(rng, length)
  draw = rng.random()
  for _ in range(2 if draw < 0.15 else 1 if draw < 0.65 else 0):
    motif = list(RBP_MOTIFS.values())[int(rng.integers(len(RBP_MOTIFS)))]
    site = motif if rng.random() < 0.6 else _mutate(rng, motif)
    start = int(rng.integers(0, length - len(site) + 1))
    probe = probe[:start] + site + probe[start + len(site):]
  scores = np.array([affinity(probe, m) for m in RBP_MOTIFS.values()])
  intensity = np.exp(scores + rng.normal(0, _INTENSITY_NOISE, len(scores)))
  intensity[rng.random(len(scores)) < 0.02] = np.nan
  return probe, intensity


def _reverse_complement(rng: np.random.Generator, segment: str, wobble: bool) -> str:
  partner = []
  for base in reversed(segment):
    if wobble and base in _WOBBLE and rng.random() < 0.3:
      partner.append(_WOBBLE[base])
    else:
      partner.append(_PAIR[base])
  return "".join(partner)


def _in_loop(rng: np.random.Generator, zip_code: str) -> str:
  stem = _random_rna(rng, 7, gc=0.75)
  return stem + "A" + zip_code + "A" + _reverse_complement(rng, stem, wobble=False)


def _sequestered(rng: np.random.Generator, zip_code: str) -> tuple[str, str]:
  """The hairpin with ``zip_code`` in its stem, and a free copy of the partner arm."""
  arm = _random_rna(rng, 2, 0.7) + zip_code + _random_rna(rng, 2, 0.7)
  partner = _reverse_complement(rng, arm, wobble=True)
  loop = _random_rna(rng, int(rng.integers(4, 21)), gc=0.3)
  return arm + loop + partner, _reverse_complement(rng, arm, wobble=True)


@dataclasses.dataclass
class SyntheticTranscript:
  sequence: str
  fractions: np.ndarray
  active: np.ndarray  # Active zip codes per compartment.
  planted: list  # (start, end, compartment, active).


def sample_transcript(rng: np.random.Generator, config: SyntheticRnaConfig) -> SyntheticTranscript:
  """One transcript of the localisation grammar (module docstring)."""
  length = int(rng.integers(config.length_range[0], config.length_range[1] + 1))
  sequence = _random_rna(rng, length, gc=0.45)
  names = list(ZIP_CODES)
  segments = []  # (text, compartment or None, active)
  for _ in range(min(int(rng.poisson(1.5)), 4)):
    compartment = names[int(rng.integers(len(names)))]
    zip_code = ZIP_CODES[compartment]
    if not config.structure_rule:
      segments.append((zip_code, compartment, True))
    elif rng.random() < 0.5:
      segments.append((_in_loop(rng, zip_code), compartment, True))
    else:
      hairpin, free_partner = _sequestered(rng, zip_code)
      segments.append((hairpin, compartment, False))
      if rng.random() < 0.67:
        segments.append((free_partner, None, False))
  # Place segments left to right in disjoint slots, 25 nt apart, so that no stem
  # pairs with a neighbour's.
  planted, cursor = [], 0
  rng.shuffle(segments)
  for text, compartment, active in segments:
    room = length - cursor - len(text)
    if room < 0:
      break
    start = cursor + int(rng.integers(0, max(room // 2, 1)))
    sequence = sequence[:start] + text + sequence[start + len(text):]
    if compartment is not None:
      planted.append((start, start + len(text), compartment, active))
    cursor = start + len(text) + 25
  counts = np.zeros(len(CEFRA_SEQ_COMPARTMENTS))
  for _, _, compartment, active in planted:
    counts[CEFRA_SEQ_COMPARTMENTS.index(compartment)] += active
  logits = _ZIP_LOGIT * counts
  logits[CEFRA_SEQ_COMPARTMENTS.index("cytosol")] = _CYTOSOL_LOGIT
  logits = logits + rng.normal(0, _FRACTION_NOISE, len(logits))
  fractions = np.exp(logits - logits.max())
  return SyntheticTranscript(sequence, fractions / fractions.sum(), counts, planted)


class SyntheticRna(tfds.core.GeneratorBasedBuilder):
  """RBP-motif probe intensities and zip-code-driven localisation (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticRnaConfig(name="probes", description="25,000 RNAcompete-like probes."),
      SyntheticRnaConfig(name="tiny_probes", num_train=3600, num_valid=400, num_test=1000,
                         description="5,000 probes, for tests."),
      SyntheticRnaConfig(
          name="localization", kind="localization", num_train=3000, num_valid=300,
          num_test=300, max_length=2000, length_range=(500, 2000),
          description="Zip codes count anywhere; 500-2,000 nt."),
      SyntheticRnaConfig(
          name="localization_structure", kind="localization", num_train=1500,
          num_valid=150, num_test=200, max_length=400, length_range=(200, 400),
          structure_rule=True, structure=True,
          description="Zip codes count only in hairpin loops; RNAplfold channels."),
      SyntheticRnaConfig(
          name="tiny", kind="localization", num_train=1000, num_valid=60, num_test=60,
          max_length=300, length_range=(150, 300), description="Small, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "probes"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    if config.kind == "probes":
      features = rnacompete.probe_features(config.max_length, len(RBP_MOTIFS))
      metadata = dict(proteins=list(RBP_MOTIFS), motifs=dict(RBP_MOTIFS),
                      max_length=config.max_length)
    else:
      features = rna_localization.localization_features(
          config.max_length, len(CEFRA_SEQ_COMPARTMENTS), config.structure)
      metadata = dict(
          compartments=list(CEFRA_SEQ_COMPARTMENTS), zip_codes=dict(ZIP_CODES),
          max_length=config.max_length, structure_rule=config.structure_rule,
          structure_channels=(list(rna_localization.STRUCTURE_CHANNELS)
                              if config.structure else []))
    return tfds.core.DatasetInfo(builder=self, description=__doc__, features=features,
                                 disable_shuffling=True,
                                 metadata=tfds.core.MetadataDict(**metadata))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    if self.builder_config.kind == "probes":
      records = rnacompete.probe_records(self._probe_table(), self.builder_config.max_length)
      return {split: (r for r in records[split]) for split in SPLITS}
    return {split: self._generate_examples(split) for split in SPLITS}

  def _probe_table(self) -> rnacompete.ProbeTable:
    """All probes; set A is train + valid, set B test; split by index, not id hash."""
    config = self.builder_config
    ids, sets, sequences, rows = [], [], [], []
    for split in SPLITS:
      for index in range(config.num_examples(split)):
        probe, intensity = sample_probe(example_rng(config.seed, split, index),
                                        config.length_range)
        # The id hash decides valid vs train (rnacompete.split_of); redraw the id
        # suffix until it lands in the intended split, so split sizes are exact.
        probe_id, suffix = f"{split}_{index}", 0
        while rnacompete.split_of(probe_id, "SetB" if split == "test" else "SetA") != split:
          suffix += 1
          probe_id = f"{split}_{index}_{suffix}"
        ids.append(probe_id)
        sets.append("SetB" if split == "test" else "SetA")
        sequences.append(probe)
        rows.append(intensity)
    return rnacompete.ProbeTable(ids, sets, sequences, np.asarray(rows), tuple(RBP_MOTIFS))

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for index in range(config.num_examples(split)):
      transcript = sample_transcript(example_rng(config.seed, split, index), config)
      name = f"synthetic_{split}_{index}"
      yield name, rna_localization.localization_record(
          name, transcript.sequence, transcript.fractions, config.max_length,
          config.structure, config.plfold_window, config.plfold_span)
