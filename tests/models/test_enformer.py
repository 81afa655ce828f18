"""Tests for Enformer (Avsec et al., Nature Methods 2021) and its attention.

Parity is against enformer-pytorch 0.8.12 outputs stored in
``tests/fixtures/enformer_pytorch_small.npz`` (see tests/fixtures/README.md).
"""

from __future__ import annotations

import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import fixture_path, load_fixture
from genereg_jax import models
from genereg_jax.models import enformer
from genereg_jax.nn import attention

FIXTURE = "enformer_pytorch_small.npz"


@pytest.fixture(scope="module")
def reference():
  return load_fixture(FIXTURE)


def test_relative_shift_matches_definition():
  n = 5
  logits = np.random.default_rng(0).normal(size=(2, 3, n, 2 * n - 1)).astype(
      np.float32)
  expected = np.empty((2, 3, n, n), np.float32)
  for i in range(n):
    for j in range(n):
      expected[..., i, j] = logits[..., i, n - 1 + j - i]
  np.testing.assert_array_equal(attention.relative_shift(jnp.asarray(logits)),
                                expected)


def test_attention_pool_masks_ragged_window():
  x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype(np.float32)
  kernel = np.random.default_rng(2).normal(size=(3, 3)).astype(np.float32)
  out = attention.AttentionPool1D(2).apply({"params": {"kernel": kernel}}, x)
  logits = x @ kernel
  expected = np.empty((2, 3, 3), np.float32)
  for w in range(2):
    pair = logits[:, 2 * w:2 * w + 2]
    weights = np.exp(pair) / np.exp(pair).sum(axis=1, keepdims=True)
    expected[:, w] = (x[:, 2 * w:2 * w + 2] * weights).sum(axis=1)
  expected[:, 2] = x[:, 4]  # the padded position gets no weight
  np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_batch_norm_gelu_matches_flax_batch_norm_then_gelu():
  """Output, running statistics and gradients (through the output and the
  statistics) equal flax's BatchNorm followed by Enformer's GELU."""
  rng = np.random.default_rng(3)
  x = jnp.asarray(rng.normal(1.5, 3.0, size=(2, 37, 6)), jnp.float32)
  weights = jnp.asarray(rng.normal(size=(2, 37, 6)), jnp.float32)
  variables = {"params": {"scale": jnp.asarray(rng.normal(size=6), jnp.float32),
                          "bias": jnp.asarray(rng.normal(size=6), jnp.float32)},
               "batch_stats": {"mean": jnp.asarray(rng.normal(size=6), jnp.float32),
                               "var": jnp.asarray(rng.uniform(1, 2, size=6),
                                                  jnp.float32)}}

  def flax_version(variables, x, train):
    y, state = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                            epsilon=1e-5).apply(variables, x,
                                                mutable=["batch_stats"])
    return enformer.gelu(y), state["batch_stats"]

  def fused(variables, x, train):
    y, state = enformer.BatchNormGelu().apply(variables, x, train=train,
                                              mutable=["batch_stats"])
    return y, state["batch_stats"]

  def loss(f, variables, x):
    y, stats = f(variables, x, True)
    return (jnp.sum(jnp.sin(y) * weights) + jnp.sum(stats["mean"] ** 2)
            + jnp.sum(jnp.sqrt(stats["var"])))

  for train in (False, True):
    (want, want_stats), (got, got_stats) = (
        f(variables, x, train) for f in (flax_version, fused))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    for key in ("mean", "var"):
      np.testing.assert_allclose(got_stats[key], want_stats[key], rtol=1e-5)
  want, got = (jax.grad(lambda v, x, f=f: loss(f, v, x), argnums=(0, 1))(
      variables, x) for f in (flax_version, fused))
  for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
    np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_pointwise_conv_matches_width_one_conv():
  x = jnp.asarray(np.random.default_rng(4).normal(size=(2, 9, 5)), jnp.float32)
  ours = enformer.PointwiseConv(7)
  theirs = nn.Conv(7, (1,))
  key = jax.random.PRNGKey(0)
  variables = nn.meta.unbox(ours.init(key, x))
  # Same parameters, drawn the same way, as nn.Conv's.
  jax.tree_util.tree_map(np.testing.assert_array_equal, variables,
                         theirs.init(key, x))
  np.testing.assert_allclose(ours.apply(variables, x),
                             theirs.apply(variables, x), rtol=1e-6, atol=1e-6)


def test_positional_features_match_enformer_pytorch(reference):
  features = attention.relative_position_features(64, 24)
  # enformer-pytorch computes them in float32 too; its own rounding error
  # against float64 is ~1e-5.
  np.testing.assert_allclose(features, reference["rel_pos_features"],
                             atol=2e-5, rtol=0)


def test_tf_gamma_convention_and_table(reference):
  table = reference["tf_gammas_1536"]
  distances = jnp.arange(-1535, 1536, dtype=jnp.float32)
  computed = np.asarray(attention.positional_features_gamma(
      distances, 32, 1536, normalize_over="distance"))
  # Same formula and normalisation as TF; the residual is TF's float32
  # rounding of lgamma/xlogy (~1 ulp of log-densities near 3e4).
  np.testing.assert_allclose(computed, table, rtol=5e-3, atol=1e-9)
  assert np.median(np.abs(computed - table) / table) < 1e-5
  assert np.abs(computed - table).max() > 0  # so the exact table matters

  features = attention.relative_position_features(1536, 192,
                                                  gamma_features=table)
  np.testing.assert_array_equal(features[:, 64:96], table)
  np.testing.assert_array_equal(features[:, 160:192],
                                np.sign(distances)[:, None] * table)

  model = enformer.enformer("tiny", dim=192, heads=1, use_tf_gamma=True,
                            tf_gammas=table, target_length=None)
  bins_1536 = jnp.zeros((1, 1536 * model.output_stride, 4))
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), bins_1536)
  assert shapes["params"]["head_human"]["kernel"].value.shape == (384, 6)
  with pytest.raises(ValueError, match="gamma_features must have shape"):
    jax.eval_shape(model.init, jax.random.PRNGKey(0),
                   jnp.zeros((1, 512 * model.output_stride, 4)))
  with pytest.raises(ValueError, match="use_tf_gamma is False"):
    jax.eval_shape(model.clone(use_tf_gamma=False).init,
                   jax.random.PRNGKey(0), bins_1536)


def test_parity_with_enformer_pytorch(reference):
  kwargs = enformer.pytorch_config_to_kwargs(
      json.loads(str(reference["kwargs_json"])))
  model, variables = enformer.load_pretrained(fixture_path(FIXTURE),
                                              prefix="sd/", **kwargs)
  assert model == enformer.Enformer(**kwargs)

  @jax.jit
  def predict(variables, x):
    return model.apply(variables, x, return_embeddings=True,
                       mutable=["intermediates"])

  (outputs, embeddings), state = predict(variables, reference["x"])
  inter = {k: v[0] for k, v in state["intermediates"].items()}
  for got, want in [(outputs["human"], "out_human"),
                    (outputs["mouse"], "out_mouse"),
                    (embeddings, "embeddings"),
                    (outputs["human"], "out_human_f64"),
                    (embeddings, "embeddings_f64"),
                    (inter["stem_out"].transpose(0, 2, 1), "stem_out"),
                    (inter["conv_tower_out"].transpose(0, 2, 1),
                     "conv_tower_out"),
                    (inter["transformer_out"], "transformer_out")]:
    assert got.shape == reference[want].shape, want
    np.testing.assert_allclose(got, reference[want], atol=1e-4, rtol=0,
                               err_msg=want)


def test_converter_reads_config_and_rejects_leftovers(reference):
  state_dict = {k[3:]: v for k, v in reference.items() if k.startswith("sd/")}
  config = enformer.config_from_state_dict(state_dict)
  assert config == dict(dim=72, depth=2, heads=3, attn_dim_key=16,
                        num_downsamples=5, dim_divisible_by=12,
                        output_heads={"human": 12, "mouse": 6})
  with pytest.raises(ValueError, match="unconverted"):
    enformer.convert_pytorch_state_dict(
        {**state_dict, "transformer.0.0.fn.1.extra": np.zeros(3)},
        target_length=16)
  with pytest.raises(ValueError, match="no '_heads.rat.0.weight'"):
    enformer.convert_pytorch_state_dict(
        state_dict, output_heads={"human": 12, "mouse": 6, "rat": 4})


def test_parity_on_odd_layouts(reference):
  """The ``odd/`` model: dim 51 (odd), 8 heads of 6 value channels (48, not
  dim), dim_divisible_by 1, one head, no crop; all read off the weights."""
  kwargs = json.loads(str(reference["odd/kwargs_json"]))
  model, variables = enformer.load_pretrained(
      fixture_path(FIXTURE), prefix="odd/sd/",
      target_length=kwargs["target_length"])
  assert model == enformer.Enformer(**enformer.pytorch_config_to_kwargs(kwargs))
  outputs, embeddings = jax.jit(
      lambda v, x: model.apply(v, x, return_embeddings=True))(
          variables, reference["odd/x"])
  np.testing.assert_allclose(outputs["rat"], reference["odd/out_rat"],
                             atol=1e-4, rtol=0)
  np.testing.assert_allclose(embeddings, reference["odd/embeddings"],
                             atol=1e-4, rtol=0)


def test_converter_lets_explicit_settings_win(reference):
  """dim_divisible_by=12 (the fixture's) is no power of two: inference
  searches every divisor of dim, and a value the caller passes is used."""
  state_dict = {k[3:]: v for k, v in reference.items() if k.startswith("sd/")}
  widths = [36, 48, 60, 72]
  assert enformer.conv_tower_widths(72, 5, 12) == widths
  assert all(enformer.exponential_linspace_int(36, 72, 4, 2**i) != widths
             for i in range(8))
  # 6 builds the same widths as 12; the caller's choice is kept.
  config = enformer.config_from_state_dict(state_dict, dim_divisible_by=6,
                                           target_length=8)
  assert (config["dim_divisible_by"], config["target_length"]) == (6, 8)
  model, variables = enformer.load_pretrained(
      fixture_path(FIXTURE), prefix="sd/", dim_divisible_by=6, target_length=8)
  assert (model.dim_divisible_by, model.target_length, model.heads) == (6, 8, 3)
  assert variables["params"]["conv_tower_2"]["conv"]["conv"]["kernel"].shape == (
      5, 48, 60)
  # enformer-pytorch also builds depth=0 (no transformer): nothing to read
  # heads from, and dim // heads need not divide by 6.
  no_trunk = {k: v for k, v in state_dict.items()
              if not k.startswith("transformer.")}
  config = enformer.config_from_state_dict(no_trunk, target_length=16)
  assert (config["depth"], "heads" in config) == (0, False)
  variables = enformer.convert_pytorch_state_dict(no_trunk, target_length=16)
  outputs = enformer.Enformer(**config).apply(variables, reference["x"])
  assert outputs["human"].shape == (2, 16, 12)
  with pytest.raises(ValueError, match=r"dim_divisible_by=8 gives conv tower "
                     r"widths \[32, 48, 56, 72\], but the weights have "
                     r"\[36, 48, 60, 72\]"):
    enformer.convert_pytorch_state_dict(state_dict, dim_divisible_by=8)


def test_paper_parameter_count_and_axis_names():
  model = models.get_model("enformer", "paper")
  assert model.output_length(enformer.SEQUENCE_LENGTH) == 896
  shapes = jax.eval_shape(model.clone(target_length=None).init,
                          jax.random.PRNGKey(0), jnp.zeros((1, 256, 4)))
  plain = nn.meta.unbox(shapes)
  count = lambda tree: sum(x.size for x in jax.tree_util.tree_leaves(tree))
  # enformer-pytorch counts nn.Parameters only; its BatchNorm running means
  # and variances (our "batch_stats") are buffers.
  assert count(plain["params"]) == 251_221_292
  assert count(plain["batch_stats"]) == 29_696
  trunk = {k: v for k, v in plain["params"].items()
           if not k.startswith("head_")}
  assert count(trunk) == 229_845_504
  assert [plain["params"][f"conv_tower_{i}"]["conv"]["conv"]["kernel"].shape[-1]
          for i in range(6)] == [768, 896, 1024, 1152, 1280, 1536]

  names = jax.tree_util.tree_map(
      tuple, nn.get_partition_spec(shapes)["params"],
      is_leaf=lambda x: isinstance(x, jax.sharding.PartitionSpec))
  block = names["transformer_0"]
  assert block["attention"]["query"]["kernel"] == ("embed", "heads", "kv")
  assert block["attention"]["output"]["kernel"] == ("heads", "kv", "embed")
  assert block["mlp_in"]["kernel"] == ("embed", "mlp")
  assert names["head_human"]["kernel"] == ("embed", "tracks")
  assert names["stem_conv"]["kernel"] == ("conv_width", "conv_in", "conv_out")
  # Every parameter carries one logical name per dimension.
  name_counts = jax.tree_util.tree_map(
      len, names, is_leaf=lambda x: isinstance(x, tuple))
  assert name_counts == jax.tree_util.tree_map(lambda x: x.ndim,
                                               plain["params"])


def test_tiny_forward_and_train_step():
  model = enformer.enformer("tiny")
  x = jax.nn.one_hot(jax.random.randint(jax.random.PRNGKey(1), (2, 256), 0, 4),
                     4)
  variables = jax.jit(model.init)(jax.random.PRNGKey(0), x)
  predict = jax.jit(lambda v, x: model.apply(v, x, return_embeddings=True))
  outputs, embeddings = predict(variables, x)
  assert outputs["human"].shape == (2, 16, 6)
  assert outputs["mouse"].shape == (2, 16, 3)
  assert embeddings.shape == (2, 16, 96)
  assert bool(jnp.all(outputs["human"] >= 0))
  plain_outputs, _ = predict(nn.meta.unbox(variables), x)
  np.testing.assert_array_equal(plain_outputs["human"], outputs["human"])

  params = nn.meta.unbox(variables["params"])
  targets = {k: jnp.full(v.shape, 2.0) for k, v in outputs.items()}

  def loss_fn(model, params, batch_stats, rng):
    out, updates = model.apply(
        {"params": params, "batch_stats": batch_stats}, x, train=True,
        rngs={"dropout": rng}, mutable=["batch_stats"])
    loss = sum(jnp.mean(out[k] - targets[k] * jnp.log(out[k])) for k in out)
    return loss, updates["batch_stats"]

  def gradient(model):
    return jax.jit(jax.value_and_grad(
        lambda *args: loss_fn(model, *args), has_aux=True))

  step_gradient = gradient(model)
  batch_stats = variables["batch_stats"]
  losses, grad_norms = [], []
  for i in range(4):
    (loss, batch_stats), grads = step_gradient(params, batch_stats,
                                               jax.random.PRNGKey(10 + i))
    params = jax.tree_util.tree_map(lambda p, g: p - 0.05 * g, params, grads)
    losses.append(float(loss))
    grad_norms.append(float(optax.tree.norm(grads)))
  assert np.all(np.isfinite(losses))
  assert losses[-1] < losses[0]
  initial_mean = variables["batch_stats"]["stem_pointwise"]["norm"]["mean"]
  assert not np.allclose(batch_stats["stem_pointwise"]["norm"]["mean"],
                         initial_mean)

  # Rematerialised transformer blocks: same loss and gradients, same dropout.
  (loss, _), grads = gradient(model.clone(remat=True))(
      nn.meta.unbox(variables["params"]), variables["batch_stats"],
      jax.random.PRNGKey(10))
  np.testing.assert_allclose(float(loss), losses[0], rtol=1e-6)
  np.testing.assert_allclose(float(optax.tree.norm(grads)), grad_norms[0],
                             rtol=1e-5)


def test_identity_init_warm_start_from_conv_only_model():
  """``identity_init``: a depth-0 model's weights, loaded the way the trainer loads a
  base (`trainer._replace_matching`, new ``transformer_*`` kept), predict exactly what
  they did; with the paper's init the feed-forward blocks change the predictions."""
  from genereg_jax.train import trainer
  x = jax.nn.one_hot(jax.random.randint(jax.random.PRNGKey(1), (2, 256), 0, 4), 4)
  local = enformer.enformer("tiny", depth=0)
  base = nn.meta.unbox(local.init(jax.random.PRNGKey(0), x))
  expected = local.apply(base, x)["human"]
  for identity_init in (True, False):
    model = enformer.enformer("tiny", identity_init=identity_init)
    fresh = nn.meta.unbox(model.init(jax.random.PRNGKey(3), x))
    warm = {"params": trainer._replace_matching(fresh["params"], base["params"], "params",
                                                ("^transformer_",)),
            "batch_stats": trainer._replace_matching(fresh["batch_stats"],
                                                     base["batch_stats"], "batch_stats")}
    outputs = model.apply(warm, x)["human"]
    if identity_init:
      np.testing.assert_allclose(outputs, expected, atol=1e-6)
      # The long path is connected: the new blocks get gradients from the first step.
      grads = jax.grad(lambda p: model.apply({**warm, "params": p}, x)["human"].sum())(
          warm["params"])
      for i in range(2):
        assert float(optax.tree.norm(grads[f"transformer_{i}"])) > 0
    else:
      assert float(jnp.abs(outputs - expected).max()) > 1e-3
