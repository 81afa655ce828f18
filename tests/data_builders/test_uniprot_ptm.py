"""``uniprot_ptm`` on records written in the real formats: Swiss-Prot flat file (gzipped),
Phospho.ELM dump, PhosphoSitePlus site dataset + FASTA, PLMD table; MMseqs2 cluster
splits keep homologs together; bad lines are reported as path:line."""

import gzip

import numpy as np
import pytest
import tensorflow_datasets as tfds
from real_formats import swissprot_entry

from data_builders import uniprot_ptm
from genereg_jax.data import encoding

_AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _random_protein(seed, length):
  return "".join(np.random.default_rng(seed).choice(_AMINO, length))


def _with(sequence, changes):
  """``sequence`` with 1-based ``{position: letter}`` changes."""
  residues = list(sequence)
  for position, letter in changes.items():
    residues[position - 1] = letter
  return "".join(residues)


_FAMILY = _with(_random_protein(1, 120), {1: "Q", 5: "S", 9: "Y", 20: "N", 22: "T", 30: "K",
                                          40: "K", 50: "C", 60: "R", 70: "P"})


def _swissprot_file(tmp_path):
  entries = [
      swissprot_entry("FAMA_HUMAN", "P10001", _FAMILY, [
          ("MOD_RES", "1", "Pyrrolidone carboxylic acid", "ECO:0000269|PubMed:1"),
          ("MOD_RES", "5", "Phosphoserine; by PKA and CDK1", "ECO:0000269|PubMed:2"),
          ("MOD_RES", "9", "Phosphotyrosine", "ECO:0007744|PubMed:3"),
          ("CARBOHYD", "20", "N-linked (GlcNAc...) asparagine", "ECO:0000255"),
          ("CROSSLNK", "30", "Glycyl lysine isopeptide (Lys-Gly) (interchain with G-Cter in "
           "ubiquitin)", "ECO:0000269|PubMed:4"),
          ("MOD_RES", "60", "Omega-N-methylarginine", "ECO:0000269|PubMed:5"),
          ("MOD_RES", "70", "4-hydroxyproline", "ECO:0000269|PubMed:6"),
          ("DISULFID", "50..55", None, None)]),
      # A close homolog (97% identical): must share P10001's split.
      swissprot_entry("FAMB_HUMAN", "P10002", _with(_FAMILY, {80: "A", 90: "G", 100: "L"}), [
          ("MOD_RES", "40", "N6-acetyllysine", "ECO:0000269|PubMed:7"),
          ("CROSSLNK", "30", "Glycyl lysine isopeptide (Lys-Gly) (interchain with G-Cter in "
           "SUMO2)", "ECO:0007744|PubMed:8")]),
      # Only a "by similarity" phosphosite: no experimental site, no windows.
      swissprot_entry("SIMI_HUMAN", "P10003", _with(_random_protein(3, 90), {10: "S"}), [
          ("MOD_RES", "10", "Phosphoserine", "ECO:0000250|UniProtKB:P10001")]),
  ]
  for i in range(7):  # Unrelated proteins with one palmitoylated cysteine each.
    sequence = _with(_random_protein(10 + i, 80), {12: "C"})
    entries.append(swissprot_entry(f"OTH{i}_HUMAN", f"Q2000{i}", sequence, [
        ("LIPID", "12", "S-palmitoyl cysteine", "ECO:0000269|PubMed:9")]))
  path = tmp_path / "uniprot_sprot.dat.gz"
  with gzip.open(path, "wt") as f:
    f.write("".join(entries))
  return path


def test_swissprot_features_map_to_musitedeep_types(tmp_path):
  proteins = uniprot_ptm.read_swissprot(str(_swissprot_file(tmp_path)))
  family = proteins["P10001"]
  assert family.sequence == _FAMILY
  assert family.sites == {1: {"pyrrolidone_Q"}, 5: {"phospho_ST"}, 9: {"phospho_Y"},
                          30: {"ubiquitin_K"}, 60: {"methyl_R"}, 70: {"hydroxy_P"}}
  assert family.kinases == {5: {"PKA", "CDK1"}}
  assert proteins["P10002"].sites == {40: {"acetyl_K"}, 30: {"sumo_K"}}
  assert proteins["P10003"].sites == {}  # ECO:0000250 (by similarity) is dropped ...
  everything = uniprot_ptm.read_swissprot(str(tmp_path / "uniprot_sprot.dat.gz"),
                                          experimental_only=False)
  assert everything["P10003"].sites == {10: {"phospho_ST"}}  # ... unless asked for.
  assert everything["P10001"].sites[20] == {"glyco_N"}
  assert uniprot_ptm.swissprot_types("CARBOHYD", "O-linked (GalNAc...) threonine") == {"glyco_O"}
  assert uniprot_ptm.swissprot_types("MOD_RES", "N6,N6,N6-trimethyllysine") == {"methyl_K"}
  assert uniprot_ptm.swissprot_types("MOD_RES", "5-hydroxylysine") == {"hydroxy_K"}
  assert uniprot_ptm.swissprot_types("MOD_RES", "Phosphohistidine") == set()


def test_swissprot_build_windows_labels_and_cluster_splits(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  _swissprot_file(manual)
  config = uniprot_ptm.UniprotPtmConfig(
      name="t", window=33, kinases=uniprot_ptm.KINASE_FAMILIES, cluster_sensitivity=1,
      cluster_steps=1, split_fractions=(("train", 0.5), ("valid", 0.25), ("test", 0.25)))
  builder = uniprot_ptm.UniprotPtm(config=config, data_dir=str(tmp_path / "data"))
  builder.download_and_prepare(
      file_format="array_record",
      download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
  metadata = builder.info.metadata
  types = list(uniprot_ptm.PTM_TYPES)
  assert metadata["ptm_types"] == types
  assert metadata["kinases"] == ["CDK", "CK2", "MAPK", "PKA", "PKC", "SRC"]
  # P10003 has no experimental site; 9 proteins in 8 clusters (the homologs share one).
  assert metadata["num_proteins"] == 9 and metadata["num_clusters"] == 8
  records, split_of = {}, {}
  for split in ("train", "valid", "test"):
    for r in builder.as_data_source()[split]:
      key = (r["protein_id"].decode(), int(r["position"]))
      records[key] = r
      split_of.setdefault(key[0], set()).add(split)
  assert all(len(s) == 1 for s in split_of.values())
  assert split_of["P10001"] == split_of["P10002"]
  assert "P10003" not in split_of
  site = records[("P10001", 5)]
  assert site["residue"] == b"S" and site["sequence"].shape == (33, 21)
  np.testing.assert_array_equal(site["sequence"][:12].sum(1), 0)  # 12 residues of padding.
  assert encoding.PROTEIN_ALPHABET[site["sequence"][16].argmax()] == "S"
  label = dict(zip(types, site["label"]))
  mask = dict(zip(types, site["label_mask"]))
  assert label["phospho_ST"] == 1 and mask["phospho_ST"] == mask["glyco_O"] == 1
  assert sum(site["label"]) == 1 and sum(site["label_mask"]) == 2
  np.testing.assert_array_equal(site["kinase"], [1, 0, 0, 1, 0, 0])  # CDK1 -> CDK, PKA.
  assert records[("P10001", 20)]["label"].sum() == 0  # ECO:0000255 glycan dropped.
  assert dict(zip(types, records[("P10002", 30)]["label"]))["sumo_K"] == 1
  # Every candidate residue of a kept protein is a window: S, T, Y, N, K, R, Q, C, P.
  candidates = sum(letter in "STYNKRQCP" for letter in _FAMILY)
  assert sum(1 for key in records if key[0] == "P10001") == candidates


def test_phospho_elm_dump(tmp_path):
  sequence = _with(_random_protein(5, 60), {7: "S", 15: "T", 33: "Y"})
  rows = [f"P20001\t{sequence}\t7\tS\t111\tPKA_alpha\tLTP\tHomo sapiens\t2004-12-31 00:00:00+01",
          f"P20001\t{sequence}\t15\tT\t222\t\tHTP\tHomo sapiens\t2004-12-31 00:00:00+01",
          f"P20001\t{sequence}\t33\tY\t333\tSrc,Abl\tLTP\tHomo sapiens\t2004-12-31 00:00:00+01"]
  path = tmp_path / "phosphoELM_all_2015-04.dump"
  path.write_text("\t".join(uniprot_ptm.uniprot_ptm.PHOSPHO_ELM_HEADER) + "\n"
                  + "\n".join(rows) + "\n")
  protein = uniprot_ptm.read_phospho_elm(str(path))["P20001"]
  assert protein.sites == {7: {"phospho_ST"}, 15: {"phospho_ST"}, 33: {"phospho_Y"}}
  assert protein.kinases == {7: {"PKA_alpha"}, 33: {"Src", "Abl"}}
  assert uniprot_ptm.kinase_family("PKA_alpha", uniprot_ptm.KINASE_FAMILIES) == "PKA"
  bad = tmp_path / "bad.dump"
  bad.write_text(path.read_text().replace("\t33\tY\t", "\t34\tY\t"))
  with pytest.raises(uniprot_ptm.PtmFormatError, match=r"bad.dump:4: residue 34 is"):
    uniprot_ptm.read_phospho_elm(str(bad))


def test_phosphositeplus_datasets_and_fasta(tmp_path):
  sequence = _with(_random_protein(6, 50), {4: "S", 12: "K", 20: "R", 30: "Y"})
  (tmp_path / "Phosphosite_seq.fasta").write_text(
      f">GN:ABC1|ABC protein 1|human|P30001\n{sequence[:30]}\n{sequence[30:]}\n")
  header = ("GENE\tPROTEIN\tACC_ID\tHU_CHR_LOC\tMOD_RSD\tSITE_GRP_ID\tORGANISM\tMW_kD\tDOMAIN\t"
            "SITE_+/-7_AA\tLT_LIT\tMS_LIT\tMS_CST\tCST_CAT#")
  preamble = "121623\nPhosphoSitePlus(R) (PSP) was created by Cell Signaling Technology.\n\n"

  def row(mod):
    return f"ABC1\tABC protein 1\tP30001\t1p36\t{mod}\t1\thuman\t5.5\t\tabcdefGsHIJKLMN\t1\t2\t\t"
  (tmp_path / "Phosphorylation_site_dataset").write_text(
      preamble + header + "\n" + "\n".join(row(m) for m in ("S4-p", "Y30-p", "S5-p")) + "\n")
  with gzip.open(tmp_path / "Methylation_site_dataset.gz", "wt") as f:
    f.write(preamble + header + "\n" + row("R20-m2") + "\n" + row("K12-m1") + "\n")
  proteins, skipped = uniprot_ptm.read_manual_dir(str(tmp_path), "phosphositeplus")
  assert proteins["P30001"].sites == {4: {"phospho_ST"}, 30: {"phospho_Y"}, 20: {"methyl_R"},
                                      12: {"methyl_K"}}
  assert skipped == 1  # S5-p: residue 5 of the FASTA sequence is not S.
  (tmp_path / "Ubiquitination_site_dataset").write_text(
      preamble + header + "\n" + row("K12ub") + "\n")
  with pytest.raises(uniprot_ptm.PtmFormatError,
                     match=r"Ubiquitination_site_dataset:5: MOD_RSD 'K12ub'"):
    uniprot_ptm.read_manual_dir(str(tmp_path), "phosphositeplus")


def test_plmd_table(tmp_path):
  sequence = _with(_random_protein(7, 40), {3: "K", 17: "K", 25: "K"})
  path = tmp_path / "Ubiquitination.elm"
  path.write_text("PLMD ID\tUniprot Accession\tType\tPosition\tSequence\tSpecies\tPMIDs\n"
                  f"PLMD-1\tP40001\tUbiquitination\t3\t{sequence}\tHomo sapiens\t1\n"
                  f"PLMD-2\tP40001\tSumoylation\t17\t{sequence}\tHomo sapiens\t2\n"
                  f"PLMD-3\tP40001\tCrotonylation\t25\t{sequence}\tHomo sapiens\t3\n")
  proteins, skipped = uniprot_ptm.read_plmd(str(path))
  assert proteins["P40001"].sites == {3: {"ubiquitin_K"}, 17: {"sumo_K"}} and skipped == 1
  path.write_text(path.read_text().replace("\tSumoylation\t17\t", "\tSumoylation\tx\t"))
  with pytest.raises(uniprot_ptm.PtmFormatError, match=r"Ubiquitination.elm:3: position 'x'"):
    uniprot_ptm.read_plmd(str(path))


def test_bad_swissprot_record_names_path_and_line(tmp_path):
  text = swissprot_entry("BAD_HUMAN", "P50001", "MKSTPAAKRS", [
      ("MOD_RES", "3", "Phosphoserine", "ECO:0000269|PubMed:1")])
  good = swissprot_entry("GOOD_HUMAN", "P50002", "MKSTPAAKRS")
  path = tmp_path / "bad.dat"
  path.write_text(good + text.replace("FT   MOD_RES         3", "FT   MOD_RES         x3"))
  line = (good + text).splitlines().index("FT   MOD_RES         3") + 1
  with pytest.raises(uniprot_ptm.PtmFormatError, match=rf"bad.dat:{line}: Swiss-Prot record"):
    uniprot_ptm.read_swissprot(str(path))
  path.write_text(good + text[:-3])  # No '//' at the end: a truncated download.
  with pytest.raises(uniprot_ptm.PtmFormatError, match=r"bad.dat:\d+: the last record has no"):
    uniprot_ptm.read_swissprot(str(path))


def test_musitedeep_annotated_fasta(tmp_path):
  # MusiteDeep's released training FASTA: '#' after each positive residue.
  (tmp_path / "train_allspecies_sequences_annotated.fasta").write_text(
      ">sp|O14639|ABLM1_HUMAN Actin-binding LIM protein 1 OS=Homo sapiens\n"
      "MPAFLGLKCLGKLCS#SEKSKVT#SSERTSARGS\nNRKRLIVEDRRVS#GTSF\n"
      ">sp|P00001|TEST_HUMAN Test\nMKRRAS#LLE\n")
  proteins, _ = uniprot_ptm.read_manual_dir(str(tmp_path), "musitedeep_fasta",
                                            ptm_types=("phospho_ST",))
  assert proteins["O14639"].sequence == "MPAFLGLKCLGKLCSSEKSKVTSSERTSARGSNRKRLIVEDRRVSGTSF"
  assert proteins["O14639"].sites == {15: {"phospho_ST"}, 22: {"phospho_ST"},
                                      45: {"phospho_ST"}}
  assert proteins["P00001"].sites == {6: {"phospho_ST"}}
  with pytest.raises(ValueError, match="one PTM type"):
    uniprot_ptm.read_manual_dir(str(tmp_path), "musitedeep_fasta",
                                ptm_types=("phospho_ST", "phospho_Y"))
