r"""mRNA localisation fractions (CeFra-seq, APEX-RIP) for RNATracker (Yan et al. 2019).

Inputs (``manual_dir``), either layout:

* RNATracker's screened FASTA (``Data/cefra-seq/cefra_seq_cDNA_screened.fa``,
  ``Data/apex-rip/apex_rip_cDNA_screened.fa`` in HarveyYan/RNATracker): one record per
  gene, the header ``>ID gene_biotype:B transcript_biotype:B dist:f1_f2_f3_f4`` and the
  cDNA of its longest protein-coding isoform on one or more lines. As the released
  loader, only ``gene_biotype:protein_coding`` records are kept.
* ``fractions.tsv`` + ``transcripts.fa``: a fraction table with a header, the id in the
  first column and one column per compartment (named as the config's
  ``compartments``; other columns ignored), and a transcript FASTA whose record names
  (first word of the header) are those ids, e.g. the CeFra-seq (Lefebvre et al. 2017)
  or APEX-RIP (Kaewsapsak et al. 2017) fractions averaged over replicates.

Fractions are normalised to sum to 1 (the released ``label_dist``); rows that sum to 0
are dropped. Each cDNA (T or U) is cut or padded to ``max_length`` by the released
rule (Keras ``pad_sequences`` defaults): the last ``max_length`` nt are kept, so the 3'
UTR stays, and shorter ones are padded with all-zero columns at the 5' start.

Structure channels (configs with ``structure=True``): RNAplfold (ViennaRNA's Python
bindings, Lorenz et al. 2011; window ``plfold_window``, base-pair span
``plfold_span``) on the kept sequence gives, per nucleotide, the probability of being
paired and of being unpaired in an exterior loop, hairpin loop, interior loop or
multiloop (``STRUCTURE_CHANNELS``; the five sum to 1): the ensemble counterpart of the
released annotation's stem / dangling end / hairpin / internal / multi-loop letters.
Padding has all-zero structure. W and L are our choice (the paper's are not stated in
what we read).

Splits: 10 folds by a hash of the id (RNATracker used 10-fold cross-validation with a
shuffled KFold): fold 0 is ``test``, fold 1 ``valid``, the rest ``train``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import text
from genereg_jax.files import InputFormatError

CEFRA_SEQ_COMPARTMENTS = ("cytosol", "insoluble", "membrane", "nuclear")
APEX_RIP_COMPARTMENTS = ("KDEL", "Mito", "NES", "NLS")
STRUCTURE_CHANNELS = ("paired", "exterior", "hairpin", "interior", "multiloop")
SPLITS = ("train", "valid", "test")
SCREENED_FASTA_NAMES = ("cefra_seq_cDNA_screened.fa", "apex_rip_cDNA_screened.fa")
TABLE_NAME, FASTA_NAME = "fractions.tsv", "transcripts.fa"


class LocalizationFormatError(InputFormatError):
  """A localisation table or FASTA line that does not parse."""


def keep_last(sequence: str, max_length: int) -> np.ndarray:
  """``uint8[max_length, 4]`` one-hot of the last ``max_length`` nt, zero-padded at the start."""
  kept = sequence[-max_length:]
  out = np.zeros((max_length, 4), np.uint8)
  out[max_length - len(kept):] = encoding.one_hot_dna(kept)
  return out


def plfold_channels(sequence: str, window: int = 150, span: int = 100) -> np.ndarray:
  """``float32[len, 5]``: RNAplfold P(paired) and P(unpaired) per loop type (module doc)."""
  import RNA  # ViennaRNA; imported here so the package imports without it.
  rna = sequence.upper().replace("T", "U")
  model = RNA.md()
  model.window_size = min(window, len(rna))
  model.max_bp_span = min(span, len(rna))
  fold = RNA.fold_compound(rna, model, RNA.OPTION_WINDOW)
  unpaired = np.zeros((len(rna), 4), np.float64)
  loops = (RNA.EXT_LOOP, RNA.HP_LOOP, RNA.INT_LOOP, RNA.MB_LOOP)

  def collect(values, size, i, max_size, what, data):
    del size, max_size
    if what & RNA.PROBS_WINDOW_UP and values is not None:
      kind = what & ~(RNA.PROBS_WINDOW_UP | RNA.PROBS_WINDOW_UP_SPLIT)
      if kind in loops:
        data[i - 1, loops.index(kind)] = values[1] or 0.0  # Unpaired stretches of length 1.

  fold.probs_window(1, RNA.PROBS_WINDOW_UP | RNA.PROBS_WINDOW_UP_SPLIT, collect, unpaired)
  unpaired = np.clip(unpaired, 0.0, 1.0)
  paired = np.clip(1.0 - unpaired.sum(-1, keepdims=True), 0.0, 1.0)
  return np.concatenate([paired, unpaired], axis=-1).astype(np.float32)


def structure_track(sequence: str, max_length: int, window: int, span: int) -> np.ndarray:
  """``float32[max_length, 5]`` structure of the kept sequence, aligned with `keep_last`."""
  kept = sequence[-max_length:]
  out = np.zeros((max_length, len(STRUCTURE_CHANNELS)), np.float32)
  out[max_length - len(kept):] = plfold_channels(kept, window, span)
  return out


def _check_sequence(path: str, number: int, sequence: str) -> str:
  sequence = sequence.upper()
  bad = set(sequence) - set("ACGTUN")
  if bad:
    raise LocalizationFormatError(path, number, f"letters {sorted(bad)} in a cDNA sequence")
  return sequence


def read_fasta(path: str) -> dict[str, tuple[int, str]]:
  """``{name: (header line number, sequence)}`` of a small transcript FASTA."""
  records: dict[str, tuple[int, list[str]]] = {}
  name = None
  for number, line in text.numbered_lines(path, LocalizationFormatError):
    line = line.strip()
    if line.startswith(">"):
      if not line[1:].split():
        raise LocalizationFormatError(path, number, "a FASTA header without a name")
      name = line[1:].split()[0]
      if name in records:
        raise LocalizationFormatError(path, number, f"duplicate FASTA record {name!r}")
      records[name] = (number, [])
    elif line:
      if name is None:
        raise LocalizationFormatError(path, number, "sequence before the first '>' header")
      records[name][1].append(_check_sequence(path, number, line))
  return {n: (number, "".join(parts)) for n, (number, parts) in records.items()}


def read_screened_fasta(path: str, num_compartments: int
                        ) -> Iterator[tuple[str, str, np.ndarray]]:
  """``(id, cDNA, fractions)`` of the protein-coding genes of an RNATracker FASTA."""
  headers = {}
  for number, line in text.numbered_lines(path, LocalizationFormatError):
    if not line.startswith(">"):
      continue
    fields = line[1:].split()
    tags = dict(f.split(":", 1) for f in fields[1:] if ":" in f)
    if len(fields) < 4 or not {"gene_biotype", "dist"} <= set(tags):
      raise LocalizationFormatError(path, number, "expected '>ID gene_biotype:B "
                                    "transcript_biotype:B dist:f1_f2_f3_f4'")
    try:
      dist = np.array([float(v) for v in tags["dist"].split("_")], np.float64)
    except ValueError:
      raise LocalizationFormatError(path, number, f"dist:{tags['dist']} is not numbers "
                                    "joined by '_'") from None
    if len(dist) != num_compartments or not np.all(np.isfinite(dist)) or (dist < 0).any():
      raise LocalizationFormatError(path, number, f"dist has {len(dist)} values, need "
                                    f"{num_compartments} non-negative numbers")
    headers[fields[0]] = (tags["gene_biotype"], dist)
  for name, (number, sequence) in read_fasta(path).items():
    biotype, dist = headers[name]
    if biotype == "protein_coding" and dist.sum() > 0 and sequence:
      yield name, sequence, dist / dist.sum()


def read_fraction_table(path: str, compartments: Sequence[str]
                        ) -> Iterator[tuple[int, str, np.ndarray]]:
  """``(line number, id, fractions)`` of each row of ``fractions.tsv`` (module doc)."""
  columns = None
  for number, line in text.numbered_lines(path, LocalizationFormatError):
    fields = line.rstrip("\r\n").split("\t")
    if not line.strip() or line.startswith("#"):
      continue
    if columns is None:
      missing = [c for c in compartments if c not in fields[1:]]
      if missing:
        raise LocalizationFormatError(path, number, f"header lacks compartment columns "
                                      f"{missing}; has {fields[1:]}")
      columns = [fields.index(c) for c in compartments]
      width = len(fields)
      continue
    if len(fields) != width:
      raise LocalizationFormatError(path, number, f"{len(fields)} columns, the header has "
                                    f"{width}")
    try:
      values = np.array([float(fields[c]) for c in columns], np.float64)
    except ValueError:
      raise LocalizationFormatError(path, number, "a compartment fraction is not a number"
                                    ) from None
    if not np.all(np.isfinite(values)) or (values < 0).any():
      raise LocalizationFormatError(path, number, "fractions must be finite and >= 0")
    yield number, fields[0], values
  if columns is None:
    raise LocalizationFormatError(path, 1, "empty table: no header")


def read_manual_dir(manual_dir: str, compartments: Sequence[str]
                    ) -> Iterator[tuple[str, str, np.ndarray]]:
  """``(id, cDNA, fractions summing to 1)`` from either input layout (module doc)."""
  for name in SCREENED_FASTA_NAMES:
    if os.path.isfile(os.path.join(manual_dir, name)):
      yield from read_screened_fasta(os.path.join(manual_dir, name), len(compartments))
      return
  table, fasta = os.path.join(manual_dir, TABLE_NAME), os.path.join(manual_dir, FASTA_NAME)
  if not (os.path.isfile(table) and os.path.isfile(fasta)):
    raise FileNotFoundError(f"{manual_dir} has neither {' nor '.join(SCREENED_FASTA_NAMES)} "
                            f"nor {TABLE_NAME} + {FASTA_NAME}")
  sequences = read_fasta(fasta)
  for number, name, values in read_fraction_table(table, compartments):
    if name not in sequences:
      raise LocalizationFormatError(table, number, f"{name!r} is not a record of {fasta}")
    if values.sum() > 0 and sequences[name][1]:
      yield name, sequences[name][1], values / values.sum()


def split_of(name: str) -> str:
  """``test`` for hash fold 0, ``valid`` for fold 1, else ``train`` (10 folds)."""
  fold = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 10
  return "test" if fold == 0 else "valid" if fold == 1 else "train"


def localization_features(max_length: int, num_compartments: int,
                          structure: bool) -> tfds.features.FeaturesDict:
  """The record layout shared with ``synthetic_rna``'s localisation configs."""
  features = {
      "id": tfds.features.Text(),
      "sequence": tfds.features.Tensor(shape=(max_length, 4), dtype=np.uint8),
      "fractions": tfds.features.Tensor(shape=(num_compartments,), dtype=np.float32),
      "length": tfds.features.Scalar(dtype=np.int32),
  }
  if structure:
    features["structure"] = tfds.features.Tensor(
        shape=(max_length, len(STRUCTURE_CHANNELS)), dtype=np.float32)
  return tfds.features.FeaturesDict(features)


def localization_record(name: str, sequence: str, fractions: np.ndarray, max_length: int,
                        structure: bool, window: int, span: int) -> dict:
  record = {"id": name, "sequence": keep_last(sequence, max_length),
            "fractions": np.asarray(fractions, np.float32),
            "length": np.int32(min(len(sequence), max_length))}
  if structure:
    record["structure"] = structure_track(sequence, max_length, window, span)
  return record


@dataclasses.dataclass(eq=False)
class RnaLocalizationConfig(tfds.core.BuilderConfig):
  """Attributes:
    compartments: fraction columns, in the order of the released ``dist`` field.
    max_length: nt kept per transcript (RNATracker: 4,000).
    structure: add RNAplfold structure channels.
    plfold_window: RNAplfold ``-W``.
    plfold_span: RNAplfold ``-L``.
  """
  compartments: tuple[str, ...] = CEFRA_SEQ_COMPARTMENTS
  max_length: int = 4000
  structure: bool = False
  plfold_window: int = 150
  plfold_span: int = 100


class RnaLocalization(tfds.core.GeneratorBasedBuilder):
  """CeFra-seq / APEX-RIP localisation fractions + cDNA (module docstring)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put RNATracker's cefra_seq_cDNA_screened.fa or apex_rip_cDNA_screened.fa "
      "(github.com/HarveyYan/RNATracker, Data/), or fractions.tsv + transcripts.fa, in "
      "manual_dir.")
  BUILDER_CONFIGS = [
      RnaLocalizationConfig(name="cefra_seq", description="CeFra-seq (HEK293T), 4 fractions."),
      RnaLocalizationConfig(name="cefra_seq_structure", structure=True,
                            description="CeFra-seq + RNAplfold structure channels."),
      RnaLocalizationConfig(name="apex_rip", compartments=APEX_RIP_COMPARTMENTS,
                            description="APEX-RIP (HEK293T): ER, mito, cytosol, nucleus."),
      RnaLocalizationConfig(name="apex_rip_structure", compartments=APEX_RIP_COMPARTMENTS,
                            structure=True, description="APEX-RIP + structure channels."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "cefra_seq"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=localization_features(config.max_length, len(config.compartments),
                                       config.structure),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            compartments=list(config.compartments), max_length=config.max_length,
            structure_channels=list(STRUCTURE_CHANNELS) if config.structure else []))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    records = list(read_manual_dir(str(dl_manager.manual_dir), self.builder_config.compartments))
    return {split: self._generate_examples([r for r in records if split_of(r[0]) == split])
            for split in SPLITS}

  def _generate_examples(self, records) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for name, sequence, fractions in records:
      yield name, localization_record(name, sequence, fractions, config.max_length,
                                      config.structure, config.plfold_window,
                                      config.plfold_span)
