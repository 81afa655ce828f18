"""Clustering agreement of cell embeddings with known labels (scBasset, SCALE).

The evaluation of scBasset (Yuan & Kelley, Nat. Methods 2022) and of the scATAC
benchmark it follows (Chen et al., Genome Biol. 2019): a k-nearest-neighbour graph of
the embeddings (scanpy ``pp.neighbors``, 15 neighbours), Leiden clusters on it
(``tl.leiden``, leidenalg), and the adjusted Rand index and normalised mutual
information of the clusters against the known cell types. As in the benchmark, the
resolution is searched (bisection) for the one whose cluster count equals the number
of known types, so methods are compared at the same granularity.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def leiden_clusters(embeddings: np.ndarray, resolution: float, *, n_neighbors: int = 15,
                    method: str = "umap", seed: int = 0, adata=None):
  """``(clusters [cells] int, adata)``: Leiden on the embeddings' neighbour graph.

  ``method`` is scanpy's connectivity kernel (``"umap"``, its default, numba-compiled on
  first use; ``"gauss"``); ``adata`` from an earlier call reuses its graph.
  """
  import anndata
  import scanpy as sc
  if adata is None:
    adata = anndata.AnnData(np.zeros((len(embeddings), 1), np.float32))
    adata.obsm["X_embedding"] = np.asarray(embeddings, np.float32)
    sc.pp.neighbors(adata, n_neighbors=min(n_neighbors, len(embeddings) - 1),
                    use_rep="X_embedding", method=method, random_state=seed)
  sc.tl.leiden(adata, resolution=resolution, random_state=seed, key_added="leiden",
               flavor="igraph", n_iterations=2, directed=False)
  return adata.obs["leiden"].astype(int).to_numpy(), adata


def leiden_agreement(embeddings: np.ndarray, labels: np.ndarray, *,
                     resolution: float | None = None, n_neighbors: int = 15,
                     method: str = "umap", seed: int = 0,
                     max_iterations: int = 20) -> dict[str, Any]:
  """ARI and NMI of Leiden clusters of ``embeddings [cells, d]`` against ``labels``.

  Args:
    embeddings: one row per cell.
    labels: ``[cells]`` known types (any hashable values; < 0 integers are unknown and
      left out of the scores).
    resolution: Leiden resolution; None searches for the one giving as many clusters
      as there are known types.
    n_neighbors: neighbours of the kNN graph.
    method: scanpy's connectivity kernel (`leiden_clusters`).
    seed: for the graph and Leiden.
    max_iterations: bisection steps of the resolution search.

  Returns:
    ``{"ari", "nmi", "num_clusters", "num_types", "resolution", "clusters"}``.
  """
  from sklearn import metrics
  labels = np.asarray(labels)
  known = labels >= 0 if labels.dtype.kind in "iu" else np.ones(len(labels), bool)
  num_types = len(np.unique(labels[known]))
  adata = None
  if resolution is not None:
    clusters, adata = leiden_clusters(embeddings, resolution, n_neighbors=n_neighbors,
                                      method=method, seed=seed)
  else:
    low, high, resolution = 0.01, 4.0, 1.0
    for _ in range(max_iterations):
      clusters, adata = leiden_clusters(embeddings, resolution, n_neighbors=n_neighbors,
                                        method=method, seed=seed, adata=adata)
      found = len(np.unique(clusters))
      if found == num_types:
        break
      if found < num_types:
        low = resolution
      else:
        high = resolution
      resolution = (low + high) / 2
  return {"ari": float(metrics.adjusted_rand_score(labels[known], clusters[known])),
          "nmi": float(metrics.normalized_mutual_info_score(labels[known], clusters[known])),
          "num_clusters": int(len(np.unique(clusters))), "num_types": int(num_types),
          "resolution": float(resolution), "clusters": clusters}
