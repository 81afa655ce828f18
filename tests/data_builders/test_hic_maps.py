"""Tests for ``hic_maps`` and ``genereg_jax.data.contact_maps``: Akita's preprocessing
against cooltools/astropy, and windows built from .cool / .mcool / .hic files written
here in the real formats (cooler.create_cooler, hictkpy.hic.FileWriter)."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import fixture_path
from data_builders import hic_maps
from genereg_jax.data import contact_maps
from genereg_jax.data import pipeline
from genereg_jax.data.encoding import one_hot_dna
from genereg_jax.files import InputFormatError

CHROMS = {"chr1": 40_000, "chr2": 24_000, "chr3": 24_000}
RESOLUTION = 1_000


def test_preprocessing_matches_cooltools_and_astropy():
  reference = np.load(fixture_path("akita_preprocessing.npz"))
  balanced, counts = reference["balanced"], reference["counts"]
  hic = balanced.copy()
  missing = np.isnan(hic)
  clip_value = np.nanmedian(np.diag(hic, 2))
  for i in (-1, 0, 1):
    contact_maps.set_diagonal(hic, clip_value, i)
  hic = np.clip(hic, 0, clip_value)
  hic[missing] = np.nan
  coarse = contact_maps.adaptive_coarsegrain(hic, counts)
  np.testing.assert_array_equal(coarse, reference["coarsegrained"])
  np.testing.assert_array_equal(
      contact_maps.observed_over_expected(coarse, ~np.isnan(coarse)), reference["obs_exp"])
  for k in (0, 1):
    settings = contact_maps.AkitaPreprocessing(kernel_stddev=k, mask_filtered_bins=False)
    np.testing.assert_allclose(contact_maps.akita_map(balanced, counts, settings),
                               reference[f"map_k{k}"], rtol=0, atol=1e-12)
  masked = contact_maps.akita_map(balanced, counts)
  filtered = np.isnan(balanced).all(0)
  assert filtered.sum() == 3
  assert np.isnan(masked[filtered]).all() and np.isnan(masked[:, filtered]).all()
  np.testing.assert_array_equal(masked[np.ix_(~filtered, ~filtered)],
                                reference["map_k0"][np.ix_(~filtered, ~filtered)])
  vector = contact_maps.akita_targets(balanced, counts,
                                      contact_maps.AkitaPreprocessing(crop_bins=4))
  rows, cols = np.triu_indices(36, 2)
  np.testing.assert_array_equal(vector, masked[4:-4, 4:-4][rows, cols].astype(np.float32))


def _pixels(rng):
  """Upper-triangle intra-chromosomal pixels with 1/s decay and a dot, bin 5 empty."""
  import cooler
  bins = cooler.binnify(pd.Series(CHROMS), RESOLUTION)
  i, j = np.triu_indices(len(bins))
  same = bins.chrom.values[i] == bins.chrom.values[j]
  i, j = i[same], j[same]
  counts = rng.poisson(200 / (1 + j - i) + 40 * ((i == 10) & (j == 16)))
  keep = (counts > 0) & (i != 5) & (j != 5)
  return bins, pd.DataFrame({"bin1_id": i[keep], "bin2_id": j[keep],
                             "count": counts[keep]})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  import cooler
  import hictkpy
  root = tmp_path_factory.mktemp("hic")
  rng = np.random.default_rng(0)
  bases = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in CHROMS.items()}
  with open(root / "genome.fa", "w") as f:
    for chrom, seq in bases.items():
      f.write(f">{chrom}\n" + "\n".join(seq[k:k + 60] for k in range(0, len(seq), 60)) + "\n")
  bins, pixels = _pixels(rng)
  cool = str(root / "a.cool")
  cooler.create_cooler(cool, bins, pixels, ordered=True)
  mcool = str(root / "a.mcool")
  cooler.zoomify_cooler(cool, mcool, [RESOLUTION, 2 * RESOLUTION], chunksize=100_000)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ICE convergence on a toy matrix
    for uri in (cool, f"{mcool}::/resolutions/{RESOLUTION}",
                f"{mcool}::/resolutions/{2 * RESOLUTION}"):
      cooler.balance_cooler(cooler.Cooler(uri), store=True, min_nnz=3, mad_max=0,
                            max_iters=50)
  hic = str(root / "a.hic")
  writer = hictkpy.hic.FileWriter(hic, CHROMS, RESOLUTION, tmpdir=str(root))
  writer.add_pixels(pixels)
  writer.finalize()
  return {"root": root, "fasta": str(root / "genome.fa"), "cool": cool, "mcool": mcool,
          "hic": hic, "bases": bases}


def _config(files, targets, **kwargs):
  base = dict(name="test", fasta=files["fasta"], targets=targets, resolution=RESOLUTION,
              hic_normalization="NONE", seq_length=16_000, crop_bins=2, stride_bp=8_000,
              valid_chroms=("chr2",), test_chroms=("3",))
  base.update(kwargs)
  return hic_maps.HicMapsConfig(**base)


def _build(config, data_dir):
  builder = hic_maps.HicMaps(config=config, data_dir=str(data_dir),
                             file_format="array_record")
  builder.download_and_prepare()
  return builder


def test_readers_agree_across_formats(files):
  cool = contact_maps.ContactMatrix(files["cool"])
  mcool = contact_maps.ContactMatrix(files["mcool"], RESOLUTION)
  hic = contact_maps.ContactMatrix(files["hic"], RESOLUTION, normalization="NONE")
  assert cool.bin_size == mcool.bin_size == hic.bin_size == RESOLUTION
  assert cool.chromosomes == hic.chromosomes == CHROMS
  b_cool, c_cool = cool.fetch("chr1", 2_000, 18_000)
  b_mcool, c_mcool = mcool.fetch("chr1", 2_000, 18_000)
  b_hic, c_hic = hic.fetch("chr1", 2_000, 18_000)
  np.testing.assert_array_equal(c_cool, c_hic)
  np.testing.assert_array_equal(c_cool, c_mcool)
  np.testing.assert_array_equal(b_hic, c_hic)
  np.testing.assert_allclose(b_cool, b_mcool)
  # Bin 5 (row 3 here) is filtered: NaN row and column, finite elsewhere.
  assert np.isnan(b_cool[3]).all() and np.isnan(b_cool[:, 3]).all()
  assert np.isfinite(np.delete(np.delete(b_cool, 3, 0), 3, 1)).all()
  assert c_cool[8, 14] > c_cool[8, 15]  # the planted dot (bins 10, 16)
  coarse = contact_maps.ContactMatrix(files["mcool"], 2 * RESOLUTION)
  # zoomify sums the stored upper-triangle pixels into 2 x 2 blocks.
  upper = np.triu(cool.fetch("chr1", 0, 8_000)[1]).reshape(4, 2, 4, 2).sum((1, 3))
  np.testing.assert_array_equal(coarse.fetch("chr1", 0, 8_000)[1],
                                upper + np.triu(upper, 1).T)


@pytest.mark.parametrize("path,kwargs,message", [
    ("mcool", {}, "holds resolutions \\[1000, 2000\\]; choose one"),
    ("mcool", {"resolution": 5_000}, "has no 5000-bp resolution"),
    ("hic", {"resolution": RESOLUTION}, "no KR normalisation at 1000 bp; available: "
                                         "\\['NONE'\\]"),
    ("fasta", {}, "not a contact matrix"),
])
def test_reader_errors_name_the_file(files, path, kwargs, message):
  with pytest.raises(InputFormatError, match=f"{files[path]}: {message}"):
    contact_maps.ContactMatrix(files[path], **kwargs)


def test_built_windows_hold_akita_targets_of_each_format(files, tmp_path):
  targets = (hic_maps.Target("cool", files["cool"]),
             hic_maps.Target("mcool", files["mcool"], clip=1.5),
             hic_maps.Target("hic", files["hic"]))
  _build(_config(files, targets), tmp_path)
  # Found again by name, as the trainer does (its config exists only once built).
  builder = pipeline.load_builder("hic_maps/test", str(tmp_path))
  metadata = builder.info.metadata
  assert metadata["bin_size"] == RESOLUTION and metadata["n_bins"] == 12
  assert metadata["crop_bins"] == 2 and metadata["diagonal_offset"] == 2
  assert metadata["target_names"] == ["cool", "mcool", "hic"]
  source = builder.as_data_source()
  # chr1 40 kb: starts 0, 8k, 16k, 24k (train); chr2 and chr3: 0, 8k.
  assert [len(source[s]) for s in hic_maps.SPLITS] == [4, 2, 2]
  cool = contact_maps.ContactMatrix(files["cool"])
  for split in hic_maps.SPLITS:
    for index in range(len(source[split])):
      record = source[split][index]
      chrom, start = record["chrom"].decode(), int(record["start"])
      assert record["target"].shape == (55, 3) and record["target"].dtype == np.float32
      np.testing.assert_array_equal(
          record["sequence"], one_hot_dna(files["bases"][chrom][start:start + 16_000]))
      balanced, counts = cool.fetch(chrom, start, start + 16_000)
      settings = contact_maps.AkitaPreprocessing(crop_bins=2)
      np.testing.assert_array_equal(record["target"][:, 0],
                                    contact_maps.akita_targets(balanced, counts, settings))
      np.testing.assert_array_equal(
          record["target"][:, 2], contact_maps.akita_targets(counts, counts, settings))
      assert np.nanmax(np.abs(record["target"][:, 1])) <= 1.5
  first = source["train"][0]["target"]
  # Bin 5 of chr1 is bin 3 after the crop: its row is NaN in the balanced targets.
  rows, cols = np.triu_indices(12, 2)
  on_bin = (rows == 3) | (cols == 3)
  assert np.isnan(first[on_bin, :2]).all() and np.isfinite(first[~on_bin, :2]).all()


def test_windows_from_a_bed_with_splits(files, tmp_path):
  bed = tmp_path / "windows.bed"
  bed.write_text("chr1\t0\t16000\ttest\n1\t24000\t40000\n# comment\nchr3\t8000\t24000\n"
                 "chr1\t8000\t24000\tvalid\n")
  config = _config(files, (hic_maps.Target("cool", files["cool"]),), windows_bed=str(bed))
  builder = _build(config, tmp_path / "tfds")
  source = builder.as_data_source()
  seen = {s: [(r["chrom"].decode(), int(r["start"])) for r in
              (source[s][i] for i in range(len(source[s])))] for s in hic_maps.SPLITS}
  # The fourth column wins; else chromosome hold-outs (chr3 is a test chromosome).
  assert seen == {"train": [("chr1", 24_000)], "valid": [("chr1", 8_000)],
                  "test": [("chr1", 0), ("chr3", 8_000)]}


@pytest.mark.parametrize("line,message", [
    ("chr1\t0\t15000\n", "window is 15000 bp"),
    ("chr1\t500\t16500\n", "start 500 is not a multiple of the 1000-bp bins"),
    ("chrZ\t0\t16000\n", "chromosome 'chrZ' is not in every"),
    ("chr2\t16000\t32000\n", "past chr2's 24000 bp"),
    ("chr1\tx\t16000\n", "not non-negative integers"),
])
def test_bad_window_lines_name_path_and_line(files, tmp_path, line, message):
  bed = tmp_path / "w.bed"
  bed.write_text("chr1\t0\t16000\n" + line)
  config = _config(files, (hic_maps.Target("cool", files["cool"]),), windows_bed=str(bed))
  with pytest.raises(InputFormatError, match=f"{bed}:2: .*{message}"):
    hic_maps.read_windows(bed, config, dict(CHROMS))


def test_targets_table(files, tmp_path):
  table = tmp_path / "targets.txt"
  table.write_text("index\tidentifier\tfile\tclip\tdescription\n"
                   f"0\tHFF\t{os.path.basename(files['cool'])}\t2\tHFF\n"
                   f"1\tH1\t{files['hic']}\t\tH1hESC\n")
  os.symlink(files["cool"], tmp_path / os.path.basename(files["cool"]))
  targets = hic_maps.read_targets_table(table)
  assert targets == (hic_maps.Target("HFF", str(tmp_path / "a.cool"), 2.0),
                     hic_maps.Target("H1", files["hic"], 2.0))
  bad = tmp_path / "bad.txt"
  bad.write_text("identifier\tfile\tclip\nHFF\ta.cool\tbig\n")
  with pytest.raises(InputFormatError, match=f"{bad}:2: clip 'big' is not a number"):
    hic_maps.read_targets_table(bad)
  bad.write_text("name\tfile\n")
  with pytest.raises(InputFormatError, match=f"{bad}:1: the header needs columns"):
    hic_maps.read_targets_table(bad)
  assert hic_maps.parse_target("HFF:x.mcool") == hic_maps.Target("HFF", "x.mcool")
  with pytest.raises(ValueError, match="NAME:path"):
    hic_maps.parse_target("x.mcool")
