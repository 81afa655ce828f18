r"""Synthetic prioritisation sets with known causal tracks and SNPs, in the real formats.

  python -m data_builders.prioritise.synthetic --out=DIR [--seed=0]

writes ``DIR/zhou/`` (``scores.h5`` as score_variants writes it, ``labels.tsv``) and
``DIR/deepwas/`` (``scores.h5``, ``background.h5``, PLINK ``genotypes.bed/.bim/.fam``,
``phenotype.tsv``, ``covariates.tsv``) and ``truth.json`` in each.

* `labelled_effects` (Zhou et al. 2019 set-up): per-track effects are signed,
  heavy-tailed (Laplace) differences; a variant is a disease variant with probability
  ``sigmoid(bias + weight * sum over planted tracks of |effect| / scale)``, so only the
  planted tracks carry signal and only through their magnitude.
* `gwas` (DeepWAS set-up): unlinked SNPs in Hardy-Weinberg equilibrium (allele
  frequency uniform in [0.05, 0.5], dosage ~ Binomial(2, f)); each SNP is functional on
  at most one track (a large predicted effect there, small noise elsewhere); the
  quantitative phenotype is the standardised dosages of a few causal functional SNPs on
  the planted tracks times ``beta``, plus sex and one ancestry-like covariate, plus
  N(0, 1) noise. Truth: the (track, SNP) pairs of the causal SNPs.
"""

from __future__ import annotations

import json
import os

import numpy as np

from genereg_jax.files import atomic_path
from genereg_jax.files import atomic_write
from genereg_jax.files import write_json


def labelled_effects(variants: int = 600, tracks: int = 40, planted=(3, 11, 27),
                     weight: float = 1.5, seed: int = 0) -> dict:
  """``effects float32[variants, tracks]``, ``labels int[variants]``, ``planted``."""
  rng = np.random.default_rng(seed)
  scale = rng.uniform(0.005, 0.05, tracks)  # Tracks differ in typical effect size.
  effects = rng.laplace(0.0, 1.0, (variants, tracks)) * scale
  signal = np.abs(effects[:, list(planted)] / scale[list(planted)]).sum(axis=1)
  logit = weight * (signal - signal.mean())
  labels = (rng.random(variants) < 1 / (1 + np.exp(-logit))).astype(int)
  return {"effects": effects.astype(np.float32), "labels": labels,
          "planted": list(planted), "track_names": [f"track{t}" for t in range(tracks)]}


def gwas(samples: int = 800, snps: int = 600, tracks: int = 10, functional: float = 0.7,
         planted=(2, 7), causal_per_track: int = 2, beta: float = 0.3,
         background: int = 20000, seed: int = 0) -> dict:
  """Genotypes, phenotype, covariates, per-track SNP effects and a background table."""
  rng = np.random.default_rng(seed)
  frequency = rng.uniform(0.05, 0.5, snps)
  dosage = rng.binomial(2, frequency, (samples, snps)).astype(np.float32)
  effects = rng.normal(0.0, 0.01, (snps, tracks))
  track_of = np.where(rng.random(snps) < functional, rng.integers(0, tracks, snps), -1)
  for s in np.flatnonzero(track_of >= 0):
    effects[s, track_of[s]] = rng.choice([-1, 1]) * rng.uniform(0.2, 0.5)
  causal = [int(s) for t in planted
            for s in rng.choice(np.flatnonzero(track_of == t), causal_per_track,
                                replace=False)]
  standard = (dosage - 2 * frequency) / np.sqrt(2 * frequency * (1 - frequency))
  sex = rng.integers(0, 2, samples).astype(np.float64)
  ancestry = rng.normal(0, 1, samples)
  phenotype = (standard[:, causal] @ np.full(len(causal), beta) + 0.3 * sex
               + 0.2 * ancestry + rng.normal(0, 1, samples))
  return {"dosage": dosage, "phenotype": phenotype,
          "covariates": np.column_stack([sex, ancestry]), "effects": effects.astype(
              np.float32),
          "background": rng.normal(0.0, 0.01, (background, tracks)).astype(np.float32),
          "causal": causal, "truth": [[int(track_of[s]), s] for s in causal],
          "track_names": [f"feature{t}" for t in range(tracks)]}


def write_scores_h5(path: str, chrom, pos, ref, alt, values: np.ndarray,
                    tracks, key: str = "probs/diff") -> None:
  """An HDF5 file laid out as score_variants' ``scores.h5`` (`variants.scoring.merge`)."""
  import h5py
  with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
    strings = h5py.string_dtype()
    for name, column in (("chrom", chrom), ("ref", ref), ("alt", alt),
                         ("id", ["."] * len(pos))):
      h5.create_dataset(name, data=np.array(column, dtype=object), dtype=strings)
    h5.create_dataset("line", data=np.arange(1, len(pos) + 1, dtype=np.int64))
    h5.create_dataset("pos", data=np.asarray(pos, np.int64))
    h5.create_dataset(key, data=values.astype(np.float16)).attrs["tracks"] = list(tracks)


def _alleles(rng, count):
  ref = rng.choice(list("ACGT"), count)
  alt = np.array(["ACGT"[("ACGT".index(r) + rng.integers(1, 4)) % 4] for r in ref])
  return list(ref), list(alt)


def write_zhou(out: str, seed: int = 0) -> dict:
  """``out/scores.h5``, ``out/labels.tsv`` and ``out/truth.json`` of `labelled_effects`."""
  data = labelled_effects(seed=seed)
  rng = np.random.default_rng(seed + 1)
  n = len(data["labels"])
  pos = list(1000 + 100 * np.arange(n))
  ref, alt = _alleles(rng, n)
  os.makedirs(out, exist_ok=True)
  write_scores_h5(os.path.join(out, "scores.h5"), ["chr1"] * n, pos, ref, alt,
                  data["effects"], data["track_names"])
  with atomic_write(os.path.join(out, "labels.tsv")) as f:
    f.write("chrom\tpos\tref\talt\tlabel\n")
    for i in range(n):
      f.write(f"1\t{pos[i]}\t{ref[i]}\t{alt[i]}\t"
              f"{'case' if data['labels'][i] else 'control'}\n")
  write_json(os.path.join(out, "truth.json"),
             {"planted_tracks": [data["track_names"][t] for t in data["planted"]]})
  return data


def write_deepwas(out: str, seed: int = 0) -> dict:
  """PLINK fileset, phenotype/covariate tables, scores and background of `gwas`."""
  import bed_reader
  data = gwas(seed=seed)
  rng = np.random.default_rng(seed + 1)
  samples, snps = data["dosage"].shape
  pos = list(5000 + 1000 * np.arange(snps))
  ref, alt = _alleles(rng, snps)
  os.makedirs(out, exist_ok=True)
  write_scores_h5(os.path.join(out, "scores.h5"), ["chr2"] * snps, pos, ref, alt,
                  data["effects"], data["track_names"])
  n_bg = len(data["background"])
  write_scores_h5(os.path.join(out, "background.h5"), ["chr3"] * n_bg, list(range(1,
                  n_bg + 1)), ["A"] * n_bg, ["C"] * n_bg, data["background"],
                  data["track_names"])
  fid = [f"F{i}" for i in range(samples)]
  iid = [f"I{i}" for i in range(samples)]
  # Dosages count allele 1 (PLINK), written here as the ALT allele.
  with atomic_path(os.path.join(out, "genotypes.bed")) as tmp:
    bed_reader.to_bed(tmp, data["dosage"], properties={
        "fid": fid, "iid": iid, "sex": [int(s) + 1 for s in data["covariates"][:, 0]],
        "chromosome": ["2"] * snps, "sid": [f"snp{s}" for s in range(snps)],
        "bp_position": pos, "allele_1": alt, "allele_2": ref},
        fam_filepath=os.path.join(out, "genotypes.fam"),
        bim_filepath=os.path.join(out, "genotypes.bim"), num_threads=1)
  with atomic_write(os.path.join(out, "phenotype.tsv")) as f:
    f.write("FID\tIID\ttrait\n")
    f.writelines(f"{a}\t{b}\t{v:.6f}\n" for a, b, v in zip(fid, iid, data["phenotype"]))
  with atomic_write(os.path.join(out, "covariates.tsv")) as f:
    f.write("FID\tIID\tsex\tPC1\n")
    f.writelines(f"{a}\t{b}\t{c[0]:.0f}\t{c[1]:.6f}\n"
                 for a, b, c in zip(fid, iid, data["covariates"]))
  write_json(os.path.join(out, "truth.json"),
             {"causal_pairs": [[data["track_names"][t], f"snp{s}"]
                               for t, s in data["truth"]]})
  return data


def main(argv=None) -> None:
  import argparse
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--out", required=True)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  write_zhou(os.path.join(args.out, "zhou"), args.seed)
  write_deepwas(os.path.join(args.out, "deepwas"), args.seed)
  print(json.dumps({"zhou": os.path.join(args.out, "zhou"),
                    "deepwas": os.path.join(args.out, "deepwas")}))


if __name__ == "__main__":
  main()
