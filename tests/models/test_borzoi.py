"""Tests for Borzoi (Linder et al., Nat. Genet. 2025), its targets and loss.

Parity is against borzoi-pytorch 0.5.1 outputs stored in
``tests/fixtures/borzoi_pytorch_shared.npz`` (see tests/fixtures/README.md).
"""

from __future__ import annotations

import json
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import fixture_path, load_fixture
from genereg_jax import models
from genereg_jax.models import borzoi
from genereg_jax.models import enformer
from genereg_jax.nn import attention
from genereg_jax.tasks import coverage

FIXTURE = "borzoi_pytorch_shared.npz"


@pytest.fixture(scope="module")
def reference():
  return load_fixture(FIXTURE)


def _state_dict(reference):
  return {k[3:]: v for k, v in reference.items() if k.startswith("sd/")}


def test_central_mask_features_follow_borzoi_pytorch():
  """borzoi-pytorch: ``pow_rate = exp(log(seq_len + 1) / 16)``, masks
  ``pow_rate**k - 1 > |d|`` for k = 1..16 with seq_len 4,096, then sign(d) times."""
  n = 70
  features = np.asarray(attention.central_mask_position_features(n, 32, 4096))
  pow_rate = math.exp(math.log(4097) / 16)
  distances = np.arange(-n + 1, n)
  widths = pow_rate ** np.arange(1, 17) - 1
  masks = (widths[None] > np.abs(distances)[:, None]).astype(np.float32)
  np.testing.assert_array_equal(features, np.concatenate(
      [masks, np.sign(distances)[:, None] * masks], axis=1))
  # Spaced for 4,096 positions: the k = 4 mask is |d| <= 7, the k = 8 one |d| <= 63.
  assert features[n - 1 + 7, 3] == 1 and features[n - 1 + 8, 3] == 0
  assert features[n - 1 - 63, 7] == 1 and features[n - 1 - 64, 7] == 0


def test_tanh_batch_norm_gelu_matches_flax_batch_norm_then_gelu():
  """Borzoi's conv blocks: the fused op with the tanh GELU and epsilon 1e-3 equals
  flax's BatchNorm then ``jax.nn.gelu(approximate=True)``, gradients included."""
  rng = np.random.default_rng(5)
  x = jnp.asarray(rng.normal(0.5, 2.0, size=(2, 19, 4)), jnp.float32)
  weights = jnp.asarray(rng.normal(size=x.shape), jnp.float32)
  variables = {"params": {"scale": jnp.asarray(rng.normal(size=4), jnp.float32),
                          "bias": jnp.asarray(rng.normal(size=4), jnp.float32)},
               "batch_stats": {"mean": jnp.zeros(4), "var": jnp.ones(4)}}

  def flax_version(variables, x):
    y, _ = nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-3).apply(
        variables, x, mutable=["batch_stats"])
    return jax.nn.gelu(y, approximate=True)

  def fused(variables, x):
    y, _ = enformer.BatchNormGelu(epsilon=1e-3, approximation="tanh").apply(
        variables, x, train=True, mutable=["batch_stats"])
    return y

  want, got = (jax.value_and_grad(lambda v, x, f=f: jnp.sum(jnp.sin(f(v, x)) * weights),
                                  argnums=(0, 1))(variables, x)
               for f in (flax_version, fused))
  np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
  for g, w in zip(jax.tree.leaves(got[1]), jax.tree.leaves(want[1])):
    np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_parity_with_borzoi_pytorch(reference):
  kwargs = borzoi.pytorch_config_to_kwargs(
      json.loads(str(reference["config_json"]))["kwargs"])
  model, variables = borzoi.load_pretrained(fixture_path(FIXTURE), prefix="sd/", **kwargs)
  assert model == borzoi.Borzoi(
      dim=64, depth=1, heads=2, attn_dim_key=16, attn_dim_value=16, target_length=96,
      num_position_features=32, stem_width=512,
      tower_widths=(608, 736, 896, 1056, 1280), final_width=1920,
      output_heads={"human": 12})

  @jax.jit
  def predict(variables, x):
    return model.apply(variables, x, mutable=["intermediates"])

  outputs, state = predict(variables, reference["x"].transpose(0, 2, 1))
  inter = {k: v[0] for k, v in state["intermediates"].items()}
  for got, want in [(outputs["human"].transpose(0, 2, 1), "out_human"),
                    (inter["unet_out"].transpose(0, 2, 1), "embs_after_crop"),
                    (inter["unet1_out"].transpose(0, 2, 1), "unet1_out"),
                    (inter["transformer_out"], "transformer_out")]:
    assert got.shape == reference[want].shape, want
    np.testing.assert_allclose(got, reference[want], atol=1e-4, rtol=0, err_msg=want)


def test_converter_reads_config_and_rejects_leftovers(reference):
  state_dict = _state_dict(reference)
  assert borzoi.config_from_state_dict(state_dict) == dict(
      dim=64, stem_width=512, tower_widths=(608, 736, 896, 1056, 1280),
      final_width=1920, depth=1, heads=2, attn_dim_key=16, attn_dim_value=16,
      num_position_features=32, output_heads={"human": 12})
  # Explicit settings win over the weights; a head the weights lack is an error.
  assert borzoi.config_from_state_dict(state_dict, heads=4)["heads"] == 4
  with pytest.raises(ValueError, match="no 'mouse_head.weight'"):
    borzoi.convert_pytorch_state_dict(
        state_dict, output_heads={"human": 12, "mouse": 5})
  with pytest.raises(ValueError, match="unconverted"):
    borzoi.convert_pytorch_state_dict({**state_dict, "separable0.extra": np.zeros(2)})


def test_paper_parameter_counts_and_axis_names():
  model = models.get_model("borzoi", "paper")
  assert model.output_stride == 32
  assert model.output_length(borzoi.SEQUENCE_LENGTH) == 6144
  shapes = jax.eval_shape(model.clone(target_length=None).init, jax.random.PRNGKey(0),
                          jnp.zeros((1, 128, 4)))
  params = nn.meta.unbox(shapes)["params"]
  count = lambda tree: sum(x.size for x in jax.tree.leaves(tree))
  # borzoi-pytorch 0.5.1 counts nn.Parameters (BatchNorm statistics are buffers):
  # 190,902,667 with both heads, 185,892,699 with the human head (its default).
  assert count(params) == 190_902_667
  assert count(params) - count(params["head_mouse"]) == 185_892_699
  assert count({k: v for k, v in params.items() if not k.startswith("head_")}) == 171_271_968
  names = jax.tree.map(tuple, nn.get_partition_spec(shapes)["params"],
                       is_leaf=lambda x: isinstance(x, jax.sharding.PartitionSpec))
  assert names["head_human"]["kernel"] == ("embed", "tracks")
  assert names["transformer_0"]["attention"]["value"]["kernel"] == ("embed", "heads", "kv")
  assert jax.tree.map(len, names, is_leaf=lambda x: isinstance(x, tuple)) == \
      jax.tree.map(lambda x: x.ndim, params)


def test_tiny_shapes_and_geometry():
  """Shapes only (abstract evaluation): a compiled tiny step is in
  tests/experiments/test_borzoi_config.py."""
  model = borzoi.borzoi("tiny")
  x = jax.ShapeDtypeStruct((2, 2048, 4), jnp.float32)
  (outputs, embeddings), variables = jax.eval_shape(
      lambda x: model.init_with_output(jax.random.PRNGKey(0), x, return_embeddings=True), x)
  assert outputs["human"].shape == (2, 48, 6) and outputs["mouse"].shape == (2, 48, 3)
  assert embeddings.shape == (2, 48, 48)
  # 8 positional features (4 central masks and signed copies) -> 2 heads x 8.
  attention = nn.meta.unbox(variables)["params"]["transformer_1"]["attention"]
  assert attention["relative_key"]["kernel"].shape == (8, 2, 8)
  assert model.output_length(2048) == 48
  with pytest.raises(ValueError, match="divisible by 128"):
    model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2000, 4)))


def test_squashed_scale_and_its_inverse():
  # RNA-seq defaults (sum_sqrt, clip_soft 384, scale 0.01): 1,000 reads ->
  # 1000**0.75 = 177.8 (under the soft clip); 100,000 -> 5,623.4, soft-clipped to
  # 384 + sqrt(5,239.4) = 456.4.
  cov = np.array([[0.0, 1_000.0, 100_000.0]], np.float32)
  squashed = np.asarray(borzoi.squashed_scale(cov))
  np.testing.assert_allclose(squashed, [[0.0, 1.778279, 4.563839]], rtol=1e-5)
  np.testing.assert_allclose(borzoi.undo_squashed_scale(squashed), cov, rtol=1e-4)
  # Per-track settings broadcast over the last axis (a DNase "sum" track: exponent 1).
  exponents = borzoi.track_exponents(["sum_sqrt", "sum"])
  tracks = dict(scale=np.array([0.01, 0.5]), clip_soft=np.array([384.0, 32.0]),
                exponent=exponents)
  values = np.array([[50_000.0, 10.0], [3.0, 500.0]], np.float32)
  np.testing.assert_allclose(
      borzoi.undo_squashed_scale(borzoi.squashed_scale(values, **tracks), **tracks),
      values, rtol=1e-4)
  with pytest.raises(ValueError, match="median"):
    borzoi.track_exponents(["median"])


def test_poisson_multinomial_loss_matches_baskerville():
  """``coverage.poisson_multinomial_nll`` against baskerville's
  ``poisson_multinomial`` (metrics.py; total_weight 0.2 and epsilon 1e-7 as Borzoi's
  params.json), written out in NumPy: they differ only in normalising the profile
  by the smoothed total, a relative ``bins * eps / total`` (~1e-8 here)."""
  rng = np.random.default_rng(7)
  pred = rng.gamma(2.0, 1.0, size=(3, 64, 5))
  true = rng.poisson(pred * rng.uniform(0.5, 2.0, size=(3, 1, 5))).astype(np.float64)
  eps, weight, bins = 1e-7, 0.2, pred.shape[1]
  s_true, s_pred = true.sum(1), pred.sum(1)
  poisson_term = (s_pred - s_true * np.log(s_pred + eps)) / bins
  p_pred = (pred + eps) / s_pred[:, None]
  multinomial_term = -((true + eps) * np.log(p_pred)).sum(1) / bins
  want = multinomial_term + weight * poisson_term
  got = coverage.poisson_multinomial_nll(jnp.asarray(pred, jnp.float32),
                                         jnp.asarray(true, jnp.float32))
  np.testing.assert_allclose(got, want, rtol=1e-5)
  assert coverage.BORZOI_TOTAL_WEIGHT == 0.2 and coverage.POISSON_EPSILON == 1e-7
