"""DeepGP (Zingaretti et al. 2020) with its ridge baseline, Shook et al. (2021)'s
LSTM + temporal attention, the ``phenotype`` task's loss and metrics, and that each
model learns its synthetic truth (genetic values; weather x genotype yield)."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

import train_check
from data_builders.genotypes import genotypes
from data_builders.weather_yield import weather_yield
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


def _fit_mse(model, inputs, y, *, steps):
  """Params after ``steps`` full-batch Adam steps (1e-2) on the squared error, and the losses."""
  params = flax.linen.meta.unbox(jax.jit(model.init)(train_check.key(), *inputs))["params"]

  def loss_fn(params, state, key):
    return ((model.apply({"params": params}, *inputs) - y) ** 2).mean(), state

  params, _, losses = train_check.fit(loss_fn, params, steps=steps, learning_rate=1e-2)
  return params, losses


def test_deepgp_learns_the_genetic_values():
  # 200 SNPs, 8 additive QTLs + 4 epistatic pairs (h2 0.4 + 0.3), 300 training
  # individuals. 40 steps: loss 1.03 -> 0.30, r with the true genetic value of 100
  # held-out individuals 0.57 (ridge 0.60; -0.05 with shuffled phenotypes). More steps
  # overfit.
  config = genotypes.GenotypesConfig(name="learning", num_snps=200, num_additive=8,
                                     num_epistatic=4, num_train=300, num_valid=0,
                                     num_test=100)
  x, genetic_value, phenotype = genotypes.simulate_population(config)
  y = (phenotype - phenotype[:300].mean()) / phenotype[:300].std()
  model = models.get_model("deepgp", "tiny")
  params, losses = _fit_mse(model, (x[:300],), y[:300, None].astype(np.float32), steps=40)
  r = np.corrcoef(model.apply({"params": params}, x[300:])[:, 0], genetic_value[300:])[0, 1]
  assert losses[-1] < 0.5 * losses[0] and r > 0.35, (losses[::10], r)


def test_shook_learns_the_weather_by_genotype_yield():
  # weather_yield's truth: heat and drought in each genotype's flowering window, its
  # sensitivity set by the cluster. 30 seasons of 90 days x 12 records; 100 steps on 24
  # seasons: loss 1.33 -> 0.05, r with the expected yield in the 6 unseen seasons 0.87
  # (shuffled yields: loss 1.08 -> 0.37, r -0.05).
  rng = np.random.default_rng(0)
  seasons, records, days, clusters = 30, 12, 90, 4
  cluster_effect = rng.normal(size=clusters) * 0.3
  sensitivity = rng.uniform(0.2, 2.0, clusters)
  weather, cluster, maturity, expected = [], [], [], []
  for _ in range(seasons):
    season = weather_yield.synthetic_weather(rng, days)
    weather.append(np.broadcast_to(season, (records, *season.shape)))
    cluster.append(rng.integers(0, clusters, records))
    maturity.append(np.round(rng.uniform(0.0, 5.0, records), 1))
    expected.append(weather_yield.expected_yield(season, cluster[-1], maturity[-1],
                                                 cluster_effect, sensitivity))
  weather, cluster, maturity, expected = map(np.concatenate,
                                             (weather, cluster, maturity, expected))
  weather = ((weather - weather.mean((0, 1))) / weather.std((0, 1))).astype(np.float32)
  observed = expected + rng.normal(size=len(expected)) * 0.3
  y = ((observed - observed.mean()) / observed.std()).astype(np.float32)[:, None]
  n = 24 * records
  model = models.get_model("shook", "tiny", dict(num_clusters=clusters))
  params, losses = _fit_mse(model, (weather[:n], cluster[:n], maturity[:n]), y[:n], steps=100)
  predicted = model.apply({"params": params}, weather[n:], cluster[n:], maturity[n:])
  r = np.corrcoef(predicted[:, 0], expected[n:])[0, 1]
  assert losses[-1] < 0.3 * losses[0] and r > 0.6, (losses[::25], r)


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
