"""Graph edges from a node-by-node contact matrix, as GraphReg builds its graphs.

GraphReg (Karbalayghareh et al., Genome Res. 2022) joins two 5-kb nodes when HiC-DC+
calls their interaction significant at ``FDR <= alpha`` (0.1, 0.01 or 0.001; 0.1 is
the repository README's recommended default), drops the diagonal (no self-loops; the
GAT adds its own) and lists both directions (its adjacency is symmetric). HiC-DC+
fits a negative binomial over distance (and GC, mappability) per chromosome; here
``significant_pairs`` is the same idea made small: counts are tested against a
Poisson with the mean of their diagonal in the region (the distance-decay expectation,
as FitHiC and HiC-DC+ model it; no GC or mappability terms, no overdispersion, so it
calls more pairs than HiC-DC+ at the same level on real data), and Benjamini-Hochberg
turns p-values into FDRs. Two plainer
rules are offered as well: a contact threshold and the top-k partners per node.

Every function works on one region's dense ``[n, n]`` matrix (1,200 x 1,200 for a
6-Mb GraphReg window) and returns unique undirected pairs ``(i, j)`` with ``i < j``;
``pad_edges`` turns them into the stored ``edges [max_edges, 2]`` / ``edge_mask``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

EDGE_RULES: tuple[str, ...] = ("fdr", "threshold", "top_k")


def _upper_pairs(n: int, min_distance: int, max_distance: int | None
                 ) -> tuple[np.ndarray, np.ndarray]:
  """Indices ``(i, j)``, ``i < j``, with ``min_distance <= j - i <= max_distance``."""
  i, j = np.triu_indices(n, k=max(min_distance, 1))
  if max_distance is not None:
    keep = j - i <= max_distance
    i, j = i[keep], j[keep]
  return i, j


def diagonal_expected(counts: np.ndarray) -> np.ndarray:
  """``[n]``: mean finite count of each diagonal ``d`` (the distance decay)."""
  counts = np.asarray(counts, np.float64)
  n = counts.shape[0]
  expected = np.zeros(n)
  for d in range(n):
    diagonal = np.diagonal(counts, d)
    finite = diagonal[np.isfinite(diagonal)]
    expected[d] = finite.mean() if finite.size else 0.0
  return expected


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
  """Benjamini-Hochberg adjusted p-values (q-values), same order as given."""
  p = np.asarray(p_values, np.float64)
  m = p.size
  if m == 0:
    return p
  order = np.argsort(p)
  ranked = p[order] * m / np.arange(1, m + 1)
  q = np.minimum.accumulate(ranked[::-1])[::-1]
  out = np.empty(m)
  out[order] = np.minimum(q, 1.0)
  return out


def significant_pairs(counts: np.ndarray, fdr: float = 0.1, min_distance: int = 1,
                      max_distance: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
  """Pairs whose count is enriched over their diagonal's mean at ``FDR <= fdr``.

  Args:
    counts: ``[n, n]`` raw contact counts (symmetric; NaN = unmappable, never an edge).
    fdr: the Benjamini-Hochberg level (GraphReg's alpha).
    min_distance: least ``j - i`` tested, in nodes.
    max_distance: largest ``j - i`` tested (None: all).

  Returns:
    ``(pairs [m, 2] int32, q [m])``, sorted by q then pair.
  """
  counts = np.asarray(counts, np.float64)
  i, j = _upper_pairs(counts.shape[0], min_distance, max_distance)
  observed = counts[i, j]
  finite = np.isfinite(observed)
  i, j, observed = i[finite], j[finite], observed[finite]
  mean = diagonal_expected(counts)[j - i]
  # P(X >= observed) under Poisson(mean); a diagonal of zeros makes nothing significant.
  p = np.where(mean > 0, stats.poisson.sf(observed - 1, np.maximum(mean, 1e-300)), 1.0)
  q = benjamini_hochberg(p)
  keep = q <= fdr
  order = np.lexsort((j[keep], i[keep], q[keep]))
  pairs = np.stack([i[keep], j[keep]], axis=1)[order].astype(np.int32)
  return pairs, q[keep][order]


def threshold_pairs(contacts: np.ndarray, threshold: float, min_distance: int = 1,
                    max_distance: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Pairs with ``contacts >= threshold``; ``(pairs [m, 2], values)`` strongest first."""
  contacts = np.asarray(contacts, np.float64)
  i, j = _upper_pairs(contacts.shape[0], min_distance, max_distance)
  values = contacts[i, j]
  keep = np.isfinite(values) & (values >= threshold)
  i, j, values = i[keep], j[keep], values[keep]
  order = np.lexsort((j, i, -values))
  return np.stack([i, j], axis=1)[order].astype(np.int32), values[order]


def top_k_pairs(contacts: np.ndarray, k: int, min_distance: int = 1,
                max_distance: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Each node's ``k`` strongest partners (a pair kept if either end picks it).

  Returns ``(pairs [m, 2], values)`` strongest first; zero or non-finite contacts
  are never picked.
  """
  contacts = np.asarray(contacts, np.float64)
  n = contacts.shape[0]
  i, j = _upper_pairs(n, min_distance, max_distance)
  allowed = np.zeros((n, n), bool)
  allowed[i, j] = allowed[j, i] = True
  scores = np.where(allowed & np.isfinite(contacts) & (contacts > 0), contacts, -np.inf)
  chosen = np.zeros((n, n), bool)
  if k > 0:
    best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n), best.shape[1])
    picked = best.ravel()
    valid = np.isfinite(scores[rows, picked])
    chosen[rows[valid], picked[valid]] = True
  chosen |= chosen.T
  i, j = np.nonzero(np.triu(chosen, 1))
  values = contacts[i, j]
  order = np.lexsort((j, i, -values))
  return np.stack([i, j], axis=1)[order].astype(np.int32), values[order]


def pad_edges(pairs: np.ndarray, max_edges: int) -> tuple[np.ndarray, np.ndarray, int]:
  """Both directions of ``pairs`` as ``edges [max_edges, 2]`` int32 + ``edge_mask``.

  ``pairs`` come strongest first; when both directions of all of them do not fit,
  the weakest pairs are dropped (the count dropped is returned) so a pair is never
  half-listed. Kept edges are sorted by (source, target); padding is ``(0, 0)``
  with mask 0.

  Returns:
    ``(edges int32 [max_edges, 2], edge_mask uint8 [max_edges], dropped pairs)``.
  """
  pairs = np.asarray(pairs, np.int32).reshape(-1, 2)
  kept = pairs[:max_edges // 2]
  directed = np.concatenate([kept, kept[:, ::-1]])
  directed = directed[np.lexsort((directed[:, 1], directed[:, 0]))]
  edges = np.zeros((max_edges, 2), np.int32)
  mask = np.zeros(max_edges, np.uint8)
  edges[:len(directed)] = directed
  mask[:len(directed)] = 1
  return edges, mask, len(pairs) - len(kept)
