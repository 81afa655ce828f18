"""``uniprot_localization`` on records written in the real formats: Swiss-Prot
SUBCELLULAR LOCATION comments -> DeepLoc's 10 classes + membrane, and DeepLoc's 2017
FASTA headers; builds keep both termini, DeepLoc's test partition, and homologs in one
split; bad headers are reported as path:line."""

import gzip

import numpy as np
import pytest
import tensorflow_datasets as tfds
from real_formats import swissprot_entry

from data_builders import uniprot_localization as loc
from genereg_jax.data import encoding

_AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _protein(seed, length):
  return "".join(np.random.default_rng(seed).choice(_AMINO, length))


def _comment(text):
  return f"SUBCELLULAR LOCATION: {text}"


def test_subcellular_location_comments_map_to_deeploc_classes(tmp_path):
  entries = {
      "NUC1": ("Nucleus {ECO:0000269|PubMed:1}. Note=Shuttles to the cytoplasm. "
               "{ECO:0000269|PubMed:1}.",),
      "MEM1": ("Cell membrane {ECO:0000269|PubMed:2}; Single-pass type I membrane protein "
               "{ECO:0000255}.",),
      "ERM1": ("Endoplasmic reticulum membrane {ECO:0000269|PubMed:3}; Multi-pass membrane "
               "protein {ECO:0000255}.",),
      "MIT1": ("Mitochondrion matrix {ECO:0000269|PubMed:4}.",),
      "SEC1": ("Secreted {ECO:0000269|PubMed:5}.",),
      "GOL1": ("Golgi apparatus, cis-Golgi network membrane {ECO:0000269|PubMed:6}; "
               "Peripheral membrane protein {ECO:0000269|PubMed:6}; Cytoplasmic side.",
               "[Isoform 2]: Nucleus {ECO:0000269|PubMed:6}."),
      "DUAL": ("Nucleus {ECO:0000269|PubMed:7}. Cytoplasm {ECO:0000269|PubMed:7}.",),
      "SIMI": ("Peroxisome {ECO:0000250|UniProtKB:P10001}.",),
  }
  text = "".join(swissprot_entry(f"{name}_HUMAN", f"P0000{i}", _protein(i, 120 + 500 * i % 900),
                                 comments=[_comment(c) for c in comments])
                 for i, (name, comments) in enumerate(entries.items()))
  text += swissprot_entry("BACT_ECOLI", "P00010", _protein(10, 200),
                          comments=[_comment("Cytoplasm {ECO:0000269|PubMed:8}.")],
                          lineage="Bacteria; Pseudomonadota; Gammaproteobacteria")
  text += swissprot_entry("SHRT_HUMAN", "P00011", _protein(11, 30),
                          comments=[_comment("Nucleus {ECO:0000269|PubMed:9}.")])
  path = tmp_path / "uniprot_sprot.dat.gz"
  with gzip.open(path, "wt") as f:
    f.write(text)
  proteins, skipped = loc.read_swissprot(str(path))
  got = {a: (loc.DEEPLOC_LOCATIONS[p.location], p.membrane) for a, p in proteins.items()}
  assert got == {"P00000": ("Nucleus", 0), "P00001": ("Cell membrane", 1),
                 "P00002": ("Endoplasmic reticulum", 1), "P00003": ("Mitochondrion", 0),
                 "P00004": ("Extracellular", 0), "P00005": ("Golgi apparatus", 1)}
  assert skipped == {"several classes": 1, "no location": 1, "kingdom": 1,
                     "short or fragment": 1}
  everything, _ = loc.read_swissprot(str(path), experimental_only=False)
  assert loc.DEEPLOC_LOCATIONS[everything["P00007"].location] == "Peroxisome"
  assert loc.deeploc_class("Plastid, chloroplast stroma") == "Plastid"
  assert loc.deeploc_class("Vacuole membrane") == "Lysosome/Vacuole"
  assert loc.deeploc_class("Cell projection, cilium") is None


def _deeploc_fasta(path):
  family = _protein(1, 1300)
  records = [
      ("Q9H400 Cell.membrane-M test", family),
      ("Q9H401 Cell.membrane-M", family[:700] + "W" + family[701:]),  # Homolog, not test.
      ("Q5I0E9 Cytoplasm-S", _protein(2, 300)),
      ("P63033 Cytoplasm-Nucleus-U", _protein(3, 150)),
      ("P11111 Lysosome/Vacuole-U test", _protein(4, 60)),
      ("P22222 Endoplasmic.reticulum-S", _protein(5, 400)),
  ]
  records += [(f"Q0000{i} Nucleus-S", _protein(10 + i, 200)) for i in range(6)]
  path.write_text("".join(f">{h}\n" + "\n".join(s[i:i + 60] for i in range(0, len(s), 60))
                          + "\n" for h, s in records))
  return dict(records)


def test_deeploc_fasta_build_keeps_termini_and_test_partition(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  records = _deeploc_fasta(manual / "deeploc_data.fasta")
  proteins, skipped = loc.read_deeploc_fasta(str(manual / "deeploc_data.fasta"))
  assert skipped == {"several classes": 1} and len(proteins) == 11
  assert proteins["P11111"].membrane == -1 and proteins["P11111"].test
  assert loc.DEEPLOC_LOCATIONS[proteins["P22222"].location] == "Endoplasmic reticulum"
  config = loc.UniprotLocalizationConfig(name="t", source="deeploc", cluster_sensitivity=1,
                                         cluster_steps=1)
  builder = loc.UniprotLocalization(config=config, data_dir=str(tmp_path / "data"))
  builder.download_and_prepare(
      file_format="array_record", download_config=tfds.download.DownloadConfig(
          manual_dir=str(manual)))
  metadata = builder.info.metadata
  assert metadata["locations"][:3] == ["Nucleus", "Cytoplasm", "Extracellular"]
  assert metadata["ends"] == 500 and metadata["encoding"] == "blosum62"
  assert metadata["num_proteins"] == 11 and metadata["num_clusters"] == 10  # One pair.
  data = {s: {r["protein_id"].decode(): r for r in builder.as_data_source()[s]}
          for s in ("train", "valid", "test")}
  # DeepLoc's test proteins and the homolog in Q9H400's cluster.
  assert set(data["test"]) == {"Q9H400", "Q9H401", "P11111"}
  assert len(data["train"]) + len(data["valid"]) == 8 and len(data["valid"]) >= 1
  long = data["test"]["Q9H400"]
  assert long["sequence"].shape == (1000, 20) and long["mask"].all()
  assert long["length"] == 1300 and long["membrane"] == 1
  assert long["location"] == loc.DEEPLOC_LOCATIONS.index("Cell membrane")
  expected = encoding.encode_protein(records["Q9H400 Cell.membrane-M test"][-500:], "blosum62")
  np.testing.assert_array_equal(long["sequence"][500:], expected)  # The last 500 residues.
  short = data["test"]["P11111"]
  assert short["mask"].sum() == 60 and short["membrane"] == -1
  assert not short["sequence"][30:970].any()  # Padding in the middle, termini in place.


def test_bad_deeploc_headers_name_path_and_line(tmp_path):
  path = tmp_path / "deeploc_data.fasta"
  path.write_text(">Q1 Nucleus-S\nMKV\n>Q2 Nucleus\nMKV\n")
  with pytest.raises(loc.LocalizationFormatError, match=r"deeploc_data.fasta:3: header"):
    loc.read_deeploc_fasta(str(path))
  path.write_text(">Q1 Nucleus-S\nMKV\n>Q2 Golgi-M\nMKV\n")
  with pytest.raises(loc.LocalizationFormatError, match=r"fasta:3: 'Golgi' is none of"):
    loc.read_deeploc_fasta(str(path))
  path.write_text(">Q1 Nucleus-S\nMK1V\n")
  with pytest.raises(loc.LocalizationFormatError, match=r"fasta:2: '1' is not an amino"):
    loc.read_deeploc_fasta(str(path))
