"""Parity of saliency, input x gradient, IG, ISM and DeepLIFT-SHAP with captum/tangermeme.

The reference numbers are ``tests/fixtures/attributions_cnn.npz`` (captum 0.9.0,
tangermeme 1.6.0 on a seeded PyTorch CNN; tests/fixtures/README.md): the CNN is rebuilt
here in Flax from its state dict.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import numpy as np
import pytest

from conftest import load_fixture
from genereg_jax import interpret

FIXTURE = "attributions_cnn.npz"


class FixtureCNN(nn.Module):
  """conv(8, 7) -> ReLU -> max-pool 2 -> conv(12, 3) -> ReLU -> mean -> dense 6 -> ReLU
  -> dense 2: the fixture's PyTorch net, channels-last."""

  @nn.compact
  def __call__(self, x):
    x = jax.nn.relu(nn.Conv(8, (7,), padding=[(3, 3)], name="c1")(x))
    x = nn.max_pool(x, (2,), strides=(2,))
    x = jax.nn.relu(nn.Conv(12, (3,), padding=[(1, 1)], name="c2")(x))
    x = jax.nn.relu(nn.Dense(6, name="fc1")(x.mean(axis=1)))
    return nn.Dense(2, name="fc2")(x)


@pytest.fixture(scope="module")
def reference():
  return load_fixture(FIXTURE)


@pytest.fixture(scope="module")
def fn(reference):
  sd = {k[len("sd/"):]: v for k, v in reference.items() if k.startswith("sd/")}
  params = {}
  for name in ("c1", "c2"):  # torch Conv1d [out, in, width] -> flax [width, in, out]
    params[name] = {"kernel": sd[f"{name}.weight"].transpose(2, 1, 0),
                    "bias": sd[f"{name}.bias"]}
  for name in ("fc1", "fc2"):
    params[name] = {"kernel": sd[f"{name}.weight"].T, "bias": sd[f"{name}.bias"]}
  variables = {"params": params}
  return lambda x: FixtureCNN().apply(variables, x)


def channels_first(a):
  return np.swapaxes(np.asarray(a), -1, -2)


def test_model_matches_pytorch_outputs(reference, fn):
  np.testing.assert_allclose(fn(reference["x_channels_last"]), reference["out"],
                             atol=1e-5, rtol=0)


@pytest.mark.parametrize("target", [0, 1])
def test_gradient_attributions_match_captum(reference, fn, target):
  x = reference["x_channels_last"]
  np.testing.assert_allclose(channels_first(interpret.saliency(fn, x, target)),
                             reference[f"saliency_t{target}"], atol=1e-6, rtol=0)
  np.testing.assert_allclose(channels_first(interpret.input_x_gradient(fn, x, target)),
                             reference[f"input_x_grad_t{target}"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("target", [0, 1])
def test_integrated_gradients_match_captum(reference, fn, target):
  x = reference["x_channels_last"]
  want = reference[f"ig_t{target}"]
  got = channels_first(interpret.integrated_gradients(fn, x, target, n_steps=50))
  assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
  # captum's weights sum to 0.98, so its convergence delta is ~ -0.02 (f(x) - f(0)).
  y = np.asarray(fn(x))[:, target] - np.asarray(fn(np.zeros_like(x)))[:, target]
  np.testing.assert_allclose(got.sum((1, 2)) - y, reference[f"ig_delta_t{target}"],
                             atol=1e-5)
  # Steps in chunks give the same sum.
  chunked = interpret.integrated_gradients(fn, x, target, n_steps=50, steps_per_batch=7)
  np.testing.assert_allclose(channels_first(chunked), got, atol=1e-6, rtol=0)


def test_ism_raw_outputs_match_tangermeme(reference, fn):
  x = reference["x_channels_last"]
  np.testing.assert_allclose(interpret.ism(fn, x), reference["ism_raw"], atol=1e-5, rtol=0)
  np.testing.assert_allclose(interpret.ism(fn, x, start=40, end=47, batch_size=3),
                             reference["ism_raw"][:, 40:47], atol=1e-5, rtol=0)


@pytest.mark.parametrize("target", [0, 1])
@pytest.mark.parametrize("hypothetical", [False, True])
def test_ism_attributions_match_tangermeme(reference, fn, target, hypothetical):
  got = interpret.ism_attributions(fn, reference["x_channels_last"], target,
                                   hypothetical=hypothetical)
  key = f"ism_{'hyp_' if hypothetical else ''}t{target}"
  np.testing.assert_allclose(channels_first(got), reference[key], atol=1e-5, rtol=0)


@pytest.mark.parametrize("target", [0, 1])
def test_deeplift_shap_matches_tangermeme(reference, fn, target):
  x = reference["x_channels_last"]
  references = np.swapaxes(reference["references"], -1, -2)
  multipliers, delta = interpret.deeplift_multipliers(fn, x, references, target)
  np.testing.assert_allclose(channels_first(multipliers),
                             reference[f"dls_multipliers_t{target}"], atol=1e-4, rtol=0)
  np.testing.assert_allclose(delta, reference[f"dls_delta_t{target}"], atol=1e-5)
  for hypothetical in (False, True):
    got = interpret.deeplift_shap(fn, x, target, references=references,
                                  hypothetical=hypothetical)
    key = f"dls_{'hyp_' if hypothetical else ''}t{target}"
    np.testing.assert_allclose(channels_first(got), reference[key], atol=1e-4, rtol=0)
  # Summation to delta against the mean reference output; in chunks of inputs.
  got = interpret.deeplift_shap(fn, x, target, references=references, batch_size=8)
  want = reference["out"][:, target] - reference["ref_out"][:, :, target].mean(1)
  np.testing.assert_allclose(np.asarray(got).sum((1, 2)), want, atol=1e-5)
  # DeepLIFT is not the gradient on this net (the rules matter for the match).
  assert np.abs(got - interpret.input_x_gradient(fn, x, target)).max() > 1e-3


def test_deeplift_shap_default_references_are_seeded_shuffles(reference, fn):
  x = reference["x_channels_last"][:1]
  a = interpret.deeplift_shap(fn, x, 0, n_shuffles=3, seed=5)
  b = interpret.deeplift_shap(fn, x, 0, n_shuffles=3, seed=5)
  explicit = interpret.deeplift_shap(
      fn, x, 0, references=interpret.dinucleotide_shuffle(x, 3, seed=5))
  np.testing.assert_array_equal(a, b)
  np.testing.assert_allclose(a, explicit, atol=1e-7)
  assert np.abs(a - interpret.deeplift_shap(fn, x, 0, n_shuffles=3, seed=6)).max() > 0
