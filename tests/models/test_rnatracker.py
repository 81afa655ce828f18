"""RNATracker: the released geometry (4,000 nt -> 440 attention steps), structure
channels as a second input, attention never on padding, a jitted train step."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.core import meta

from genereg_jax import models
from genereg_jax.models import rnatracker


def _one_hot(rng, batch, length, pad):
  """Random one-hot ``[batch, length, 4]`` after ``pad`` all-zero columns (5' padding)."""
  x = np.zeros((batch, length, 4), np.float32)
  bases = rng.integers(0, 4, (batch, length - pad))
  for b in range(batch):
    x[b, pad + np.arange(length - pad), bases[b]] = 1
  return x


def test_paper_geometry_and_parameter_count():
  model = models.get_model("rnatracker", "paper")
  x = jax.ShapeDtypeStruct((2, 4000, 4), jnp.float32)
  variables = jax.eval_shape(lambda x: meta.unbox(model.init(jax.random.key(0), x)), x)
  params = variables["params"]
  assert params["conv1"]["kernel"].shape == (10, 4, 32)
  assert "bias" not in params["conv1"]  # The released convolutions have no bias.
  assert params["attention_context"]["kernel"].shape == (64, 50)
  # 4000 -> 3991 -> 1330 -> 1321 -> 440 LSTM steps.
  out, state = jax.eval_shape(
      lambda v, x: model.apply(v, x, mutable=["intermediates"]), variables, x)
  assert out.shape == (2, 4)
  assert state["intermediates"]["attention"][0].shape == (2, 440)
  # conv 1,280 + 10,240; BiLSTM 2 x 4 x (32 x 32 + 32 x 32 + 32); attention 64 x 50 + 50 + 50;
  # output 64 x 4 + 4.
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  assert count == 1280 + 10240 + 2 * 4 * (32 * 32 * 2 + 32) + 64 * 50 + 50 + 50 + 64 * 4 + 4


def test_attention_skips_padding_and_structure_is_a_second_input():
  rng = np.random.default_rng(0)
  x = _one_hot(rng, 2, 300, pad=120)
  structure = rng.dirichlet(np.ones(5), (2, 300)).astype(np.float32)
  structure[:, :120] = 0
  model = models.get_model("rnatracker", "tiny")
  variables = meta.unbox(model.init(jax.random.key(0), x, structure))
  assert variables["params"]["conv1"]["kernel"].shape == (8, 9, 16)
  out, state = model.apply(variables, x, structure, mutable=["intermediates"])
  weights = np.asarray(state["intermediates"]["attention"][0])
  visible = np.asarray(rnatracker.visible_steps(jnp.asarray(x), 8, 3, 2))
  assert visible.any(-1).all() and (~visible).any(-1).all()
  np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
  assert weights[~visible].max() < 1e-12
  # Structure changes the output; the sequence-only model has 4 input channels.
  out2 = model.apply(variables, x, np.zeros_like(structure))
  assert np.abs(np.asarray(out) - np.asarray(out2)).max() > 1e-6
  sequence_only = meta.unbox(model.init(jax.random.key(0), x))["params"]
  assert sequence_only["conv1"]["kernel"].shape == (8, 4, 16)


def test_jitted_train_step_lowers_kl():
  rng = np.random.default_rng(1)
  x = jnp.asarray(_one_hot(rng, 8, 200, pad=40))
  targets = jnp.asarray(rng.dirichlet(np.ones(4), 8).astype(np.float32))
  model = models.get_model("rnatracker", "tiny")
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  tx = optax.adam(1e-2)
  opt_state = tx.init(params)

  def loss_fn(p, key):
    logits = model.apply({"params": p}, x, train=True, rngs={"dropout": key})
    return optax.kl_divergence(jax.nn.log_softmax(logits), targets).mean()

  @jax.jit
  def step(p, s, key):
    loss, grads = jax.value_and_grad(loss_fn)(p, key)
    updates, s = tx.update(grads, s, p)
    return optax.apply_updates(p, updates), s, loss

  losses = []
  for i in range(30):
    params, opt_state, loss = step(params, opt_state, jax.random.key(i))
    losses.append(float(loss))
  assert np.isfinite(losses).all() and np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses
