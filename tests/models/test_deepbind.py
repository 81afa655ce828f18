"""DeepBind / DeFine-style: published sizes, a numpy forward pass, strands, a train step."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax.linen import meta

from genereg_jax.models import get_model


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _one_hot(rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
  return np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch, length))]


@pytest.mark.parametrize("preset, length, expected", [
    # 16·24·4+16 detectors + (2·16)·32+32 hidden + 32+1 output.
    ("paper", 101, 2_641),
    # 16·16·4+16 + 1,056 + 33: RNAcompete's 16-nt detectors.
    ("rnacompete", 40, 2_129),
    # Assumed DeFine-style sizes (not the paper's; see models/deepbind.py):
    # 128·24·4+128 + (2 strands·2 pools·128)·64+64 + 64+1.
    ("define_style", 300, 45_313),
])
def test_published_parameter_counts(preset, length, expected):
  model = get_model("deepbind", preset)
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, length, 4))))
  assert _count(meta.unbox(variables)) == expected
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((3, length, 4))), variables)
  assert out.shape == (3, 1)


def test_forward_pass_matches_numpy():
  model = get_model("deepbind", "paper", {"num_outputs": 2})
  x = _one_hot(np.random.default_rng(0), 3, 101)
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  params = jax.tree.map(lambda p: p + 0.1 * np.random.default_rng(1).standard_normal(p.shape)
                        .astype(np.float32), params)
  got = np.asarray(model.apply({"params": params}, x))

  p = jax.tree.map(np.asarray, params)
  padded = np.pad(x.astype(np.float64), ((0, 0), (23, 23), (0, 0)), constant_values=0.25)
  windows = np.stack([padded[:, i:i + 24] for i in range(101 + 23)], axis=1)  # [B, 124, 24, 4]
  scan = np.einsum("bpwc,wcm->bpm", windows, p["motifs"]["kernel"]) + p["motifs"]["bias"]
  rectified = np.maximum(scan, 0.0)
  pooled = np.concatenate([rectified.max(axis=1), rectified.mean(axis=1)], axis=-1)
  hidden = np.maximum(pooled @ p["hidden"]["Dense_0"]["kernel"] + p["hidden"]["Dense_0"]["bias"],
                      0.0)
  expected = hidden @ p["output"]["kernel"] + p["output"]["bias"]
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_strand_modes():
  x = jnp.asarray(_one_hot(np.random.default_rng(2), 4, 150))
  rc = x[:, ::-1, ::-1]
  single = get_model("deepbind", "tiny")
  params = meta.unbox(single.init(jax.random.key(0), x))["params"]
  both = single.clone(strands="max")
  forward, backward = single.apply({"params": params}, x), single.apply({"params": params}, rc)
  # Reverse-complement mode: the larger score of the two strands, so RC-invariant.
  np.testing.assert_allclose(both.apply({"params": params}, x), jnp.maximum(forward, backward),
                             rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(both.apply({"params": params}, rc), both.apply({"params": params}, x),
                             rtol=1e-6, atol=1e-6)
  assert float(jnp.abs(forward - backward).max()) > 1e-3
  # DeFine style: the hidden layer reads both strands' pooled features (2 × 2 × 16).
  concat = single.clone(strands="concat")
  concat_params = meta.unbox(concat.init(jax.random.key(0), x))["params"]
  assert concat_params["hidden"]["Dense_0"]["kernel"].shape == (64, 16)
  with pytest.raises(ValueError, match="strands"):
    single.clone(strands="both").init(jax.random.key(0), x)


def test_length_agnostic_and_uint8_input():
  model = get_model("deepbind", "tiny")
  x = _one_hot(np.random.default_rng(3), 2, 101)
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  chex.assert_shape(model.apply({"params": params}, jnp.zeros((2, 40, 4))), (2, 12))
  np.testing.assert_allclose(model.apply({"params": params}, x.astype(np.uint8)),
                             model.apply({"params": params}, x), rtol=0, atol=0)


def test_tiny_jitted_train_step():
  model = get_model("deepbind", "tiny", {"strands": "max"})
  x = jnp.asarray(_one_hot(np.random.default_rng(4), 8, 200))
  y = (jax.random.uniform(jax.random.key(5), (8, 12)) > 0.5).astype(jnp.float32)
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  tx = optax.adam(1e-2)

  @jax.jit
  def step(params, opt_state):
    def loss_fn(p):
      logits = model.apply({"params": p}, x, train=True, rngs={"dropout": jax.random.key(6)})
      return optax.sigmoid_binary_cross_entropy(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for _ in range(8):
    params, opt_state, loss = step(params, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < losses[0] - 0.01
