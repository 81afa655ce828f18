"""Genotype dosages from a VCF/BCF (cyvcf2), in the shape `genereg_jax.data.plink` returns.

Each biallelic variant gives the ALT-allele dosage of every sample: the ``DS`` FORMAT
field where the file has one (imputed data; any value in [0, 2]), otherwise the count of
ALT alleles in the called genotype (``GT``: 0, 1, 2; NaN where a call is missing).
Multi-allelic sites are skipped (split them first with ``bcftools norm -m -``); the
skipped count is reported. PLINK's ``--make-bed`` usually makes the ALT allele its
allele 1, so the two readers count the same allele for such a file pair.
"""

from __future__ import annotations

import os

import numpy as np

from genereg_jax.data import plink
from genereg_jax.files import InputFormatError


def read_vcf(path: str | os.PathLike) -> tuple[plink.Genotypes, int]:
  """``(Genotypes, skipped multi-allelic sites)``; ``fid`` = ``iid`` = the VCF sample."""
  import cyvcf2  # Imported late: only VCF input needs it.
  path = os.fspath(path)
  try:
    vcf = cyvcf2.VCF(path, gts012=True, lazy=True)
  except (OSError, Exception) as e:  # cyvcf2 raises bare Exceptions for unreadable files.
    raise InputFormatError(path, None, f"cannot read as VCF/BCF: {e}") from None
  samples = list(vcf.samples)
  if not samples:
    raise InputFormatError(path, None, "the VCF has no sample columns")
  has_ds = "DS" in vcf  # Declared in the header (a record may still lack it).
  sid, chrom, pos, ref, alt, columns = [], [], [], [], [], []
  skipped = 0
  for variant in vcf:
    if len(variant.ALT) != 1:
      skipped += 1
      continue
    if has_ds and variant.format("DS") is not None:
      dosage = variant.format("DS")[:, 0].astype(np.float32)
      dosage[dosage < 0] = np.nan
    else:
      # gts012: 0 hom-ref, 1 het, 2 hom-alt, 3 unknown.
      dosage = variant.gt_types.astype(np.float32)
      dosage[dosage == 3] = np.nan
    sid.append(variant.ID or f"{variant.CHROM}:{variant.POS}:{variant.REF}:{variant.ALT[0]}")
    chrom.append(variant.CHROM)
    pos.append(variant.POS)
    ref.append(variant.REF)
    alt.append(variant.ALT[0])
    columns.append(dosage)
  vcf.close()
  matrix = (np.stack(columns, axis=1) if columns
            else np.zeros((len(samples), 0), np.float32))
  return plink.Genotypes(samples, samples, sid, chrom, np.asarray(pos, np.int64), alt, ref,
                         matrix), skipped
