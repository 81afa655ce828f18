"""Tests for the SpliceAI port (Jaganathan et al., Cell 2019): presets, training step,
Keras .h5 conversion and parity with the official SpliceAI-10k ensemble."""

import importlib.util
import json

import flax.linen as nn
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import fixture_path
from genereg_jax.models import spliceai

CONTEXTS = {"80nt": 80, "400nt": 400, "2k": 2000, "10k": 10000, "tiny": 24}


@pytest.mark.parametrize("preset", sorted(spliceai.PRESETS))
def test_preset_context_and_shapes(preset):
  model = spliceai.SpliceAI(**spliceai.PRESETS[preset])
  assert model.context == CONTEXTS[preset]
  assert model.receptive_field == CONTEXTS[preset] + 1
  x = jax.ShapeDtypeStruct((2, model.context + 17, 4), jnp.float32)
  variables = jax.eval_shape(model.init, jax.random.key(0), x)
  out = jax.eval_shape(model.apply, variables, x)
  assert out.shape == (2, 17, 3) and out.dtype == jnp.float32
  assert model.output_length(model.context + 17) == 17


def test_spliceai_model_presets():
  model = spliceai.spliceai_model("400nt", output="logits")
  assert (model.context, model.output) == (400, "logits")
  with pytest.raises(KeyError, match="have.*10k"):
    spliceai.spliceai_model("5k")


def test_ten_k_has_the_papers_parameter_count():
  model = spliceai.SpliceAI(**spliceai.PRESETS["10k"])
  variables = jax.eval_shape(model.init, jax.random.key(0),
                             jax.ShapeDtypeStruct((1, 10001, 4), jnp.float32))
  sizes = [leaf.size for leaf in jax.tree.leaves(nn.meta.unbox(variables))]
  # The number of values stored in spliceai1.h5, BatchNorm moving statistics included.
  assert sum(sizes) == 698_787


def _cross_entropy(model, params, batch_stats, x, labels):
  logits, updates = model.apply({"params": params, "batch_stats": batch_stats}, x,
                                train=True, mutable=["batch_stats"])
  log_probs = jax.nn.log_softmax(logits)
  loss = -jnp.mean(jnp.take_along_axis(log_probs, labels[..., None], axis=-1))
  return loss, updates["batch_stats"]


def test_tiny_forward_and_gradient_step():
  model = spliceai.SpliceAI(**spliceai.PRESETS["tiny"], output="logits")
  rng = np.random.default_rng(0)
  x = jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 64))])
  labels = jnp.asarray(rng.integers(0, 3, (3, 64 - model.context)))
  boxed = model.init(jax.random.key(0), x)
  assert boxed["params"]["stem"]["kernel"].names == ("conv_width", "conv_in", "conv_out")
  variables = nn.meta.unbox(boxed)
  params, batch_stats = variables["params"], variables["batch_stats"]

  logits = jax.jit(model.apply)(variables, x)
  probs = spliceai.SpliceAI(**spliceai.PRESETS["tiny"]).apply(variables, x)
  assert logits.shape == probs.shape == (3, 40, 3)
  np.testing.assert_allclose(jax.nn.softmax(logits), probs, atol=1e-6)
  np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)

  @jax.jit
  def step(params, batch_stats):
    (loss, batch_stats), grads = jax.value_and_grad(
        lambda p: _cross_entropy(model, p, batch_stats, x, labels), has_aux=True)(params)
    return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), batch_stats, loss, grads

  new_params, new_stats, loss, grads = step(params, batch_stats)
  assert all(np.all(np.isfinite(g)) and np.any(g != 0) for g in jax.tree.leaves(grads))
  mean = new_stats["group_0_unit_0"]["bn_0"]["mean"]
  assert np.any(mean != 0)  # running statistics moved towards the batch's
  _, _, new_loss, _ = step(new_params, new_stats)
  assert new_loss < loss


def test_unpadded_inference_equals_same_padding_then_crop():
  # Inference skips the edge positions the crop drops; training keeps 'same' padding.
  unit = spliceai.ResidualUnit(channels=8, kernel_size=5, dilation=3)
  rng = np.random.default_rng(2)
  x = jnp.asarray(rng.standard_normal((2, 60, 8)), jnp.float32)
  variables = unit.init(jax.random.key(0), x)
  variables = jax.tree.map(  # Non-trivial running statistics.
      lambda v: v + jnp.asarray(rng.uniform(0.5, 1.5, v.shape), v.dtype), variables)
  same = unit.apply(variables, x)
  valid = unit.apply(variables, x, valid=True)
  assert valid.shape == (2, 60 - 2 * 3 * 4, 8)
  np.testing.assert_allclose(valid, same[:, 12:-12], atol=1e-6)


def test_bfloat16_compute_stays_close():
  config = spliceai.PRESETS["tiny"]
  tokens = np.random.default_rng(1).integers(0, 4, (2, 50))
  x = jnp.asarray(np.eye(4, dtype=np.float32)[tokens])
  variables = spliceai.SpliceAI(**config).init(jax.random.key(1), x)
  f32 = spliceai.SpliceAI(**config).apply(variables, x)
  bf16 = spliceai.SpliceAI(**config, dtype=jnp.bfloat16).apply(variables, x)
  assert bf16.dtype == jnp.float32
  np.testing.assert_allclose(bf16, f32, atol=3e-2)


def test_too_short_input_raises():
  model = spliceai.SpliceAI(**spliceai.PRESETS["tiny"])
  x = jnp.zeros((1, 30, 4))
  variables = model.init(jax.random.key(0), x)
  with pytest.raises(ValueError, match="at least 24 nt.*got length 23"):
    model.apply(variables, x[:, :23])
  with pytest.raises(ValueError, match="at least 10000 nt"):
    jax.eval_shape(spliceai.SpliceAI().init, jax.random.key(0), jnp.zeros((1, 9999, 4)))


# --- Keras .h5 conversion on a synthetic graph ---------------------------------------


def _write_keras_spliceai(path, rng, channels, kernel_sizes, dilations, units_per_group,
                          cropping=None, epsilon=1e-3, use_bias=True, scale=True,
                          center=True):
  """Writes a Keras 2-format SpliceAI .h5 as the paper's training code builds it.

  Layer names are random and the layer list is shuffled, so the converter can only
  succeed by reading the graph. ``epsilon``, ``use_bias`` (residual convolutions),
  ``scale`` and ``center`` are Keras layer options the paper leaves at their defaults;
  the switched-off weights are absent from the file, as Keras writes it.
  """
  layers, weights = [], {}

  def add(kind, inbound, config=None, layer_weights=None):
    name = f"{kind.lower()}_{rng.integers(10**9)}"
    layers.append({"class_name": kind, "name": name,
                   "config": {"name": name, **(config or {})},
                   "inbound_nodes": ([[[i, 0, 0, {}] for i in inbound]]
                                     if inbound else [])})
    weights[name] = layer_weights or {}
    return name

  def conv(x, cin, cout, kernel=1, dilation=1, activation="linear"):
    bias = use_bias or kernel == 1
    return add("Conv1D", [x],
               dict(filters=cout, kernel_size=[kernel], dilation_rate=[dilation],
                    strides=[1], padding="same" if kernel > 1 else "valid",
                    activation=activation, use_bias=bias),
               {"kernel": rng.normal(size=(kernel, cin, cout)) / np.sqrt(kernel * cin),
                **({"bias": 0.1 * rng.normal(size=cout)} if bias else {})})

  def bn_relu(x):
    x = add("BatchNormalization", [x],
            dict(epsilon=epsilon, axis=-1, momentum=0.99, scale=scale, center=center),
            {**({"gamma": 1 + 0.2 * rng.normal(size=channels)} if scale else {}),
             **({"beta": 0.2 * rng.normal(size=channels)} if center else {}),
             "moving_mean": 0.2 * rng.normal(size=channels),
             "moving_variance": rng.uniform(0.5, 2.0, size=channels)})
    return add("Activation", [x], dict(activation="relu"))

  x = conv(add("InputLayer", []), 4, channels)
  skip = conv(x, channels, channels)
  for kernel, dilation, units in zip(kernel_sizes, dilations, units_per_group):
    for _ in range(units):
      h = conv(bn_relu(x), channels, channels, kernel, dilation)
      x = add("Add", [conv(bn_relu(h), channels, channels, kernel, dilation), x])
    skip = add("Add", [skip, conv(x, channels, channels)])
  context = spliceai.spliceai_context(kernel_sizes, dilations, units_per_group)
  skip = add("Cropping1D", [skip], dict(cropping=cropping or [context // 2] * 2))
  conv(skip, channels, 3, activation="softmax")

  order = rng.permutation(len(layers))
  model_config = {"class_name": "Model",
                  "config": {"layers": [layers[i] for i in order]}}
  with h5py.File(path, "w") as f:
    f.attrs["model_config"] = json.dumps(model_config).encode()
    group = f.create_group("model_weights")
    for layer in layers:
      name = layer["name"]
      layer_group = group.create_group(name)
      names = [f"{name}/{key}:0" for key in weights[name]]
      layer_group.attrs["weight_names"] = [n.encode() for n in names]
      for weight_name, value in zip(names, weights[name].values()):
        layer_group.create_dataset(weight_name, data=value.astype(np.float32))
  return layers, weights


def _keras_forward(layers, weights, x):
  """Evaluates a Keras SpliceAI graph in NumPy with Keras 2 semantics."""
  values, pending = {}, list(layers)
  while pending:
    layer = next(l for l in pending
                 if all(i[0] in values for i in (l["inbound_nodes"] or [[]])[0]))
    pending.remove(layer)
    name, config, w = layer["name"], layer["config"], weights[layer["name"]]
    inputs = [values[i[0]] for i in (layer["inbound_nodes"] or [[]])[0]]
    kind = layer["class_name"]
    if kind == "InputLayer":
      out = x
    elif kind == "Conv1D":
      kernel, dilation = config["kernel_size"][0], config["dilation_rate"][0]
      total = dilation * (kernel - 1)
      padded = np.pad(inputs[0], ((0, 0), (total // 2, total - total // 2), (0, 0)))
      length = inputs[0].shape[1]
      out = w.get("bias", 0) + sum(padded[:, j * dilation:j * dilation + length] @ w["kernel"][j]
                            for j in range(kernel))
      if config["activation"] == "softmax":
        out = np.exp(out - out.max(-1, keepdims=True))
        out /= out.sum(-1, keepdims=True)
    elif kind == "BatchNormalization":
      out = ((inputs[0] - w["moving_mean"])
             / np.sqrt(w["moving_variance"] + config["epsilon"])
             * w.get("gamma", 1) + w.get("beta", 0))
    elif kind == "Activation":
      out = np.maximum(inputs[0], 0)
    elif kind == "Add":
      out = sum(inputs)
    elif kind == "Cropping1D":
      left, right = config["cropping"]
      out = inputs[0][:, left:inputs[0].shape[1] - right]
    values[name] = out
  return out


def test_convert_keras_h5_reads_the_graph(tmp_path):
  rng = np.random.default_rng(0)
  config = dict(channels=6, kernel_sizes=(3, 5, 3), dilations=(1, 2, 3),
                units_per_group=(2, 1, 3))
  path = tmp_path / "model.h5"
  layers, weights = _write_keras_spliceai(path, rng, **config)
  model, variables = spliceai.convert_keras_h5(path)
  assert (model.channels, model.kernel_sizes, model.dilations,
          model.units_per_group) == tuple(config.values())
  assert model.context == 2 * (2 * 2 + 1 * 8 + 3 * 6)

  x = np.eye(4)[rng.integers(0, 4, (2, model.context + 25))]
  x[0, :7] = 0  # N
  expected = _keras_forward(layers, weights, x)
  np.testing.assert_allclose(model.apply(variables, x.astype(np.float32)), expected,
                             atol=1e-5)


def test_convert_keras_h5_accepts_other_keras_options_and_explicit_settings(tmp_path):
  """Keras options the paper's code leaves at their defaults (BatchNorm epsilon,
  scale, center; convolution bias) load too, and the caller's settings win."""
  rng = np.random.default_rng(3)
  path = tmp_path / "model.h5"
  layers, weights = _write_keras_spliceai(path, rng, 5, (3, 5), (1, 2), (1, 2),
                                          epsilon=1e-5, use_bias=False, scale=False,
                                          center=False)
  model, variables = spliceai.convert_keras_h5(path, output="logits", channels=5)
  assert (model.bn_epsilon, model.output, model.units_per_group) == (1e-5, "logits",
                                                                     (1, 2))
  x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (2, model.context + 9))]
  probs = jax.nn.softmax(model.apply(variables, x), axis=-1)
  np.testing.assert_allclose(probs, _keras_forward(layers, weights, x), atol=1e-5)
  with pytest.raises(ValueError, match=r"channels=8 \(the file has 5\)"):
    spliceai.convert_keras_h5(path, channels=8)


def test_convert_keras_h5_rejects_a_wrong_crop(tmp_path):
  path = tmp_path / "model.h5"
  _write_keras_spliceai(path, np.random.default_rng(0), 4, (3,), (1,), (2,),
                        cropping=[3, 5])
  with pytest.raises(ValueError, match="crops"):
    spliceai.convert_keras_h5(path)


# --- Parity with the official SpliceAI-10k ensemble -----------------------------------


@pytest.fixture(scope="module")
def official():
  path = fixture_path("spliceai_official.npz")
  if importlib.util.find_spec("spliceai") is None:
    pytest.fail("the official SpliceAI weights are missing: install them with "
                "`pip install --no-deps spliceai==1.3.1`", pytrace=False)
  data = dict(np.load(path))
  x = jnp.asarray(data["x"], jnp.float32)
  forward = jax.jit(spliceai.SpliceAI().apply)  # compiled once, reused for all five
  # Full float32 so that a GPU run does not fall back to TF32 convolutions.
  with jax.default_matmul_precision("highest"):
    predictions = {i: np.asarray(forward(spliceai.load_official_weights(i), x))
                   for i in range(1, spliceai.NUM_OFFICIAL_MODELS + 1)}
  return data, predictions


@pytest.mark.parametrize("index", range(1, spliceai.NUM_OFFICIAL_MODELS + 1))
def test_official_model_parity(official, index):
  data, predictions = official
  assert predictions[index].shape == (4, 5000, 3)
  diff = np.abs(predictions[index] - data[f"y_model{index}"]).max(axis=(1, 2))
  assert np.all(diff < 1e-4), diff


def test_official_mean_parity_and_designed_exon(official):
  data, predictions = official
  mean = np.mean([predictions[i] for i in sorted(predictions)], axis=0)
  assert np.abs(mean - data["y_mean"]).max() < 1e-4
  notes = json.loads(str(data["notes_json"]))
  offset = notes["output_offset"]
  exon = mean[notes["designed_index"]]
  acceptor = notes["acceptor_input_pos"] - offset
  donor = notes["donor_input_pos"] - offset
  assert (acceptor, donor) == (2448, 2567)
  assert exon[acceptor, 1] == pytest.approx(0.995, abs=1e-3)
  assert exon[donor, 2] == pytest.approx(0.997, abs=1e-3)
  assert np.argmax(exon[:, 1]) == acceptor and np.argmax(exon[:, 2]) == donor


def test_official_ensemble_module(official):
  data, _ = official
  # Output j needs input [j, j + 10000]: a window around the designed exon suffices.
  start, stop = 2400, 2600
  x = jnp.asarray(data["x"][2:4, start:stop + 10000], jnp.float32)
  with jax.default_matmul_precision("highest"):
    probs = jax.jit(spliceai.SpliceAIEnsemble().apply)(
        spliceai.load_official_weights(), x)
  assert probs.shape == (2, stop - start, 3)
  assert np.abs(probs - data["y_mean"][2:4, start:stop]).max() < 1e-4
  assert probs[0, 2448 - start, 1] == pytest.approx(0.995, abs=1e-3)


def test_official_files_convert_to_the_10k_preset(official):
  del official
  for path in spliceai.official_weight_paths():
    model, _ = spliceai.convert_keras_h5(path)
    assert model == spliceai.SpliceAI(**spliceai.PRESETS["10k"])
  with pytest.raises(ValueError, match="index must be 1 to 5"):
    spliceai.load_official_weights(0)
