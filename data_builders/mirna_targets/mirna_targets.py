"""miRNA–target-site pairs for MiRTDL (Cheng et al., IEEE/ACM TCBB 2015).

Real data (config ``tarbase``; files in ``--manual_dir``):

* ``mature.fa``: miRBase mature sequences, FASTA, headers
  ``>hsa-let-7a-5p MIMAT0000062 Homo sapiens let-7a-5p`` (the name is the first word),
  sequences in U letters, possibly wrapped;
* ``tarbase.csv`` (or ``.tsv``/``.txt``; comma or tab, by the header): one pair per
  row with TarBase's column names ``mirna`` and ``positive_negative``
  (``POSITIVE``/``NEGATIVE``; or ``label`` 1/0), and ``site_sequence``: the target
  site, mRNA 5'->3', its last base facing miRNA nt 1 (TarBase v8 lists interactions,
  not sites; MiRTDL's pairs carry the site, so the table must add it). Optional
  ``conservation`` (a number per site) and ``geneName``. Bad rows raise
  `InputFormatError` with ``file:line``.

Pairs are split 80/10/10 by a hash of the miRNA and site (stable across builds); a
split left empty by a small table is not written.

Synthetic configs (``synthetic``, ``tiny``): 24 random 22-nt miRNAs; each pair's site
(30 nt) is random except its 3' end, planted as one of TargetScan's site types with
equal chance (8mer, 7mer-m8, 7mer-A1, 6mer, offset 6mer, or none) plus, half the time,
3'-supplementary pairing to miRNA nt 13-16. The pair is a functional target with
probability ``sigmoid(-2.5 + 4.5 [8mer] + 3.5 [7mer-m8] + 3 [7mer-A1] + 1.5 [6mer]
+ 0.8 [offset 6mer] + 1.2 [supplementary] + 3 (AU fraction of the site's 3' 18 nt
- 0.5))``, stored as ``probability`` so the Bayes-optimal AUROC is known.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import text
from genereg_jax.files import InputFormatError
from data_builders.mirna_targets import features as pair

SPLITS = ("train", "valid", "test")
SITE_LENGTH = 30
SITE_TYPES = ("8mer", "7mer-m8", "7mer-A1", "6mer", "offset-6mer", "none")
SITE_WEIGHTS = {"8mer": 4.5, "7mer-m8": 3.5, "7mer-A1": 3.0, "6mer": 1.5,
                "offset-6mer": 0.8, "none": 0.0}
SUPPLEMENTARY_WEIGHT, AU_WEIGHT, BIAS = 1.2, 3.0, -2.5


def read_mirbase_fasta(path) -> dict[str, str]:
  """``{name: sequence}`` from miRBase ``mature.fa`` (first word of each header)."""
  sequences: dict[str, list[str]] = {}
  name = None
  for number, line in text.numbered_lines(path):
    line = line.strip()
    if not line:
      continue
    if line.startswith(">"):
      name = line[1:].split()[0] if line[1:].strip() else None
      if not name:
        raise InputFormatError(path, number, "FASTA header without a name")
      sequences[name] = []
    elif name is None:
      raise InputFormatError(path, number, "sequence before the first '>' header")
    elif set(line.upper()) - set("ACGUTN"):
      raise InputFormatError(path, number, f"not a nucleotide sequence: {line[:30]!r}")
    else:
      sequences[name].append(line.upper().replace("T", "U"))
  return {k: "".join(v) for k, v in sequences.items()}


def read_tarbase_table(path, mirnas: dict[str, str]) -> list[dict]:
  """Rows of a TarBase-style table as ``{mirna, mirna_sequence, site, label,
  conservation, gene}`` (see the module docstring for the columns)."""
  lines = list(text.numbered_lines(path))
  if not lines:
    raise InputFormatError(path, 1, "empty table")
  delimiter = "\t" if "\t" in lines[0][1] else ","
  header = next(csv.reader([lines[0][1]], delimiter=delimiter))
  column = {name.strip(): i for i, name in enumerate(header)}
  missing = [c for c in ("mirna", "site_sequence") if c not in column]
  if missing or not ({"positive_negative", "label"} & set(column)):
    raise InputFormatError(path, 1, f"header needs columns mirna, site_sequence and "
                                    f"positive_negative (or label); missing "
                                    f"{missing or ['positive_negative']}; got {header}")
  rows = []
  for number, line in lines[1:]:
    if not line.strip():
      continue
    fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter))
    if len(fields) != len(header):
      raise InputFormatError(path, number, f"{len(fields)} fields, header has {len(header)}")
    get = lambda name: fields[column[name]].strip() if name in column else ""
    mirna = get("mirna")
    if mirna not in mirnas:
      raise InputFormatError(path, number, f"miRNA {mirna!r} is not in the miRBase FASTA")
    if "positive_negative" in column:
      value = get("positive_negative").upper()
      if value not in ("POSITIVE", "NEGATIVE"):
        raise InputFormatError(path, number, f"positive_negative must be POSITIVE or "
                                              f"NEGATIVE, got {value!r}")
      label = int(value == "POSITIVE")
    else:
      if get("label") not in ("0", "1"):
        raise InputFormatError(path, number, f"label must be 0 or 1, got {get('label')!r}")
      label = int(get("label"))
    site = get("site_sequence").upper().replace("T", "U")
    if len(site) < 8 or set(site) - set("ACGUN"):
      raise InputFormatError(path, number, f"site_sequence must be >= 8 nt of A/C/G/U/T, "
                                            f"got {site!r}")
    conservation = get("conservation")
    try:
      conservation = float(conservation) if conservation not in ("", "NA") else None
    except ValueError:
      raise InputFormatError(path, number, f"conservation is not a number: {conservation!r}"
                             ) from None
    rows.append(dict(mirna=mirna, mirna_sequence=mirnas[mirna], site=site, label=label,
                     conservation=conservation, gene=get("geneName")))
  return rows


def split_of(mirna: str, site: str) -> str:
  bucket = int(hashlib.sha1(f"{mirna}|{site}".encode()).hexdigest(), 16) % 10
  return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


def _complement(sequence: str) -> str:
  return sequence.translate(str.maketrans("ACGU", "UGCA"))[::-1]


def synthetic_pairs(rng: np.random.Generator, mirnas: list[str], n: int) -> list[dict]:
  """Pairs of the grammar in the module docstring, with ``probability`` and ``site_type``."""
  out = []
  for _ in range(n):
    index = int(rng.integers(len(mirnas)))
    mirna = mirnas[index]
    kind = SITE_TYPES[int(rng.integers(len(SITE_TYPES)))]
    site = list("".join(rng.choice(list("ACGU"), SITE_LENGTH)))
    # Position -1 faces miRNA nt 1; -k faces nt k.
    paired = {"8mer": range(2, 9), "7mer-m8": range(2, 9), "7mer-A1": range(2, 8),
              "6mer": range(2, 8), "offset-6mer": range(3, 9), "none": ()}[kind]
    for k in paired:
      site[-k] = _complement(mirna[k - 1])
    if kind in ("8mer", "7mer-A1"):
      site[-1] = "A"
    elif kind in ("7mer-m8", "6mer"):
      site[-1] = rng.choice(list("CGU"))
    # Break the neighbouring pairs so the type is exactly the one drawn.
    breaks = {"7mer-A1": (8,), "6mer": (8,), "offset-6mer": (2,), "none": (2, 5, 8)}
    for k in breaks.get(kind, ()):
      site[-k] = rng.choice([b for b in "ACGU" if b != _complement(mirna[k - 1])])
    supplementary = bool(rng.integers(2))
    if supplementary:
      for k in range(13, 17):
        site[-k] = _complement(mirna[k - 1])
    site = "".join(site)
    score = (BIAS + SITE_WEIGHTS[pair.seed_type(mirna, site)] + SUPPLEMENTARY_WEIGHT *
             supplementary + AU_WEIGHT * (pair._au(site[-18:]) - 0.5))
    probability = 1 / (1 + np.exp(-score))
    out.append(dict(mirna=f"synthetic-miR-{index}", mirna_sequence=mirna, site=site,
                    label=int(rng.uniform() < probability), conservation=None, gene="",
                    probability=float(probability), site_type=pair.seed_type(mirna, site)))
  return out


@dataclasses.dataclass
class MirnaTargetsConfig(tfds.core.BuilderConfig):
  """``synthetic``: pairs per split; ``tarbase``: read from ``manual_dir``."""
  synthetic: bool = True
  num_train: int = 8000
  num_valid: int = 1000
  num_test: int = 1000
  num_mirnas: int = 24
  seed: int = 0


class MirnaTargets(tfds.core.GeneratorBasedBuilder):
  """(miRNA, site) pairs -> 20 MiRTDL features and a target / non-target label."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put miRBase's mature.fa and a TarBase-style tarbase.csv (columns mirna, "
      "site_sequence, positive_negative [, conservation, geneName]) in manual_dir.")
  BUILDER_CONFIGS = [
      MirnaTargetsConfig(name="synthetic", description="Planted seed rules, 8k/1k/1k."),
      MirnaTargetsConfig(name="tiny", num_train=1500, num_valid=300, num_test=300,
                         description="Planted seed rules, for tests."),
      MirnaTargetsConfig(name="tarbase", synthetic=False,
                         description="TarBase-style table + miRBase mature.fa."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__,
        features=tfds.features.FeaturesDict({
            "features": tfds.features.Tensor(shape=(len(pair.FEATURE_NAMES),),
                                             dtype=np.float32),
            "label": tfds.features.Tensor(shape=(1,), dtype=np.int32),
            "probability": tfds.features.Scalar(dtype=np.float32),
            "mirna": tfds.features.Text(), "site": tfds.features.Text(),
            "gene": tfds.features.Text()}),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(feature_names=list(pair.FEATURE_NAMES),
                                        label_names=["target"]))

  def _input_paths(self, manual_dir) -> tuple[str, str]:
    names = os.listdir(manual_dir)
    table = [n for n in names if n.startswith("tarbase") and
             n.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz"))]
    fasta = [n for n in names if n.startswith("mature") and ".fa" in n]
    if len(table) != 1 or len(fasta) != 1:
      raise FileNotFoundError(f"{manual_dir} needs one tarbase.csv/.tsv and one mature.fa; "
                              f"found {sorted(names)}")
    return os.path.join(manual_dir, table[0]), os.path.join(manual_dir, fasta[0])

  def _split_generators(self, dl_manager):
    config = self.builder_config
    if config.synthetic:
      rng = np.random.default_rng([config.seed])
      mirnas = ["".join(rng.choice(list("ACGU"), 22)) for _ in range(config.num_mirnas)]
      sizes = dict(train=config.num_train, valid=config.num_valid, test=config.num_test)
      rows = {s: synthetic_pairs(np.random.default_rng([config.seed, i + 1]), mirnas,
                                 sizes[s]) for i, s in enumerate(SPLITS)}
    else:
      table, fasta = self._input_paths(dl_manager.manual_dir)
      all_rows = read_tarbase_table(table, read_mirbase_fasta(fasta))
      rows = {s: [r for r in all_rows if split_of(r["mirna"], r["site"]) == s] for s in SPLITS}
    # TFDS cannot write an empty split; a small table may leave valid or test empty.
    return {s: self._generate_examples(rows[s]) for s in SPLITS if rows[s]}

  def _generate_examples(self, rows) -> Iterator[tuple[str, dict]]:
    for index, row in enumerate(rows):
      yield str(index), {
          "features": pair.pair_features(row["mirna_sequence"], row["site"],
                                         row["conservation"]),
          "label": np.array([row["label"]], np.int32),
          "probability": np.float32(row.get("probability", -1.0)),
          "mirna": row["mirna"], "site": row["site"], "gene": row["gene"]}
