r"""Genotype dosage matrices + phenotypes for genomic prediction (DeepGP, ridge/GBLUP).

Configs:

* ``plink`` reads ``manual_dir``: one PLINK 1 fileset ``<prefix>.bed/.bim/.fam``
  (`genereg_jax.data.plink`, through ``bed-reader``) and a phenotype table
  ``pheno.txt`` / ``*.pheno`` (PLINK ``--pheno`` format: ``FID IID trait ...``).
* ``vcf`` reads ``manual_dir``: one ``*.vcf``/``*.vcf.gz``/``*.bcf``
  (`genereg_jax.data.vcf_dosage`, through ``cyvcf2``) and the same phenotype table
  (``FID`` = ``IID`` = the VCF sample).
  Both keep the first trait column (``trait`` names another) and split individuals
  80/10/10 by a hash of their IID.
* ``synthetic`` / ``tiny``: a SYNTHETIC population written as a PLINK fileset + ``pheno.txt``
  (under the build's download directory) and read back as ``plink`` does. Haplotypes
  are Markov chains along the map (each SNP copies the previous one's allele with
  probability ``ld``, so neighbouring SNPs are in LD); dosage = the sum of two. The
  genetic value ``g`` is additive (``num_additive`` QTLs, normal effects) plus epistatic
  (``num_epistatic`` QTL pairs acting through the product of their centred dosages),
  scaled so that additive and epistatic variances are ``h2_additive`` and
  ``h2_epistatic`` of the phenotypic variance; ``y = g + e``. The truth ``g`` is kept
  (``genetic_value``), so accuracy against it can be reported beside accuracy against
  ``y``. Individuals 0..n_train-1 train, then valid, then test.

Records: ``genotypes float32[variants]`` (allele-1 / ALT dosage, NaN missing),
``phenotype float32[1]`` and ``genetic_value float32[1]`` (NaN for real data), both
standardised with the training phenotype's mean and SD, and ``iid``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import plink
from genereg_jax.data import vcf_dosage

SPLITS = ("train", "valid", "test")


def split_of_individual(iid: str) -> str:
  bucket = int(hashlib.sha1(iid.encode()).hexdigest(), 16) % 10
  return "train" if bucket < 8 else "valid" if bucket == 8 else "test"


@dataclasses.dataclass(eq=False)
class GenotypesConfig(tfds.core.BuilderConfig):
  """Source and sizes of a ``genotypes`` build.

  Attributes:
    source: ``"synthetic"``, ``"plink"`` or ``"vcf"``.
    trait: phenotype column (None: the first).
    num_snps, ld, maf_range: the synthetic map.
    num_additive, num_epistatic, h2_additive, h2_epistatic: the synthetic architecture.
    num_train, num_valid, num_test: synthetic individuals per split.
    seed: synthetic RNG seed.
  """
  source: str = "synthetic"
  trait: str | None = None
  num_snps: int = 2000
  ld: float = 0.9
  maf_range: tuple[float, float] = (0.1, 0.5)
  num_additive: int = 20
  num_epistatic: int = 10
  h2_additive: float = 0.4
  h2_epistatic: float = 0.3
  num_train: int = 1600
  num_valid: int = 200
  num_test: int = 400
  seed: int = 0


def simulate_population(config: GenotypesConfig):
  """``(dosage float32[n, p], genetic value float64[n], phenotype float64[n])``."""
  rng = np.random.default_rng(config.seed)
  n = config.num_train + config.num_valid + config.num_test
  p = config.num_snps
  maf = rng.uniform(*config.maf_range, p)

  def haplotypes():
    h = np.empty((n, p), np.int8)
    h[:, 0] = rng.random(n) < maf[0]
    for j in range(1, p):
      fresh = rng.random(n) < maf[j]
      h[:, j] = np.where(rng.random(n) < config.ld, h[:, j - 1], fresh)
    return h

  dosage = (haplotypes() + haplotypes()).astype(np.float32)
  centred = dosage - dosage.mean(axis=0)
  qtl = rng.choice(p, config.num_additive + 2 * config.num_epistatic, replace=False)
  additive = centred[:, qtl[:config.num_additive]] @ rng.normal(size=config.num_additive)
  pairs = qtl[config.num_additive:].reshape(-1, 2)
  epistatic = (centred[:, pairs[:, 0]] * centred[:, pairs[:, 1]]) @ rng.normal(
      size=len(pairs))

  def scaled(x, variance):
    return (x - x.mean()) / max(x.std(), 1e-12) * np.sqrt(variance)

  genetic = scaled(additive, config.h2_additive) + scaled(epistatic, config.h2_epistatic)
  noise = rng.normal(size=n) * np.sqrt(1.0 - config.h2_additive - config.h2_epistatic)
  return dosage, genetic, genetic + noise


def write_synthetic(directory: str, config: GenotypesConfig) -> dict[str, float]:
  """``population.bed/.bim/.fam`` + ``pheno.txt``; returns ``{iid: genetic value}``."""
  import bed_reader
  os.makedirs(directory, exist_ok=True)
  dosage, genetic, phenotype = simulate_population(config)
  n, p = dosage.shape
  iids = [f"I{i:05d}" for i in range(n)]
  bed_reader.to_bed(os.path.join(directory, "population.bed"), dosage, properties={
      "fid": iids, "iid": iids, "sid": [f"snp{j}" for j in range(p)],
      "chromosome": ["1"] * p, "bp_position": np.arange(1, p + 1) * 1000,
      "allele_1": ["A"] * p, "allele_2": ["G"] * p}, num_threads=1)
  with open(os.path.join(directory, "pheno.txt"), "w") as f:
    f.write("FID IID trait\n")
    f.writelines(f"{i} {i} {y:.6f}\n" for i, y in zip(iids, phenotype))
  return dict(zip(iids, genetic))


def _find(directory: str, suffixes: tuple[str, ...]) -> list[str]:
  return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                if f.endswith(suffixes))


class Genotypes(tfds.core.GeneratorBasedBuilder):
  """Dosage vectors with a phenotype per individual (genomic prediction)."""

  name = "genotypes"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = __doc__
  BUILDER_CONFIGS = [
      GenotypesConfig(name="synthetic", description="2,000 SNPs in LD, 20 additive QTLs + "
                      "10 epistatic pairs, h2 0.4 + 0.3."),
      GenotypesConfig(name="tiny", num_snps=300, num_additive=8, num_epistatic=4,
                      num_train=400, num_valid=100, num_test=100,
                      description="synthetic, small, for tests."),
      GenotypesConfig(name="plink", source="plink", description="PLINK .bed/.bim/.fam + pheno."),
      GenotypesConfig(name="vcf", source="vcf", description="VCF/BCF + pheno."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    snps = config.num_snps if config.source == "synthetic" else None
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, disable_shuffling=True,
        features=tfds.features.FeaturesDict({
            "genotypes": tfds.features.Tensor(shape=(snps,), dtype=np.float32),
            "phenotype": tfds.features.Tensor(shape=(1,), dtype=np.float32),
            "genetic_value": tfds.features.Tensor(shape=(1,), dtype=np.float32),
            "iid": tfds.features.Text()}),
        metadata=tfds.core.MetadataDict(source=config.source,
                                        synthetic=config.source == "synthetic"))

  def _split_generators(self, dl_manager):
    config = self.builder_config
    truth = {}
    if config.source == "synthetic":
      directory = os.path.join(os.fspath(dl_manager.download_dir),
                               f"genotypes_{config.name}_{config.seed}")
      truth = write_synthetic(directory, config)
    else:
      directory = os.fspath(dl_manager.manual_dir)
    if config.source == "vcf":
      vcfs = _find(directory, (".vcf", ".vcf.gz", ".bcf"))
      if len(vcfs) != 1:
        raise FileNotFoundError(f"{directory} needs one VCF/BCF; found {vcfs}")
      genotypes, _ = vcf_dosage.read_vcf(vcfs[0])
    else:
      beds = _find(directory, (".bed",))
      if len(beds) != 1:
        raise FileNotFoundError(f"{directory} needs one PLINK .bed/.bim/.fam; found {beds}")
      genotypes = plink.read_plink(beds[0])
    phenos = _find(directory, ("pheno.txt", ".pheno"))
    if len(phenos) != 1:
      raise FileNotFoundError(f"{directory} needs one phenotype table (pheno.txt or "
                              f"*.pheno, PLINK --pheno format); found {phenos}")
    names, table = plink.read_sample_table(phenos[0])
    column = names.index(config.trait) if config.trait else 0
    phenotype = plink.align_samples(genotypes, table, len(names))[:, column]
    if config.source == "synthetic":
      n_train, n_valid = config.num_train, config.num_valid
      split = np.repeat(SPLITS, (n_train, n_valid, len(genotypes.iid) - n_train - n_valid))
    else:
      split = np.asarray([split_of_individual(i) for i in genotypes.iid])
    train = (split == "train") & ~np.isnan(phenotype)
    mean, sd = phenotype[train].mean(), phenotype[train].std() or 1.0
    rows = {s: [] for s in SPLITS}
    for i, iid in enumerate(genotypes.iid):
      if np.isnan(phenotype[i]):
        continue  # Unphenotyped individuals cannot be trained or scored on.
      g = (truth[iid] - mean) / sd if iid in truth else np.nan
      rows[split[i]].append((f"{genotypes.fid[i]}_{iid}", {
          "genotypes": genotypes.dosage[i],
          "phenotype": np.float32([(phenotype[i] - mean) / sd]),
          "genetic_value": np.float32([g]), "iid": iid}))
    return {s: self._generate_examples(r) for s, r in rows.items() if r}

  def _generate_examples(self, rows):
    yield from rows
