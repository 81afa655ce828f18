"""GraphReg models: shapes of the four tiny presets, graph use, modes, stages, training."""

import flax
import jax
import numpy as np
import optax
import pytest

from genereg_jax import models
from genereg_jax.tasks.coverage import poisson_nll

NODES = 10


def _region(rng, nodes=NODES, max_edges=16):
  epi = rng.gamma(1.0, 2.0, size=(2, nodes * 50, 3)).astype(np.float32)
  sequence = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(2, nodes * 5000))]
  pairs = np.array([(s, t) for s in range(nodes) for t in range(nodes) if abs(s - t) > 2])
  edges = pairs[rng.choice(len(pairs), size=(2, max_edges), replace=False)].astype(np.int32)
  mask = np.ones((2, max_edges), bool)
  mask[1, -4:] = False
  return dict(epi=epi, sequence=sequence, edges=edges, edge_mask=mask)


def _inputs(model, region):
  keys = ("epi",) if model.input == "epi" else ("sequence",)
  keys += ("edges", "edge_mask") if model.head == "graph" else ()
  return {k: region[k] for k in keys}


@pytest.fixture(scope="module")
def region():
  return _region(np.random.default_rng(0))


@pytest.mark.parametrize("preset", ["tiny_epi_graphreg", "tiny_epi_cnn", "tiny_seq_graphreg",
                                    "tiny_seq_cnn"])
def test_tiny_presets_output_one_rate_per_node(region, preset):
  model = models.get_model("graphreg", preset)
  inputs = _inputs(model, region)
  variables = model.init(jax.random.key(0), **inputs)
  cage = model.apply(variables, **inputs)
  assert cage.shape == (2, NODES)
  assert (np.asarray(cage) > 0).all()
  assert ("gat_0" in variables["params"]) == (model.head == "graph")
  assert ("trunk" in variables["params"]) == (model.input == "sequence")


def test_graph_head_uses_the_edges_and_modes_agree(region):
  model = models.get_model("graphreg", "tiny_epi_graphreg")
  inputs = _inputs(model, region)
  variables = model.init(jax.random.key(1), **inputs)
  cage, attention = model.apply(variables, **inputs, return_attention=True)
  assert len(attention) == 2 and attention[0].shape == (2, 16 + NODES, 2)
  dense = model.clone(gat_mode="dense").apply(variables, **inputs)
  np.testing.assert_allclose(dense, cage, rtol=1e-5)
  # Another contact graph changes the prediction; the CNN baseline ignores graphs.
  rewired = dict(inputs, edges=(inputs["edges"] + 1) % NODES)
  assert np.abs(model.apply(variables, **rewired) - cage).max() > 1e-4 * np.abs(cage).max()


def _param_shapes(model, region):
  init = lambda: flax.linen.meta.unbox(model.init(jax.random.key(0), **_inputs(model, region)))
  return jax.eval_shape(init)["params"]


def test_paper_preset_sizes(region):
  model = models.get_model("graphreg", "epi_graphreg")
  params = _param_shapes(model, region)
  assert params["stem_0"]["Conv_0"]["kernel"].shape == (25, 3, 128)
  assert params["gat_0"]["kernel"].shape == (128, 128)  # 32 features x 4 heads, concat
  assert params["gat_1"]["att_src"].shape == (4, 32)
  assert params["hidden"]["Conv_0"]["kernel"].shape == (1, 128, 64)
  seq = models.get_model("graphreg", "seq_graphreg")
  seq_params = _param_shapes(seq, region)
  trunk = seq_params["trunk"]
  assert trunk["conv_0"]["Conv_0"]["kernel"].shape == (21, 4, 256)
  assert trunk["conv_4"]["Conv_0"]["kernel"].shape == (3, 128, 64)
  assert seq_params["stem_0"]["Conv_0"]["kernel"].shape == (3, 64, 128)


def test_seq_trunk_pretraining_output_and_freezing(region):
  stage1 = models.get_model("graphreg", "tiny_seq_graphreg", dict(output="epi"))
  variables = stage1.init(jax.random.key(2), sequence=region["sequence"])
  epi = stage1.apply(variables, sequence=region["sequence"])
  assert epi.shape == (2, NODES * 50, 3)
  stage2 = models.get_model("graphreg", "tiny_seq_graphreg", dict(freeze_trunk=True))
  inputs = _inputs(stage2, region)
  variables = stage2.init(jax.random.key(3), **inputs)

  def loss(params):
    cage, _ = stage2.apply({**variables, "params": params}, **inputs, train=True,
                           rngs={"dropout": jax.random.key(4)}, mutable=["batch_stats"])
    return cage.sum()
  grads = jax.grad(loss)(variables["params"])
  assert all(not np.asarray(g).any() for g in jax.tree.leaves(grads["trunk"]))
  assert any(np.asarray(g).any() for g in jax.tree.leaves(grads["gat_0"]))
  with pytest.raises(ValueError, match="input='sequence'"):
    models.get_model("graphreg", "tiny_epi_graphreg", dict(output="epi")).init(
        jax.random.key(0), epi=region["epi"])


def test_a_few_adam_steps_lower_the_poisson_loss(region):
  model = models.get_model("graphreg", "tiny_epi_graphreg")
  inputs = _inputs(model, region)
  target = np.random.default_rng(5).poisson(5.0, size=(2, NODES)).astype(np.float32)
  variables = model.init(jax.random.key(6), **inputs)
  tx = optax.adam(1e-2)

  @jax.jit
  def step(params, batch_stats, opt_state):
    def loss_fn(p):
      cage, mutated = model.apply({"params": p, "batch_stats": batch_stats}, **inputs,
                                  train=True, rngs={"dropout": jax.random.key(7)},
                                  mutable=["batch_stats"])
      return poisson_nll(cage, target).mean(), mutated["batch_stats"]
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), batch_stats, opt_state, loss

  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)
  losses = []
  for _ in range(8):
    params, batch_stats, opt_state, loss = step(params, batch_stats, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_missing_inputs_are_reported(region):
  model = models.get_model("graphreg", "tiny_epi_graphreg")
  with pytest.raises(ValueError, match="edges"):
    model.init(jax.random.key(0), epi=region["epi"])
  with pytest.raises(ValueError, match="'sequence'"):
    models.get_model("graphreg", "tiny_seq_cnn").init(jax.random.key(0), epi=region["epi"])


def test_gat_residual_keeps_the_node_features_and_checks_widths(region):
  model = models.get_model("graphreg", "tiny_epi_graphreg", dict(gat_residual=True))
  inputs = _inputs(model, region)
  with pytest.raises(ValueError, match="gat_residual"):
    model.clone(gat_features=4).init(jax.random.key(0), **inputs)
  assert model.gat_features * model.gat_heads == model.stem_features[-1]
  variables = model.init(jax.random.key(0), **inputs)
  plain = model.clone(gat_residual=False).apply(variables, **inputs)
  assert np.abs(model.apply(variables, **inputs) - plain).max() > 1e-4 * np.abs(plain).max()
