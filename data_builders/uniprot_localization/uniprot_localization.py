r"""Protein subcellular localisation (DeepLoc's 10 classes + membrane) from UniProt or DeepLoc.

DeepLoc (Almagro Armenteros et al. 2017) classifies eukaryotic proteins into 10
locations and membrane-bound vs soluble; the record layout is in ``records.py`` (first
and last ``ends`` = 500 residues, BLOSUM62 by default).

Sources (``source`` of the config; files in ``manual_dir``):

* ``swissprot``: UniProtKB/Swiss-Prot flat files ``*.dat`` / ``*.dat.gz``, read with
  Biopython's ``Bio.SwissProt``. Each ``SUBCELLULAR LOCATION`` comment of the canonical
  protein (``[Isoform ...]:`` comments are skipped; the text after ``Note=`` too) lists
  statements ``Location[, sublocation][; topology][; orientation] {evidence}.``. With
  ``experimental_only`` (the default; DeepLoc kept experimentally annotated locations)
  a statement counts when the evidence of its location names ECO:0000269. Its first
  term maps to a class by prefix (``LOCATION_PREFIXES``):

  ===============================================  ======================
  UniProt location (first term)                    DeepLoc class
  ===============================================  ======================
  Nucleus..., Chromosome...                        Nucleus
  Cytoplasm..., Cytosol                            Cytoplasm
  Secreted..., Extracellular...                    Extracellular
  Mitochondrion...                                 Mitochondrion
  Cell membrane, Apical / Basolateral / Lateral    Cell membrane
  cell membrane, Cell surface
  Endoplasmic reticulum..., Microsome...           Endoplasmic reticulum
  Plastid...                                       Plastid
  Golgi apparatus...                               Golgi apparatus
  Lysosome..., Vacuole...                          Lysosome/Vacuole
  Peroxisome...                                    Peroxisome
  ===============================================  ======================

  A protein is kept when its counted statements map to exactly one class (others:
  skipped and counted, as DeepLoc's single-location set), it is eukaryotic (``OC``
  starts with ``kingdom``), has at least ``min_length`` residues and is not a fragment.
  ``membrane`` is 1 when a counted statement's location or topology names a membrane
  ("Endoplasmic reticulum membrane", "Single-pass type I membrane protein",
  "Lipid-anchor", "GPI-anchor"), else 0.
* ``deeploc``: DeepLoc's FASTA (``deeploc_data.fasta``; any ``*.fasta`` / ``*.fa``),
  headers ``>ACCESSION Location-M [test]``: the location with "." for spaces
  (``Cell.membrane``, ``Endoplasmic.reticulum``, ``Lysosome/Vacuole``), then ``-M``
  membrane, ``-S`` soluble or ``-U`` unknown (``membrane`` 1, 0, -1), and ``test`` for
  DeepLoc's test partition. Dual ``Cytoplasm-Nucleus-U`` proteins are skipped and counted.

Splits: clusters of MMseqs2 (`genereg_jax.data.protein_clusters`; ``min_seq_id`` 0.3,
coverage 0.8: DeepLoc partitioned at 30% identity) go whole to train / valid / test.
With ``deeploc_test_partition`` (``deeploc`` source) the clusters holding a protein
marked ``test`` are the test split (so a homolog of a DeepLoc test protein is not in
train either) and the other clusters fill train and valid.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
import re
from collections.abc import Iterator

import tensorflow_datasets as tfds

from data_builders.uniprot_localization import records
from genereg_jax.data import protein_clusters
from genereg_jax.data import protein_files
from genereg_jax.files import InputFormatError

DEEPLOC_LOCATIONS = records.DEEPLOC_LOCATIONS
LOCATION_PREFIXES = {
    "Nucleus": ("nucleus", "chromosome"),
    "Cytoplasm": ("cytoplasm", "cytosol"),
    "Extracellular": ("secreted", "extracellular"),
    "Mitochondrion": ("mitochondrion",),
    "Cell membrane": ("cell membrane", "apical cell membrane", "basolateral cell membrane",
                      "lateral cell membrane", "cell surface"),
    "Endoplasmic reticulum": ("endoplasmic reticulum", "microsome"),
    "Plastid": ("plastid",),
    "Golgi apparatus": ("golgi apparatus",),
    "Lysosome/Vacuole": ("lysosome", "vacuole"),
    "Peroxisome": ("peroxisome",),
}
_MEMBRANE = re.compile(r"membrane|lipid-anchor|gpi-anchor", re.IGNORECASE)
_DEEPLOC_MEMBRANE = {"M": 1, "S": 0, "U": records.MEMBRANE_UNKNOWN}


class LocalizationFormatError(InputFormatError):
  """A localisation FASTA header or flat-file record that does not parse."""


@dataclasses.dataclass
class LocalizedProtein:
  sequence: str
  location: int  # Index into DEEPLOC_LOCATIONS.
  membrane: int  # 1, 0 or -1 (unknown).
  test: bool = False  # DeepLoc's test partition.


def deeploc_class(location: str) -> str | None:
  """The DeepLoc class of a UniProt location term (table above), or None."""
  term = location.strip().lower()
  for name, prefixes in LOCATION_PREFIXES.items():
    if any(term.startswith(prefix) for prefix in prefixes):
      return name
  return None


def subcellular_statements(comment: str) -> list[tuple[str, str, str]]:
  """``(location, topology text, evidence of the location)`` per statement of a comment."""
  body = comment.split(":", 1)[1].strip() if ":" in comment else comment
  if body.startswith("[Isoform"):
    return []
  body = body.split("Note=")[0]
  statements = []
  for statement in re.split(r"\.\s+(?=[A-Z\[])|\.\s*$", body):
    if not statement.strip():
      continue
    parts = [part.strip() for part in statement.split(";")]
    location_part = parts[0]
    evidence = " ".join(re.findall(r"\{([^}]*)\}", location_part))
    location = re.sub(r"\s*\{[^}]*\}", "", location_part).strip()
    topology = " ".join(re.sub(r"\s*\{[^}]*\}", "", part) for part in parts[1:])
    statements.append((location, topology, evidence))
  return statements


def swissprot_location(record, experimental_only: bool = True) -> tuple[str | None, int, str]:
  """``(class or None, membrane, why)`` of a Swiss-Prot record's canonical locations."""
  classes, membrane = set(), 0
  for comment in record.comments:
    if not comment.startswith("SUBCELLULAR LOCATION"):
      continue
    for location, topology, evidence in subcellular_statements(comment):
      if experimental_only and "ECO:0000269" not in evidence:
        continue
      name = deeploc_class(location.split(",")[0])
      if name is None:
        continue
      classes.add(name)
      membrane |= bool(_MEMBRANE.search(location) or _MEMBRANE.search(topology))
  if not classes:
    return None, 0, "no location"
  if len(classes) > 1:
    return None, 0, "several classes"
  return classes.pop(), int(membrane), ""


def read_swissprot(path: str, experimental_only: bool = True, kingdom: str = "Eukaryota",
                   min_length: int = 40) -> tuple[dict[str, LocalizedProtein], dict]:
  """Accession -> localised protein of a flat file, and counts of the records skipped."""
  proteins, skipped = {}, collections.Counter()
  for _, record in protein_files.swissprot_records(path, LocalizationFormatError):
    if kingdom and (not record.organism_classification
                    or record.organism_classification[0] != kingdom):
      skipped["kingdom"] += 1
      continue
    if len(record.sequence) < min_length or "Fragment" in record.description:
      skipped["short or fragment"] += 1
      continue
    name, membrane, why = swissprot_location(record, experimental_only)
    if name is None:
      skipped[why] += 1
      continue
    proteins[record.accessions[0]] = LocalizedProtein(
        record.sequence, DEEPLOC_LOCATIONS.index(name), membrane)
  return proteins, dict(skipped)


def read_deeploc_fasta(path: str) -> tuple[dict[str, LocalizedProtein], dict]:
  """Accession -> localised protein of DeepLoc's FASTA, and counts of those skipped."""
  proteins, skipped = {}, collections.Counter()
  for number, header, sequence in protein_files.read_protein_fasta(
      path, LocalizationFormatError):
    fields = header.split()
    label = fields[1] if len(fields) > 1 else ""
    match = re.fullmatch(r"(.+)-([MSU])", label)
    if len(fields) not in (2, 3) or match is None:
      raise LocalizationFormatError(path, number, f"header {header!r} is not "
                                    "'ACCESSION Location-M|S|U [test]'")
    location = match[1].replace(".", " ")
    if location not in DEEPLOC_LOCATIONS:
      if "-" in location:  # Cytoplasm-Nucleus: two classes.
        skipped["several classes"] += 1
        continue
      raise LocalizationFormatError(path, number, f"{match[1]!r} is none of DeepLoc's "
                                    f"locations {[l.replace(' ', '.') for l in DEEPLOC_LOCATIONS]}")
    if fields[0] in proteins:
      raise LocalizationFormatError(path, number, f"duplicate accession {fields[0]!r}")
    proteins[fields[0]] = LocalizedProtein(
        sequence, DEEPLOC_LOCATIONS.index(location), _DEEPLOC_MEMBRANE[match[2]],
        test=len(fields) == 3 and "test" in fields[2])
  return proteins, dict(skipped)


SOURCE_FILES = {"swissprot": ("*.dat", "*.dat.gz"), "deeploc": ("*.fasta", "*.fa")}


def read_manual_dir(manual_dir: str, config) -> tuple[dict[str, LocalizedProtein], dict]:
  paths = sorted(p for pattern in SOURCE_FILES[config.source]
                 for p in glob.glob(os.path.join(manual_dir, pattern)))
  if not paths:
    raise FileNotFoundError(f"no {config.source} files "
                            f"({', '.join(SOURCE_FILES[config.source])}) in {manual_dir}")
  proteins, skipped = {}, collections.Counter()
  for path in paths:
    if config.source == "swissprot":
      found, more = read_swissprot(path, config.experimental_only, config.kingdom,
                                   config.min_length)
    else:
      found, more = read_deeploc_fasta(path)
    proteins.update(found)
    skipped.update(more)
  return proteins, dict(skipped)


@dataclasses.dataclass(eq=False)
class UniprotLocalizationConfig(tfds.core.BuilderConfig):
  """Attributes:
    source: ``swissprot`` or ``deeploc``.
    ends: residues kept from each terminus (DeepLoc 500).
    encoding: `genereg_jax.data.encoding.encode_protein` name (DeepLoc: BLOSUM62).
    experimental_only, kingdom, min_length: Swiss-Prot filters (module docstring).
    deeploc_test_partition: keep DeepLoc's ``test`` proteins as the test split.
    min_seq_id, coverage, cluster_sensitivity, cluster_steps: MMseqs2 clustering.
    split_fractions: (split, share of proteins) by whole clusters.
    seed: cluster-to-split order.
  """
  source: str = "swissprot"
  ends: int = 500
  encoding: str = "blosum62"
  experimental_only: bool = True
  kingdom: str = "Eukaryota"
  min_length: int = 40
  deeploc_test_partition: bool = True
  min_seq_id: float = 0.3
  coverage: float = 0.8
  cluster_sensitivity: float = 4.0
  cluster_steps: int | None = None
  split_fractions: tuple = (("train", 0.8), ("valid", 0.1), ("test", 0.1))
  seed: int = 0


class UniprotLocalization(tfds.core.GeneratorBasedBuilder):
  """DeepLoc's 10 locations + membrane from Swiss-Prot or DeepLoc's FASTA (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put uniprot_sprot.dat.gz (swissprot configs) or DeepLoc's deeploc_data.fasta "
      "(services.healthtech.dtu.dk, DeepLoc-1.0; deeploc configs) in manual_dir.")
  BUILDER_CONFIGS = [
      UniprotLocalizationConfig(name="deeploc", source="deeploc",
                                description="DeepLoc 2017 data set, its test partition."),
      UniprotLocalizationConfig(name="swissprot",
                                description="Swiss-Prot SUBCELLULAR LOCATION, experimental."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "deeploc"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=records.localization_features(config.ends, config.encoding),
        metadata=tfds.core.MetadataDict(
            locations=list(DEEPLOC_LOCATIONS), ends=config.ends, encoding=config.encoding,
            source=config.source))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    proteins, skipped = read_manual_dir(str(dl_manager.manual_dir), config)
    representative = protein_clusters.cluster(
        {a: p.sequence for a, p in proteins.items()}, min_seq_id=config.min_seq_id,
        coverage=config.coverage, sensitivity=config.cluster_sensitivity,
        cluster_steps=config.cluster_steps)
    fixed_test = config.source == "deeploc" and config.deeploc_test_partition
    if fixed_test:
      # DeepLoc's test proteins, with every protein of their clusters, are the test split.
      test_clusters = {representative[a] for a, p in proteins.items() if p.test}
      split = {a: "test" for a, rep in representative.items() if rep in test_clusters}
      fractions = [(s, f) for s, f in config.split_fractions if s != "test"]
      split.update(protein_clusters.split_clusters(
          {a: rep for a, rep in representative.items() if a not in split}, fractions,
          config.seed))
    else:
      split = protein_clusters.split_clusters(representative, config.split_fractions,
                                              config.seed)
    self.info.metadata.update(
        num_proteins=len(proteins), num_clusters=len(set(representative.values())),
        skipped=skipped,
        proteins_per_split=dict(collections.Counter(split.values())),
        proteins_per_location=dict(collections.Counter(
            DEEPLOC_LOCATIONS[p.location] for p in proteins.values())),
        clustering=dict(tool="mmseqs easy-cluster", min_seq_id=config.min_seq_id,
                        coverage=config.coverage, sensitivity=config.cluster_sensitivity),
        deeploc_test_partition=fixed_test)
    return {s: self._generate_examples([(a, proteins[a]) for a in sorted(proteins)
                                        if split[a] == s])
            for s, _ in config.split_fractions}

  def _generate_examples(self, proteins) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for accession, protein in proteins:
      yield accession, records.localization_record(
          accession, protein.sequence, protein.location, protein.membrane, config.ends,
          config.encoding)
