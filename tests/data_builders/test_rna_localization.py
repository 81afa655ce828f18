"""``rna_localization`` on records written as RNATracker's screened FASTA and as a
fraction table + FASTA: protein-coding genes only, fractions normalised, the released
keep-the-3'-end rule, RNAplfold channels, path:line errors."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import rna_localization


def _gene(rng, length):
  return "".join(rng.choice(list("ACGT"), length))


def _write_screened(path, rng):
  genes = {}
  with open(path, "w") as f:
    for i in range(30):
      gid = f"ENSG{i:011d}"
      biotype = "lincRNA" if i == 3 else "protein_coding"
      dist = rng.dirichlet(np.ones(4)) * 10
      sequence = _gene(rng, int(rng.integers(100, 400)))
      f.write(f">{gid} gene_biotype:{biotype} transcript_biotype:protein_coding "
              f"dist:{'_'.join(f'{d:.3f}' for d in dist)}\n{sequence}\n")
      genes[gid] = (biotype, np.round(dist, 3), sequence)
  return genes


def test_keep_last_and_structure_channels():
  one_hot = rna_localization.keep_last("ACGUA", 3)
  np.testing.assert_array_equal(one_hot.argmax(1), [2, 3, 0])
  padded = rna_localization.keep_last("ACG", 5)
  assert padded[:2].sum() == 0 and padded[2:].sum() == 3
  # A GC stem around an AAAA hairpin loop: loop unpaired in a hairpin, stem paired.
  hairpin = "AAAAAAGGGGCGCGAAAACGCGCCCCAAAAAA"
  channels = rna_localization.plfold_channels(hairpin, 80, 40)
  assert channels.shape == (len(hairpin), 5)
  np.testing.assert_allclose(channels.sum(-1), 1.0, atol=1e-5)
  loop = slice(14, 18)
  assert channels[loop, 2].min() > 0.9  # hairpin
  assert channels[6:14, 0].min() > 0.9  # paired
  assert channels[:6, 1].min() > 0.9  # exterior
  track = rna_localization.structure_track(hairpin, 40, 80, 40)
  assert track[:8].sum() == 0
  np.testing.assert_allclose(track[8:], channels, atol=1e-6)


def test_builder_on_screened_fasta(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  genes = _write_screened(manual / "cefra_seq_cDNA_screened.fa", np.random.default_rng(0))
  config = rna_localization.RnaLocalizationConfig(name="small", max_length=200,
                                                  structure=True)
  builder = rna_localization.RnaLocalization(config=config, data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  total = sum(builder.info.splits[s].num_examples for s in ("train", "valid", "test"))
  assert total == 29  # The lincRNA is dropped.
  assert builder.info.metadata["compartments"] == list(rna_localization.CEFRA_SEQ_COMPARTMENTS)
  source = builder.as_data_source()
  for split in ("train", "valid", "test"):
    for record in source[split]:
      gid = record["id"].decode()
      biotype, dist, sequence = genes[gid]
      assert rna_localization.split_of(gid) == split
      np.testing.assert_allclose(record["fractions"], dist / dist.sum(), rtol=1e-5)
      kept = sequence[-200:]
      np.testing.assert_array_equal(record["sequence"][200 - len(kept):].argmax(1),
                                    ["ACGT".index(b) for b in kept])
      assert record["sequence"][:200 - len(kept)].sum() == 0
      np.testing.assert_allclose(record["structure"][200 - len(kept):].sum(-1), 1, atol=1e-5)


def test_table_layout_and_errors(tmp_path):
  (tmp_path / "transcripts.fa").write_text(">t1 x\nACGU\nACGU\n>t2\nGGGG\n")
  (tmp_path / "fractions.tsv").write_text(
      "id\tnuclear\tcytosol\tinsoluble\tmembrane\tnote\n"
      "t1\t1\t1\t0\t2\tok\nt2\t0\t0\t0\t0\tempty\n")
  records = list(rna_localization.read_manual_dir(
      str(tmp_path), rna_localization.CEFRA_SEQ_COMPARTMENTS))
  assert len(records) == 1  # t2 sums to 0.
  name, sequence, fractions = records[0]
  assert (name, sequence) == ("t1", "ACGUACGU")
  np.testing.assert_allclose(fractions, [0.25, 0, 0.5, 0.25])
  (tmp_path / "fractions.tsv").write_text(
      "id\tnuclear\tcytosol\tinsoluble\tmembrane\nt1\t1\tx\t0\t2\n")
  with pytest.raises(rna_localization.LocalizationFormatError, match="not a number") as e:
    list(rna_localization.read_manual_dir(str(tmp_path),
                                          rna_localization.CEFRA_SEQ_COMPARTMENTS))
  assert str(e.value).startswith(f"{tmp_path / 'fractions.tsv'}:2:")
  (tmp_path / "fractions.tsv").write_text("id\tnuclear\nt1\t1\n")
  with pytest.raises(rna_localization.LocalizationFormatError, match="lacks compartment"):
    list(rna_localization.read_manual_dir(str(tmp_path),
                                          rna_localization.CEFRA_SEQ_COMPARTMENTS))
  bad = tmp_path / "apex_rip_cDNA_screened.fa"
  bad.write_text(">g1 gene_biotype:protein_coding transcript_biotype:x dist:1_2_3\nACGT\n")
  with pytest.raises(rna_localization.LocalizationFormatError, match="dist has 3") as e:
    list(rna_localization.read_manual_dir(str(tmp_path),
                                          rna_localization.APEX_RIP_COMPARTMENTS))
  assert str(e.value).startswith(f"{bad}:1:")
