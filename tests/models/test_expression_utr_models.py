"""Xpresso, DeepMEL, Cuperus et al.'s UTR CNN and APARENT: output shapes and the
parameter counts their authors' code gives (shapes by ``jax.eval_shape``; one small
forward pass each for the tiny presets)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax import models


def _count(tree):
  return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(tree))


def _abstract(name, preset, **inputs):
  model = models.get_model(name, preset)
  variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), **inputs))
  outputs = jax.eval_shape(lambda v: model.apply(v, **inputs), variables)
  return _count(variables["params"]), outputs


@pytest.mark.parametrize("preset", ["human", "mouse"])
def test_xpresso_matches_the_notebooks_summary(preset):
  # Xpresso.ipynb's model.summary(): 112,485 parameters on -7/+3.5 kb + 8 features.
  count, out = _abstract("xpresso", preset, promoter=jnp.zeros((2, 10500, 4)),
                         halflife=jnp.zeros((2, 8)))
  assert count == 112_485 and out.shape == (2, 1)


def test_aparent_and_deepmel_sizes():
  count, out = _abstract("aparent", "paper", sequence=jnp.zeros((2, 205, 4)),
                         library=jnp.zeros((2, 13)), distal_pas=jnp.zeros((2, 1)))
  # aparent_model_plasmid.py: 3,168 + 73,856 + 3,080,704 (12,032 + 1 -> 256)
  # + cleavage (256 + 13) x 206 + 206 + isoform 270.
  assert count == 3_213_618
  assert out["isoform"].shape == (2, 1) and out["cleavage"].shape == (2, 206)
  count, out = _abstract("deepmel", "paper", sequence=jnp.zeros((2, 500, 4)))
  assert 3.3e6 < count < 3.5e6 and out.shape == (2, 24)  # CREsted's DeepMEL1: 3.4 M.
  count, out = _abstract("cuperus_utr", "paper", sequence=jnp.zeros((2, 50, 4)))
  # 70 padded columns -> 58 after the 'valid' 13-wide convolution, 58 x 128 -> 64.
  assert out.shape == (2, 1) and count == (4 * 13 * 128 + 128 + 2 * (128 * 13 * 128 + 128)
                                           + 58 * 128 * 64 + 64 + 65)


def test_tiny_presets_run_and_aparent_starts_uniform():
  rng = np.random.default_rng(0)
  x = jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, 40))])
  model = models.get_model("aparent", "tiny")
  run = jax.jit(lambda x: model.apply(model.init(jax.random.PRNGKey(0), x), x))
  out = run(x)  # No library: zeros, as design feeds it.
  # Zero-initialised heads (the reference's): isoform 0.5, uniform cleavage.
  np.testing.assert_allclose(out["isoform"], 0.0)
  np.testing.assert_allclose(out["cleavage"], 0.0)
  assert out["cleavage"].shape == (3, 41)
  model = models.get_model("deepmel", "tiny", dict(kernel_size=6, pool_size=5))
  both = jnp.concatenate([x, x[:, ::-1, ::-1]])  # The sequences and their reverse complements.
  y = jax.jit(lambda x: model.apply(model.init(jax.random.PRNGKey(0), x), x))(both)
  assert y.shape == (6, 4) and np.isfinite(y).all()
  # Both strands feed the output, each through the same trunk: swapping the strands
  # changes the logits only through the output layer's two halves.
  assert not np.allclose(y[:3], y[3:])
