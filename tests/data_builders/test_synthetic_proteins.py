"""``synthetic_proteins``: PTM labels follow the planted kinase/PTM motifs (decoys stay
negative), localisation classes follow their sorting signals, and builds write
``uniprot_ptm`` / ``uniprot_localization`` records with the truth kept."""

import numpy as np

from data_builders import synthetic_proteins as sp
from genereg_jax.data import encoding


def test_planted_motifs_match_their_rules_and_decoys_do_not():
  config = sp.SyntheticProteinsConfig(name="t")
  planted = decoys = 0
  for i in range(60):
    protein = sp.sample_ptm_protein(sp.example_rng(0, "train", i), config)
    assert set(protein.sequence) <= set(encoding.PROTEIN_ALPHABET[:20])
    for site, name in protein.planted.items():
      motif = name.removeprefix("decoy:")
      ptm_type = next(t for t, motifs in sp.PTM_RULES.items() if motif in motifs)
      matched = sp.matched_motifs(protein.sequence, site, ptm_type)
      if name.startswith("decoy:"):
        decoys += 1
        assert motif not in matched, (protein.sequence[site - 3:site + 4], name)
      else:
        planted += 1
        assert motif in matched, (protein.sequence[site - 3:site + 4], name)
  assert planted > 200 and decoys > 80
  # The rules themselves, on hand-written windows (site at index 3).
  assert sp.matched_motifs("ARRASA", 4, "phospho_ST") == ["PKA"]
  assert sp.matched_motifs("AAASPAKA", 3, "phospho_ST") == ["CDK"]
  assert sp.matched_motifs("AAATAAEA", 3, "phospho_ST") == ["CK2"]
  assert sp.matched_motifs("AAANPSA", 3, "glyco_N") == []
  assert sp.matched_motifs("AAANASA", 3, "glyco_N") == ["sequon"]
  assert sp.matched_motifs("EEIYA", 3, "phospho_Y") == ["SRC"]


def _build(tmp_path, **kwargs):
  config = sp.SyntheticProteinsConfig(name="t_" + kwargs.get("kind", "ptm"), **kwargs)
  builder = sp.SyntheticProteins(config=config, data_dir=str(tmp_path))
  builder.download_and_prepare(file_format="array_record")
  return builder


def test_ptm_windows_carry_rule_labels_with_stated_noise(tmp_path):
  builder = _build(tmp_path, num_train=40, num_valid=2, num_test=2, window=33,
                   length_range=(80, 160), negative_fraction=1.0, label_noise=0.05)
  metadata = builder.info.metadata
  assert metadata["ptm_types"] == list(sp.PTM_RULES) and metadata["window"] == 33
  assert metadata["encoding"] == "onehot" and metadata["kinases"] == list(sp.KINASES)
  records = list(builder.as_data_source()["train"])
  agree, kinase_sites = [], 0
  for r in records:
    assert r["sequence"].shape == (33, 21) and r["sequence"].dtype == np.uint8
    center = encoding.PROTEIN_ALPHABET[int(r["sequence"][16].argmax())]
    assert center == r["residue"].decode()
    mask = r["label_mask"] > 0
    np.testing.assert_array_equal(
        mask, [r["residue"].decode() in {"phospho_ST": "ST", "phospho_Y": "Y", "glyco_N": "N",
                                         "sumo_K": "K", "methyl_R": "R",
                                         "ubiquitin_K": "K"}[t] for t in sp.PTM_RULES])
    assert not r["label"][~mask].any()
    motifs = [m for m in r["motif"].decode().split("+") if m]
    truth = np.array([any(m in sp.PTM_RULES[t] for m in motifs) for t in sp.PTM_RULES])
    agree.extend(r["label"][mask] == truth[mask])
    np.testing.assert_array_equal(r["kinase"], [k in motifs for k in sp.KINASES])
    kinase_sites += bool(r["kinase"].any())
    if r["planted"].decode() in sp.KINASES:
      assert r["planted"].decode() in motifs
  # Noise drops 5% of positives and sets 0.5% of negatives: agreement ~98%.
  assert len(records) > 1500 and 0.95 < np.mean(agree) < 0.995, np.mean(agree)
  assert kinase_sites > 100


def test_localization_classes_follow_their_signals():
  config = sp.SyntheticProteinsConfig(name="t", kind="localization", length_range=(60, 1500))
  seen = set()
  for i in range(200):
    protein = sp.sample_localized_protein(sp.example_rng(0, "train", i), config)
    name = sp.DEEPLOC_LOCATIONS[protein.location]
    seen.add(name)
    sequence = protein.sequence
    if name not in ("Nucleus", "Cytoplasm", "Peroxisome", "Endoplasmic reticulum"):
      assert sequence.startswith("M")  # An N-terminal signal starts the protein.
    assert protein.membrane == int("tm" in protein.signals or "anchor_tm" in protein.signals)
    tails = {"Peroxisome": "SKL", "Lysosome/Vacuole": "GYQTI"}
    if name in tails:
      assert sequence.endswith(tails[name])
    if name == "Endoplasmic reticulum":
      assert sequence.endswith("KDEL" if protein.membrane == 0 else "KKAA")
    if name == "Nucleus":
      assert any(nls in sequence[:500] for nls in ("PKKKRKV", "PAAKRVKL", "KRPAATKKAGQAKKKK"))
    if name in ("Extracellular", "Cell membrane", "Lysosome/Vacuole"):
      # A-x-A ends the signal peptide within its first 30 residues.
      assert any(sequence[j] == "A" and sequence[j + 2] == "A" for j in range(10, 30))
  assert seen == set(sp.DEEPLOC_LOCATIONS)


def test_localization_build_keeps_both_termini_and_the_truth(tmp_path):
  builder = _build(tmp_path, kind="localization", num_train=30, num_valid=2, num_test=2,
                   length_range=(60, 400), ends=100, encoding="blosum62", label_noise=0.2)
  assert builder.info.metadata["locations"] == list(sp.DEEPLOC_LOCATIONS)
  assert builder.info.metadata["ends"] == 100
  records = list(builder.as_data_source()["train"])
  for r in records:
    assert r["sequence"].shape == (200, 20) and r["sequence"].dtype == np.float32
    length = int(r["length"])
    assert r["mask"].sum() == min(length, 200)
    assert not r["sequence"][r["mask"] == 0].any()
    assert r["membrane"] == int("tm" in r["signals"].decode().split(",")
                                or "anchor_tm" in r["signals"].decode())
    if r["signals"].decode().endswith("tail:SKL"):
      # The last residue (L) sits at the end of the window: BLOSUM62 L-L is 4.
      assert r["sequence"][-1][encoding.PROTEIN_ALPHABET.index("L")] == 4
  noisy = np.mean([r["location"] != r["true_location"] for r in records])
  assert 0 < noisy < 0.45
