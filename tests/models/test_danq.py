"""DanQ and the BiLSTM block: numpy LSTM parity, published size, a jitted train step."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.linen import meta

from genereg_jax import nn as gnn
from genereg_jax.models import get_model

import train_check
from genereg_jax.nn import recurrent


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(x):
  return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _numpy_lstm_step(x, h, c, kernel, recurrent_kernel, bias, gate):
  """One LSTM step with gate blocks i, f, g, o side by side (Keras/PyTorch layout)."""
  i, f, g, o = np.split(x @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
  c = gate(f) * c + gate(i) * np.tanh(g)
  return gate(o) * np.tanh(c), c


def _random_lstm(rng, inputs, features):
  return (rng.normal(0, 0.5, (inputs, 4 * features)),
          rng.normal(0, 0.5, (features, 4 * features)),
          rng.normal(0, 0.5, (4 * features,)))


@pytest.mark.parametrize("gate_name, gate", [("sigmoid", _sigmoid),
                                             ("hard_sigmoid", _hard_sigmoid)])
def test_one_lstm_step_matches_numpy(gate_name, gate):
  rng = np.random.default_rng(0)
  weights = _random_lstm(rng, 5, 4)
  x, h, c = rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
  cell = nn.OptimizedLSTMCell(4, gate_fn=recurrent.GATE_ACTIVATIONS[gate_name])
  params = recurrent.lstm_cell_params(*[w.astype(np.float32) for w in weights])
  reference = cell.init(jax.random.key(0), (jnp.zeros((3, 4)), jnp.zeros((3, 4))),
                        jnp.zeros((3, 5)))["params"]
  assert jax.tree.structure(params) == jax.tree.structure(reference)
  (new_c, new_h), out = cell.apply({"params": params}, (jnp.float32(c), jnp.float32(h)),
                                   jnp.float32(x))
  want_h, want_c = _numpy_lstm_step(x, h, c, *weights, gate)
  np.testing.assert_allclose(new_h, want_h, atol=2e-6)
  np.testing.assert_allclose(new_c, want_c, atol=2e-6)
  np.testing.assert_array_equal(out, new_h)


@pytest.mark.parametrize("gate_name, gate", [("sigmoid", _sigmoid),
                                             ("hard_sigmoid", _hard_sigmoid)])
def test_bilstm_matches_numpy_loop(gate_name, gate):
  rng = np.random.default_rng(1)
  batch, length, inputs, features = 2, 7, 5, 4
  forward, backward = _random_lstm(rng, inputs, features), _random_lstm(rng, inputs, features)
  x = rng.normal(size=(batch, length, inputs))
  block = gnn.BiLSTM(features, gate_activation=gate_name)
  params = {"bidirectional": {
      "forward_rnn": {"cell": recurrent.lstm_cell_params(*[w.astype(np.float32) for w in forward])},
      "backward_rnn": {"cell": recurrent.lstm_cell_params(*[w.astype(np.float32)
                                                            for w in backward])}}}
  reference = meta.unbox(block.init(jax.random.key(0), jnp.zeros((1, length, inputs))))
  assert jax.tree.structure(params) == jax.tree.structure(reference["params"])
  got = np.asarray(block.apply({"params": params}, jnp.float32(x)))

  def run(weights, steps):
    h, c = np.zeros((batch, features)), np.zeros((batch, features))
    out = np.zeros((batch, length, features))
    for t in steps:
      h, c = _numpy_lstm_step(x[:, t], h, c, *weights, gate)
      out[:, t] = h
    return out

  want = np.concatenate([run(forward, range(length)), run(backward, reversed(range(length)))],
                        axis=-1)
  chex.assert_shape(got, (batch, length, 2 * features))
  np.testing.assert_allclose(got, want, atol=5e-6)
  finals = block.clone(return_sequences=False).apply({"params": params}, jnp.float32(x))
  np.testing.assert_allclose(finals, np.concatenate([want[:, -1, :features],
                                                     want[:, 0, features:]], axis=-1),
                             atol=5e-6)


def test_lstm_cell_params_checks_layout():
  kernel, recurrent_kernel, bias = np.zeros((5, 16)), np.zeros((4, 16)), np.arange(16.0)
  params = recurrent.lstm_cell_params(kernel, recurrent_kernel, bias, gate_order="igfo")
  # TensorFlow 1 order: the second block (j) is the candidate g, the third the forget gate.
  np.testing.assert_array_equal(params["hg"]["bias"], [4, 5, 6, 7])
  np.testing.assert_array_equal(params["hf"]["bias"], [8, 9, 10, 11])
  with pytest.raises(ValueError, match="permutation"):
    recurrent.lstm_cell_params(kernel, recurrent_kernel, bias, gate_order="ifgx")
  with pytest.raises(ValueError, match="gate columns"):
    recurrent.lstm_cell_params(kernel[:, :12], recurrent_kernel, bias)


def test_paper_parameter_count():
  model = get_model("danq", "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 1000, 4))))
  # conv 26·4·320+320; per LSTM direction 4·(320·320 + 320·320 + 320);
  # 1000 -> 975 -> pool 13 -> 75 steps · 640 = 48,000 -> 925 -> 919:
  # 33,600 + 2·820,480 + 48000·925+925 + 925·919+919.
  assert _count(meta.unbox(variables)) == 46_926_479
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((2, 1000, 4))), variables)
  assert out.shape == (2, 919)


def test_tiny_forward_and_jitted_train_step():
  model = get_model("danq", "tiny")
  x = jax.random.bernoulli(jax.random.key(1), 0.25, (8, 200, 4)).astype(jnp.float32)
  y = (jax.random.uniform(jax.random.key(2), (8, 12)) > 0.5).astype(jnp.float32)
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  # 200 -> 175 -> pool 13 -> 13 steps · 64 feed the hidden layer.
  assert params["hidden"]["Dense_0"]["kernel"].shape == (13 * 64, 64)
  chex.assert_shape(model.apply({"params": params}, x), (8, 12))
  losses = train_check.jitted_losses(model, params, x, y, learning_rate=3e-3,
                                     dropout_seed=3)
  assert losses[-1] < losses[0]
