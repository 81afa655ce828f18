r"""GAT attention of one gene over its contact edges (GraphReg, Karbalayghareh et al. 2022,
Fig. 5 style: which distal nodes a promoter node attends to).

``gene_attention`` draws, for the node ``gene`` of one region, every incoming edge
``j -> gene`` as an arc from node ``j`` to the gene along the linear region (height
grows with distance, width and colour with the attention weight averaged over heads),
and below it the weight per source node as stems; the gene's own self-loop weight is
the stem at the gene. Optional ``marks`` (e.g. the synthetic data's true enhancer
nodes) are drawn as ticks. Written with ``files.atomic_path`` (PNG or SVG).

Attention comes from ``GraphReg(..., return_attention=True)``: one ``[E + N, heads]``
array per GAT layer for a region, with ``edges [E, 2]`` (source, target) and the N self
loops last; `incoming_attention` extracts the gene's row.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from genereg_jax.files import atomic_path
from genereg_jax.plots import FORMATS, _pyplot


def incoming_attention(attention, edges, edge_mask, gene: int) -> tuple[np.ndarray, np.ndarray]:
  """``(sources, weights)``: the nodes sending to ``gene`` and their head-mean attention.

  ``attention`` is ``[E (+ N), heads]`` (self loops appended after the E edges, as
  ``GraphAttention`` returns them); ``edges [E, 2]``, ``edge_mask [E]``.
  """
  attention = np.asarray(attention, np.float64)
  edges = np.asarray(edges)
  mask = np.asarray(edge_mask).astype(bool)
  num_edges = edges.shape[0]
  weights = attention.mean(-1)
  into = np.flatnonzero(mask & (edges[:, 1] == gene) & (edges[:, 0] != gene))
  sources, values = list(edges[into, 0]), list(weights[into])
  if attention.shape[0] > num_edges:  # Self loops appended: node n's loop is E + n.
    sources.append(gene)
    values.append(weights[num_edges + gene])
  order = np.argsort(sources, kind="stable")
  return np.asarray(sources, int)[order], np.asarray(values)[order]


def gene_attention(path: str | os.PathLike, attention, edges, edge_mask, gene: int, *,
                   num_nodes: int, node_size: int = 5000, marks: Sequence[int] = (),
                   title: str = "") -> tuple[np.ndarray, np.ndarray]:
  """Writes the figure; returns ``incoming_attention(...)`` (what it drew)."""
  if not 0 <= gene < num_nodes:
    raise ValueError(f"gene node {gene} is outside the region's {num_nodes} nodes")
  ext = os.fspath(path).rsplit(".", 1)[-1].lower()
  if ext not in FORMATS:
    raise ValueError(f"unsupported figure format {ext!r}; valid: {list(FORMATS)}")
  sources, weights = incoming_attention(attention, edges, edge_mask, gene)
  plt = _pyplot()
  kb = node_size / 1000
  figure, (arcs, stems) = plt.subplots(2, 1, figsize=(10, 5), sharex=True,
                                       gridspec_kw=dict(height_ratios=(2, 1)))
  colours = plt.get_cmap("viridis")
  top = max(weights.max(), 1e-9) if weights.size else 1.0
  for source, weight in zip(sources, weights):
    if source == gene:
      continue
    centre, radius = (source + gene) / 2 * kb, abs(source - gene) / 2 * kb
    theta = np.linspace(0, np.pi, 60)
    arcs.plot(centre + radius * np.cos(theta), radius * np.sin(theta),
              color=colours(weight / top), lw=0.5 + 4 * weight / top)
  arcs.axvline(gene * kb, color="crimson", lw=1)
  arcs.set_ylabel("distance / 2 (kb)")
  arcs.set_title(title or f"GAT attention into node {gene}")
  stems.vlines(sources * kb, 0, weights, color="black")
  stems.scatter(sources * kb, weights, s=12, color=[colours(w / top) for w in weights])
  for mark in marks:
    stems.axvline(mark * kb, color="orange", lw=0.8, ls="--")
  stems.set_xlim(0, num_nodes * kb)
  stems.set_xlabel("position in region (kb)")
  stems.set_ylabel("attention (head mean)")
  figure.tight_layout()
  with atomic_path(path) as tmp:
    figure.savefig(tmp, format=ext, dpi=120)
  plt.close(figure)
  return sources, weights
