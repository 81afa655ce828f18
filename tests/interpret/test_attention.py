"""Enformer attention maps: the sown weights are each block's softmax over keys."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import interpret
from genereg_jax.interpret.attention import pool_attention
from interpret_models import onehot
from interpret_models import random_variables
from genereg_jax.models import enformer
from genereg_jax.nn import attention


def test_maps_are_each_blocks_attention_softmax():
  model = enformer.enformer("tiny")
  x = onehot(np.random.default_rng(0), 2, 128)
  variables = random_variables(model, x)
  maps = interpret.attention_maps(model, variables, x)
  bins = 128 // model.output_stride
  assert maps.shape == (2, model.depth, model.heads, bins, bins)
  np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)

  # Block 0's weights recomputed from its input: softmax of the content and
  # relative-position logits.
  _, state = jax.jit(lambda v, x: model.apply(v, x, mutable=["intermediates"]))(
      variables, x)
  tower = state["intermediates"]["conv_tower_out"][0]
  block = variables["params"]["transformer_0"]
  normed = jax.nn.standardize(tower, axis=-1, epsilon=1e-5)
  normed = normed * block["attention_norm"]["scale"] + block["attention_norm"]["bias"]
  mha = attention.RelativeMultiHeadAttention(
      num_heads=model.heads, key_size=model.attn_dim_key)
  _, sown = mha.apply({"params": block["attention"]}, normed,
                      mutable=["attention_weights"])
  np.testing.assert_allclose(maps[:, 0], sown["attention_weights"]["weights"][0],
                             atol=1e-5)
  p = block["attention"]
  q = jnp.einsum("blc,chd->blhd", normed, p["query"]["kernel"]) * model.attn_dim_key**-0.5
  k = jnp.einsum("blc,chd->blhd", normed, p["key"]["kernel"])
  content = jnp.einsum("bihd,bjhd->bhij", q + p["content_bias"], k)
  # The relative-position term matters: the content term alone is another map.
  assert np.abs(jax.nn.softmax(content, -1) - maps[:, 0]).max() > 1e-3

  pooled = pool_attention(maps, 2)
  assert pooled.shape == (2, model.depth, model.heads, bins // 2, bins // 2)
  np.testing.assert_allclose(pooled.sum(-1), 1.0, atol=1e-5)
  np.testing.assert_allclose(pooled[..., 0, 0], maps[..., :2, :2].sum(-1).mean(-1),
                             atol=1e-6)
  with pytest.raises(ValueError, match="does not divide"):
    pool_attention(maps, 3)
