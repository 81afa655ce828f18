r"""PTM-site windows from UniProtKB/Swiss-Prot, Phospho.ELM, PhosphoSitePlus and PLMD.

MusiteDeep (Wang et al. 2017; 2020 web server), DeepPhos (Luo et al. 2019) and DeepUbi
(Fu et al. 2019) train on windows around annotated sites; the layout is in
``records.py`` (one window per candidate residue of a protein with at least one
annotated site of the config's types; the other candidates of that protein are the
negatives, as MusiteDeep's annotated FASTA).

Sources (``source`` of the config; files in ``manual_dir``):

* ``swissprot``: UniProtKB/Swiss-Prot flat files ``*.dat`` / ``*.dat.gz`` (e.g.
  ``uniprot_sprot.dat.gz``), read with Biopython's ``Bio.SwissProt``. Feature keys and
  descriptions (the ``/note`` up to its first ";") map to MusiteDeep's 13 types:

  =========  ============================================================  ==============
  key        description                                                   type
  =========  ============================================================  ==============
  MOD_RES    Phosphoserine, Phosphothreonine                               phospho_ST
  MOD_RES    Phosphotyrosine                                               phospho_Y
  CARBOHYD   N-linked (...) ...                                            glyco_N
  CARBOHYD   O-linked (...) ...                                            glyco_O
  CROSSLNK   Glycyl lysine isopeptide ... (interchain with G-Cter in       ubiquitin_K
             ubiquitin)
  CROSSLNK   ... (interchain with G-Cter in SUMO / SUMO1 / SUMO2 ...)      sumo_K
  MOD_RES    N6-acetyllysine                                               acetyl_K
  MOD_RES    any "...methyl...arginine" (Omega-N-methylarginine,           methyl_R
             Asymmetric/Symmetric dimethylarginine, ...)
  MOD_RES    any "...methyl...lysine" (N6-methyllysine, N6,N6-dimethyl-,   methyl_K
             N6,N6,N6-trimethyllysine, N6-methylated lysine)
  MOD_RES    Pyrrolidone carboxylic acid                                   pyrrolidone_Q
  LIPID      S-palmitoyl cysteine                                          palmitoyl_C
  MOD_RES    any "...hydroxyproline" (4-hydroxyproline, 3-hydroxyproline)  hydroxy_P
  MOD_RES    any "...hydroxylysine" (5-hydroxylysine, ...)                 hydroxy_K
  =========  ============================================================  ==============

  A type counts only on its residues (``PTM_TYPES``: "Pyrrolidone carboxylic acid" on E,
  O-linked glycans on K, are not sites of these types). With ``experimental_only`` (the
  default), as MusiteDeep dropped "By similarity" / "Probable" / "Potential"
  annotations, a feature is kept when its evidence includes ECO:0000269 (experimental)
  or ECO:0007744 (large-scale experiment), or, in old files without evidence tags, when
  its note lacks those words. Kinases come from notes such as "Phosphoserine; by PKA
  and CDK1".
* ``phospho_elm``: the Phospho.ELM dump (``*.dump``, e.g. ``phosphoELM_all_2015-04.dump``;
  Diella et al. 2008): tab-separated with the header ``acc sequence position code pmids
  kinases source species entry_date``; the full sequence on every row, 1-based
  ``position``, ``code`` the residue (S/T/Y), ``kinases`` comma-separated names or empty.
* ``phosphositeplus``: PhosphoSitePlus site datasets (``*_site_dataset`` or ``.gz``:
  Phosphorylation_, Ubiquitination_, Acetylation_, Methylation_, Sumoylation_,
  O-GlcNAc_, O-GalNAc_site_dataset; Hornbeck et al. 2015): three lines of date and
  licence, a blank line, then the tab-separated header ``GENE PROTEIN ACC_ID HU_CHR_LOC
  MOD_RSD SITE_GRP_ID ORGANISM MW_kD DOMAIN SITE_+/-7_AA ...``; ``MOD_RSD`` is
  residue, position and modification (``S15-p``, ``K6-ub``, ``K12-ac``, ``R3-m2``,
  ``K9-m1``/``-m2``/``-m3``/``-me``, ``K-sm``, ``S-gl``/``-ga``). Sequences come from
  ``Phosphosite_seq.fasta`` (``.gz``), headers ``>GN:gene|name|organism|ACC_ID`` (the
  accession is the last ``|`` field; UniProt ``>sp|ACC|NAME ...`` headers also work).
  A site whose residue differs from the FASTA sequence (another isoform) is skipped and
  counted in the metadata.
* ``musitedeep_fasta``: MusiteDeep's own training FASTA (``*.fasta`` / ``*.fa``, e.g.
  ``testdata/Phosphorylation/ST/train_allspecies_sequences_annotated.fasta`` in
  duolinwang/MusiteDeep_web): "residues followed by '#' are positive sites"; the file
  is for one PTM type, the config's single ``ptm_types`` entry.
* ``plmd``: PLMD (Xu et al. 2017) tables (``*.elm`` / ``*.txt``): tab-separated with a
  header naming at least ``Uniprot Accession``, ``Position``, ``Type`` and ``Sequence``
  (also ``PLMD ID``, ``Species``, ``PMIDs``); ``Type`` Ubiquitination -> ubiquitin_K,
  Sumoylation -> sumo_K, Acetylation -> acetyl_K, Methylation -> methyl_K,
  Hydroxylation -> hydroxy_K (others skipped and counted).

Kinase labels (``kinases`` of the config) are families matched by name prefix after
removing spaces, "_" and "-" and upper-casing, with the gene-name aliases PRKAC -> PKA,
PRKC -> PKC, CSNK2 -> CK2, ERK -> MAPK ("PKA_alpha", "CDK1", "CK2_alpha", "MAPK3",
"PRKCA" all match).

Splits: the proteins kept are clustered with MMseqs2 (`genereg_jax.data.protein_clusters`;
``min_seq_id`` 0.4 and coverage 0.8 by default, MusiteDeep removed test proteins over
40% identity with CD-HIT) and whole clusters go to train / valid / test (80/10/10), so no
test-cluster protein is in train. Metadata records the counts.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
import re
from collections.abc import Iterator, Sequence

import tensorflow_datasets as tfds

from data_builders.uniprot_ptm import records
from genereg_jax.data import protein_clusters
from genereg_jax.data import protein_files
from genereg_jax.data import text
from genereg_jax.files import InputFormatError

PTM_TYPES = records.PTM_TYPES
SPLITS = ("train", "valid", "test")
# Kinase families labelled by the phospho configs: those with many annotated substrates
# in Swiss-Prot / Phospho.ELM and with a consensus in `synthetic_proteins` (PKA, CDK, CK2,
# SRC), as kinase-specific predictors model them at family level.
KINASE_FAMILIES = ("CDK", "CK2", "MAPK", "PKA", "PKC", "SRC")
_KINASE_ALIASES = {"PRKAC": "PKA", "PRKC": "PKC", "CSNK2": "CK2", "ERK": "MAPK"}
_EXPERIMENTAL = ("ECO:0000269", "ECO:0007744")
_SPECULATIVE = re.compile(r"by similarity|probable|potential", re.IGNORECASE)
PSP_MODIFICATIONS = {"p": {"S": "phospho_ST", "T": "phospho_ST", "Y": "phospho_Y"},
                     "ub": "ubiquitin_K", "ac": "acetyl_K", "sm": "sumo_K",
                     "m1": "methyl", "m2": "methyl", "m3": "methyl", "me": "methyl",
                     "gl": "glyco_O", "ga": "glyco_O"}
PLMD_TYPES = {"Ubiquitination": "ubiquitin_K", "Sumoylation": "sumo_K",
              "Acetylation": "acetyl_K", "Methylation": "methyl_K",
              "Hydroxylation": "hydroxy_K"}
PHOSPHO_ELM_HEADER = ("acc", "sequence", "position", "code", "pmids", "kinases", "source",
                      "species", "entry_date")


class PtmFormatError(InputFormatError):
  """A PTM annotation file line that does not parse."""


@dataclasses.dataclass
class AnnotatedProtein:
  sequence: str
  sites: dict = dataclasses.field(default_factory=dict)  # 1-based position -> {type}
  kinases: dict = dataclasses.field(default_factory=dict)  # 1-based position -> {name}

  def add(self, position: int, ptm_type: str, kinases: Sequence[str] = ()) -> None:
    self.sites.setdefault(position, set()).add(ptm_type)
    if kinases:
      self.kinases.setdefault(position, set()).update(kinases)


def kinase_family(name: str, families: Sequence[str]) -> str | None:
  """The family of ``families`` a kinase name belongs to (module docstring), or None."""
  key = re.sub(r"[\s_\-]", "", name).upper()
  for alias, family in _KINASE_ALIASES.items():
    if key.startswith(alias):
      key = family
  return next((f for f in families if key.startswith(f.upper())), None)


def swissprot_types(key: str, description: str) -> set[str]:
  """MusiteDeep types a Swiss-Prot feature denotes (the table in the module docstring)."""
  lower = description.lower()
  if key == "MOD_RES":
    if description in ("Phosphoserine", "Phosphothreonine"):
      return {"phospho_ST"}
    found = {"Phosphotyrosine": "phospho_Y", "N6-acetyllysine": "acetyl_K",
             "Pyrrolidone carboxylic acid": "pyrrolidone_Q"}.get(description)
    if found:
      return {found}
    if "methyl" in lower and "arginine" in lower:
      return {"methyl_R"}
    if "methyl" in lower and "lysine" in lower:
      return {"methyl_K"}
    if "hydroxyproline" in lower:
      return {"hydroxy_P"}
    if "hydroxylysine" in lower:
      return {"hydroxy_K"}
  elif key == "CARBOHYD":
    return {"glyco_N"} if description.startswith("N-linked") else (
        {"glyco_O"} if description.startswith("O-linked") else set())
  elif key == "CROSSLNK" and "interchain with G-Cter in" in description:
    partner = description.split("interchain with G-Cter in")[1].strip(" )")
    return ({"ubiquitin_K"} if partner.startswith("ubiquitin")
            else {"sumo_K"} if partner.startswith("SUMO") else set())
  elif key == "LIPID" and description == "S-palmitoyl cysteine":
    return {"palmitoyl_C"}
  return set()


def _experimental(qualifiers: dict) -> bool:
  evidence = qualifiers.get("evidence")
  if evidence is not None:
    return any(code in evidence for code in _EXPERIMENTAL)
  return not _SPECULATIVE.search(qualifiers.get("note", ""))


def read_swissprot(path: str, experimental_only: bool = True) -> dict[str, AnnotatedProtein]:
  """Primary accession -> its sequence and sites (types and kinases) in a flat file."""
  proteins = {}
  for _, record in protein_files.swissprot_records(path, PtmFormatError):
    protein = AnnotatedProtein(record.sequence)
    for feature in record.features:
      note = feature.qualifiers.get("note", "")
      parts = [part.strip() for part in note.split(";")]
      types = swissprot_types(feature.type, parts[0])
      if not types or (experimental_only and not _experimental(feature.qualifiers)):
        continue
      by = next((p[3:] for p in parts if p.startswith("by ")), "")
      kinases = [k for k in re.split(r",\s*|\s+and\s+", by) if k]
      if feature.location is None:
        continue  # An unknown position ("?").
      position = int(feature.location.start) + 1
      for ptm_type in types:
        protein.add(position, ptm_type, kinases if ptm_type.startswith("phospho") else ())
    proteins[record.accessions[0]] = protein
  return proteins


def _tsv_rows(path: str, required: Sequence[str]) -> Iterator[tuple[int, dict]]:
  """``(line, {column: value})`` of a tab-separated table whose header has ``required``.

  Lines before the header (PhosphoSitePlus' date and licence) are skipped.
  """
  header = None
  for number, line in text.numbered_lines(path, PtmFormatError):
    fields = line.rstrip("\r\n").split("\t")
    if header is None:
      if all(column in fields for column in required):
        header = fields
      elif number > 10:
        raise PtmFormatError(path, 1, f"no header with the columns {list(required)} in the "
                                      "first 10 lines")
      continue
    if not line.strip():
      continue
    if len(fields) < len(header):
      raise PtmFormatError(path, number, f"{len(fields)} columns, the header has {len(header)}")
    yield number, dict(zip(header, fields))
  if header is None:
    raise PtmFormatError(path, 1, f"no header with the columns {list(required)}")


def _site_position(path: str, number: int, field: str, sequence: str, residue: str) -> int:
  position = text.ascii_int(field)
  if position is None or not 1 <= position <= len(sequence):
    raise PtmFormatError(path, number, f"position {field!r} is not a residue of the "
                                       f"{len(sequence)}-residue sequence")
  if sequence[position - 1] != residue.upper():
    raise PtmFormatError(path, number, f"residue {position} is {sequence[position - 1]!r}, "
                                       f"the row says {residue!r}")
  return position


def read_phospho_elm(path: str) -> dict[str, AnnotatedProtein]:
  """Accession -> sequence and phosphosites (with kinases) of a Phospho.ELM dump."""
  proteins = {}
  for number, row in _tsv_rows(path, PHOSPHO_ELM_HEADER):
    sequence = row["sequence"].strip().upper()
    protein = proteins.setdefault(row["acc"], AnnotatedProtein(sequence))
    if protein.sequence != sequence:
      raise PtmFormatError(path, number, f"{row['acc']} has another sequence on an earlier row")
    code = row["code"].strip()
    if code not in ("S", "T", "Y"):
      raise PtmFormatError(path, number, f"code {code!r} is not S, T or Y")
    position = _site_position(path, number, row["position"], sequence, code)
    kinases = [k.strip() for k in row["kinases"].split(",") if k.strip()]
    protein.add(position, "phospho_Y" if code == "Y" else "phospho_ST", kinases)
  return proteins


def _fasta_accession(header: str) -> str:
  """UniProt ``sp|ACC|NAME ...`` -> ACC; PhosphoSitePlus ``GN:gene|name|organism|ACC`` -> ACC."""
  if header.startswith(("sp|", "tr|")):
    return header.split("|")[1]
  return header.split("|")[-1].split()[0]


def read_phosphositeplus(datasets: Sequence[str], fasta: str
                         ) -> tuple[dict[str, AnnotatedProtein], int]:
  """Accession -> sequence and sites of PhosphoSitePlus datasets, and sites skipped."""
  sequences = {_fasta_accession(header): sequence
               for _, header, sequence in protein_files.read_protein_fasta(fasta, PtmFormatError)}
  proteins, skipped = {}, 0
  for path in datasets:
    for number, row in _tsv_rows(path, ("ACC_ID", "MOD_RSD")):
      match = re.fullmatch(r"([A-Z])(\d+)-([a-z0-9]+)", row["MOD_RSD"].strip())
      if match is None:
        raise PtmFormatError(path, number, f"MOD_RSD {row['MOD_RSD']!r} is not like 'S15-p'")
      residue, position, modification = match[1], int(match[2]), match[3]
      ptm_type = PSP_MODIFICATIONS.get(modification)
      if isinstance(ptm_type, dict):
        ptm_type = ptm_type.get(residue)
      elif ptm_type == "methyl":
        ptm_type = {"R": "methyl_R", "K": "methyl_K"}.get(residue)
      sequence = sequences.get(row["ACC_ID"].strip())
      if (ptm_type is None or sequence is None or position > len(sequence)
          or sequence[position - 1] != residue):
        skipped += 1  # Another modification, protein or isoform than the FASTA holds.
        continue
      proteins.setdefault(row["ACC_ID"].strip(), AnnotatedProtein(sequence)).add(
          position, ptm_type)
  return proteins, skipped


def read_plmd(path: str) -> tuple[dict[str, AnnotatedProtein], int]:
  """Accession -> sequence and lysine sites of a PLMD table, and rows of other types."""
  proteins, skipped = {}, 0
  for number, row in _tsv_rows(path, ("Uniprot Accession", "Position", "Type", "Sequence")):
    ptm_type = PLMD_TYPES.get(row["Type"].strip())
    if ptm_type is None:
      skipped += 1
      continue
    sequence = row["Sequence"].strip().upper()
    position = _site_position(path, number, row["Position"], sequence, "K")
    accession = row["Uniprot Accession"].strip()
    protein = proteins.setdefault(accession, AnnotatedProtein(sequence))
    if protein.sequence != sequence:
      raise PtmFormatError(path, number, f"{accession} has another sequence on an earlier row")
    protein.add(position, ptm_type)
  return proteins, skipped


def read_musitedeep_fasta(path: str, ptm_type: str) -> dict[str, AnnotatedProtein]:
  """Accession -> sequence and ``ptm_type`` sites of MusiteDeep's '#'-annotated FASTA."""
  proteins = {}
  for _, header, marked in protein_files.read_protein_fasta(path, PtmFormatError, marks="#"):
    protein = AnnotatedProtein(marked.replace("#", ""))
    residues = 0
    for letter in marked:
      if letter == "#":
        protein.add(residues, ptm_type)  # The residue just read (1-based).
      else:
        residues += 1
    proteins[_fasta_accession(header)] = protein
  return proteins


def _merge(into: dict[str, AnnotatedProtein], more: dict[str, AnnotatedProtein]) -> None:
  for accession, protein in more.items():
    if accession not in into:
      into[accession] = protein
    elif into[accession].sequence == protein.sequence:
      for position, types in protein.sites.items():
        for ptm_type in types:
          into[accession].add(position, ptm_type, sorted(protein.kinases.get(position, ())))


SOURCE_FILES = {
    "swissprot": ("*.dat", "*.dat.gz"),
    "phospho_elm": ("*.dump",),
    "phosphositeplus": ("*_site_dataset", "*_site_dataset.gz"),
    "plmd": ("*.elm", "*.txt"),
    "musitedeep_fasta": ("*.fasta", "*.fa"),
}


def read_manual_dir(manual_dir: str, source: str, experimental_only: bool = True,
                    ptm_types: Sequence[str] = ()) -> tuple[dict[str, AnnotatedProtein], int]:
  """All proteins with sites of ``source``'s files in ``manual_dir``, and sites skipped.

  ``ptm_types``: the one type of a ``musitedeep_fasta`` file.
  """
  if source == "musitedeep_fasta" and len(ptm_types) != 1:
    raise ValueError(f"a MusiteDeep annotated FASTA holds one PTM type; the config has "
                     f"{list(ptm_types)}")
  paths = sorted(p for pattern in SOURCE_FILES[source]
                 for p in glob.glob(os.path.join(manual_dir, pattern)))
  if not paths:
    raise FileNotFoundError(f"no {source} files ({', '.join(SOURCE_FILES[source])}) in "
                            f"{manual_dir}")
  proteins, skipped = {}, 0
  if source == "phosphositeplus":
    fasta = [p for name in ("Phosphosite_seq.fasta", "Phosphosite_seq.fasta.gz")
             for p in glob.glob(os.path.join(manual_dir, name))]
    if not fasta:
      raise FileNotFoundError(f"PhosphoSitePlus needs Phosphosite_seq.fasta in {manual_dir}")
    return read_phosphositeplus(paths, fasta[0])
  for path in paths:
    if source == "swissprot":
      found = read_swissprot(path, experimental_only)
    elif source == "phospho_elm":
      found = read_phospho_elm(path)
    elif source == "musitedeep_fasta":
      found = read_musitedeep_fasta(path, ptm_types[0])
    else:
      found, more = read_plmd(path)
      skipped += more
    _merge(proteins, found)
  return proteins, skipped


@dataclasses.dataclass(eq=False)
class UniprotPtmConfig(tfds.core.BuilderConfig):
  """Attributes:
    source: ``swissprot``, ``phospho_elm``, ``phosphositeplus``, ``plmd`` or
      ``musitedeep_fasta``.
    ptm_types: types labelled, in ``label`` order (keys of ``PTM_TYPES``).
    window: residues per window (odd; MusiteDeep 33, DeepUbi 31, DeepPhos 51).
    encoding: `genereg_jax.data.encoding.encode_protein` name.
    kinases: kinase families labelled (DeepPhos kinase-specific models).
    experimental_only: Swiss-Prot evidence filter (module docstring).
    min_seq_id, coverage: MMseqs2 clustering for the splits.
    cluster_sensitivity, cluster_steps: MMseqs2 ``-s`` and ``--cluster-steps``.
    split_fractions: (split, share of proteins) by whole clusters.
    seed: cluster-to-split order.
  """
  source: str = "swissprot"
  ptm_types: tuple[str, ...] = tuple(PTM_TYPES)
  window: int = 33
  encoding: str = "onehot"
  kinases: tuple[str, ...] = ()
  experimental_only: bool = True
  min_seq_id: float = 0.4
  coverage: float = 0.8
  cluster_sensitivity: float = 4.0
  cluster_steps: int | None = None
  split_fractions: tuple = (("train", 0.8), ("valid", 0.1), ("test", 0.1))
  seed: int = 0


class UniprotPtm(tfds.core.GeneratorBasedBuilder):
  """PTM-site windows from Swiss-Prot / Phospho.ELM / PhosphoSitePlus / PLMD (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put the source files in manual_dir: uniprot_sprot.dat.gz (musitedeep, phospho), "
      "PLMD .elm/.txt tables (deepubi), a Phospho.ELM .dump (phospho_elm), or "
      "PhosphoSitePlus *_site_dataset.gz + Phosphosite_seq.fasta (phosphositeplus), or "
      "MusiteDeep's *_annotated.fasta (musitedeep_fasta_*).")
  BUILDER_CONFIGS = [
      UniprotPtmConfig(name="musitedeep", description="MusiteDeep's 13 types, 33-residue "
                       "windows, from Swiss-Prot."),
      UniprotPtmConfig(name="phospho", ptm_types=("phospho_ST", "phospho_Y"), window=51,
                       kinases=KINASE_FAMILIES,
                       description="Phosphosites + kinase families, 51-residue windows "
                       "(DeepPhos), from Swiss-Prot."),
      UniprotPtmConfig(name="deepubi", source="plmd", ptm_types=("ubiquitin_K",), window=31,
                       description="PLMD ubiquitination (DeepUbi's source), 31 residues."),
      UniprotPtmConfig(name="phospho_elm", source="phospho_elm",
                       ptm_types=("phospho_ST", "phospho_Y"), window=51,
                       kinases=KINASE_FAMILIES, description="Phospho.ELM (DeepPhos)."),
      UniprotPtmConfig(name="phosphositeplus", source="phosphositeplus",
                       description="PhosphoSitePlus site datasets, 13 types, 33 residues."),
      UniprotPtmConfig(name="musitedeep_fasta_st", source="musitedeep_fasta",
                       ptm_types=("phospho_ST",), description="MusiteDeep's released S/T "
                       "phosphosite FASTA ('#' after sites), 33 residues."),
      UniprotPtmConfig(name="musitedeep_fasta_y", source="musitedeep_fasta",
                       ptm_types=("phospho_Y",), description="MusiteDeep's released Y "
                       "phosphosite FASTA, 33 residues."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "musitedeep"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=records.ptm_features(config.window, config.encoding, len(config.ptm_types),
                                      len(config.kinases)),
        metadata=tfds.core.MetadataDict(
            ptm_types=list(config.ptm_types), window=config.window, encoding=config.encoding,
            kinases=list(config.kinases), source=config.source))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    config = self.builder_config
    proteins, skipped = read_manual_dir(str(dl_manager.manual_dir), config.source,
                                        config.experimental_only, config.ptm_types)
    kept = {}
    for accession, protein in proteins.items():
      # Only the config's types, on residues that can carry them (no sites, no windows).
      sites = {p: {t for t in types if t in config.ptm_types
                   and p <= len(protein.sequence) and protein.sequence[p - 1] in PTM_TYPES[t][0]}
               for p, types in protein.sites.items()}
      protein.sites = {p: types for p, types in sites.items() if types}
      if protein.sites:
        kept[accession] = protein
    split, num_clusters = protein_clusters.cluster_splits(
        {a: p.sequence for a, p in kept.items()}, config.split_fractions, config.seed,
        min_seq_id=config.min_seq_id, coverage=config.coverage,
        sensitivity=config.cluster_sensitivity, cluster_steps=config.cluster_steps)
    self.info.metadata.update(
        num_proteins=len(kept), num_clusters=num_clusters, skipped_sites=skipped,
        proteins_per_split=dict(collections.Counter(split.values())),
        clustering=dict(tool="mmseqs easy-cluster", min_seq_id=config.min_seq_id,
                        coverage=config.coverage, sensitivity=config.cluster_sensitivity))
    return {s: self._generate_examples([(a, kept[a]) for a in sorted(kept) if split[a] == s])
            for s, _ in config.split_fractions}

  def _generate_examples(self, proteins) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for accession, protein in proteins:
      families = {p: {f for k in names if (f := kinase_family(k, config.kinases))}
                  for p, names in protein.kinases.items()}
      for position, record in records.site_windows(
          accession, protein.sequence, protein.sites, config.ptm_types, config.window,
          config.encoding, config.kinases, families):
        yield f"{accession}_{position}", record
