"""``cuperus_utr`` on a CSV written as the released ``Random_UTRs.csv`` (pandas index
column, UTR, growth_rate, t0 and an ignored column): right-alignment, the t0 test split,
and path:line errors."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import cuperus_utr as cu
from data_builders.cuperus_utr.cuperus_utr import right_aligned
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError


def _write(path, n=40):
  rng = np.random.default_rng(0)
  rows = [",UTR,growth_rate,t0,t1"]
  for i in range(n):
    utr = "".join(rng.choice(list("ACGT"), 50 if i else 42))  # Row 0: a short native UTR.
    rows.append(f"{i},{utr},{0.1 * i - 1:.3f},{i + 1},{i}")
  rows.append(f"{n},{'A' * 50},NA,5,5")  # No growth rate: skipped.
  path.write_text("\n".join(rows) + "\n")
  return [r.split(",") for r in rows[1:n + 1]]


def test_builds_right_aligned_utrs_with_top_t0_as_test(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  rows = _write(manual / "Random_UTRs.csv")
  builder = cu.CuperusUTR(data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  records = {s: list(builder.as_data_source(split=s)) for s in builder.info.splits}
  assert sum(len(r) for r in records.values()) == 40
  # The top 5% by t0 reads (2 of 40): the rows with t0 40 and 39.
  assert sorted(float(r["t0"]) for r in records["test"]) == [39.0, 40.0]
  by_t0 = {float(r["t0"]): r for split in records.values() for r in split}
  first = by_t0[1.0]
  assert not first["sequence"][:8].any()  # 42 nt: 8 N columns on the 5' side.
  assert encoding.decode_dna(first["sequence"][8:]) == rows[0][1]
  assert by_t0[3.0]["expression"] == pytest.approx(-0.8)
  assert builder.info.metadata["targets"] == ["growth_rate"]


def test_right_alignment_and_errors(tmp_path):
  assert right_aligned("acgu", 6) == "NNACGT"
  assert right_aligned("AAAACCC", 3) == "CCC"
  bad = tmp_path / "bad.csv"
  bad.write_text("UTR,growth_rate\nACGT,0.5\nACXT,0.1\n")
  with pytest.raises(InputFormatError, match="bad.csv:3: UTR is not"):
    cu.read_utrs(str(bad))
  bad.write_text("UTR,rate\nACGT,0.5\n")
  with pytest.raises(InputFormatError, match="bad.csv:1: the header needs"):
    cu.read_utrs(str(bad))
