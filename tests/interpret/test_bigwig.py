"""genereg_jax.predict.write_bigwig: values read back, overlapping windows averaged."""

import numpy as np
import pyBigWig

from genereg_jax import predict


def test_write_bigwig_averages_overlaps(tmp_path):
  sizes = {"chr1": 100, "chr2": 50}
  # Two overlapping windows on chr1 (bases 10-29 and 20-39), one running off chr2's end.
  windows = [("chr2", 40), ("chr1", 10), ("chr1", 20)]
  values = np.array([np.arange(20, dtype=float), np.full(20, 1.0), np.full(20, 3.0)])
  path = tmp_path / "t.bw"
  predict.write_bigwig(path, sizes, windows, values)
  with pyBigWig.open(str(path)) as bw:
    assert bw.chroms() == sizes
    got = np.array(bw.values("chr1", 0, 100))
    assert np.isnan(got[:10]).all() and np.isnan(got[40:]).all()
    np.testing.assert_allclose(got[10:20], 1.0)
    np.testing.assert_allclose(got[20:30], 2.0)  # Mean of the two windows.
    np.testing.assert_allclose(got[30:40], 3.0)
    np.testing.assert_allclose(bw.values("chr2", 40, 50), np.arange(10))


def test_write_bigwig_bins_and_offset(tmp_path):
  # Two 4 bp bins centred in a 12 bp window: bases 2-9 of the window.
  path = tmp_path / "b.bw"
  predict.write_bigwig(path, {"c": 30}, [("c", 5)], np.array([[1.5, -2.0]]), bin_size=4,
                       offset=2)
  with pyBigWig.open(str(path)) as bw:
    got = np.array(bw.values("c", 0, 30))
    np.testing.assert_allclose(got[7:11], 1.5)
    np.testing.assert_allclose(got[11:15], -2.0)
    assert np.isnan(got[:7]).all() and np.isnan(got[15:]).all()
    assert len(bw.intervals("c")) == 2  # Equal runs merged.


def test_write_prediction_bigwigs_one_file_per_track(tmp_path):
  # [records, bins, tracks]: 2 bins of 4 bp centred in 12 bp windows.
  predictions = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
  npy = tmp_path / "p.coverage.npy"
  np.save(npy, predictions)
  written = predict.write_prediction_bigwigs(
      str(tmp_path / "p.tsv"), {"coverage": str(npy)}, lambda name, n: ["dnase", "atac"],
      {"c": 40}, [("c", 0), ("c", 20)], input_length=12, bin_size=4)
  assert sorted(written.values()) == ["atac", "dnase"]
  with pyBigWig.open(str(tmp_path / "p.coverage.atac.bw")) as bw:
    got = np.array(bw.values("c", 0, 40))
  np.testing.assert_allclose(got[2:6], 1.0)  # Record 0, bin 0, track 1.
  np.testing.assert_allclose(got[26:30], 7.0)  # Record 1, bin 1, track 1.
  assert np.isnan(got[:2]).all() and np.isnan(got[10:22]).all()
