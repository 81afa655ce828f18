"""DeepLIFT rules on the jaxpr: summation-to-delta for every kind of model, and each rule.

Summation-to-delta, ``sum((x - r) * m) = f(x) - f(r)`` per reference (hence
``sum(deeplift_shap) = f(x) - mean_r f(r)``), must hold within 1e-3 relative on
Enformer (softmax attention, LayerNorm, GELU, softplus, attention pooling), BPNet
(dilated residual convolutions), SpliceAI (BatchNorm, softmax output) and DanQ
(max-pool, BiLSTM with products of gates), with random variables (see
interpret_models.py) so that no layer is the identity.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import interpret
from genereg_jax.interpret import deeplift
from genereg_jax.models import bpnet
from genereg_jax.models import danq
from genereg_jax.models import enformer
from genereg_jax.models import spliceai
from interpret_models import onehot
from interpret_models import random_variables

# (model, input length, readout [B, ...] -> [B, T]).
MODELS = {
    "enformer": (lambda: enformer.enformer("tiny"), 128,
                 lambda out: out["human"].mean(axis=1)),
    "bpnet": (lambda: bpnet.bpnet("tiny"), 100,
              lambda out: jnp.concatenate([out["log_counts"],
                                           out["profile_logits"].sum(axis=1)], -1)),
    "spliceai": (lambda: spliceai.spliceai_model("tiny"), 40,
                 lambda out: out[:, out.shape[1] // 2]),
    "danq": (lambda: danq.DanQ(**danq.PRESETS["tiny"]), 120, lambda out: out),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_summation_to_delta(name):
  build, length, readout = MODELS[name]
  model = build()
  rng = np.random.default_rng(0)
  x = onehot(rng, 2, length)
  variables = random_variables(model, x)
  fn = lambda v: readout(model.apply(variables, v))
  target = 1
  attr = interpret.deeplift_shap(fn, x, target, n_shuffles=2, seed=1)
  references = interpret.dinucleotide_shuffle(x, 2, seed=1)
  outputs = jax.jit(fn)(np.concatenate([x, references.reshape(-1, length, 4)]))[:, target]
  explained = outputs[:2] - outputs[2:].reshape(2, 2).mean(axis=1)
  assert np.abs(explained).min() > 1e-3  # there is something to explain
  np.testing.assert_allclose(np.asarray(attr).sum(axis=(1, 2)), explained,
                             rtol=1e-3, atol=1e-3 * np.abs(explained).max())


def _multipliers(fn, x, r):
  m, delta = interpret.deeplift_multipliers(fn, x[None], r[None, None], 0)
  return np.asarray(m[0, 0]), float(delta[0, 0])


def test_rescale_rule_on_an_activation():
  w = np.array([1.0, -2.0, 0.5], np.float32)
  fn = lambda x: jax.nn.softplus(x @ w - 0.3)[:, None]
  x, r = np.array([1.0, 0.0, 2.0], np.float32), np.array([0.0, 1.0, 0.0], np.float32)
  m, delta = _multipliers(fn, x, r)
  u, u_r = x @ w - 0.3, r @ w - 0.3
  secant = (jax.nn.softplus(u) - jax.nn.softplus(u_r)) / (u - u_r)
  np.testing.assert_allclose(m, secant * w, rtol=1e-5)
  assert abs(delta) < 1e-6
  # Where the input equals the reference, the gradient.
  m, _ = _multipliers(fn, x, x)
  np.testing.assert_allclose(m, jax.nn.sigmoid(u) * w, rtol=1e-5)


def test_products_and_quotients_split_shapley_style():
  a, b = np.array([1.0, 2.0], np.float32), np.array([0.5, -1.0], np.float32)

  def fn(x):
    p, q = x @ a, x @ b
    return jnp.stack([p * q, p / (1.0 + q * q)], axis=-1)

  x, r = np.array([1.0, 2.0], np.float32), np.array([-1.0, 0.5], np.float32)
  p, q, p_r, q_r = x @ a, x @ b, r @ a, r @ b
  m, delta = _multipliers(fn, x, r)
  np.testing.assert_allclose(m, (q + q_r) / 2 * a + (p + p_r) / 2 * b, rtol=1e-5)
  assert abs(delta) < 1e-5
  m, delta = interpret.deeplift_multipliers(fn, x[None], r[None, None], 1)
  assert abs(float(delta[0, 0])) < 1e-5


def test_softmax_layernorm_and_max_are_complete():
  rng = np.random.default_rng(2)
  w = rng.normal(size=(6, 5)).astype(np.float32)

  def fn(x):
    h = x @ w
    h = (h - h.mean(-1, keepdims=True)) * jax.lax.rsqrt(h.var(-1, keepdims=True) + 1e-5)
    return jnp.stack([jax.nn.softmax(h)[:, 2], h.max(-1), jax.nn.logsumexp(h, -1)], -1)

  x, r = rng.normal(size=(6,)).astype(np.float32), rng.normal(size=(6,)).astype(np.float32)
  for target in range(3):
    _, delta = interpret.deeplift_multipliers(fn, x[None], r[None, None], target)
    scale = abs(float(fn(x[None])[0, target] - fn(r[None])[0, target]))
    assert abs(float(delta[0, 0])) < 1e-4 * max(scale, 1.0), target


def test_references_shape_is_checked_and_unknown_primitives_name_themselves():
  fn = lambda x: x.sum(axis=(1, 2))[:, None]
  x = np.ones((2, 5, 4), np.float32)
  with pytest.raises(ValueError, match="references must be"):
    interpret.deeplift_multipliers(fn, x, x, 0)

  def loop(x):
    return jax.lax.while_loop(lambda c: c[1] < 3, lambda c: (c[0] * 2.0, c[1] + 1),
                              (x.sum(axis=(1, 2)), 0))[0][:, None]

  with pytest.raises(NotImplementedError, match="while"):
    interpret.deeplift_multipliers(loop, x, x[:, None], 0)


def test_linear_function_gives_exact_contributions():
  # f(x) = sum(w * x): DeepLIFT-SHAP is w * x - mean_r sum(w * r) spread by base,
  # i.e. its hypothetical contributions are w - sum_c r w per reference.
  rng = np.random.default_rng(3)
  w = rng.normal(size=(7, 4)).astype(np.float32)
  fn = lambda x: jnp.sum(x * w, axis=(1, 2))[:, None]
  x = onehot(rng, 1, 7)
  refs = onehot(rng, 1, 3, 7)
  hyp = interpret.deeplift_shap(fn, x, 0, references=refs, hypothetical=True)
  want = (w - (refs[0] * w).sum(-1, keepdims=True)).mean(0)
  np.testing.assert_allclose(hyp[0], want, rtol=1e-5, atol=1e-6)
  assert deeplift.ACTIVATIONS >= {"relu", "softplus", "gelu", "sigmoid"}
