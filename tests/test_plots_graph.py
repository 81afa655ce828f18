"""plots_graph: a gene's incoming attention is extracted from GAT output and drawn."""

import jax
import numpy as np
import pytest

from genereg_jax import plots_graph
from genereg_jax.nn import graph


def test_incoming_attention_matches_the_layer_and_sums_to_one(tmp_path):
  rng = np.random.default_rng(0)
  nodes = 12
  edges = np.array([(0, 5), (9, 5), (5, 9), (3, 5), (5, 5), (2, 7), (11, 5)], np.int32)
  mask = np.array([1, 1, 1, 1, 1, 1, 0], bool)  # The last edge is padding.
  x = rng.normal(size=(1, nodes, 4)).astype(np.float32)
  layer = graph.GraphAttention(features=3, heads=2)
  params = layer.init(jax.random.key(0), x, edges[None], mask[None])
  _, alpha = layer.apply(params, x, edges[None], mask[None], return_attention=True)
  sources, weights = plots_graph.incoming_attention(alpha[0], edges, mask, gene=5)
  # Edges 0, 9, 3 -> 5 and the appended self loop (the listed 5 -> 5 loop is dropped).
  np.testing.assert_array_equal(sources, [0, 3, 5, 9])
  np.testing.assert_allclose(weights.sum(), 1.0, atol=1e-5)
  np.testing.assert_allclose(weights[-1], np.asarray(alpha[0, 1]).mean(), atol=1e-6)
  path = tmp_path / "attention.png"
  drawn = plots_graph.gene_attention(path, alpha[0], edges, mask, 5, num_nodes=nodes,
                                     marks=[9])
  np.testing.assert_array_equal(drawn[0], sources)
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(ValueError, match="outside"):
    plots_graph.gene_attention(tmp_path / "x.png", alpha[0], edges, mask, 12, num_nodes=nodes)
  with pytest.raises(ValueError, match="format"):
    plots_graph.gene_attention(tmp_path / "x.jpg", alpha[0], edges, mask, 5, num_nodes=nodes)
