"""Graph attention (GAT; Veličković et al., "Graph Attention Networks", ICLR 2018).

One layer, as PyTorch Geometric's ``GATConv`` computes it (the layer GraphReg's
successors and most GNN code use), on padded graphs with static shapes:

  x'        = x W                              [B, N, heads, features]
  a_src[n]  = <x'[n], att_src>, a_dst[n] = <x'[n], att_dst>          per head
  e_ji      = LeakyReLU(a_src[j] + a_dst[i], negative_slope)   for each edge j -> i
  alpha_ji  = softmax of e over the edges *into* i (per head), then attention dropout
  out[i]    = sum_j alpha_ji x'[j]   -> heads concatenated (head-major) or averaged
              + bias; a node without incoming edges gets just the bias.

Edges are ``[B, E, 2]`` int (source j, target i: messages flow j -> i; list both
directions for an undirected contact graph) with ``edge_mask [B, E]`` marking the real
ones, so every graph of a dataset has the same shapes and nothing recompiles (flax's
``ogbg_molpcba`` example pads the same way). ``add_self_loops`` follows PyG: self loops
already in the list are dropped, then one loop per node is appended. Two
implementations give the same numbers (a test checks it):

* ``mode="edges"``: segment max/sum over the edge list (``jax.ops.segment_*``), memory
  O(E) — for GraphReg's 6-Mb regions (1,200 nodes) and anything larger;
* ``mode="dense"``: a ``[B, heads, N, N]`` masked softmax, often faster for small N
  (it is a few batched matmuls). A duplicated edge counts twice in ``"edges"`` mode and
  once in ``"dense"`` mode, so edge lists should be unique (PyG counts it twice).

``return_attention=True`` also returns alpha ``[B, E (+ N loops), heads]`` in the edge
list's order, loops last, as ``GATConv(return_attention_weights=True)``; masked edges
(and self loops removed by ``add_self_loops``) get 0. PyG instead drops removed loops
from the returned list, so with such loops the positions differ (values agree).

`params_from_torch_geometric` maps a ``GATConv`` state dict to this module's params.
"""

from __future__ import annotations

from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
MODES = ("edges", "dense")


class GraphAttention(nn.Module):
  """One GAT layer: ``nodes [B, N, F]`` -> ``[B, N, heads * features]`` (or ``features``).

  Attributes:
    features: output channels per head (PyG ``out_channels``).
    heads: attention heads.
    concat: concatenate heads (True) or average them (False).
    add_self_loops: replace self loops by one loop per node (PyG's default).
    negative_slope: LeakyReLU slope of the attention logits (0.2 in the paper).
    dropout_rate: dropout on the attention coefficients when ``train``.
    use_bias: add a bias after aggregation (PyG ``bias=True``).
    mode: ``"edges"`` (segment ops) or ``"dense"`` (adjacency softmax).
    dtype: compute dtype; the softmax runs in float32.
  """
  features: int
  heads: int = 1
  concat: bool = True
  add_self_loops: bool = True
  negative_slope: float = 0.2
  dropout_rate: float = 0.0
  use_bias: bool = True
  mode: str = "edges"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, nodes: Array, edges: Array, edge_mask: Array, train: bool = False,
               return_attention: bool = False):
    if self.mode not in MODES:
      raise ValueError(f"unknown GraphAttention mode {self.mode!r}; valid: {list(MODES)}")
    batch, num_nodes, in_features = nodes.shape
    heads, features = self.heads, self.features
    glorot = nn.initializers.glorot_uniform()
    kernel = self.param("kernel", nn.with_logical_partitioning(glorot, ("embed", "heads_mlp")),
                         (in_features, heads * features))
    att_src = self.param("att_src", nn.with_logical_partitioning(glorot, (None, None)),
                         (heads, features))
    att_dst = self.param("att_dst", nn.with_logical_partitioning(glorot, (None, None)),
                         (heads, features))
    projected = jnp.einsum("bnf,fo->bno", nodes.astype(self.dtype), kernel.astype(self.dtype))
    projected = projected.reshape(batch, num_nodes, heads, features)
    score_src = jnp.einsum("bnhc,hc->bnh", projected, att_src.astype(self.dtype))
    score_dst = jnp.einsum("bnhc,hc->bnh", projected, att_dst.astype(self.dtype))

    edges, edge_mask = _with_self_loops(edges, edge_mask, num_nodes, self.add_self_loops)
    source, target = edges[..., 0], edges[..., 1]
    dropout = nn.Dropout(self.dropout_rate, deterministic=not train)
    if self.mode == "edges":
      out, alpha = self._aggregate_edges(projected, score_src, score_dst, source, target,
                                         edge_mask, dropout)
    else:
      out, alpha = self._aggregate_dense(projected, score_src, score_dst, source, target,
                                         edge_mask, dropout)
    out = out.reshape(batch, num_nodes, heads * features) if self.concat else out.mean(2)
    if self.use_bias:
      bias = self.param("bias", nn.with_logical_partitioning(nn.initializers.zeros_init(),
                                                             ("heads_mlp",)),
                        (out.shape[-1],))
      out = out + bias.astype(out.dtype)
    return (out, alpha) if return_attention else out

  def _logits(self, score_src, score_dst):
    return nn.leaky_relu((score_src + score_dst).astype(jnp.float32), self.negative_slope)

  def _aggregate_edges(self, projected, score_src, score_dst, source, target, edge_mask,
                       dropout):
    """Segment softmax over each node's incoming edges; returns ``[B, N, H, C]``."""
    batch, num_nodes = projected.shape[:2]
    rows = jnp.arange(batch)[:, None]
    logits = self._logits(score_src[rows, source], score_dst[rows, target])  # [B, E, H]
    # One segment per (graph, target node); masked edges go to a spare last segment.
    segment = jnp.where(edge_mask, rows * num_nodes + target, batch * num_nodes).reshape(-1)
    num_segments = batch * num_nodes + 1
    logits = logits.reshape(-1, logits.shape[-1])
    # The softmax is shift-invariant: no gradient through the per-node maximum.
    peak = jax.lax.stop_gradient(jax.ops.segment_max(logits, segment, num_segments))
    weights = jnp.exp(logits - peak[segment])
    total = jax.ops.segment_sum(weights, segment, num_segments)
    mask = edge_mask.reshape(-1, 1)
    alpha = jnp.where(mask, weights / jnp.where(mask, total[segment], 1.0), 0.0)
    alpha = dropout(alpha)
    messages = alpha[..., None].astype(projected.dtype) * projected[rows, source].reshape(
        alpha.shape + projected.shape[-1:])
    out = jax.ops.segment_sum(messages, segment, num_segments)[:-1]
    return (out.reshape(projected.shape),
            alpha.reshape(batch, -1, alpha.shape[-1]))

  def _aggregate_dense(self, projected, score_src, score_dst, source, target, edge_mask,
                       dropout):
    """Masked softmax over an ``[B, N(target), N(source)]`` adjacency."""
    batch, num_nodes = projected.shape[:2]
    rows = jnp.arange(batch)[:, None]
    adjacency = jnp.zeros((batch, num_nodes, num_nodes), bool).at[rows, target, source].max(
        edge_mask)
    logits = self._logits(score_src[:, None, :, :], score_dst[:, :, None, :])  # [B, i, j, H]
    logits = jnp.where(adjacency[..., None], logits, -jnp.inf)
    peak = jax.lax.stop_gradient(jnp.max(logits, axis=2, keepdims=True))
    weights = jnp.where(adjacency[..., None], jnp.exp(logits - jnp.where(
        jnp.isfinite(peak), peak, 0.0)), 0.0)
    total = weights.sum(axis=2, keepdims=True)
    alpha = weights / jnp.where(total > 0, total, 1.0)
    alpha = dropout(alpha)
    out = jnp.einsum("bijh,bjhc->bihc", alpha.astype(projected.dtype), projected)
    edge_alpha = jnp.where(edge_mask[..., None], alpha[rows, target, source], 0.0)
    return out, edge_alpha


def _with_self_loops(edges: Array, edge_mask: Array, num_nodes: int, add: bool):
  """PyG's ``remove_self_loops`` + ``add_self_loops``: loops masked out, N loops appended."""
  edges = edges.astype(jnp.int32)
  edge_mask = edge_mask.astype(bool)
  if not add:
    return edges, edge_mask
  batch = edges.shape[0]
  edge_mask = edge_mask & (edges[..., 0] != edges[..., 1])
  loops = jnp.broadcast_to(jnp.arange(num_nodes, dtype=jnp.int32)[None, :, None],
                           (batch, num_nodes, 2))
  return (jnp.concatenate([edges, loops], axis=1),
          jnp.concatenate([edge_mask, jnp.ones((batch, num_nodes), bool)], axis=1))


def params_from_torch_geometric(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
  """``GATConv.state_dict()`` -> `GraphAttention` params (numpy).

  PyG stores ``lin.weight [heads * out, in]`` (``lin_src.weight`` before 2.3; the same
  matrix when source and target features coincide), ``att_src``/``att_dst``
  ``[1, heads, out]`` and ``bias`` (``heads * out`` if concat, else ``out``). Tensors or
  arrays are accepted.
  """
  def array(key):
    value = state_dict[key]
    value = value.detach().cpu().numpy() if hasattr(value, "detach") else value
    return np.asarray(value, np.float32)

  weight_key = next((k for k in ("lin.weight", "lin_src.weight") if k in state_dict), None)
  if weight_key is None:
    raise ValueError(f"not a GATConv state dict (no lin.weight): keys {sorted(state_dict)}")
  if any(k.endswith("lin.bias") or k.endswith("lin_src.bias") for k in state_dict):
    raise ValueError("GATConv with a biased lin layer is not supported (PyG's lin has no bias)")
  params = {"kernel": array(weight_key).T, "att_src": array("att_src")[0],
            "att_dst": array("att_dst")[0]}
  if "bias" in state_dict:
    params["bias"] = array("bias")
  return params
