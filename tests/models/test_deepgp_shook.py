"""DeepGP (Zingaretti et al. 2020) with its ridge baseline, Shook et al. (2021)'s
LSTM + temporal attention, and the ``phenotype`` task's loss and metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from genereg_jax import models
from genereg_jax import tasks
from genereg_jax.models import deepgp


def test_genotype_channels_one_hot_with_missing_as_zeros():
  x = deepgp.genotype_channels(jnp.array([[0.0, 1.0, 2.0, np.nan, -9.0]]))
  np.testing.assert_array_equal(x[0], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_deepgp_released_defaults():
  model = models.get_model("deepgp", "paper")
  out, variables = jax.eval_shape(
      lambda: model.init_with_output(jax.random.key(0), jnp.zeros((2, 300))))
  params = variables["params"]
  assert out.shape == (2, 1)
  assert params["conv_0"]["kernel"].shape == (3, 3, 8)  # ks 3, 3 genotype classes, 8 filters.
  # (300 - 2) // 3 = 99 pooled positions x 8 filters -> one dense layer of 8.
  assert jax.tree.leaves(params["hidden_0"])[1].shape == (99 * 8, 8)


def test_ridge_cv_recovers_an_additive_trait():
  rng = np.random.default_rng(0)
  x = rng.integers(0, 3, (240, 60)).astype(np.float32)
  beta = np.zeros(60)
  beta[:5] = 1.0
  y = x @ beta + rng.normal(size=240) * 0.5
  x[0, 0] = np.nan  # Missing -> the training mean.
  predict, lam, errors = deepgp.ridge_cv(x[:200], y[:200])
  assert len(errors) == 30 and lam > 0
  # h2 ~ 0.93 with 5 of 60 markers causal; 200 training individuals.
  assert np.corrcoef(predict(x[200:])[:, 0], y[200:])[0, 1] > 0.75


def test_shook_attention_over_days():
  model = models.get_model("shook", "tiny", dict(num_clusters=4, return_attention=True))
  weather = jax.random.normal(jax.random.key(1), (3, 12, 7))
  (out, weights), _ = jax.jit(model.init_with_output)(
      jax.random.key(0), weather, jnp.array([0, 1, 3]), jnp.array([1.0, 2.5, 4.0]))
  assert out.shape == (3, 1) and weights.shape == (3, 12)
  np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)


def test_phenotype_task_masks_missing_and_matches_scipy():
  task = tasks.get_task("phenotype", dict(truth_key="genetic_value", trait_names=("y",)))
  assert task.target_keys == ("phenotype", "genetic_value")
  outputs = jnp.array([[1.0], [2.0], [0.0]])
  batch = {"phenotype": jnp.array([[1.5], [np.nan], [1.0]])}
  loss, weight = task.loss(outputs, batch)
  assert float(weight) == 2 and float(loss) == pytest.approx((0.25 + 1.0) / 2)
  rng = np.random.default_rng(0)
  predicted, observed, truth = rng.normal(size=(3, 50, 1))
  metrics = task.new_metrics()
  for rows in (slice(0, 20), slice(20, 50)):
    metrics.update(predicted[rows], {"phenotype": observed[rows], "genetic_value": truth[rows]})
  result = metrics.compute()
  assert result["pearson"] == pytest.approx(scipy.stats.pearsonr(predicted[:, 0],
                                                                 observed[:, 0])[0])
  assert result["pearson_truth_y"] == pytest.approx(scipy.stats.pearsonr(predicted[:, 0],
                                                                         truth[:, 0])[0])
  sse = ((predicted - observed) ** 2).sum()
  assert result["r2"] == pytest.approx(1 - sse / ((observed - observed.mean()) ** 2).sum())
