"""LoRA, DoRA and IA3 adapters (genereg_jax.nn.adapters) on a language model and on a CNN."""

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from genereg_jax import models
from genereg_jax.nn import adapters
from genereg_jax.train import optim

LM_LORA = dict(kind="lora", targets=("attention/(query|value)$",), rank=2, alpha=4.0)
LM_IA3 = dict(kind="ia3", targets=("attention/(key|value)$",), input_targets=("mlp_out$",))
CNN_LORA = dict(kind="lora", targets=("Conv_0$", "hidden_0/Dense_0$"), rank=2, alpha=2.0)
LM_DORA = dict(LM_LORA, kind="dora", targets=("attention/(query|output)$", "mlp_in$"))
CNN_DORA = dict(CNN_LORA, kind="dora")
#: The leaf-name prefixes each kind adds.
LEAVES = {"lora": ("lora_",), "dora": ("lora_", "dora_"), "ia3": ("ia3_",)}


def _lm():
  return models.get_model("language_heads", "dnabert_tiny",
                          dict(num_outputs=3, level="token", num_layers=1, hidden_size=16,
                               intermediate_size=32))


def _cnn():
  return models.get_model("basset", "tiny", dict(num_outputs=3))


def _dna(length, batch=2, seed=0):
  return jax.nn.one_hot(np.random.default_rng(seed).integers(0, 4, (batch, length)), 4)


def _perturbed(variables, seed=1):
  """Adapter leaves moved away from their identity initialisation."""
  rng = np.random.default_rng(seed)
  flat = flax.traverse_util.flatten_dict(nn.meta.unbox(flax.core.unfreeze(variables)))
  for key, value in flat.items():
    if adapters.is_adapter_path("/".join(key[1:])):
      flat[key] = value + rng.standard_normal(value.shape).astype(value.dtype)
  return flax.traverse_util.unflatten_dict(flat)


@pytest.mark.parametrize("make,spec,length", [(_lm, LM_LORA, 24), (_lm, LM_IA3, 24),
                                              (_cnn, CNN_LORA, 200), (_lm, LM_DORA, 24),
                                              (_cnn, CNN_DORA, 200)],
                         ids=["lm_lora", "lm_ia3", "cnn_lora", "lm_dora", "cnn_dora"])
def test_adapter_starts_at_base_and_merges_exactly(make, spec, length):
  base = make()
  adapted = adapters.Adapted(base, **spec)
  x = _dna(length)
  variables = nn.meta.unbox(jax.jit(lambda r: adapted.init(r, x))(jax.random.PRNGKey(0)))
  base_variables = adapters.merge(variables, alpha=spec.get("alpha"))
  # The base's own tree, with only adapter leaves added beside the kernels.
  base_shapes = jax.tree.map(jnp.shape, nn.meta.unbox(
      jax.eval_shape(lambda: base.init(jax.random.PRNGKey(0), x))))
  assert jax.tree.map(jnp.shape, base_variables) == base_shapes
  added = [k for k in flax.traverse_util.flatten_dict(variables["params"], sep="/")
           if adapters.is_adapter_path(k)]
  assert added and all(k.rsplit("/", 1)[-1].startswith(LEAVES[spec["kind"]]) for k in added)
  run_adapted, run_base = jax.jit(adapted.apply), jax.jit(base.apply)
  before = run_base(base_variables, x)
  np.testing.assert_allclose(run_adapted(variables, x), before, rtol=1e-6, atol=1e-6)
  moved = _perturbed(variables)
  out = run_adapted(moved, x)
  # Tolerances scale with the outputs (the random CNN's reach 1e4, where float32 sums of
  # opposite terms leave absolute errors of ~1e-2 in its smaller outputs).
  tolerance = 2e-5 * max(1.0, float(np.abs(out).max()))
  # The adapters act (40 times the merge tolerance) ...
  assert np.abs(out - before).max() > 40 * tolerance
  merged = adapted.merge(moved)  # ... and fold into the kernels exactly.
  np.testing.assert_allclose(run_base(merged, x), out, rtol=0, atol=tolerance)


def test_only_adapter_and_head_parameters_train():
  adapted = adapters.Adapted(_lm(), **LM_LORA)
  x = _dna(24)
  params = nn.meta.unbox(jax.jit(adapted.init)(jax.random.PRNGKey(0), x))["params"]
  config = ml_collections.ConfigDict(dict(name="adam", learning_rate=1e-2))
  tx, _ = optim.make_optimizer(config, 10, trainable=(adapters.TRAINABLE, "^classifier/"))
  state = tx.init(params)
  flat = flax.traverse_util.flatten_dict(params, sep="/")
  trained = {k for k in flat if adapters.is_adapter_path(k) or k.startswith("classifier/")}
  state_size = sum(np.size(v) for v in jax.tree.leaves(state) if np.ndim(v))
  trained_size = sum(flat[k].size for k in trained)
  assert state_size == 2 * trained_size  # Adam's two moments, for these leaves only.
  assert trained_size < 0.1 * sum(v.size for v in flat.values())

  def loss(p):
    return jnp.sum(adapted.apply({"params": p}, x) ** 2)

  grads = jax.jit(jax.grad(loss))(params)
  updates, _ = tx.update(grads, state, params)
  changed = {k for k, v in flax.traverse_util.flatten_dict(updates, sep="/").items()
             if np.abs(v).max() > 0}
  # B starts at zero, so only B (not A) and the head move at the first step.
  assert changed and changed <= trained
  assert any(k.endswith("lora_b") for k in changed)
  assert "classifier/kernel" in changed


def test_unmatched_targets_and_bad_kind_are_errors():
  x = _dna(24)
  with pytest.raises(ValueError, match="no Dense/Conv layer"):
    jax.eval_shape(adapters.Adapted(_lm(), kind="lora", targets=("nothing_here",)).init,
                   jax.random.PRNGKey(0), x)
  with pytest.raises(ValueError, match="unknown adapter kind"):
    jax.eval_shape(adapters.Adapted(_lm(), kind="prefix", targets=("query",)).init,
                   jax.random.PRNGKey(0), x)
