"""Single-cell readers and builders on real ``.h5ad`` files written with anndata:
``scatac_peaks`` (peak- and cell-major), ``pseudobulk``, ``cnnc_pairs``, and the
synthetic single-cell truth."""

import anndata
import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds
from scipy import sparse

from genereg_jax.data import encoding
from genereg_jax.data import singlecell
from genereg_jax.files import InputFormatError
from data_builders.cnnc_pairs import cnnc_pairs
from data_builders.pseudobulk import pseudobulk
from data_builders.scatac_peaks import scatac_peaks
from data_builders.synthetic_singlecell import synthetic_singlecell

GENOME = {"chr1": "ACGT" * 100, "chr2": "GGCCAATT" * 50}


def _atac(rng, num_cells=12, names=True):
  peaks = [("chr1", 10, 60), ("chr1", 100, 180), ("chr2", 5, 45), ("chr2", 200, 260),
           ("chr1", 300, 390), ("chr2", 300, 350)]
  counts = sparse.csr_matrix(rng.poisson(0.6, (num_cells, len(peaks))).astype(np.float32))
  var = pd.DataFrame(index=[f"{c}:{s}-{e}" for c, s, e in peaks])
  if not names:  # scBasset's layout: coordinates in var columns.
    var = pd.DataFrame({"chr": [p[0] for p in peaks], "start": [p[1] for p in peaks],
                        "end": [p[2] for p in peaks]}, index=[f"p{i}" for i in range(6)])
  obs = pd.DataFrame({"cell_type": np.array(["B", "T", "NK"])[np.arange(num_cells) % 3]},
                     index=[f"c{i}" for i in range(num_cells)])
  return anndata.AnnData(X=counts, obs=obs, var=var), peaks


def _manual_dir(tmp_path, adata, fasta=True):
  manual = tmp_path / "manual"
  manual.mkdir()
  adata.write_h5ad(manual / "cells.h5ad")
  if fasta:
    with open(manual / "genome.fa", "w") as f:
      for name, text in GENOME.items():
        f.write(f">{name}\n{text}\n")
  return str(manual)


def _build(builder_class, config, tmp_path, manual):
  builder = builder_class(config=config, data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual),
      file_format="array_record")
  return builder


def _all(builder):
  return {split: [builder.as_data_source(split=split)[i]
                  for i in range(builder.info.splits[split].num_examples)]
          for split in builder.info.splits}


@pytest.mark.parametrize("names", [True, False])
def test_peak_intervals_from_names_or_columns(names):
  adata, peaks = _atac(np.random.default_rng(0), names=names)
  assert singlecell.peak_intervals(adata) == peaks


def test_bad_peak_name_is_an_input_error():
  adata, _ = _atac(np.random.default_rng(0))
  adata.var_names = ["chr1:10-60"] + [f"peak{i}" for i in range(5)]
  with pytest.raises(InputFormatError, match="peak 1 is named 'peak0'"):
    singlecell.peak_intervals(adata, "x.h5ad")


def test_scatac_peaks_h5ad_records_are_the_fasta_windows_and_binary_cells(tmp_path):
  rng = np.random.default_rng(1)
  adata, peaks = _atac(rng)
  builder = _build(scatac_peaks.ScatacPeaks, "h5ad", tmp_path, _manual_dir(tmp_path, adata))
  binary = np.asarray(adata.X.todense()) > 0
  split = scatac_peaks.peak_split(len(peaks))
  records = _all(builder)
  for index, name in enumerate(scatac_peaks.SPLITS):
    for record, peak in zip(records.get(name, []), np.flatnonzero(split == index)):
      chrom, start, end = peaks[peak]
      s, e = singlecell.centred_window(start, end, 1344)
      text = ("N" * max(-s, 0) + GENOME[chrom][max(s, 0):e]).ljust(1344, "N")
      np.testing.assert_array_equal(record["sequence"], encoding.one_hot_dna(text))
      np.testing.assert_array_equal(record["label"], binary[:, peak])
  assert builder.info.metadata["label_names"] == ["B", "NK", "T"]


def test_scatac_cells_layout_keeps_every_cell_in_train(tmp_path):
  adata, _ = _atac(np.random.default_rng(2), num_cells=20)
  builder = _build(scatac_peaks.ScatacPeaks, "h5ad_cells", tmp_path,
                   _manual_dir(tmp_path, adata, fasta=False))
  records = _all(builder)
  assert len(records["train"]) == 20 and len(records["valid"]) == 2
  np.testing.assert_array_equal(records["train"][3]["counts"],
                                np.asarray(adata.X[3].todense()).ravel() > 0)
  assert records["train"][3]["label"] == ["B", "NK", "T"].index(adata.obs.cell_type.iloc[3])


def test_pseudobulk_labels_follow_group_enrichment(tmp_path):
  accessibility = sparse.csr_matrix(np.array(
      [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 0]], np.uint8))
  labels, fractions = singlecell.pseudobulk(accessibility, np.array([0, 0, 1, -1]), 2,
                                            fold=1.5)
  np.testing.assert_allclose(fractions, [[1, 0], [0.5, 0], [0, 1], [0, 1]])
  # Group 0's mean is 0.375: open at >= 0.5625 (peak 0 only); group 1's 0.5: >= 0.75.
  np.testing.assert_array_equal(labels, [[1, 0], [0, 0], [0, 1], [0, 1]])
  adata, peaks = _atac(np.random.default_rng(3))
  builder = _build(pseudobulk.Pseudobulk, "h5ad", tmp_path, _manual_dir(tmp_path, adata))
  record = builder.as_data_source(split="train")[0]
  assert record["sequence"].shape == (600, 4) and record["label"].shape == (3,)


def test_expression_histogram_is_cnnc_normalisation():
  rng = np.random.default_rng(4)
  x, y = rng.poisson(3, 200).astype(float), rng.exponential(2, 200)
  counts, _, _ = np.histogram2d(np.log10(x + 0.01), np.log10(y + 0.01), bins=32)
  np.testing.assert_allclose(singlecell.expression_histogram(x, y),
                             (np.log10(counts / 200 + 1e-4) + 4) / 4, rtol=1e-6)


def test_cnnc_pairs_from_h5ad_and_pair_table(tmp_path):
  rng = np.random.default_rng(5)
  expression = anndata.AnnData(X=rng.poisson(2, (50, 4)).astype(np.float32),
                               var=pd.DataFrame(index=["Gata1", "Klf1", "Spi1", "Cebpa"]))
  manual = tmp_path / "manual"
  manual.mkdir()
  expression.write_h5ad(manual / "expression.h5ad")
  (manual / "pairs.txt").write_text("gata1\tklf1\t1\nklf1\tgata1\t2\nspi1\tcebpa\t0\n")
  builder = _build(cnnc_pairs.CnncPairs, "h5ad", tmp_path, str(manual))
  records = [r for rs in _all(builder).values() for r in rs]
  first = next(r for r in records if r["gene_a"] == b"Gata1")
  assert first["label"] == 1
  np.testing.assert_allclose(first["histogram"], singlecell.expression_histogram(
      expression.X[:, 0], expression.X[:, 1]))
  (manual / "pairs.txt").write_text("gata1 klf1 1\nfoo klf1 0\n")
  with pytest.raises(InputFormatError, match=r"pairs.txt:2: gene\(s\) \['foo'\]"):
    singlecell.gene_pairs(manual / "pairs.txt", list(expression.var_names))


def test_write_obsm_replaces_the_file_whole(tmp_path):
  adata, _ = _atac(np.random.default_rng(6))
  path = tmp_path / "cells.h5ad"
  adata.write_h5ad(path)
  singlecell.write_obsm(path, "X_scbasset", np.ones((12, 32)))
  assert anndata.read_h5ad(path).obsm["X_scbasset"].shape == (12, 32)
  assert not list(tmp_path.glob(".*.partial"))
  with pytest.raises(ValueError, match="5 rows for 12 cells"):
    singlecell.write_obsm(path, "X_scbasset", np.ones((5, 32)))


def test_synthetic_atac_truth_cell_types_open_their_motif_peaks():
  adata, contigs = synthetic_singlecell.simulate_atac(3, 60, 300, 344, seed=1)
  assert len(contigs[synthetic_singlecell.CONTIG]) == 300 * 344
  dense = np.asarray(adata.X.todense())
  for cell_type in adata.obs.cell_type.cat.categories:
    cells = (adata.obs.cell_type == cell_type).to_numpy()
    own = dense[np.ix_(cells, (adata.var.program == cell_type).to_numpy())].mean()
    other = dense[np.ix_(cells, ~adata.var.program.isin([cell_type, "CTCF"]).to_numpy())]
    assert own > 0.45 and other.mean() < 0.1
  expression, pairs = synthetic_singlecell.simulate_expression(10, 100)
  assert expression.shape == (100, 30) and {p[2] for p in pairs} == {0, 1, 2}
