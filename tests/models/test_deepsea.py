"""DeepSEA: published size, tiny preset shapes, a jitted train step."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.linen import meta

from genereg_jax.models import get_model

import train_check


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_paper_size_parameter_count():
  model = get_model("deepsea", "paper")
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 1000, 4))))
  # 4·320·8+320 + 320·480·8+480 + 480·960·8+960 + 53·960·925+925 + 925·919+919.
  assert _count(meta.unbox(variables)) == 52_843_119
  out = jax.eval_shape(lambda v: model.apply(v, jnp.zeros((2, 1000, 4))), variables)
  assert out.shape == (2, 919)


def test_tiny_forward_and_jitted_train_step():
  model = get_model("deepsea", "tiny")
  x = jax.random.bernoulli(jax.random.key(1), 0.25, (4, 200, 4)).astype(jnp.float32)
  y = jnp.ones((4, 12))
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  chex.assert_shape(model.apply({"params": params}, x), (4, 12))
  losses = train_check.jitted_losses(model, params, x, y, learning_rate=1e-2,
                                     dropout_seed=2)
  assert losses[-1] < losses[0]


def test_unknown_model_preset_and_field_errors():
  with pytest.raises(ValueError, match="deepsea"):
    get_model("deepsee")
  with pytest.raises(ValueError, match="presets"):
    get_model("deepsea", "huge")
  with pytest.raises(ValueError, match="num_outputs"):
    get_model("deepsea", None, {"num_output": 3})


def test_first_conv_bias_sets_only_the_first_convolution():
  model = get_model("deepsea", "tiny", {"first_conv_bias": -1.0})
  params = meta.unbox(model.init(jax.random.key(0), jnp.zeros((1, 200, 4))))["params"]
  tower = params["tower"]
  np.testing.assert_array_equal(tower["ConvBlock_0"]["Conv_0"]["bias"], -1.0)
  for block in ("ConvBlock_1", "ConvBlock_2"):
    np.testing.assert_array_equal(tower[block]["Conv_0"]["bias"], 0.0)
