"""The shared BERT/ESM encoder: rotary positions, masking, post/pre-LN, axes, remat."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.nn import transformer
from genereg_jax.train import partitioning


def test_rotary_is_the_pairwise_rotation_of_the_definition():
  rng = np.random.RandomState(0)
  x = rng.randn(1, 5, 2, 8).astype(np.float32)
  out = np.asarray(transformer.rotary_embedding(jnp.asarray(x)))
  # Element i pairs with i + d/2 and turns by t * 10000^(-2i/d) (ESM-2's rotate_half).
  half = 4
  theta = 10000.0 ** (-np.arange(half) * 2 / 8)
  for t in range(5):
    z = (x[0, t, :, :half] + 1j * x[0, t, :, half:]) * np.exp(1j * t * theta)
    np.testing.assert_allclose(out[0, t, :, :half], z.real, atol=1e-5)
    np.testing.assert_allclose(out[0, t, :, half:], z.imag, atol=1e-5)


def test_rotary_scores_depend_only_on_relative_position():
  rng = np.random.RandomState(1)
  q = np.repeat(rng.randn(1, 1, 1, 16), 12, axis=1).astype(np.float32)
  k = np.repeat(rng.randn(1, 1, 1, 16), 12, axis=1).astype(np.float32)
  rq = transformer.rotary_embedding(jnp.asarray(q))[0, :, 0]
  rk = transformer.rotary_embedding(jnp.asarray(k))[0, :, 0]
  scores = np.asarray(rq @ rk.T)
  np.testing.assert_allclose(scores[2, 0], scores[9, 7], rtol=1e-4)
  np.testing.assert_allclose(scores[0, 3], scores[5, 8], rtol=1e-4)
  assert abs(scores[2, 0] - scores[3, 0]) > 1e-3


@pytest.mark.parametrize("pre_norm,rotary", [(False, False), (True, True)])
def test_padding_never_changes_real_tokens(pre_norm, rotary):
  encoder = transformer.TransformerEncoder(
      num_layers=2, num_heads=2, intermediate_size=32, pre_norm=pre_norm,
      final_norm=pre_norm, rotary=rotary)
  rng = np.random.RandomState(2)
  x = rng.randn(1, 7, 16).astype(np.float32)
  mask = np.array([[1, 1, 1, 1, 1, 0, 0]])
  variables = encoder.init(jax.random.PRNGKey(0), x, mask)
  y = x.copy()
  y[:, 5:] = 100 * rng.randn(1, 2, 16)
  out_x, states = encoder.apply(variables, x, mask)
  out_y, _ = encoder.apply(variables, y, mask)
  np.testing.assert_allclose(out_x[:, :5], out_y[:, :5], atol=1e-5)
  assert np.abs(out_x[:, 5:] - out_y[:, 5:]).max() > 1e-2
  assert len(states) == 3 and states[0] is not None
  np.testing.assert_array_equal(states[0], x)
  np.testing.assert_array_equal(states[-1], out_x)


def _layer_numpy(p, x, pre_norm, eps=1e-12):
  """One layer in NumPy from the Flax params, written from the BERT/ESM formulas."""
  def ln(h, q):
    mu, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
    return (h - mu) / np.sqrt(var + eps) * q["scale"] + q["bias"]

  def attn(h):
    a = p["attention"]
    q = np.einsum("te,ehd->thd", h, a["query"]["kernel"]) + a["query"]["bias"]
    k = np.einsum("te,ehd->thd", h, a["key"]["kernel"]) + a["key"]["bias"]
    v = np.einsum("te,ehd->thd", h, a["value"]["kernel"]) + a["value"]["bias"]
    s = np.einsum("ihd,jhd->hij", q, k) / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    o = np.einsum("hij,jhd->ihd", w, v)
    return np.einsum("thd,hde->te", o, a["output"]["kernel"]) + a["output"]["bias"]

  from scipy.special import erf
  def mlp(h):
    h = h @ p["mlp_in"]["kernel"] + p["mlp_in"]["bias"]
    h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
    return h @ p["mlp_out"]["kernel"] + p["mlp_out"]["bias"]

  if pre_norm:
    x = x + attn(ln(x, p["attention_norm"]))
    return x + mlp(ln(x, p["mlp_norm"]))
  x = ln(x + attn(x), p["attention_norm"])
  return ln(x + mlp(x), p["mlp_norm"])


@pytest.mark.parametrize("pre_norm", [False, True])
def test_layer_matches_the_formulas(pre_norm):
  layer = transformer.TransformerLayer(num_heads=2, intermediate_size=24,
                                       pre_norm=pre_norm)
  x = np.random.RandomState(3).randn(1, 6, 8).astype(np.float32)
  variables = layer.init(jax.random.PRNGKey(1), x)
  params = jax.tree.map(lambda a: np.asarray(a, np.float64), nn.unbox(variables)["params"])
  # Non-trivial LayerNorm parameters, so the test sees where each norm sits.
  params = jax.tree.map(lambda a: a + 0.1 * np.random.RandomState(a.size).randn(*a.shape),
                        params)
  out = layer.apply({"params": params}, x)
  np.testing.assert_allclose(out[0], _layer_numpy(params, x[0].astype(np.float64), pre_norm),
                             atol=1e-4)


def test_axis_names_put_heads_and_mlp_on_the_model_axis():
  encoder = transformer.TransformerEncoder(num_layers=1, num_heads=2,
                                           intermediate_size=32)
  boxed = jax.eval_shape(lambda: encoder.init(jax.random.PRNGKey(0),
                                              jnp.zeros((1, 4, 16))))
  specs = nn.get_partition_spec(boxed)["params"]["layer_0"]
  rules = (("heads", "model"), ("mlp", "model"))
  mesh_specs = nn.logical_to_mesh_axes
  assert specs["attention"]["query"]["kernel"] == jax.sharding.PartitionSpec(
      "embed", "heads", "kv")
  assert specs["attention"]["output"]["kernel"] == jax.sharding.PartitionSpec(
      "heads", "kv", "embed")
  assert mesh_specs(specs["mlp_in"]["kernel"], rules) == jax.sharding.PartitionSpec(
      None, "model")
  assert mesh_specs(specs["mlp_out"]["kernel"], rules) == jax.sharding.PartitionSpec(
      "model", None)
  mesh = partitioning.make_mesh((1, 1))
  shardings = partitioning.logical_shardings(boxed, mesh, rules)
  assert shardings["params"]["layer_0"]["attention"]["key"]["bias"].spec == (
      jax.sharding.PartitionSpec("model", None))


def test_remat_and_dropout():
  kw = dict(num_layers=1, num_heads=2, intermediate_size=16, dropout_rate=0.5,
            attention_dropout_rate=0.5)
  x = np.random.RandomState(4).randn(2, 5, 8).astype(np.float32)
  plain = transformer.TransformerEncoder(**kw)
  variables = plain.init(jax.random.PRNGKey(0), x)

  def loss(params, model, train):
    out, _ = model.apply({"params": params}, x, train=train,
                         rngs={"dropout": jax.random.PRNGKey(5)})
    return jnp.sum(out * weights)  # not sum(out**2): post-LN fixes that at 80

  weights = np.random.RandomState(6).randn(2, 5, 8).astype(np.float32)
  params = variables["params"]
  remat = transformer.TransformerEncoder(**kw, remat=True)
  grad = jax.jit(jax.grad(loss), static_argnums=(1, 2))
  g1 = grad(params, plain, True)
  g2 = grad(params, remat, True)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), g1, g2)
  assert loss(params, plain, True) != loss(params, plain, False)
  assert loss(params, plain, False) == loss(params, remat, False)


def test_tied_row_attention_sums_every_rows_logits():
  attention = transformer.SelfAttention(num_heads=2, tied_rows=True)
  rng = np.random.RandomState(7)
  x = rng.randn(1, 3, 5, 8).astype(np.float32)  # [batch, rows, columns, hidden]
  mask = np.ones((1, 3, 5), np.int32)
  mask[0, 2, 3:] = 0  # the last row is shorter; its padded queries count for nothing
  variables = attention.init(jax.random.PRNGKey(0), x, mask)
  out, state = attention.apply(variables, x, mask, mutable=["attention_weights"])
  p = jax.tree.map(np.asarray, nn.unbox(variables)["params"])
  proj = lambda name: (np.einsum("rce,ehd->rchd", x[0], p[name]["kernel"])
                       + p[name]["bias"])
  q = proj("query") * mask[0][..., None, None]
  logits = np.einsum("rihd,rjhd->hij", q, proj("key")) / np.sqrt(4 * 3)
  weights = np.exp(logits - logits.max(-1, keepdims=True))
  weights /= weights.sum(-1, keepdims=True)
  np.testing.assert_allclose(state["attention_weights"]["weights"][0][0], weights,
                             atol=1e-5)
  o = np.einsum("hij,rjhd->rihd", weights, proj("value"))
  expected = np.einsum("rihd,hde->rie", o, p["output"]["kernel"]) + p["output"]["bias"]
  np.testing.assert_allclose(out[0], expected, atol=1e-5)
