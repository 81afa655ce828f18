"""DeepLoc: the paper's geometry and parameter count, attention that sums to one and
skips padding, the tree likelihood, a jitted train step and the attention plot."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax.core import meta

from genereg_jax import models
from genereg_jax import tasks
from genereg_jax.models import deeploc


def _proteins(rng, batch, length, channels=20, pad=(0,)):
  """BLOSUM-like rows with a padded middle of ``pad[b]`` positions per protein."""
  x = rng.normal(size=(batch, length, channels)).astype(np.float32)
  mask = np.ones((batch, length), np.float32)
  for b in range(batch):
    p = pad[b % len(pad)]
    start = (length - p) // 2
    x[b, start:start + p] = 0
    mask[b, start:start + p] = 0
  return x, mask


def test_paper_geometry_and_parameter_count():
  model = models.get_model("deeploc", "paper")
  x = jax.ShapeDtypeStruct((2, 1000, 20), jnp.float32)
  m = jax.ShapeDtypeStruct((2, 1000), jnp.float32)
  variables = jax.eval_shape(lambda x, m: meta.unbox(model.init(jax.random.key(0), x, m)), x, m)
  params = variables["params"]
  for width in (1, 3, 5, 9, 15, 21):
    assert params[f"conv_width{width}"]["kernel"].shape == (width, 20, 20)
  assert params["conv2"]["kernel"].shape == (3, 120, 128)
  assert params["decoder"]["key"]["kernel"].shape == (512, 256)
  assert params["decoder"]["cell"]["hi"]["kernel"].shape == (512, 512)
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  convs = 20 * 20 * (1 + 3 + 5 + 9 + 15 + 21) + 6 * 20 + 3 * 120 * 128 + 128
  bilstm = 2 * 4 * (128 * 256 + 256 * 256 + 256)
  decoder = 2 * 512 * 256 + 256 + 4 * (512 * 512 * 2 + 512)
  head = 512 * 512 + 512 + 513 + 512 * 10 + 10
  assert count == convs + bilstm + decoder + head
  (out, state) = jax.eval_shape(
      lambda v, x, m: model.apply(v, x, m, mutable=["intermediates"]), variables, x, m)
  assert out["location"].shape == (2, 10) and out["membrane"].shape == (2,)
  assert state["intermediates"]["attention"][0].shape == (2, 10, 1000)


def test_attention_sums_to_one_and_skips_padding():
  rng = np.random.default_rng(0)
  x, mask = _proteins(rng, 2, 40, pad=(10, 0))
  model = models.get_model("deeploc", "tiny")
  variables = meta.unbox(jax.jit(model.init)(jax.random.key(0), x, mask))
  weights = deeploc.attention_weights(model, variables, x, mask)
  assert weights.shape == (2, 3, 40)
  np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
  assert weights[0][:, mask[0] == 0].max() < 1e-12
  assert weights[1].min() > 0
  # Without a mask, all-zero rows are padding.
  np.testing.assert_allclose(deeploc.attention_weights(model, variables, x), weights, atol=1e-6)


def test_tree_likelihood():
  rng = np.random.default_rng(1)
  tree = ((2, 0), (1, (3, 4)))
  logits = jnp.asarray(rng.normal(size=(5, 2 + 2 + 2 + 2)).astype(np.float32))
  log_p = np.asarray(deeploc.tree_log_likelihood(logits, tree, 5))
  np.testing.assert_allclose(np.exp(log_p).sum(-1), 1.0, rtol=1e-5)
  softmax = lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)
  # Depth-first nodes: root (cols 0-1), (2, 0) (2-3), (1, (3, 4)) (4-5), (3, 4) (6-7).
  root, left, right, low = (softmax(np.asarray(logits)[:, i:i + 2]) for i in (0, 2, 4, 6))
  np.testing.assert_allclose(np.exp(log_p[:, 0]), root[:, 0] * left[:, 1], rtol=1e-5)
  np.testing.assert_allclose(np.exp(log_p[:, 4]), root[:, 1] * right[:, 1] * low[:, 1],
                             rtol=1e-5)
  with pytest.raises(ValueError, match="once each"):
    deeploc.tree_log_likelihood(logits, ((0, 1), (1, 2)), 3)
  model = models.get_model("deeploc", "tiny", {"hierarchical": True})
  x, mask = _proteins(rng, 3, 40)
  out, variables = jax.jit(model.init_with_output)(jax.random.key(0), x, mask)
  np.testing.assert_allclose(np.exp(np.asarray(out["location"])).sum(-1), 1.0, rtol=1e-5)
  # 2 + 2 + 4 + 2 + 2 + 3 children of the default sorting tree's six internal nodes.
  assert meta.unbox(variables["params"])["tree_nodes"]["kernel"].shape == (16, 15)


@pytest.mark.parametrize("hierarchical", [False, True])
def test_jitted_train_step_lowers_loss(hierarchical):
  rng = np.random.default_rng(2)
  x, mask = _proteins(rng, 8, 40, pad=(10, 0))
  batch = {"location": rng.integers(0, 10, 8), "membrane": rng.integers(-1, 2, 8)}
  model = models.get_model("deeploc", "tiny", {"hierarchical": hierarchical,
                                               "dropout_rate": 0.1})
  task = tasks.get_task("localization")
  params = meta.unbox(jax.jit(model.init)(jax.random.key(0), x, mask))["params"]
  tx = optax.adam(1e-2)

  @jax.jit
  def step(params, opt_state, key):
    def loss_fn(p):
      outputs = model.apply({"params": p}, x, mask, train=True, rngs={"dropout": key})
      return task.loss(outputs, batch)[0]
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for i in range(25):
    params, opt_state, loss = step(params, opt_state, jax.random.key(i))
    losses.append(float(loss))
  assert np.isfinite(losses).all() and np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses


def test_plot_attention_writes_png(tmp_path):
  weights = np.random.default_rng(3).dirichlet(np.ones(100), 3)
  mask = np.ones(100)
  mask[40:60] = 0
  path = tmp_path / "attention.png"
  row = deeploc.plot_attention(path, weights, mask, labels=["Nucleus"])
  np.testing.assert_array_equal(row, weights[-1])
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(ValueError, match="weights must be"):
    deeploc.plot_attention(tmp_path / "x.png", np.zeros((2, 2, 2)))
