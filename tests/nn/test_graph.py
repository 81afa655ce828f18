"""GraphAttention: parity with PyTorch Geometric's GATConv, edge-list == dense, masks."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.nn import graph

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gat_pyg.npz")
CASES = {"a": dict(features=5, heads=3, concat=True, add_self_loops=True),
         "b": dict(features=4, heads=2, concat=False, add_self_loops=False)}


@pytest.fixture(scope="module")
def reference():
  return dict(np.load(FIXTURE))


def _state_dict(reference, case):
  prefix = f"sd_{case}/"
  return {k[len(prefix):]: reference[k] for k in reference if k.startswith(prefix)}


@pytest.mark.parametrize("mode", graph.MODES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch_geometric(reference, case, mode):
  layer = graph.GraphAttention(**CASES[case], mode=mode)
  params = graph.params_from_torch_geometric(_state_dict(reference, case))
  edges = reference["edge_index"].T[None].astype(np.int32)  # [1, E, 2] (source, target)
  out, alpha = layer.apply({"params": params}, reference["x"][None], edges,
                           np.ones(edges.shape[:2], bool), return_attention=True)
  np.testing.assert_allclose(out[0], reference[f"out_{case}"], atol=1e-5, rtol=0)
  # PyG returns the input edges, then one loop per node: the same order as ours.
  returned = reference[f"att_{case}_edge_index"].T
  num_edges = edges.shape[1]
  expected_edges = np.concatenate([edges[0], np.stack([np.arange(7)] * 2, 1)]) \
      if CASES[case]["add_self_loops"] else edges[0]
  np.testing.assert_array_equal(returned, expected_edges)
  np.testing.assert_allclose(alpha[0], reference[f"att_{case}_alpha"], atol=1e-5, rtol=0)
  assert alpha.shape[1] == num_edges + (7 if CASES[case]["add_self_loops"] else 0)
  if case == "b":  # Node 6 has no incoming edge: the bias alone.
    np.testing.assert_allclose(out[0, 6], reference["sd_b/bias"], atol=1e-6)


def _random_graph(rng, batch=3, nodes=9, max_edges=24, features=6):
  x = rng.normal(size=(batch, nodes, features)).astype(np.float32)
  edges = np.zeros((batch, max_edges, 2), np.int32)
  mask = np.zeros((batch, max_edges), bool)
  for b in range(batch):
    pairs = [(s, t) for s in range(nodes) for t in range(nodes)]
    pick = rng.choice(len(pairs), size=max_edges - 4 * b, replace=False)  # unique, loops too
    edges[b, :pick.size] = np.array(pairs)[pick]
    mask[b, :pick.size] = True
    edges[b, pick.size:] = rng.integers(0, nodes, size=(max_edges - pick.size, 2))  # padding
  return x, edges, mask


@pytest.mark.parametrize("add_self_loops", [True, False])
def test_edge_list_equals_dense(add_self_loops):
  x, edges, mask = _random_graph(np.random.default_rng(0))
  kwargs = dict(features=4, heads=2, concat=True, add_self_loops=add_self_loops)
  sparse = graph.GraphAttention(**kwargs, mode="edges")
  dense = graph.GraphAttention(**kwargs, mode="dense")
  params = sparse.init(jax.random.key(0), x, edges, mask)
  out_s, alpha_s = sparse.apply(params, x, edges, mask, return_attention=True)
  out_d, alpha_d = dense.apply(params, x, edges, mask, return_attention=True)
  np.testing.assert_allclose(out_s, out_d, atol=1e-5)
  np.testing.assert_allclose(alpha_s, alpha_d, atol=1e-6)
  # Padding edges carry no attention; each node's incoming weights sum to 1 per head.
  full_mask = np.asarray(alpha_s.sum(-1) > 0)
  assert not np.asarray(alpha_s)[:, :mask.shape[1]][~mask].any()
  targets = np.concatenate([edges[..., 1], np.tile(np.arange(9), (3, 1))], 1) \
      if add_self_loops else edges[..., 1]
  for b in range(3):
    sums = np.zeros((9, 2))
    np.add.at(sums, targets[b][full_mask[b]], np.asarray(alpha_s[b])[full_mask[b]])
    has_in = np.isin(np.arange(9), targets[b][full_mask[b]])
    np.testing.assert_allclose(sums[has_in], 1.0, atol=1e-5)
  # Gradients agree too (and are finite with isolated nodes).
  def loss(p, layer):
    return (layer.apply(p, x, edges, mask) ** 2).sum()
  grads_s = jax.grad(loss)(params, sparse)
  grads_d = jax.grad(loss)(params, dense)
  for g_s, g_d in zip(jax.tree.leaves(grads_s), jax.tree.leaves(grads_d)):
    assert np.isfinite(g_s).all()
    np.testing.assert_allclose(g_s, g_d, rtol=1e-4, atol=1e-4)


def test_padding_edges_do_not_change_the_output():
  x, edges, mask = _random_graph(np.random.default_rng(1))
  layer = graph.GraphAttention(features=3, heads=2)
  params = layer.init(jax.random.key(1), x, edges, mask)
  shuffled = edges.copy()
  shuffled[~mask] = (shuffled[~mask] + 3) % 9
  np.testing.assert_allclose(layer.apply(params, x, edges, mask),
                             layer.apply(params, x, shuffled, mask), atol=1e-6)


def test_attention_dropout_only_in_training():
  x, edges, mask = _random_graph(np.random.default_rng(2))
  layer = graph.GraphAttention(features=3, heads=2, dropout_rate=0.5)
  params = layer.init(jax.random.key(2), x, edges, mask)
  eval_out = layer.apply(params, x, edges, mask)
  np.testing.assert_array_equal(eval_out, layer.apply(params, x, edges, mask))
  train_out = layer.apply(params, x, edges, mask, train=True,
                          rngs={"dropout": jax.random.key(3)})
  assert np.abs(train_out - eval_out).max() > 1e-3


def test_bad_inputs_are_reported():
  with pytest.raises(ValueError, match="mode"):
    graph.GraphAttention(features=2, mode="sparse").init(
        jax.random.key(0), jnp.zeros((1, 3, 2)), jnp.zeros((1, 2, 2), jnp.int32),
        jnp.ones((1, 2), bool))
  with pytest.raises(ValueError, match="lin.weight"):
    graph.params_from_torch_geometric({"att_src": np.zeros((1, 1, 2))})
