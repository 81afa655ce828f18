"""DeeReCT-PolyA, Leung's pairwise model and DeeReCT-APA: published sizes, group
normalisation per example, padding invariance of the PAS sets, antisymmetric pairs, and
a jitted train step that lowers the loss."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.models import get_model
from genereg_jax.tasks import get_task


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _one_hot(rng, shape):
  return jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, shape)])


def test_deerect_polya_paper_size_and_group_norm_per_example():
  model = get_model("deerect_polya", "paper")
  rng = np.random.default_rng(0)
  x = _one_hot(rng, (3, 206))
  variables = model.init(jax.random.key(0), x)
  # conv 10x4x16 + 16 shifts + (21*16)x64+64 + 64+1, as the reference's variables.
  assert _count(variables["params"]) == 640 + 16 + 336 * 64 + 64 + 65
  out = model.apply(variables, x)
  assert out.shape == (3, 1)
  # Statistics are per example: a row's output does not depend on the rest of the batch.
  alone = model.apply(variables, x[:1])
  np.testing.assert_allclose(out[:1], alone, atol=1e-5)


def test_deerect_apa_padding_does_not_change_the_gene():
  model = get_model("deerect_apa", "tiny")
  rng = np.random.default_rng(1)
  x = _one_hot(rng, (1, 3, 455))
  padded = jnp.concatenate([x, _one_hot(rng, (1, 2, 455))], axis=1)
  variables = model.init(jax.random.key(0), padded, jnp.ones((1, 5)))
  short = model.apply(variables, x, jnp.ones((1, 3)))
  long = model.apply(variables, padded, jnp.array([[1, 1, 1, 0, 0]]))
  np.testing.assert_allclose(short, long[:, :3], atol=1e-5)
  assert (long[:, 3:] < -1e8).all()
  # The BiLSTM makes each site's logit depend on its competitors.
  other = model.apply(variables, x.at[:, 2].set(x[:, 0]), jnp.ones((1, 3)))
  assert abs(float(other[0, 0] - short[0, 0])) > 1e-6


def test_deerect_apa_without_lstm_scores_each_site_alone():
  model = get_model("deerect_apa", "tiny", dict(lstm_features=0))
  rng = np.random.default_rng(4)
  x = _one_hot(rng, (1, 3, 120))
  variables = model.init(jax.random.key(0), x, jnp.ones((1, 3)))
  assert "bilstm" not in variables["params"]
  logits = model.apply(variables, x, jnp.ones((1, 3)))
  other = model.apply(variables, x.at[:, 2].set(x[:, 0]), jnp.ones((1, 3)))
  np.testing.assert_allclose(logits[:, :2], other[:, :2], atol=1e-6)
  np.testing.assert_allclose(other[:, 2], logits[:, 0], atol=1e-5)


def test_deerect_apa_paper_size():
  model = get_model("deerect_apa", "paper")
  shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 2, 455, 4)),
                          jnp.ones((1, 2)))
  params = nn.unbox(shapes["params"])
  encoder = params["encoder"]
  # 455 -> conv 12 -> 444 -> pool 3 -> 148 -> conv 12 -> 137 -> pool 4 -> 34 x 40.
  assert encoder["hidden"]["Dense_0"]["kernel"].shape == (34 * 40, 200)
  assert params["output"]["kernel"].shape == (200, 1)


def test_leung_pairs_are_antisymmetric_up_to_the_bias():
  model = get_model("leung_pas", "tiny")
  rng = np.random.default_rng(2)
  pair = _one_hot(rng, (4, 2, 400))
  variables = model.init(jax.random.key(0), pair)
  forward = model.apply(variables, pair)
  backward = model.apply(variables, pair[:, ::-1])
  bias = variables["params"]["comparator_bias"]
  np.testing.assert_allclose(forward - bias, -(backward - bias), atol=1e-5)
  strength = model.apply(variables, pair[:, 0], method=model.strength)
  assert strength.shape == (4, 1)


def test_deerect_apa_train_step_lowers_the_loss():
  model = get_model("deerect_apa", "tiny", dict(dropout_rate=0.0))
  task = get_task("pas_usage")
  rng = np.random.default_rng(3)
  x = _one_hot(rng, (8, 4, 120))
  mask = jnp.asarray((np.arange(4)[None] < rng.integers(2, 5, (8, 1))).astype(np.float32))
  usage = jnp.asarray(rng.dirichlet(np.ones(4), 8).astype(np.float32)) * mask
  batch = {"usage": usage, "pas_mask": mask}
  params = model.init(jax.random.key(0), x, mask)["params"]
  tx = optax.adam(1e-2)
  opt = tx.init(params)

  @jax.jit
  def step(params, opt):
    loss, grads = jax.value_and_grad(
        lambda p: task.loss(model.apply({"params": p}, x, mask), batch)[0])(params)
    updates, opt = tx.update(grads, opt)
    return optax.apply_updates(params, updates), opt, loss

  losses = []
  for _ in range(30):
    params, opt, loss = step(params, opt)
    losses.append(float(loss))
  assert losses[-1] < 0.8 * losses[0], losses
