"""``aparent_mpra`` on records written as APARENT's processed data (the reporter CSV
``apa_plasmid_data_plasmid_df.csv`` + the sparse cut matrix ``..._plasmid_cuts.mat``):
the 205-nt window at 180, isoform = reads at 80-105 / total, the distal column, library
one-hot and distal-PAS flag, file-order splits."""

import numpy as np
import pytest
import scipy.io
import scipy.sparse
import tensorflow_datasets as tfds

from data_builders import aparent_mpra as am
from data_builders.aparent_mpra.aparent_mpra import reporter_targets
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError


def _write(manual, n=40, length=400):
  rng = np.random.default_rng(0)
  seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
  libs = [("tomm5_up_n20c20", 2), ("simple", 22), ("doubledope", 20)]
  lines = [",library,library_index,padded_seq,total_count"]
  cuts = np.zeros((n, length + 1))
  for i, s in enumerate(seqs):
    cuts[i, 180 + 90] = i + 1         # Proximal reads (position 90 of the window).
    cuts[i, 180 + 150] = 2            # Cleaved in the window but not at the proximal site.
    cuts[i, -1] = 3                   # Distal.
    name, index = libs[i % 3]
    lines.append(f"{i},{name},{index},{s},{cuts[i].sum():g}")
  (manual / "apa_plasmid_data_plasmid_df.csv").write_text("\n".join(lines) + "\n")
  scipy.io.savemat(manual / "apa_plasmid_data_plasmid_cuts.mat",
                   {"plasmid_cuts": scipy.sparse.csr_matrix(cuts)})
  return seqs, cuts


def test_builds_reporters_as_the_reference_loader(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  seqs, cuts = _write(manual)
  builder = am.APARENTMPRA(data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  assert {s: builder.info.splits[s].num_examples for s in builder.info.splits} == {
      "train": 38, "test": 1, "valid": 1}  # 2.5% each, in file order.
  (test,) = builder.as_data_source(split="test")
  assert encoding.decode_dna(test["sequence"]) == seqs[39][180:385]
  total = 40 + 2 + 3
  assert test["isoform"] == pytest.approx(40 / total)
  assert test["cleavage"].shape == (206,) and test["cleavage"][90] == pytest.approx(40 / total)
  assert test["cleavage"][-1] == pytest.approx(3 / total)
  first = builder.as_data_source(split="train")[0]
  assert first["library"].tolist()[:3] == [1, 0, 0] and first["distal_pas"][0] == 1  # Index 2.
  second = builder.as_data_source(split="train")[1]
  assert second["library"].argmax() == 1 and second["distal_pas"][0] == 0  # Index 22.


def test_targets_and_errors(tmp_path):
  iso, cut, total = reporter_targets(np.zeros(10), 2, 5, (1, 3))
  assert np.isnan(iso) and total == 0
  bad = tmp_path / "m"
  bad.mkdir()
  (bad / "lib.csv").write_text("library,library_index,seq\nsimple,22,ACGT\n")
  builder = am.APARENTMPRA(data_dir=str(tmp_path / "tfds"))
  with pytest.raises(InputFormatError, match="lib.csv:2: sequence of 4 nt"):
    builder._records(str(bad / "lib.csv"), None)
