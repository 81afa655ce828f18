"""``rnacompete`` on a few probes written as the compendium's ``norm_data.txt``: set B is
the test split, DeepBind's clip-and-standardise uses set A's statistics, NaN stays
unmeasured, bad lines fail with path:line."""

import gzip

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import rnacompete

HEADER = "Probe_ID\tProbe_Set\tRNA_Seq\tRNCMPT00001\tRNCMPT00002\n"


def _write_table(path, rng, count=40, opener=open):
  lines = [HEADER]
  for i in range(count):
    probe_set = "SetB" if i % 4 == 0 else "SetA"
    sequence = "".join(rng.choice(list("ACGU"), int(rng.integers(30, 42))))
    first = f"{rng.lognormal():.4f}"
    second = "NaN" if i % 7 == 0 else f"{rng.lognormal():.4f}"
    lines.append(f"RBD_{i:05d}\t{probe_set}\t{sequence}\t{first}\t{second}\n")
  with opener(path, "wt") as f:
    f.writelines(lines)
  return lines


def test_read_table_and_standardize(tmp_path):
  lines = _write_table(tmp_path / "norm_data.txt", np.random.default_rng(0))
  table = rnacompete.read_table(str(tmp_path / "norm_data.txt"))
  assert table.proteins == ("RNCMPT00001", "RNCMPT00002")
  assert len(table.sequences) == 40 and table.sequences[1] == lines[2].split("\t")[2]
  assert np.isnan(table.intensity[0, 1]) and not np.isnan(table.intensity[1, 1])
  set_a = np.array([s == "SetA" for s in table.probe_sets])
  out = rnacompete.standardize(table.intensity, table.intensity[set_a])
  a = table.intensity[set_a, 0]
  ceiling = np.percentile(a, 99.95)
  expected = (np.minimum(table.intensity[:, 0], ceiling) - np.minimum(a, ceiling).mean()) / (
      np.minimum(a, ceiling).std())
  np.testing.assert_allclose(out[:, 0], expected, rtol=1e-5)
  np.testing.assert_allclose(out[set_a, 0].mean(), 0, atol=1e-5)
  assert np.isnan(out[0, 1])
  only = rnacompete.read_table(str(tmp_path / "norm_data.txt"), proteins=("RNCMPT00002",))
  np.testing.assert_array_equal(only.intensity[:, 0], table.intensity[:, 1])


def test_builder_writes_set_b_as_test(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  _write_table(manual / "norm_data.txt.gz", np.random.default_rng(1), opener=gzip.open)
  builder = rnacompete.Rnacompete(data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  splits = {s: builder.info.splits[s].num_examples for s in ("train", "valid", "test")}
  assert splits["test"] == 10 and splits["train"] + splits["valid"] == 30
  assert builder.info.metadata["proteins"] == ["RNCMPT00001", "RNCMPT00002"]
  reloaded = rnacompete.Rnacompete(data_dir=str(tmp_path / "tfds"))  # Read back from disk.
  assert reloaded.info.metadata["proteins"] == ["RNCMPT00001", "RNCMPT00002"]
  test = builder.as_data_source()["test"]
  record = test[0]
  assert record["probe_id"].decode() == "RBD_00000"
  assert record["sequence"].shape == (41, 4)
  length = int(record["length"])
  assert record["sequence"][:length].sum() == length and record["sequence"][length:].sum() == 0
  assert np.isnan(record["intensity"][1])


@pytest.mark.parametrize("line, message", [
    ("RBD_1\tSetC\tACGUACGUACGUACGUACGUACGUACGUACGU\t1.0\t2.0\n", "SetA/SetB"),
    ("RBD_1\tSetA\tACGUXCGU\t1.0\t2.0\n", "not an RNA sequence"),
    ("RBD_1\tSetA\tACGUACGU\tone\t2.0\n", "not a number"),
    ("RBD_1\tSetA\tACGUACGU\t1.0\n", "4 columns, the header has 5"),
])
def test_bad_lines_name_path_and_line(tmp_path, line, message):
  path = tmp_path / "norm_data.txt"
  path.write_text(HEADER + "RBD_0\tSetA\tACGUACGUACGU\t1.0\t2.0\n" + line)
  with pytest.raises(rnacompete.RnacompeteFormatError, match=message) as error:
    rnacompete.read_table(str(path))
  assert str(error.value).startswith(f"{path}:3:")
