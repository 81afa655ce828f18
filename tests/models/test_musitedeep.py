"""MusiteDeep: released parameter counts, the CNN's attention against NumPy, capsule
lengths, and the ensemble learning on a planted motif through the ptm_sites task."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax.linen import meta

from genereg_jax import tasks
from genereg_jax.models import get_model


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _windows(rng, n, length=33):
  return np.eye(21, dtype=np.float32)[rng.integers(0, 21, (n, length))]


@pytest.mark.parametrize("name, expected", [
    # Keras code (multiCNN_callback.py), 33 x 21 input: conv 21·200+200, 9·200·150+150,
    # 10·150·200+200; attention 200·10+10+10+1 and 33·8+8+8+1; dense 233·149+149,
    # 149·8+8, 8·2+2.
    ("musitedeep.MusiteDeepCNN", 613_136),
    # capsulenet_callback.py: conv 21·200+200, 9·200·200+200; primary caps
    # 20·200·480+480; class capsules W [2, 360, 10, 8] (no bias).
    ("musitedeep.MusiteDeepCapsNet", 2_342_680),
    ("musitedeep", 613_136 + 2_342_680),
])
def test_released_parameter_counts(name, expected):
  model = get_model(name, "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 33, 21))))
  assert _count(meta.unbox(variables)) == expected


def test_cnn_attention_branches_match_numpy():
  model = get_model("musitedeep.MusiteDeepCNN", "tiny", {"num_outputs": 2})
  x = _windows(np.random.default_rng(0), 3)
  variables = meta.unbox(model.init(jax.random.key(0), x))
  logits, state = model.apply(variables, x, mutable=["intermediates"])
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), variables["params"])

  def conv_same(h, layer):
    kernel, bias = layer["kernel"], layer["bias"]
    width = kernel.shape[0]
    padded = np.pad(h, ((0, 0), ((width - 1) // 2, width // 2), (0, 0)))
    return np.stack([np.einsum("bwc,wco->bo", padded[:, i:i + width], kernel)
                     for i in range(h.shape[1])], axis=1) + bias

  def attention(h, layer):
    energy = (h @ layer["hidden"]["kernel"] + layer["hidden"]["bias"]) @ layer["score"]["kernel"]
    energy = energy[..., 0] + layer["score"]["bias"]
    weights = np.exp(energy - energy.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    return np.einsum("br,brf->bf", weights, h), weights

  h = x.astype(np.float64)
  for name in ("conv1", "conv2", "conv3"):
    h = np.maximum(conv_same(h, p[name]), 0)
  pooled_positions, weights = attention(h, p["position_attention"])
  # Keras Reshape((filters, positions)): row-major reinterpretation, not a transpose.
  pooled_rows, _ = attention(h.reshape(3, h.shape[2], h.shape[1]), p["filter_attention"])
  z = np.concatenate([pooled_positions, pooled_rows], -1)
  z = np.maximum(z @ p["dense1"]["kernel"] + p["dense1"]["bias"], 0)
  z = np.maximum(z @ p["dense2"]["kernel"] + p["dense2"]["bias"], 0)
  z = (z @ p["output"]["kernel"] + p["output"]["bias"]).reshape(3, 2, 2)
  np.testing.assert_allclose(logits, z[..., 1] - z[..., 0], rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(state["intermediates"]["position_attention"]["attention"][0],
                             weights, rtol=1e-4, atol=1e-6)


def test_capsule_network_shapes_and_lengths():
  model = get_model("musitedeep.MusiteDeepCapsNet", "paper", {"num_outputs": 13})
  x = jnp.asarray(_windows(np.random.default_rng(1), 2))
  variables = model.init(jax.random.key(0), x)
  assert meta.unbox(variables)["params"]["class_capsules"]["weights"].shape == (360, 26, 10, 8)
  lengths = np.asarray(model.apply(variables, x))
  assert lengths.shape == (2, 13, 2)
  assert ((lengths > 0) & (lengths < 1)).all()


def test_ensemble_learns_a_planted_motif_with_each_member_on_its_own_loss():
  # Positives carry R-R-x-S at the centre (PKA); negatives are random with S at the centre.
  rng = np.random.default_rng(2)
  letters = rng.integers(0, 21, (256, 33))
  letters[:, 16] = 15  # S
  labels = (rng.random(256) < 0.5).astype(np.float32)
  letters[labels > 0, 13] = letters[labels > 0, 14] = 14  # R R x S
  batch = {"sequence": np.eye(21, dtype=np.float32)[letters], "label": labels[:, None],
           "label_mask": np.ones((256, 1), np.float32)}
  model = get_model("musitedeep", "tiny", {"cnn_dropouts": (0.1,) * 4, "caps_dropouts": (0.1,) * 2})
  task = tasks.get_task("ptm_sites")
  params = meta.unbox(model.init(jax.random.key(0), batch["sequence"][:2]))["params"]
  tx = optax.adam(3e-3)

  @jax.jit
  def step(params, opt_state, key):
    def loss_fn(p):
      out = model.apply({"params": p}, batch["sequence"], train=True, rngs={"dropout": key})
      return task.loss(out, batch)[0], out
    (loss, out), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for i in range(60):
    params, opt_state, loss = step(params, opt_state, jax.random.key(i))
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < 0.5 * losses[0]
  outputs = model.apply({"params": params}, batch["sequence"])
  metrics = task.new_metrics()
  metrics.update(np.asarray(task.predictions(outputs)), batch)
  assert metrics.compute()["auroc"] > 0.95
  for member, loss in (("cnn", "bce"), ("capsule", "margin")):
    single = tasks.get_task("ptm_sites", dict(loss=loss))
    member_metrics = single.new_metrics()
    member_metrics.update(np.asarray(single.predictions(outputs[member])), batch)
    assert member_metrics.compute()["auroc"] > 0.9, member


def test_reconstruction_decoder_option_feeds_the_task():
  model = get_model("musitedeep", "tiny", {"reconstruction": True, "num_outputs": 2})
  x = jnp.asarray(_windows(np.random.default_rng(3), 4))
  variables = meta.unbox(model.init(jax.random.key(0), x))
  # Sabour et al.'s decoder sizes on the 2 types x 2 capsules x 6 values.
  assert variables["params"]["capsule"]["decoder"]["hidden_0"]["kernel"].shape == (24, 512)
  outputs = model.apply(variables, x)
  assert set(outputs) == {"cnn", "capsule", "reconstruction"}
  assert outputs["reconstruction"].shape == (4, 33, 21)
  batch = {"sequence": x, "label": np.ones((4, 2), np.float32),
           "label_mask": np.ones((4, 2), np.float32)}
  with_decoder, _ = tasks.get_task("ptm_sites", dict(reconstruction_weight=1.0)).loss(
      outputs, batch)
  without, _ = tasks.get_task("ptm_sites").loss(
      {k: outputs[k] for k in ("cnn", "capsule")}, batch)
  assert float(with_decoder) > float(without) + 1.0  # ~0.25 x 693 values, weight 1.
