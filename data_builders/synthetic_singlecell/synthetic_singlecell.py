"""Synthetic single-cell data with a known truth: scATAC cells x peaks, and expression
of regulator-target gene pairs (DESIGN.md, decision 8).

SYNTHETIC, and says so. Two simulations, each returning a real AnnData (written and
read as ``.h5ad`` by the builders' tests) plus what the builders need beside it:

**scATAC** (`simulate_atac`; scBasset, pseudobulk Basset, SCALE). ``num_types`` cell
types, each driven by one real JASPAR motif (`TYPE_MOTIFS`: GATA1, SPI1, HNF4A, SOX2,
CEBPB, NFYA in that order) and a constitutive CTCF program open in every cell. Every
peak belongs to one program (a cell type's with probability 0.85, else CTCF): 2-3
strong instances of that program's motif (>= 0.7 of the consensus log-odds, as
``synthetic_motifs``) are planted in its central 600 bp on an i.i.d. background of GC
0.42. Cell ``c`` of type ``t`` opens peak ``j`` with probability
``sigmoid(-3 + depth_c + peak_j + 3.5 [program_j = t] + 3 [program_j = CTCF])``,
``depth_c ~ N(0, 0.5)`` (sequencing depth, the intercept scBasset learns per cell),
``peak_j ~ N(0, 0.3)``: about 5% background, 60% in the type's own peaks. The peaks
lie end to end on one contig ``synth`` (window ``seq_len`` each), so a peak's
``centred_window`` of ``seq_len`` is exactly its planted sequence. Truth:
``obs["cell_type"]``, ``obs["depth"]``, ``var["program"]``.

**Expression** (`simulate_expression`; CNNC). ``num_modules`` modules of one
regulator and two targets over ``num_cells`` cells. A regulator is bimodal (on in a
fraction 0.2-0.8 of cells, log-normal levels); a target's counts are
``Poisson(0.3 + 12 r^2 / (K^2 + r^2))`` of its regulator's level ``r`` (a Hill
activation; ``K`` the regulator's median when on), with 30% dropout, so the joint
distribution is asymmetric. Pairs (CNNC's labels): ``(regulator, target 1)`` 1,
``(target 2, regulator)`` 2, and as many pairs with label 0: the two targets of every
other module (co-regulated, so correlated without a direct interaction, CNNC's hard
negatives) and genes of different modules.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import sparse

from data_builders.synthetic_motifs import synthetic_motifs as sm

#: Each cell type's motif (JASPAR base IDs from ``synthetic_motifs.MOTIF_IDS``).
TYPE_MOTIFS = ("GATA1", "SPI1", "HNF4A", "SOX2", "CEBPB", "NFYA")
CONSTITUTIVE_MOTIF = "CTCF"
CONTIG = "synth"
GC_FRACTION = 0.42
BASE_LOGIT, TYPE_EFFECT, CONSTITUTIVE_EFFECT = -3.0, 3.5, 3.0
DEPTH_SD, PEAK_SD = 0.5, 0.3
CORE = 600  # Motifs are planted in the central 600 bp (any window >= 600 holds them).
_BASES = np.frombuffer(b"ACGT", np.uint8)


@functools.lru_cache(maxsize=1)
def motifs() -> dict[str, sm.PlantedMotif]:
  names = (*TYPE_MOTIFS, CONSTITUTIVE_MOTIF)
  return sm.load_motifs(motif_ids={n: sm.MOTIF_IDS[n] for n in names})


def _background(rng: np.random.Generator, length: int) -> np.ndarray:
  p = np.array([1 - GC_FRACTION, GC_FRACTION, GC_FRACTION, 1 - GC_FRACTION]) / 2
  return rng.choice(4, length, p=p).astype(np.uint8)


def peak_sequence(rng: np.random.Generator, motif: sm.PlantedMotif, length: int) -> np.ndarray:
  """Base indices of one peak with 2-3 strong instances of ``motif`` in its core."""
  bases = _background(rng, length)
  core = min(CORE, length)
  core_start = (length - core) // 2
  slots = core // (motif.width + 4)
  for slot in rng.choice(slots, size=int(rng.integers(2, 4)), replace=False):
    start = core_start + slot * (motif.width + 4) + int(rng.integers(0, 4))
    bases[start:start + motif.width] = motif.sample(rng, int(rng.choice([-1, 1])),
                                                    sm.STRONG_SITE_FRACTION)
  return bases


def simulate_atac(num_types: int = 6, num_cells: int = 1200, num_peaks: int = 6000,
                  seq_len: int = 1344, seed: int = 0):
  """``(adata, genome)``: cells x peaks binary AnnData and ``{contig: sequence}``."""
  import anndata
  import pandas as pd
  if not 1 < num_types <= len(TYPE_MOTIFS):
    raise ValueError(f"num_types must be 2-{len(TYPE_MOTIFS)}, got {num_types}")
  rng = np.random.default_rng([seed, 21])
  library = motifs()
  programs = np.where(rng.random(num_peaks) < 0.85, rng.integers(0, num_types, num_peaks),
                      num_types)  # num_types: the constitutive CTCF program.
  program_motifs = [library[n] for n in (*TYPE_MOTIFS[:num_types], CONSTITUTIVE_MOTIF)]
  genome = np.concatenate([peak_sequence(rng, program_motifs[p], seq_len) for p in programs])
  cell_types = np.arange(num_cells) % num_types
  rng.shuffle(cell_types)
  depth = rng.normal(0.0, DEPTH_SD, num_cells)
  peak_effect = rng.normal(0.0, PEAK_SD, num_peaks)
  logits = (BASE_LOGIT + depth[:, None] + peak_effect[None, :]
            + TYPE_EFFECT * (programs[None, :] == cell_types[:, None])
            + CONSTITUTIVE_EFFECT * (programs[None, :] == num_types))
  open_ = rng.random(logits.shape) < 1.0 / (1.0 + np.exp(-logits))
  names = np.array([*TYPE_MOTIFS[:num_types], CONSTITUTIVE_MOTIF])
  starts = np.arange(num_peaks) * seq_len
  var = pd.DataFrame({"chr": CONTIG, "start": starts, "end": starts + seq_len,
                      "program": names[programs]},
                     index=[f"{CONTIG}:{s}-{s + seq_len}" for s in starts])
  obs = pd.DataFrame({"cell_type": pd.Categorical(names[cell_types]), "depth": depth},
                     index=[f"cell{i}" for i in range(num_cells)])
  adata = anndata.AnnData(X=sparse.csr_matrix(open_.astype(np.float32)), obs=obs, var=var)
  return adata, {CONTIG: _BASES[genome].tobytes().decode()}


def simulate_expression(num_modules: int = 200, num_cells: int = 1000, seed: int = 0):
  """``(adata, pairs)``: cells x genes counts and ``[(gene_a, gene_b, label)]``."""
  import anndata
  import pandas as pd
  rng = np.random.default_rng([seed, 22])
  columns, names = [], []
  for module in range(num_modules):
    on = rng.random(num_cells) < rng.uniform(0.2, 0.8)
    level = np.exp(rng.normal(rng.uniform(0.5, 2.0), 0.5, num_cells))
    regulator = np.where(on, level, 0.0) * rng.poisson(3, num_cells) / 3.0
    half = np.median(level)
    targets = []
    for _ in range(2):
      rate = 0.3 + 12.0 * regulator ** 2 / (half ** 2 + regulator ** 2)
      targets.append(rng.poisson(rate) * (rng.random(num_cells) > 0.3))
    columns += [regulator, *targets]
    names += [f"reg{module}", f"tgt{module}a", f"tgt{module}b"]
  pairs = []
  for module in range(num_modules):
    pairs.append((f"reg{module}", f"tgt{module}a", 1))
    pairs.append((f"tgt{module}b", f"reg{module}", 2))
    if module % 2 == 0:  # Co-regulated targets: correlated, but no direct interaction.
      pairs.append((f"tgt{module}a", f"tgt{module}b", 0))
  genes = np.array(names)
  while len(pairs) < 3 * num_modules:
    a, b = rng.choice(len(genes), 2, replace=False)
    if a // 3 != b // 3:
      pairs.append((str(genes[a]), str(genes[b]), 0))
  order = rng.permutation(len(pairs))
  adata = anndata.AnnData(X=np.stack(columns, axis=1).astype(np.float32),
                          var=pd.DataFrame(index=genes),
                          obs=pd.DataFrame(index=[f"cell{i}" for i in range(num_cells)]))
  return adata, [pairs[i] for i in order]
