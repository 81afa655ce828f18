"""Readers and builders for genotype-to-phenotype and multi-omics data: PLINK (bed-reader)
and VCF (cyvcf2) dosages with phenotypes, weather CSV + trials, omics blocks from TSV /
AnnData / MuData."""

import numpy as np
import pytest

from data_builders import genotypes as genotypes_builder
from data_builders import weather_yield
from genereg_jax.data import omics_tables
from genereg_jax.data import pipeline
from genereg_jax.data import plink
from genereg_jax.data import vcf_dosage
from genereg_jax.files import InputFormatError

VCF = """##fileformat=VCFv4.2
##contig=<ID=1,length=1000>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC
1\t10\trs1\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/1\t1/1
1\t20\t.\tC\tT,G\t.\tPASS\t.\tGT\t0/1\t0/2\t1/2
1\t30\trs3\tG\tA\t.\tPASS\t.\tGT\t./.\t1|1\t0|1
"""


def test_synthetic_population_round_trips_through_plink(tmp_path):
  config = genotypes_builder.GenotypesConfig(name="t", num_snps=40, num_additive=4,
                                             num_epistatic=2, num_train=30, num_valid=5,
                                             num_test=5)
  truth = genotypes_builder.write_synthetic(str(tmp_path), config)
  dosage, genetic, phenotype = genotypes_builder.simulate_population(config)
  read = plink.read_plink(str(tmp_path / "population"))
  np.testing.assert_array_equal(read.dosage, dosage)
  names, table = plink.read_sample_table(str(tmp_path / "pheno.txt"))
  assert names == ["trait"]
  np.testing.assert_allclose(plink.align_samples(read, table, 1)[:, 0], phenotype, atol=1e-5)
  np.testing.assert_allclose([truth[i] for i in read.iid], genetic)
  # Neighbouring SNPs are in LD (ld 0.9); distant ones are not.
  assert np.corrcoef(dosage[:, 0], dosage[:, 1])[0, 1] > 0.5


def test_vcf_dosages_and_vcf_build(tmp_path):
  (tmp_path / "g.vcf").write_text(VCF)
  genotypes, skipped = vcf_dosage.read_vcf(str(tmp_path / "g.vcf"))
  assert skipped == 1 and genotypes.iid == ["A", "B", "C"]
  assert genotypes.sid == ["rs1", "rs3"]
  np.testing.assert_array_equal(genotypes.dosage, [[0, np.nan], [1, 2], [2, 1]])
  (tmp_path / "pheno.txt").write_text("FID IID y\nA A 1.0\nB B NA\nC C 3.0\n")
  builder = pipeline.load_builder("genotypes/vcf", str(tmp_path / "tfds"),
                                  build_if_missing=True, manual_dir=str(tmp_path))
  rows = [r for split in builder.info.splits
          for r in builder.as_data_source(split=split)]
  assert sorted(r["iid"].decode() if isinstance(r["iid"], bytes) else r["iid"]
                for r in rows) == ["A", "C"]  # B has no phenotype.
  imputed = VCF.replace('Description="Genotype">', 'Description="Genotype">\n##FORMAT='
                        '<ID=DS,Number=1,Type=Float,Description="Dosage">')
  imputed = imputed.replace("GT\t0/0\t0/1\t1/1", "GT:DS\t0/0:0.1\t0/1:1.2\t1/1:1.9")
  (tmp_path / "ds.vcf").write_text(imputed)
  np.testing.assert_allclose(vcf_dosage.read_vcf(str(tmp_path / "ds.vcf"))[0].dosage[:, 0],
                             [0.1, 1.2, 1.9], rtol=1e-6)  # DS wins over GT.
  with pytest.raises(InputFormatError, match="cannot read as VCF"):
    vcf_dosage.read_vcf(str(tmp_path / "pheno.txt"))


def test_weather_and_trials_files(tmp_path):
  config = weather_yield.WeatherYieldConfig(name="t", synthetic=True, days=20,
                                            num_clusters=3, num_envs=(2, 1, 1),
                                            trials_per_env=3)
  truth = weather_yield.write_synthetic(str(tmp_path), config)
  variables, weather = weather_yield.read_weather(str(tmp_path / "weather.csv"))
  assert variables == list(weather_yield.VARIABLES) and weather["E000"].shape == (20, 7)
  trials = weather_yield.read_trials(str(tmp_path / "trials.tsv"))
  assert len(trials) == 12 and set(truth) == {(t[0], t[1]) for t in trials}
  lines = (tmp_path / "weather.csv").read_text().splitlines()
  (tmp_path / "short.csv").write_text("\n".join(lines[:-1]) + "\n")
  with pytest.raises(InputFormatError, match="same 20 days"):
    weather_yield.read_weather(str(tmp_path / "short.csv"))
  (tmp_path / "bad.tsv").write_text("env\tgenotype\tyield\n")
  with pytest.raises(InputFormatError, match="bad.tsv:1: header"):
    weather_yield.read_trials(str(tmp_path / "bad.tsv"))
  # Heat inside the flowering window costs yield; outside it does not.
  hot = np.full((214, 7), 20.0)
  hot[40:70, 4] = 40.0
  effect, sensitivity = np.zeros(1), np.ones(1)
  early, late = weather_yield.expected_yield(hot, np.zeros(2, int), np.array([0.0, 5.0]),
                                             effect, sensitivity)
  assert early < late - 5


def test_omics_blocks_from_tsv_anndata_and_mudata(tmp_path):
  import anndata
  import mudata
  import pandas as pd
  (tmp_path / "expression.tsv").write_text("sample\tg1\tg2\nS1\t1\t2\nS2\tNA\t4\nS3\t5\t6\n")
  (tmp_path / "cnv.tsv").write_text("sample\tseg1\nS3\t3\nS1\t2\n")
  (tmp_path / "labels.tsv").write_text("sample\tlabel\nS1\t1\nS2\t0\nS3\t0\n")
  data = omics_tables.read_blocks(str(tmp_path), ("expression", "cnv"))
  assert data.samples == ["S1", "S3"]  # S2 has no CNV.
  np.testing.assert_array_equal(data.blocks["cnv"][:, 0], [2, 3])
  np.testing.assert_array_equal(data.labels[:, 0], [1, 0])
  scaled = omics_tables.impute_and_scale(
      {"x": np.array([[1.0], [np.nan], [3.0]], np.float32)}, np.array([True, True, True]))
  np.testing.assert_allclose(scaled["x"][:, 0], [-1.0, 0.0, 1.0])
  (tmp_path / "cnv.tsv").write_text("sample\tseg1\nS3\tx\n")
  with pytest.raises(InputFormatError, match="cnv.tsv:2: value 'x'"):
    omics_tables.read_blocks(str(tmp_path), ("expression", "cnv"))

  obs = pd.DataFrame({"label": [1.0, 0.0]}, index=["a", "b"])
  blocks = {"expression": anndata.AnnData(np.eye(2, dtype=np.float32), obs=obs),
            "methylation": anndata.AnnData(np.ones((2, 3), np.float32), obs=obs[[]])}
  h5ad_dir = tmp_path / "h5ad"
  h5ad_dir.mkdir()
  for name, adata in blocks.items():
    adata.write_h5ad(h5ad_dir / f"{name}.h5ad")
  from_h5ad = omics_tables.read_blocks(str(h5ad_dir), ("expression", "methylation"))
  mdata = mudata.MuData({k: v.copy() for k, v in blocks.items()})
  mdata.obs["label"] = [1.0, 0.0]
  mdata.write(tmp_path / "cohort.h5mu")
  from_h5mu = omics_tables.read_blocks(str(tmp_path / "cohort.h5mu"),
                                       ("expression", "methylation"))
  for data in (from_h5ad, from_h5mu):
    assert data.samples == ["a", "b"] and data.blocks["methylation"].shape == (2, 3)
    np.testing.assert_array_equal(data.labels[:, 0], [1, 0])
  with pytest.raises(InputFormatError, match="no modality"):
    omics_tables.read_blocks(str(tmp_path / "cohort.h5mu"), ("cnv",))
