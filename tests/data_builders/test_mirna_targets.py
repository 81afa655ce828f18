"""``mirna_targets``: MiRTDL's pair features, miRBase/TarBase-format reading with
file:line errors, the synthetic seed grammar, and a build from real-format files."""

import numpy as np
import pytest

from data_builders import mirna_targets
from data_builders.mirna_targets import features as pair
from data_builders.mirna_targets import mirna_targets as builder_module
from genereg_jax.data import pipeline
from genereg_jax.files import InputFormatError

LET7A = "UGAGGUAGUAGGUUGUAUAGUU"
MIR21 = "UAGCUUAUCAGACUGAUGUUGA"
# Sites end (3') facing miRNA nt 1: an 8mer of let-7a and a site with no seed match.
LET7_8MER = "GGAUCCAGGUAACUAUACAACCUACUACCUCA"
NO_SEED = "GGAUCCAGGUAACUAUACAACCUAGAGAGAGA"

MATURE_FA = f""">hsa-let-7a-5p MIMAT0000062 Homo sapiens let-7a-5p
{LET7A[:12]}
{LET7A[12:]}
>hsa-miR-21-5p MIMAT0000076 Homo sapiens miR-21-5p
{MIR21}
"""


def _tarbase(rows, header="geneId,geneName,mirna,species,method,positive_negative,site_sequence"):
  return header + "\n" + "\n".join(rows) + "\n"


def test_seed_types_and_features():
  assert pair.seed_type(LET7A, LET7_8MER) == "8mer"
  assert pair.seed_type(LET7A, LET7_8MER[:-1] + "G") == "7mer-m8"
  assert pair.seed_type(LET7A, NO_SEED) == "none"
  x = dict(zip(pair.FEATURE_NAMES, pair.pair_features(LET7A, LET7_8MER, 0.8)))
  assert len(pair.FEATURE_NAMES) == 20
  assert x["site_8mer"] == 1 and x["seed_matches"] == 7 and x["seed_mismatches"] == 0
  assert x["duplex_energy"] < -25 and x["conservation"] == pytest.approx(0.8)
  y = dict(zip(pair.FEATURE_NAMES, pair.pair_features(LET7A, NO_SEED)))
  assert y["site_8mer"] == 0 and y["duplex_energy"] > x["duplex_energy"]
  assert y["conservation"] == 0  # Not given.


def test_read_mirbase_and_tarbase(tmp_path):
  (tmp_path / "mature.fa").write_text(MATURE_FA)
  mirnas = mirna_targets.read_mirbase_fasta(tmp_path / "mature.fa")
  assert mirnas == {"hsa-let-7a-5p": LET7A, "hsa-miR-21-5p": MIR21}
  (tmp_path / "tarbase.csv").write_text(_tarbase([
      f"ENSG1,HMGA2,hsa-let-7a-5p,Homo sapiens,Luciferase,POSITIVE,{LET7_8MER}",
      f"ENSG2,FOO,hsa-miR-21-5p,Homo sapiens,Microarrays,NEGATIVE,{NO_SEED.replace('U', 'T')}"]))
  rows = mirna_targets.read_tarbase_table(tmp_path / "tarbase.csv", mirnas)
  assert [(r["mirna"], r["label"], r["gene"]) for r in rows] == [
      ("hsa-let-7a-5p", 1, "HMGA2"), ("hsa-miR-21-5p", 0, "FOO")]
  assert rows[1]["site"] == NO_SEED  # T read as U.


@pytest.mark.parametrize("row, message", [
    ("ENSG1,X,hsa-miR-999,Homo sapiens,PAR-CLIP,POSITIVE,ACGUACGUAC", "not in the miRBase"),
    ("ENSG1,X,hsa-let-7a-5p,Homo sapiens,PAR-CLIP,MAYBE,ACGUACGUAC", "POSITIVE or NEGATIVE"),
    ("ENSG1,X,hsa-let-7a-5p,Homo sapiens,PAR-CLIP,POSITIVE,ACGX", "site_sequence"),
    ("ENSG1,X,hsa-let-7a-5p,POSITIVE,ACGUACGUAC", "fields"),
])
def test_bad_rows_name_file_and_line(tmp_path, row, message):
  path = tmp_path / "tarbase.csv"
  path.write_text(_tarbase([f"ENSG0,Y,hsa-let-7a-5p,Homo sapiens,qPCR,POSITIVE,{LET7_8MER}",
                            row]))
  with pytest.raises(InputFormatError, match=rf"tarbase.csv:3: .*{message}"):
    mirna_targets.read_tarbase_table(path, {"hsa-let-7a-5p": LET7A})
  path.write_text("mirna,label\nhsa-let-7a-5p,1\n")
  with pytest.raises(InputFormatError, match="tarbase.csv:1: .*site_sequence"):
    mirna_targets.read_tarbase_table(path, {"hsa-let-7a-5p": LET7A})


def test_synthetic_grammar_is_the_truth():
  rng = np.random.default_rng(0)
  mirnas = [LET7A, MIR21]
  rows = mirna_targets.synthetic_pairs(rng, mirnas, 600)
  kinds = {r["site_type"] for r in rows}
  assert kinds == set(builder_module.SITE_TYPES)
  by_kind = {k: np.mean([r["probability"] for r in rows if r["site_type"] == k]) for k in kinds}
  assert by_kind["8mer"] > by_kind["7mer-m8"] > by_kind["6mer"] > by_kind["none"]
  labels = np.array([r["label"] for r in rows])
  probabilities = np.array([r["probability"] for r in rows])
  assert abs(labels.mean() - probabilities.mean()) < 0.05


def test_build_from_tarbase_files(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  (manual / "mature.fa").write_text(MATURE_FA)
  rng = np.random.default_rng(0)
  rows = []
  for i in range(40):
    site = "".join(rng.choice(list("ACGU"), 24)) + (LET7_8MER[-8:] if i % 2 else NO_SEED[-8:])
    rows.append(f"ENSG{i},G{i},hsa-let-7a-5p,Homo sapiens,CLASH,"
                f"{'POSITIVE' if i % 2 else 'NEGATIVE'},{site}")
  (manual / "tarbase.csv").write_text(_tarbase(rows))
  builder = pipeline.load_builder("mirna_targets/tarbase", str(tmp_path / "tfds"),
                                  build_if_missing=True, manual_dir=str(manual))
  sizes = {s: split.num_examples for s, split in builder.info.splits.items()}
  assert sum(sizes.values()) == 40 and sizes["train"] > 20
  example = builder.as_data_source("train")[0]
  assert example["features"].shape == (20,)
  assert example["features"][0] == example["label"][0]  # 8mer exactly on positives here.
