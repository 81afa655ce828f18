"""NucleicNet: the shell convolution against its definition, the released layout's
parameter count, shells and 3-D grids, and jitted train steps that lower the loss."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genereg_jax.models import get_model
from genereg_jax.models import nucleicnet


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def test_shell_conv_mixes_a_shell_with_the_next_inner_one():
  x = np.random.default_rng(0).normal(size=(2, 6, 5)).astype(np.float32)
  conv = nucleicnet.ShellConv(features=3, kernel_size=2, spatial_dims=1)
  params = conv.init(jax.random.key(0), x)
  kernel = np.asarray(jax.tree.leaves(params)[0])  # [2 shells, 5 in, 3 out]
  # B1hw_ShellConv: Conv2d kernel (2, F) over zero-padded shells, last extra shell dropped.
  padded = np.concatenate([np.zeros((2, 1, 5), np.float32), x], axis=1)
  expected = np.einsum("bsf,fo->bso", padded[:, :-1], kernel[0]) + np.einsum(
      "bsf,fo->bso", padded[:, 1:], kernel[1])
  np.testing.assert_allclose(conv.apply(params, x), expected, rtol=1e-5, atol=1e-5)


def test_paper_preset_has_the_released_layout():
  model = get_model("nucleicnet", "paper")
  x = jnp.zeros((2, 6, 80))
  variables = jax.eval_shape(lambda: model.init(jax.random.key(0), x))
  # 16 pre-activation blocks (two 2x80x80 convs, two BN of 80), 16 bottlenecks
  # (80->40 1x1, 2x40x40, 2x40x80, two BN of 40), dense 480x480 and 480x7, no biases.
  expected = (16 * (2 * 2 * 80 * 80 + 2 * 2 * 80) + 16 * (80 * 40 + 2 * 40 * 40
              + 2 * 40 * 80 + 2 * 2 * 40) + 480 * 480 + 480 * 7)
  assert _count(variables["params"]) == expected == 855_840
  out = jax.eval_shape(lambda v: model.apply(v, x), variables)
  assert out.shape == (2, len(nucleicnet.CLASSES))


@pytest.mark.parametrize("preset,shape", [("tiny", (6, 12)), ("voxel", (5, 5, 5, 4))])
def test_forward_shapes_and_bad_input(preset, shape):
  model = get_model("nucleicnet", preset)
  x = jnp.asarray(np.random.default_rng(1).poisson(2.0, (3, *shape)), jnp.float32)
  variables = model.init(jax.random.key(0), x)
  logits = model.apply(variables, x)
  assert logits.shape == (3, 7) and np.isfinite(np.asarray(logits)).all()
  with pytest.raises(ValueError, match="spatial_dims"):
    model.apply(variables, x[..., 0])
  if preset == "voxel":  # The builder's batch key for cubes.
    np.testing.assert_array_equal(model.apply(variables, voxels=x), logits)
  with pytest.raises(ValueError, match="exactly one"):
    model.apply(variables, x, voxels=x)


def test_jitted_train_steps_lower_the_loss():
  rng = np.random.default_rng(2)
  x = rng.poisson(2.0, (32, 6, 12)).astype(np.float32)
  y = (x[:, 0, :7].argmax(-1)).astype(np.int32)  # Label = the densest property of shell 0.
  model = get_model("nucleicnet", "tiny")
  variables = model.init(jax.random.key(0), x)
  params, stats = variables["params"], variables["batch_stats"]
  tx = optax.adam(3e-3)

  @jax.jit
  def step(params, stats, opt_state):
    def loss_fn(p):
      logits, updates = model.apply({"params": p, "batch_stats": stats}, x, train=True,
                                    rngs={"dropout": jax.random.key(0)},
                                    mutable=["batch_stats"])
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), updates
    (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    changes, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, changes), updates["batch_stats"], opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for _ in range(8):
    params, stats, opt_state, loss = step(params, stats, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < 0.7 * losses[0]
