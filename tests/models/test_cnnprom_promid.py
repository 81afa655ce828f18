"""CNNProm and DeeReCT-PromID: window sizes, parameter counts of the paper presets (from
their layer sizes), the position-keeping branch, and a jitted train step that lowers the
loss."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.models import get_model
from tests.models.train_check import jitted_losses


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _one_hot(rng, shape):
  return jnp.asarray(np.eye(4, dtype=np.float32)[rng.integers(0, 4, shape)])


@pytest.mark.parametrize("preset, length, expected", [
    # conv 21x4x200+200; (251-20)//4 = 57 positions x 200 -> 128; 128 -> 1.
    ("eukaryote", 251, 21 * 4 * 200 + 200 + 57 * 200 * 128 + 128 + 129),
    # conv 21x4x200+200; (81-20)//2 = 30 positions x 200 -> 128; 128 -> 1.
    ("prokaryote", 81, 21 * 4 * 200 + 200 + 30 * 200 * 128 + 128 + 129),
    # + conv 11x200x100+100 on 57 positions: (57-10)//2 = 23 x 100 -> 128.
    ("eukaryote_two_layer", 251,
     21 * 4 * 200 + 200 + 11 * 200 * 100 + 100 + 23 * 100 * 128 + 128 + 129),
])
def test_cnnprom_paper_sizes(preset, length, expected):
  model = get_model("cnnprom", preset)
  x = jnp.zeros((2, length, 4))
  shapes = jax.eval_shape(model.init, jax.random.key(0), x)
  assert _count(shapes["params"]) == expected
  assert jax.eval_shape(model.apply, shapes, x).shape == (2, 1)


def test_promid_paper_size_and_two_branches():
  model = get_model("promid", "paper")
  x = jnp.zeros((2, 600, 4))
  shapes = jax.eval_shape(model.init, jax.random.key(0), x)
  # Pooled: 21x4x200+200, (600-20)//4 = 145 x 200; plain: 5x4x16+16, 596 x 16; -> 128 -> 1.
  assert _count(shapes["params"]) == (21 * 4 * 200 + 200 + 5 * 4 * 16 + 16
                                      + (145 * 200 + 596 * 16) * 128 + 128 + 129)
  assert set(shapes["params"]) == {"pooled_conv", "plain_conv", "hidden", "output"}


def test_promid_unpooled_branch_keeps_the_motif_position():
  # With the pooled branch zeroed, only the position-keeping branch is left: the same
  # motif one base further along (on an all-N window) changes the output.
  model = get_model("promid", "tiny")
  motif = np.eye(4, dtype=np.float32)[[3, 0, 3, 0, 0]]  # TATAA
  at = lambda i: jnp.zeros((1, 600, 4)).at[0, i:i + 5].set(motif)
  variables = model.init(jax.random.key(1), at(300))
  params = dict(variables["params"])
  params["pooled_conv"] = jax.tree.map(jnp.zeros_like, params["pooled_conv"])
  a = model.apply({"params": params}, at(300))
  b = model.apply({"params": params}, at(301))
  assert abs(float(a[0, 0] - b[0, 0])) > 1e-6


@pytest.mark.parametrize("name, length", [("cnnprom", 81), ("promid", 600)])
def test_tiny_train_step_lowers_the_loss(name, length):
  model = get_model(name, "tiny")
  rng = np.random.default_rng(2)
  x = _one_hot(rng, (16, length))
  y = jnp.asarray(rng.integers(0, 2, (16, 1)).astype(np.float32))
  params = model.init(jax.random.key(0), x)["params"]
  losses = jitted_losses(model, params, x, y, learning_rate=1e-2, dropout_seed=3)
  assert losses[-1] < losses[0]


def test_promoter_metrics_match_scikit_learn():
  from sklearn import metrics as sk
  from genereg_jax.tasks import get_task
  rng = np.random.default_rng(5)
  labels = rng.integers(0, 2, 200)
  scores = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
  task = get_task("promoter_classification")
  accumulator = task.new_metrics()
  accumulator.update(scores[:, None], {"label": labels})
  results = accumulator.compute()
  called = scores > 0.5
  assert np.isclose(results["mcc"], sk.matthews_corrcoef(labels, called))
  assert np.isclose(results["sn"], sk.recall_score(labels, called))
  assert np.isclose(results["sp"], sk.recall_score(1 - labels, ~called))
  assert np.isclose(results["auroc"], sk.roc_auc_score(labels, scores))
