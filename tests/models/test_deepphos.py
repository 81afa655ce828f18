"""DeepPhos: the released geometry and parameter count, the centre-crop windows, the
frozen-able sub-trees and a jitted train step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.core import meta

import train_check
from genereg_jax import models
from genereg_jax.models import deepphos


def _windows(rng, batch, width=51, channels=21):
  x = np.zeros((batch, width, channels), np.float32)
  x[np.arange(batch)[:, None], np.arange(width), rng.integers(0, channels, (batch, width))] = 1
  return x


def test_paper_geometry_and_parameter_count():
  model = models.get_model("deepphos", "paper")
  x = jax.ShapeDtypeStruct((2, 51, 21), jnp.float32)
  params = jax.eval_shape(lambda x: meta.unbox(model.init(jax.random.key(0), x)), x)["params"]
  assert set(params) == set(deepphos.SUBTREES)
  for window, kernel in ((51, 13), (33, 7), (15, 3)):
    branch = params[f"branch_{window}"]
    assert branch["stem"]["kernel"].shape == (1, 21, 32)
    assert "bias" not in branch["stem"] and "bias" not in branch["dense_block"]["conv1"]
    # Intra-block concatenation: layer i reads 32 + 32 i channels.
    assert branch["dense_block"]["conv5"]["kernel"].shape == (kernel, 32 + 4 * 32, 32)
  # Inter-block concatenation along positions: (51 + 33 + 15) x 192 features.
  assert params["head"]["hidden"]["kernel"].shape == (99 * 192, 32)
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  dense_blocks = sum(k * 32 * 32 * (1 + 2 + 3 + 4 + 5) for k in (13, 7, 3))
  assert count == 3 * 21 * 32 + dense_blocks + 99 * 192 * 32 + 32 + 32 + 1
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  assert out.shape == (2, 1)


def test_windows_are_centre_crops():
  rng = np.random.default_rng(0)
  x = _windows(rng, 3)
  np.testing.assert_array_equal(deepphos.centre_crop(x, 15), x[:, 18:33])
  assert deepphos.centre_crop(x, 51) is not None
  with pytest.raises(ValueError, match="centred 32"):
    deepphos.centre_crop(x, 32)
  model = models.get_model("deepphos", "tiny")
  variables = meta.unbox(model.init(jax.random.key(0), x))
  # Residues outside the 33 window (positions 0-8 of 51) reach only the 51 branch: with
  # that branch zeroed, changing them leaves the output unchanged, changing the centre
  # does not.
  params = jax.tree.map(lambda a: a, variables["params"])
  flank, centre = x.copy(), x.copy()
  flank[:, :9] = 0
  centre[:, 25] = 0
  base = model.apply({"params": params}, x)
  params["branch_51"] = jax.tree.map(jnp.zeros_like, params["branch_51"])
  no51 = lambda v: model.apply({"params": params}, v)
  np.testing.assert_allclose(no51(flank), no51(x), atol=1e-6)
  assert np.abs(np.asarray(no51(centre) - no51(x))).max() > 1e-6
  assert np.abs(np.asarray(base - no51(x))).max() > 1e-6
  with pytest.raises(ValueError, match="51-residue windows"):
    model.init(jax.random.key(0), x[:, :33])


def test_jitted_train_step_lowers_loss():
  rng = np.random.default_rng(1)
  x = jnp.asarray(_windows(rng, 16))
  y = jnp.asarray(rng.integers(0, 2, (16, 1)).astype(np.float32))
  model = models.get_model("deepphos", "tiny")
  params = meta.unbox(model.init(jax.random.key(0), x))["params"]
  losses = train_check.jitted_losses(model, params, x, y, learning_rate=1e-2,
                                     dropout_seed=0, steps=20)
  assert losses[-1] < 0.8 * losses[0], losses
