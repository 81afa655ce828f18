r"""Synthetic proteins with planted PTM motifs and sorting signals (DESIGN.md, decision 8).

The embedded default for MusiteDeep, DeepPhos, DeepUbi and DeepLoc. Synthetic, and says
so: labels are deterministic functions of the sequence (rules below) plus stated noise,
and every record keeps the truth. Background residues are drawn i.i.d. from the
UniProtKB/Swiss-Prot amino-acid composition (``BACKGROUND``). Protein ``i`` of split
``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``. Splits are by index:
the proteins are independent draws (MMseqs2, as `genereg_jax.data.protein_clusters`
runs it, puts the 2,000 train proteins of ``ptm`` and of ``localization`` in 2,000
clusters each, at 40% and 30% identity), so no homolog crosses a split.

PTM sites (``kind="ptm"``; records of ``uniprot_ptm``, one window per candidate residue).
A candidate residue is positive for a type when its neighbourhood matches that type's
rule (``PTM_RULES``; offsets relative to the site):

* ``phospho_ST`` (S/T): a kinase consensus -- PKA R-R-x-[S/T] (basophilic; Kemp &
  Pearson 1990), CDK [S/T]-P-x-[K/R] (proline-directed), CK2 [S/T]-x-x-[E/D] (acidophilic;
  Meggio & Pinna 2003). The matching kinases are the site's ``kinase`` labels.
* ``phospho_Y`` (Y): [E/D]-[E/D]-[I/V/L]-Y, after Src-family substrate preferences
  (Songyang et al. 1995); kinase label SRC.
* ``glyco_N`` (N): the N-glycosylation sequon N-x-[S/T], x not P.
* ``sumo_K`` (K): the SUMO consensus [V/I/L/M/F]-K-x-E.
* ``methyl_R`` (R): an RGG motif, R-G-G.
* ``ubiquitin_K`` (K): [D/E] at -2 and [L/I] at +3 -- invented (ubiquitination has no
  short consensus), so that DeepUbi-style models have something to find.

Each protein (length uniform in ``length_range``) gets 1 + Poisson(4) planted motifs of
random types (kinases uniform) and Poisson(2) planted decoys -- the same candidate
residue with the motif broken at one key position (R-A-x-S, S-A-x-K, S-x-x-K, N-P-S,
A-K-x-E, R-G-A, ...) -- so models must learn the exact rule. Background residues also
match rules by chance (CK2's loose consensus most often: ~12% of S/T); those sites are
labelled too, because labels come from the rules, not from the plant list. Label noise:
each positive label is dropped with probability ``label_noise`` (missed annotations, as in
PTM databases) and each negative set with probability ``label_noise / 10`` (``kinase``
labels stay noise-free). Negative-only windows are kept with probability
``negative_fraction``. Extra features: ``motif`` (the rules matched, e.g. "CDK+CK2", ""
for none, before noise) and ``planted`` (what was planted on this residue: a kinase or
type name, "decoy:<name>", or "").

Localisation (``kind="localization"``; records of ``uniprot_localization``). Each
protein draws one of DeepLoc's 10 classes uniformly and carries that class's signals
(``LOCATION_SIGNALS``), built from textbook sorting-signal grammars:

* signal peptide (SP): M, n-region of 1-4 residues (half K/R), h-region of 8-14
  hydrophobic residues, c-region of 3-5 small polar residues ending A-x-A (von Heijne 1985);
* mitochondrial transit peptide (mTP): M + 20-35 residues of an R/L/A/S-rich,
  acid-free alphabet (amphipathic presequences);
* chloroplast transit peptide (cTP): M-A + 30-50 S/T-rich, acid-poor residues;
* NLS: SV40 PKKKRKV, c-Myc PAAKRVKL or the nucleoplasmin bipartite KRPAATKKAGQAKKKK;
  it and TM helices sit within the first ``ends`` residues so DeepLoc's view keeps them;
* transmembrane helix (TM): 18-22 hydrophobic residues with K/R on one flank;
* C-terminal tails: KDEL (ER lumen retention), KKAA (KKxx, ER membrane retrieval),
  GYQTI (LAMP-1 lysosomal tyrosine motif), SKL (PTS1, peroxisome).

Class -> signals: Nucleus NLS; Cytoplasm none; Extracellular SP; Mitochondrion mTP;
Cell membrane SP + 1-3 TM; Endoplasmic reticulum SP + KDEL (soluble) or TM + KKAA
(membrane), half each; Plastid cTP; Golgi apparatus one TM starting at residue 10-40 and
no SP (type II signal anchor); Lysosome/Vacuole SP + TM + GYQTI; Peroxisome SKL.
``membrane`` is 1 exactly when the protein has a TM helix. With probability
``label_noise`` the recorded ``location`` is another class drawn uniformly; extra
features ``true_location`` and ``signals`` (e.g. "signal_peptide,tm,tail:GYQTI") keep the
truth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from data_builders.uniprot_localization import records as localization_records
from data_builders.uniprot_ptm import records as ptm_records

SPLITS = ("train", "valid", "test")
DEEPLOC_LOCATIONS = localization_records.DEEPLOC_LOCATIONS
# UniProtKB/Swiss-Prot amino-acid composition (release statistics, %), A..V order.
_COMPOSITION = {
    "A": 8.25, "R": 5.53, "N": 4.06, "D": 5.45, "C": 1.37, "Q": 3.93, "E": 6.75,
    "G": 7.07, "H": 2.27, "I": 5.96, "L": 9.66, "K": 5.84, "M": 2.42, "F": 3.86,
    "P": 4.70, "S": 6.56, "T": 5.34, "W": 1.08, "Y": 2.92, "V": 6.87}
BACKGROUND = (np.array(list(_COMPOSITION)),
              np.array(list(_COMPOSITION.values())) / sum(_COMPOSITION.values()))

# Each rule: type -> {motif name: {offset: allowed letters}} (offset 0 is the site).
PTM_RULES = {
    "phospho_ST": {"PKA": {-3: "R", -2: "R", 0: "ST"},
                   "CDK": {0: "ST", 1: "P", 3: "KR"},
                   "CK2": {0: "ST", 3: "ED"}},
    "phospho_Y": {"SRC": {-3: "ED", -2: "ED", -1: "IVL", 0: "Y"}},
    "glyco_N": {"sequon": {0: "N", 1: "ACDEFGHIKLMNQRSTVWY", 2: "ST"}},
    "sumo_K": {"sumo": {-1: "VILMF", 0: "K", 2: "E"}},
    "methyl_R": {"RGG": {0: "R", 1: "G", 2: "G"}},
    "ubiquitin_K": {"degron": {-2: "DE", 0: "K", 3: "LI"}},
}
KINASES = ("PKA", "CDK", "CK2", "SRC")
_MOTIFS = {motif: (ptm_type, rule) for ptm_type, motifs in PTM_RULES.items()
           for motif, rule in motifs.items()}  # Motif name -> (PTM type, rule).
# A decoy breaks one key position of a motif: (motif, offset, letters used instead).
_DECOYS = {
    "PKA": (-2, "AGQ"), "CDK": (1, "AGS"), "CK2": (3, "KRN"), "SRC": (-1, "GPS"),
    "sequon": (1, "P"), "sumo": (-1, "AGS"), "RGG": (2, "AST"), "degron": (-2, "KRG"),
}

_SIGNAL_NLS = ("PKKKRKV", "PAAKRVKL", "KRPAATKKAGQAKKKK")
_HYDROPHOBIC = "LLLIIVVFAMAG"
LOCATION_SIGNALS = {
    "Nucleus": ("nls",), "Cytoplasm": (), "Extracellular": ("signal_peptide",),
    "Mitochondrion": ("mtp",), "Cell membrane": ("signal_peptide", "tm"),
    "Endoplasmic reticulum": ("signal_peptide", "tail:KDEL"),  # Or ("tm", "tail:KKAA").
    "Plastid": ("ctp",), "Golgi apparatus": ("anchor_tm",),
    "Lysosome/Vacuole": ("signal_peptide", "tm", "tail:GYQTI"), "Peroxisome": ("tail:SKL",),
}


@dataclasses.dataclass(eq=False)
class SyntheticProteinsConfig(tfds.core.BuilderConfig):
  """Attributes:
    kind: ``"ptm"`` (site windows) or ``"localization"`` (whole proteins).
    num_train, num_valid, num_test: proteins per split.
    length_range: (min, max) protein length.
    ptm_types: PTM types labelled (keys of ``PTM_RULES``), in ``label`` order.
    window: residues per PTM window (odd).
    encoding: `genereg_jax.data.encoding.encode_protein` name.
    negative_fraction: share of negative-only windows kept.
    ends: residues kept from each terminus (localisation; DeepLoc 500).
    label_noise: see the module docstring.
    seed: first entry of every protein's RNG seed.
  """
  kind: str = "ptm"
  num_train: int = 2000
  num_valid: int = 250
  num_test: int = 250
  length_range: tuple[int, int] = (100, 400)
  ptm_types: tuple[str, ...] = tuple(PTM_RULES)
  window: int = 33
  encoding: str = "onehot"
  negative_fraction: float = 0.25
  ends: int = 500
  label_noise: float = 0.05
  seed: int = 0

  def num_examples(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([seed, SPLITS.index(split), index])


def random_protein(rng: np.random.Generator, length: int) -> str:
  return "".join(rng.choice(BACKGROUND[0], size=length, p=BACKGROUND[1]))


def _from(rng: np.random.Generator, letters: str, n: int = 1) -> str:
  return "".join(rng.choice(list(letters), size=n))


def matched_motifs(sequence: str, index: int, ptm_type: str) -> list[str]:
  """Names of ``ptm_type``'s motifs that residue ``index`` (0-based) matches."""
  found = []
  for motif, rule in PTM_RULES[ptm_type].items():
    if all(0 <= index + offset < len(sequence) and sequence[index + offset] in letters
           for offset, letters in rule.items()):
      found.append(motif)
  return found


@dataclasses.dataclass
class SyntheticPtmProtein:
  sequence: str
  planted: dict  # 0-based site index -> planted motif name or "decoy:<name>".


def sample_ptm_protein(rng: np.random.Generator, config: SyntheticProteinsConfig
                       ) -> SyntheticPtmProtein:
  """A background protein with motifs and decoys of ``config.ptm_types`` planted."""
  length = int(rng.integers(config.length_range[0], config.length_range[1] + 1))
  residues = list(random_protein(rng, length))
  motifs = [m for m, (t, _) in _MOTIFS.items() if t in config.ptm_types]
  plants = [(m, False) for m in rng.choice(motifs, 1 + rng.poisson(4))]
  plants += [(m, True) for m in rng.choice(motifs, rng.poisson(2))]
  planted, used = {}, set()
  for motif, decoy in plants:
    rule = _MOTIFS[motif][1]
    low, high = -min(rule), length - max(rule) - 1
    site = int(rng.integers(low, high + 1))
    span = set(range(site + min(rule) - 1, site + max(rule) + 2))
    if span & used:
      continue  # Keep plants apart so one does not overwrite another's key residue.
    used |= span
    for offset, letters in rule.items():
      residues[site + offset] = _from(rng, letters)
    if decoy:
      offset, letters = _DECOYS[motif]
      residues[site + offset] = _from(rng, letters)
    planted[site] = f"decoy:{motif}" if decoy else motif
  return SyntheticPtmProtein("".join(residues), planted)


def _signal_peptide(rng: np.random.Generator) -> str:
  n_region = "".join(_from(rng, "KR") if rng.random() < 0.5 else _from(rng, "STNQG")
                     for _ in range(int(rng.integers(1, 5))))
  h_region = _from(rng, _HYDROPHOBIC, int(rng.integers(8, 15)))
  c_region = _from(rng, "SGTQN", int(rng.integers(1, 3))) + "A" + _from(rng, "SGTQL") + "A"
  return "M" + n_region + h_region + c_region


def _tm_helix(rng: np.random.Generator) -> str:
  return _from(rng, "KR", 2) + _from(rng, _HYDROPHOBIC, int(rng.integers(18, 23)))


@dataclasses.dataclass
class SyntheticLocalizedProtein:
  sequence: str
  location: int  # Index into DEEPLOC_LOCATIONS (before label noise).
  membrane: int
  signals: tuple[str, ...]


def sample_localized_protein(rng: np.random.Generator, config: SyntheticProteinsConfig
                             ) -> SyntheticLocalizedProtein:
  """One protein of a uniformly drawn class carrying that class's signals."""
  location = int(rng.integers(len(DEEPLOC_LOCATIONS)))
  signals = LOCATION_SIGNALS[DEEPLOC_LOCATIONS[location]]
  if DEEPLOC_LOCATIONS[location] == "Endoplasmic reticulum" and rng.random() < 0.5:
    signals = ("tm", "tail:KKAA")
  length = int(rng.integers(config.length_range[0], config.length_range[1] + 1))
  head = ""
  if "signal_peptide" in signals:
    head = _signal_peptide(rng)
  elif "mtp" in signals:
    head = "M" + _from(rng, "RRRLLLAAASSFG", int(rng.integers(20, 36)))
  elif "ctp" in signals:
    head = "MA" + _from(rng, "SSSSTTTAAPVRKG", int(rng.integers(30, 51)))
  elif "anchor_tm" in signals:
    head = "M" + random_protein(rng, int(rng.integers(9, 40))) + _tm_helix(rng)
  tail = next((s[len("tail:"):] for s in signals if s.startswith("tail:")), "")
  middle = []
  if "tm" in signals:
    middle += [_tm_helix(rng) for _ in range(int(rng.integers(1, 4)))]
  if "nls" in signals:
    middle += [_SIGNAL_NLS[int(rng.integers(len(_SIGNAL_NLS)))]]
  body_length = max(length - len(head) - len(tail), sum(map(len, middle)) + 10)
  body = list(random_protein(rng, body_length))
  # Middle signals go in disjoint slots within the first or last `ends` residues of the
  # protein (DeepLoc's view), after the N-terminal signal.
  reach = min(body_length, config.ends - len(head))
  cursor = 0
  for segment in middle:
    room = reach - cursor - len(segment)
    if room < 0:
      break
    start = cursor + int(rng.integers(0, max(room // 2, 1)))
    body[start:start + len(segment)] = list(segment)
    cursor = start + len(segment) + 5
  sequence = head + "".join(body) + tail
  membrane = int("tm" in signals or "anchor_tm" in signals)
  return SyntheticLocalizedProtein(sequence, location, membrane, signals)


class SyntheticProteins(tfds.core.GeneratorBasedBuilder):
  """Planted PTM motifs (site windows) and sorting signals (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticProteinsConfig(name="ptm", description="Six PTM types, 33-residue windows "
                              "(MusiteDeep multilabel)."),
      SyntheticProteinsConfig(name="phospho", ptm_types=("phospho_ST", "phospho_Y"), window=51,
                              description="Phosphosites with kinase labels, 51-residue "
                              "windows (DeepPhos crops 15/33 from the centre)."),
      SyntheticProteinsConfig(name="ubiquitin", ptm_types=("ubiquitin_K",), window=31,
                              description="Ubiquitination, 31-residue windows (DeepUbi)."),
      SyntheticProteinsConfig(name="localization", kind="localization", num_train=2000,
                              num_valid=250, num_test=250, length_range=(80, 1500),
                              encoding="blosum62", label_noise=0.02,
                              description="DeepLoc's 10 classes + membrane, BLOSUM62, "
                              "first and last 500 residues."),
      SyntheticProteinsConfig(name="tiny_ptm", num_train=40, num_valid=10, num_test=10,
                              length_range=(60, 150), negative_fraction=0.5,
                              description="Small, for tests."),
      SyntheticProteinsConfig(name="tiny_phospho", ptm_types=("phospho_ST", "phospho_Y"),
                              window=51, num_train=40, num_valid=10, num_test=10,
                              length_range=(60, 150), negative_fraction=0.5,
                              description="Small, for tests."),
      SyntheticProteinsConfig(name="tiny_ubiquitin", ptm_types=("ubiquitin_K",), window=31,
                              num_train=40, num_valid=10, num_test=10, length_range=(60, 150),
                              negative_fraction=0.5, description="Small, for tests."),
      SyntheticProteinsConfig(name="tiny_localization", kind="localization", num_train=200,
                              num_valid=40, num_test=40, length_range=(60, 300), ends=100,
                              encoding="blosum62", label_noise=0.02,
                              description="Small (first and last 100 residues), for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "ptm"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    if config.kind == "ptm":
      features = ptm_records.ptm_features(
          config.window, config.encoding, len(config.ptm_types), len(KINASES),
          extra={"motif": tfds.features.Text(), "planted": tfds.features.Text()})
      metadata = dict(ptm_types=list(config.ptm_types), window=config.window,
                      encoding=config.encoding, kinases=list(KINASES),
                      label_noise=config.label_noise)
    else:
      features = localization_records.localization_features(
          config.ends, config.encoding,
          extra={"true_location": tfds.features.Scalar(dtype=np.int32),
                 "signals": tfds.features.Text()})
      metadata = dict(locations=list(DEEPLOC_LOCATIONS), ends=config.ends,
                      encoding=config.encoding, label_noise=config.label_noise)
    return tfds.core.DatasetInfo(builder=self, description=__doc__, features=features,
                                 disable_shuffling=True,
                                 metadata=tfds.core.MetadataDict(**metadata))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    del dl_manager  # Everything is generated.
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for index in range(config.num_examples(split)):
      rng = example_rng(config.seed, split, index)
      name = f"synthetic_{split}_{index}"
      if config.kind == "ptm":
        yield from self._ptm_examples(rng, name)
      else:
        yield name, self._localization_example(rng, name)

  def _ptm_examples(self, rng: np.random.Generator, name: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    protein = sample_ptm_protein(rng, config)
    sequence = protein.sequence
    sites, site_kinases, motifs = {}, {}, {}
    for index in range(len(sequence)):
      matched = {t: matched_motifs(sequence, index, t) for t in config.ptm_types}
      motifs[index + 1] = "+".join(m for found in matched.values() for m in found)
      sites[index + 1] = {t for t, found in matched.items() if found}
      site_kinases[index + 1] = {m for found in matched.values() for m in found
                                 if m in KINASES}
    keep = rng.random(len(sequence)) < config.negative_fraction
    windows = ptm_records.site_windows(
        name, sequence, sites, config.ptm_types, config.window, config.encoding, KINASES,
        site_kinases, keep_negative=lambda position: keep[position - 1])
    for position, record in windows:
      mask = record["label_mask"] > 0
      positive = record["label"] > 0
      flip = rng.random(len(positive)) < np.where(positive, config.label_noise,
                                                  config.label_noise / 10)
      record["label"] = np.where(flip & mask, 1 - record["label"], record["label"])
      record["motif"] = motifs[position]
      record["planted"] = protein.planted.get(position - 1, "")
      yield f"{name}_{position}", record

  def _localization_example(self, rng: np.random.Generator, name: str) -> dict:
    config = self.builder_config
    protein = sample_localized_protein(rng, config)
    location = protein.location
    if rng.random() < config.label_noise:
      location = (location + int(rng.integers(1, len(DEEPLOC_LOCATIONS)))) % len(
          DEEPLOC_LOCATIONS)
    record = localization_records.localization_record(
        name, protein.sequence, location, protein.membrane, config.ends, config.encoding)
    record["true_location"] = np.int32(protein.location)
    record["signals"] = ",".join(protein.signals)
    return record
