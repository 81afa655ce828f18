"""Tests for BPNet (Avsec et al. 2021) and ChromBPNet (Pampari et al.).

Parity is against bpnet-lite 1.1.0 outputs in
``tests/fixtures/bpnet_lite_small.npz`` (see tests/fixtures/README.md); the
rest runs the ``tiny`` presets.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import fixture_path, load_fixture
from genereg_jax.models import bpnet as bpnet_lib

FIXTURE = "bpnet_lite_small.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def fixture():
  return load_fixture(FIXTURE)


def _channels_last(x):
  return np.transpose(x, (0, 2, 1))


def _max_diff(ours, reference):
  assert ours.shape == reference.shape, (ours.shape, reference.shape)
  return float(np.max(np.abs(np.asarray(ours) - reference)))


def test_bpnet_matches_bpnet_lite(fixture):
  model, params = bpnet_lib.load_bpnet_lite(fixture_path(FIXTURE),
                                            prefix="bpnet/sd/")
  kwargs = json.loads(str(fixture["kwargs_json"]))["bpnet"]
  assert (model.n_filters, model.n_layers, model.n_outputs,
          model.n_control_tracks) == (kwargs["n_filters"], kwargs["n_layers"],
                                      kwargs["n_outputs"],
                                      kwargs["n_control_tracks"])
  assert model.trim == json.loads(str(fixture["meta_json"]))["trimming"][
      "bpnet"]

  out = jax.jit(model.apply)({"params": params}, _channels_last(fixture["x"]),
                             _channels_last(fixture["x_ctl"]))
  diffs = {
      "profile_logits": _max_diff(
          out["profile_logits"],
          _channels_last(fixture["bpnet_profile_logits"])),
      "log_counts": _max_diff(out["log_counts"], fixture["bpnet_log_counts"]),
  }
  assert max(diffs.values()) < TOLERANCE, diffs


def test_chrombpnet_matches_bpnet_lite(fixture):
  model, params = bpnet_lib.load_chrombpnet_lite(fixture_path(FIXTURE),
                                                 prefix="chrombpnet/sd/")
  trims = json.loads(str(fixture["meta_json"]))["trimming"]
  assert (model.bias.trim, model.accessibility.trim) == (trims["bias"],
                                                         trims["acc"])
  x = _channels_last(fixture["x"])
  outputs = {
      "chrombpnet": jax.jit(model.apply)({"params": params}, x),
      # Each sub-tree is a standalone BPNet parameter tree.
      "chrombpnet_bias": model.bias.apply({"params": params["bias"]}, x),
      "chrombpnet_acc": model.accessibility.apply(
          {"params": params["accessibility"]}, x),
  }
  diffs = {}
  for name, out in outputs.items():
    diffs[f"{name}_profile_logits"] = _max_diff(
        out["profile_logits"],
        _channels_last(fixture[f"{name}_profile_logits"]))
    diffs[f"{name}_log_counts"] = _max_diff(out["log_counts"],
                                            fixture[f"{name}_log_counts"])
  assert max(diffs.values()) < TOLERANCE, diffs


def test_converter_reads_layout_and_rejects_stray_keys(fixture):
  sd = {k: v for k, v in fixture.items() if k.startswith("chrombpnet/sd/")}
  config = bpnet_lib.chrombpnet_config_from_state_dict(sd, "chrombpnet/sd/")
  assert config["bias"]["n_filters"] == 16 and config["bias"]["n_layers"] == 4
  assert config["accessibility"]["n_control_tracks"] == 0
  params = bpnet_lib.convert_bpnet_lite_state_dict(
      sd, "chrombpnet/sd/accessibility.")
  np.testing.assert_array_equal(
      params["dilated_conv_2"]["kernel"][:, 3, 5],
      sd["chrombpnet/sd/accessibility.rconvs.2.weight"][5, 3, :])
  with pytest.raises(ValueError, match="Unconverted"):
    bpnet_lib.convert_bpnet_lite_state_dict(
        {**sd, "chrombpnet/sd/bias.extra.weight": np.zeros(3)},
        "chrombpnet/sd/bias.")


def test_loader_lets_explicit_settings_win(fixture):
  """Settings the weights do not fix (trimming) are the caller's; ones they
  fix must agree, with a message naming both values."""
  path = fixture_path(FIXTURE)
  model, _ = bpnet_lib.load_bpnet_lite(path, prefix="bpnet/sd/", trimming=100,
                                       n_filters=32)
  assert (model.trim, model.n_filters) == (100, 32)
  with pytest.raises(ValueError, match=r"n_filters=64 \(the weights have 32\)"):
    bpnet_lib.load_bpnet_lite(path, prefix="bpnet/sd/", n_filters=64)
  model, _ = bpnet_lib.load_chrombpnet_lite(
      path, prefix="chrombpnet/sd/", bias_overrides={"trimming": 557},
      accessibility_overrides={"trimming": 500})
  assert (model.bias.trim, model.accessibility.trim) == (557, 500)
  with pytest.raises(ValueError, match=r"under 'chrombpnet/sd/bias\.'.*"
                     r"n_layers=8 \(the weights have 4\)"):
    bpnet_lib.load_chrombpnet_lite(path, prefix="chrombpnet/sd/",
                                   bias_overrides={"n_layers": 8})


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_converter_accepts_every_bpnet_lite_layout(name):
  """bpnet_lite_layouts.npz: no dilated layers, control or output biases (a);
  three outputs, one control track, trimming 0 (b); trimming 20, inside the
  profile kernel's reach (c). Trimming is not in the weights: the caller's
  value is used, bpnet-lite's default otherwise."""
  path = fixture_path("bpnet_lite_layouts.npz")
  with np.load(path) as data:
    ref = {k: data[k] for k in data.files}
  kwargs = json.loads(str(ref["kwargs_json"]))[name]
  given = {"trimming": kwargs["trimming"]} if "trimming" in kwargs else {}
  model, params = bpnet_lib.load_bpnet_lite(path, prefix=f"{name}/sd/", **given)
  assert model.trim == int(ref[f"{name}/trimming"])
  control = ref.get(f"{name}/x_ctl")
  out = model.apply({"params": params}, _channels_last(ref["x"]),
                    None if control is None else _channels_last(control))
  assert _max_diff(out["profile_logits"], _channels_last(
      ref[f"{name}/profile_logits"])) < TOLERANCE
  assert _max_diff(out["log_counts"], ref[f"{name}/log_counts"]) < TOLERANCE


def _tiny_batch(model, length=100, batch=3, seed=0):
  rng = np.random.default_rng(seed)
  sequence = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch, length))]
  control = rng.poisson(0.3, (batch, length, model.n_control_tracks)).astype(
      np.float32)
  return sequence, control


def test_tiny_shapes_and_geometry():
  model = bpnet_lib.bpnet("tiny")
  sequence, control = _tiny_batch(model)
  params = jax.jit(model.init)(jax.random.key(0), sequence, control)["params"]
  apply = jax.jit(model.apply)
  out = apply({"params": params}, sequence, control)
  assert model.trim == 3 + (2 + 4 + 8) + 4
  assert out["profile_logits"].shape == (3, 100 - 2 * model.trim, 2)
  assert out["log_counts"].shape == (3, 1)
  assert out["profile_logits"].dtype == jnp.float32
  # PyTorch's default init: weights and biases within 1/sqrt(fan_in).
  bound = 1 / np.sqrt(7 * 4)
  assert np.abs(params["stem_conv"]["kernel"]).max() <= bound
  assert np.abs(params["stem_conv"]["bias"]).max() <= bound
  # No control means zero control, as bpnet-lite's ControlWrapper.
  np.testing.assert_allclose(
      apply({"params": params}, sequence)["log_counts"],
      apply({"params": params}, sequence, np.zeros_like(control))[
          "log_counts"])


@pytest.mark.parametrize("preset, length, out_length", [
    ("bpnet_lite", 2114, 1000),
    ("paper", 1000, 1000),
    ("chrombpnet_bias", 2114, 2114 - 2 * 77),
    ("tiny", 43, 1),
])
def test_output_length_is_input_minus_twice_trim(preset, length, out_length):
  model = bpnet_lib.bpnet(preset)
  assert model.output_length(length) == out_length
  control = (jnp.zeros((1, length, model.n_control_tracks))
             if model.n_control_tracks else None)
  shapes = jax.eval_shape(
      lambda: model.init_with_output(jax.random.key(0),
                                     jnp.zeros((1, length, 4)), control)[0])
  assert shapes["profile_logits"].shape == (1, out_length, model.n_outputs)
  assert shapes["log_counts"].shape == (1, model.n_count_outputs)


def test_receptive_field_matches_trim():
  model = bpnet_lib.bpnet("bpnet_lite")
  assert model.receptive_field == 1115
  assert model.min_input_length == model.receptive_field == 2 * 557 + 1


def test_short_input_and_bad_control_raise():
  model = bpnet_lib.bpnet("tiny")
  with pytest.raises(ValueError, match="too short.*receptive field 43"):
    model.init(jax.random.key(0), jnp.zeros((1, 42, 4)))
  with pytest.raises(ValueError, match="control must have shape"):
    model.init(jax.random.key(0), jnp.zeros((1, 60, 4)),
               jnp.zeros((1, 60, 1)))
  no_control = bpnet_lib.bpnet("tiny", n_control_tracks=0)
  with pytest.raises(ValueError, match="n_control_tracks=0"):
    no_control.init(jax.random.key(0), jnp.zeros((1, 60, 4)),
                    jnp.zeros((1, 60, 2)))


def _profile_count_loss(out, counts):
  """bpnet-lite's loss: one multinomial over positions x strands + count MSE."""
  logits = out["profile_logits"].reshape(counts.shape[0], -1)
  flat = counts.reshape(counts.shape[0], -1)
  mnll = -jnp.sum(flat * jax.nn.log_softmax(logits), axis=-1)
  total = jnp.log1p(flat.sum(-1, keepdims=True))
  return jnp.mean(mnll) + jnp.mean((out["log_counts"] - total) ** 2)


def test_tiny_jitted_train_step_lowers_loss():
  model = bpnet_lib.bpnet("tiny")
  sequence, control = _tiny_batch(model)
  counts = np.random.default_rng(1).poisson(
      1.0, (3, model.output_length(100), 2)).astype(np.float32)
  params = jax.jit(model.init)(jax.random.key(0), sequence, control)["params"]
  optimizer = optax.adam(1e-2)

  @jax.jit
  def step(params, opt_state):
    loss, grads = jax.value_and_grad(lambda p: _profile_count_loss(
        model.apply({"params": p}, sequence, control), counts))(params)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss, grads

  opt_state = optimizer.init(params)
  params, opt_state, first_loss, grads = step(params, opt_state)
  assert all(np.isfinite(g).all() and np.abs(g).sum() > 0
             for g in jax.tree.leaves(grads))
  for _ in range(5):
    params, opt_state, loss, _ = step(params, opt_state)
  assert loss < first_loss


def test_chrombpnet_frozen_bias_with_multi_transform():
  model = bpnet_lib.chrombpnet("tiny")
  sequence, _ = _tiny_batch(model.accessibility, length=80)
  params = jax.jit(model.init)(jax.random.key(0), sequence)["params"]
  assert set(params) == {"bias", "accessibility"}
  out = jax.jit(model.apply)({"params": params}, sequence)
  bias = jax.jit(model.bias.apply)({"params": params["bias"]}, sequence)
  acc = jax.jit(model.accessibility.apply)(
      {"params": params["accessibility"]}, sequence)
  out_len = model.accessibility.output_length(80)
  offset = (model.bias.output_length(80) - out_len) // 2
  np.testing.assert_allclose(
      out["profile_logits"],
      acc["profile_logits"]
      + bias["profile_logits"][:, offset:offset + out_len], rtol=1e-6)
  np.testing.assert_allclose(
      out["log_counts"],
      np.log(np.exp(acc["log_counts"]) + np.exp(bias["log_counts"])),
      rtol=1e-5)

  labels = {"bias": "frozen", "accessibility": "trained"}
  optimizer = optax.multi_transform(
      {"frozen": optax.set_to_zero(), "trained": optax.adam(1e-2)},
      lambda p: {k: jax.tree.map(lambda _: labels[k], v) for k, v in p.items()})
  counts = np.ones((sequence.shape[0], out_len, 1), np.float32)

  @jax.jit
  def step(params, opt_state):
    grads = jax.grad(lambda p: _profile_count_loss(
        model.apply({"params": p}, sequence), counts))(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  new_params, _ = step(params, optimizer.init(params))
  jax.tree.map(np.testing.assert_array_equal, new_params["bias"],
               params["bias"])
  assert not np.array_equal(
      new_params["accessibility"]["stem_conv"]["kernel"],
      params["accessibility"]["stem_conv"]["kernel"])


def test_chrombpnet_rejects_bias_window_shorter_than_accessibility():
  model = bpnet_lib.ChromBPNet(
      bias=bpnet_lib.bpnet("tiny_bias", trimming=30),
      accessibility=bpnet_lib.bpnet("tiny_accessibility"))
  with pytest.raises(ValueError, match="bias model's output"):
    jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 80, 4)))


def test_unknown_preset_lists_presets():
  with pytest.raises(KeyError, match="tiny"):
    bpnet_lib.bpnet("huge")


def test_profile_conv_as_matmul_equals_the_convolution():
  """``profile_conv_matmul`` (cone_model's fast head) changes only the arithmetic."""
  model = bpnet_lib.BPNet(**bpnet_lib.PRESETS["tiny"])
  x = jax.nn.one_hot(np.random.default_rng(0).integers(0, 4, (2, 201)), 4)
  params = model.init(jax.random.PRNGKey(1), x)["params"]
  plain = model.apply({"params": params}, x)
  fast = model.clone(profile_conv_matmul=True).apply({"params": params}, x)
  for key in plain:
    np.testing.assert_allclose(fast[key], plain[key], rtol=1e-4, atol=1e-4)
  assert not np.array_equal(plain["profile_logits"], jnp.zeros_like(plain["profile_logits"]))
