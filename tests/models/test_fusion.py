"""Multi-omics fusion (`genereg_jax.models.fusion`): early, late and joint-autoencoder
modes, single-block baselines, a registered trunk as encoder, the ``omics_label`` loss,
and that only a model combining the blocks learns a cross-block XOR."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax import models
from genereg_jax import tasks

import train_check

BLOCKS = dict(expression=jnp.ones((3, 12)), methylation=jnp.ones((3, 6)), cnv=jnp.ones((3, 9)))


def _shapes(**fields):
  model = models.get_model("fusion", "tiny", fields)
  return jax.eval_shape(lambda: model.init_with_output(jax.random.key(0), **BLOCKS)[0])


@pytest.mark.parametrize("fields", [dict(mode="early"), dict(mode="late"),
                                    dict(mode="late", late_combine="mean"),
                                    dict(mode="early", blocks_used=("cnv",)),
                                    dict(mode="late", encoder="deepgp", encoder_preset="tiny")])
def test_modes_give_logits(fields):
  assert _shapes(**fields).shape == (3, 1)


def test_autoencoder_returns_reconstruction_and_the_task_adds_it():
  out = _shapes(mode="autoencoder")
  assert out["logits"].shape == (3, 1) and out["reconstruction_error"].shape == (3,)
  task = tasks.get_task("omics_label", dict(reconstruction_weight=2.0))
  batch = {"label": jnp.array([[1], [0], [-1]])}
  outputs = {"logits": jnp.zeros((3, 1)), "reconstruction_error": jnp.array([1.0, 2.0, 3.0])}
  loss, weight = task.loss(outputs, batch)
  assert float(weight) == 2  # The missing label is masked.
  np.testing.assert_allclose(float(loss), np.log(2) + 2.0 * 2.0, rtol=1e-6)
  np.testing.assert_allclose(task.predictions(outputs), 0.5)


def test_unknown_block_or_mode_is_an_error():
  with pytest.raises(ValueError, match="blocks_used"):
    _shapes(blocks_used=("proteome",))
  with pytest.raises(ValueError, match="mode"):
    _shapes(mode="middle")


def _fit(model, blocks, y, steps=150):
  """The last training loss after ``steps`` full-batch Adam steps (3e-2)."""
  params = model.init(jax.random.key(0), **blocks)["params"]

  def loss_fn(params, state, key):
    logits = model.apply({"params": params}, **blocks)
    return optax.sigmoid_binary_cross_entropy(logits, y).mean(), state

  return train_check.fit(loss_fn, params, steps=steps, learning_rate=3e-2)[2][-1]


def test_only_fusion_learns_a_cross_block_xor():
  rng = np.random.default_rng(0)
  u, v = rng.normal(size=(2, 256))
  blocks = dict(expression=jnp.asarray(u[:, None], jnp.float32),
                methylation=jnp.asarray(v[:, None], jnp.float32))
  y = jnp.asarray(((u > 0) ^ (v > 0))[:, None], jnp.float32)
  names = ("expression", "methylation")
  fused = _fit(models.get_model("fusion", None, dict(block_names=names, hidden=(16,))), blocks, y)
  single = _fit(models.get_model("fusion", None, dict(block_names=names, hidden=(16,),
                                                      blocks_used=("expression",))), blocks, y)
  assert fused < 0.35 and single > 0.6, (fused, single)  # log 2 = 0.69 is chance.
