"""Tests for Pangolin (Zeng & Li, Genome Biology 2022): geometry, the released network's
parameter count, heads on SpliceAI's trunk, and a jitted training step that learns."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax import models
from genereg_jax.models import pangolin
from genereg_jax.models import spliceai

# tkzeng/Pangolin, pangolin/model.py: L, and W / AR per residual unit.
OFFICIAL_L = 32
OFFICIAL_W = np.array([11] * 8 + [21] * 4 + [41] * 4)
OFFICIAL_AR = np.array([1] * 4 + [4] * 4 + [10] * 4 + [25] * 4)


def _official_counts():
  """(trainable parameters, BatchNorm running statistics) of the PyTorch network."""
  conv = lambda c_in, c_out, width: c_in * c_out * width + c_out
  trainable = conv(4, OFFICIAL_L, 1) + conv(OFFICIAL_L, OFFICIAL_L, 1)  # conv1, skip
  for width in OFFICIAL_W:  # ResBlock: bn1, conv1, bn2, conv2.
    trainable += 2 * (2 * OFFICIAL_L) + 2 * conv(OFFICIAL_L, OFFICIAL_L, width)
  trainable += (len(OFFICIAL_W) // 4) * conv(OFFICIAL_L, OFFICIAL_L, 1)  # skip convs
  trainable += 4 * (conv(OFFICIAL_L, 2, 1) + conv(OFFICIAL_L, 1, 1))  # conv_last1..8
  running = len(OFFICIAL_W) * 2 * (2 * OFFICIAL_L)  # running_mean, running_var
  return trainable, running


def _abstract(model, length, batch=2):
  x = jax.ShapeDtypeStruct((batch, length, 4), jnp.float32)
  variables = jax.eval_shape(model.init, jax.random.key(0), x)
  return nn.meta.unbox(variables), jax.eval_shape(model.apply, variables, x)


@pytest.mark.parametrize("preset,context", [("paper", 10_000), ("tiny", 80)])
@pytest.mark.parametrize("extra", [0, 1, 17])
def test_outputs_for_any_length_from_the_context(preset, context, extra):
  model = pangolin.Pangolin(**pangolin.PRESETS[preset])
  assert model.context == context and model.receptive_field == context + 1
  _, out = _abstract(model, context + extra)
  assert set(out) == {"splice", "usage"}
  assert out["splice"].shape == (2, extra, 4, 2) and out["usage"].shape == (2, extra, 4)
  assert out["splice"].dtype == out["usage"].dtype == jnp.float32
  assert model.output_length(context + extra) == extra


def test_paper_preset_is_the_released_network():
  model = pangolin.Pangolin(**pangolin.PRESETS["paper"])
  # The released training inputs: 15,000 nt in, 5,000 positions out.
  assert model.context == 2 * int(np.sum(OFFICIAL_AR * (OFFICIAL_W - 1))) == 10_000
  variables, out = _abstract(model, 15_000, batch=1)
  assert out["usage"].shape == (1, 5_000, 4)
  trainable, running = _official_counts()
  count = lambda tree: sum(leaf.size for leaf in jax.tree.leaves(tree))
  assert count(variables["params"]) == trainable == 697_036
  assert count(variables["batch_stats"]) == running == 2_048
  # Same trunk as SpliceAI-10k (698,787 values with its 3-class head of 99).
  assert trainable + running - 4 * (2 * 33 + 33) + 99 == 698_787


def test_trunk_parameters_are_spliceai_10ks():
  model = pangolin.Pangolin(**pangolin.PRESETS["paper"])
  variables, _ = _abstract(model, 10_001, batch=1)
  reference, _ = _abstract(spliceai.SpliceAI(**spliceai.PRESETS["10k"]), 10_001, batch=1)
  heads = {f"{kind}_{tissue}" for kind in ("splice", "usage") for tissue in pangolin.TISSUES}
  assert set(variables["params"]) - set(reference["params"]) == heads
  assert set(reference["params"]) - set(variables["params"]) == {"head"}
  trunk = {k: v for k, v in variables["params"].items() if k not in heads}
  reference_trunk = {k: v for k, v in reference["params"].items() if k != "head"}
  assert jax.tree.map(jnp.shape, trunk) == jax.tree.map(jnp.shape, reference_trunk)


def test_registry_and_heads():
  model = models.get_model("pangolin", "tiny", {"tissues": ("brain", "liver")})
  assert isinstance(model, pangolin.Pangolin) and model.context == 80
  rng = np.random.default_rng(0)
  x = jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 100))])
  variables = nn.meta.unbox(model.init(jax.random.key(1), x))
  # BatchNorm as PyTorch's defaults, which the released model was trained with.
  assert model.bn_epsilon == 1e-5 and model.bn_momentum == 0.9
  probs = model.apply(variables, x)
  logits = model.clone(output="logits").apply(variables, x)
  assert probs["splice"].shape == (3, 20, 2, 2) and probs["usage"].shape == (3, 20, 2)
  np.testing.assert_allclose(probs["splice"], jax.nn.softmax(logits["splice"]), atol=1e-6)
  np.testing.assert_allclose(probs["usage"], jax.nn.sigmoid(logits["usage"]), atol=1e-6)
  np.testing.assert_allclose(probs["splice"].sum(-1), 1.0, atol=1e-6)
  # Heads land on their tissue's index: silence liver's usage head, force brain's site.
  params = jax.tree.map(lambda v: v, variables["params"])
  params["usage_liver"] = jax.tree.map(jnp.zeros_like, params["usage_liver"])
  params["splice_brain"] = {"kernel": jnp.zeros_like(params["splice_brain"]["kernel"]),
                            "bias": jnp.array([0.0, 30.0])}
  edited = model.clone(output="logits").apply({**variables, "params": params}, x)
  np.testing.assert_array_equal(edited["usage"][..., 1], 0.0)
  np.testing.assert_array_equal(edited["usage"][..., 0], logits["usage"][..., 0])
  np.testing.assert_allclose(jax.nn.softmax(edited["splice"][..., 0, :])[..., 1], 1.0)
  np.testing.assert_array_equal(edited["splice"][..., 1, :], logits["splice"][..., 1, :])


def test_bad_settings_and_short_inputs_raise():
  model = pangolin.Pangolin(**pangolin.PRESETS["tiny"])
  with pytest.raises(ValueError, match="Pangolin with 80 nt of context needs inputs of"):
    model.init(jax.random.key(0), jnp.zeros((1, 79, 4)))
  with pytest.raises(ValueError, match='"probs" or "logits"'):
    model.clone(output="softmax").init(jax.random.key(0), jnp.zeros((1, 80, 4)))
  with pytest.raises(ValueError, match="at least one tissue"):
    model.clone(tissues=()).init(jax.random.key(0), jnp.zeros((1, 80, 4)))


def test_jitted_steps_fit_site_and_usage_targets():
  """Adam steps on a fixed batch drive the splice_usage loss down."""
  from genereg_jax.tasks import get_task
  model = pangolin.Pangolin(**pangolin.PRESETS["tiny"], output="logits")
  task = get_task("splice_usage", {"tissues": pangolin.TISSUES})
  rng = np.random.default_rng(0)
  x = jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, (4, 180))])
  usage = np.where(rng.random((4, 100, 4)) < 0.05, rng.uniform(0.2, 1, (4, 100, 4)), 0.0)
  usage[0, 90:] = -1.0  # Unknown.
  batch = {"usage": jnp.asarray(usage, jnp.float32)}
  variables = nn.meta.unbox(model.init(jax.random.key(0), x))
  tx = optax.adam(1e-2)

  def loss_fn(params, batch_stats):
    outputs, updates = model.apply({"params": params, "batch_stats": batch_stats}, x,
                                   train=True, mutable=["batch_stats"])
    return task.loss(outputs, batch)[0], updates["batch_stats"]

  @jax.jit
  def step(params, batch_stats, opt_state):
    (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, batch_stats)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), batch_stats, opt_state, loss

  params, batch_stats = variables["params"], variables["batch_stats"]
  opt_state = tx.init(params)
  losses = []
  for _ in range(30):
    params, batch_stats, opt_state, loss = step(params, batch_stats, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all()
  assert losses[-1] < 0.5 * losses[0], losses
