"""SCALE (published sizes, elbo_SCALE's KL, the KL warm-up, the ELBO task, clusters
learnt from planted cell types) and CNNC (published sizes, shapes, the multiclass task
against scikit-learn, interaction classes learnt from planted regulator-target pairs)."""

import math

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn import metrics as sk

import train_check
from data_builders.synthetic_singlecell import synthetic_singlecell
from genereg_jax.data import singlecell
from genereg_jax.models import get_model
from genereg_jax.tasks import get_task


def _init(model, x, **kwargs):
  return flax.linen.meta.unbox(jax.jit(lambda x: model.init(
      {"params": jax.random.key(0), "dropout": jax.random.key(1)}, x, **kwargs))(x))


def _num_params(model, shape):
  variables = jax.eval_shape(lambda: model.init(
      {"params": jax.random.key(0), "dropout": jax.random.key(1)}, jnp.zeros(shape)))
  return sum(x.size for x in jax.tree.leaves(flax.linen.meta.unbox(variables["params"])))


def test_scale_paper_size():
  # SCALE.py defaults: encoder [P, 1024, 128], latent 10 (mu and log-variance), decoder
  # [] (one linear layer back to P), and K means, variances and weights.
  for peaks, k in ((6000, 6), (500, 30)):
    expected = (peaks * 1024 + 1024 + 1024 * 128 + 128 + 2 * (128 * 10 + 10)
                + 10 * peaks + peaks + k * (1 + 2 * 10))
    model = get_model("scale", "paper", dict(num_peaks=peaks, num_clusters=k))
    assert _num_params(model, (1, peaks)) == expected


def _reference_kl(mu, logvar, gamma, mu_c, var_c, pi):
  """scale/loss.py elbo_SCALE's kld per cell, in NumPy ([cells, d], [K, d], [K])."""
  logpzc = -0.5 * np.sum(gamma * np.sum(
      math.log(2 * math.pi) + np.log(var_c)[None] + np.exp(logvar)[:, None] / var_c[None]
      + (mu[:, None] - mu_c[None]) ** 2 / var_c[None], axis=2), axis=1)
  logpc = np.sum(gamma * np.log(pi), axis=1)
  qentropy = -0.5 * np.sum(1 + logvar + math.log(2 * math.pi), axis=1)
  logqcx = np.sum(gamma * np.log(gamma), axis=1)
  return -logpzc - logpc + qentropy + logqcx


def test_scale_kl_is_elbo_scale_and_the_warmup_counts_train_steps():
  model = get_model("scale", "tiny", dict(num_peaks=40, warmup_steps=4))
  x = (np.random.default_rng(0).random((5, 40)) < 0.3).astype(np.float32)
  variables = _init(model, x)
  apply = jax.jit(lambda v, x: model.apply(v, x, capture_intermediates=True,
                                           mutable=["intermediates"]))
  out, state = apply(variables, x)
  inner = state["intermediates"]
  mu, logvar = inner["z_mean"]["__call__"][0], inner["z_log_var"]["__call__"][0]
  p = variables["params"]
  expected = _reference_kl(np.asarray(mu), np.asarray(logvar),
                           np.asarray(out["cluster_probabilities"]), np.asarray(p["mu_c"]),
                           np.exp(np.asarray(p["log_var_c"])),
                           np.asarray(jax.nn.softmax(p["pi_logits"])))
  np.testing.assert_allclose(out["kl"], expected, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(out["kl_weight"], 1.0)  # Evaluation: the whole ELBO.
  train = jax.jit(lambda v, x: model.apply(v, x, train=True, mutable=["batch_stats"],
                                           rngs={"dropout": jax.random.key(2)}))
  weights = []
  for _ in range(5):
    out, updates = train(variables, x)
    variables = {**variables, **updates}
    weights.append(float(out["kl_weight"][0]))
  np.testing.assert_allclose(weights, [0.25, 0.5, 0.75, 1.0, 1.0])

  task = get_task("elbo")
  batch = {"counts": x, "label": np.zeros(5, np.int32),
           "example_mask": np.array([1, 1, 1, 1, 0], np.float32)}
  loss, weight = task.loss(out, batch)
  per_cell = (optax.sigmoid_binary_cross_entropy(out["logits"], x).sum(-1)
              + out["kl_weight"] * out["kl"])
  assert weight == 4 and float(loss) == pytest.approx(float(per_cell[:4].mean()), rel=1e-5)


def test_scale_clusters_learn_the_planted_cell_types():
  # 3 planted types x 30 cells over 300 peaks (synthetic_singlecell; the sequences are
  # not read). 150 full-batch steps through the warm-up: the ELBO loss 243 -> 116 and the
  # mixture's assignments recover the types (ARI 1.0); with each cell's peaks shuffled
  # the loss stops at 171 and the ARI is ~0.
  adata, _ = synthetic_singlecell.simulate_atac(num_types=3, num_cells=90, num_peaks=300,
                                                seq_len=100)
  x = np.asarray(adata.X.todense(), np.float32)
  labels = adata.obs["cell_type"].cat.codes.to_numpy()
  model = get_model("scale", "tiny", dict(num_peaks=300))
  variables = flax.linen.meta.unbox(jax.jit(model.init)(train_check.key(), x[:2]))
  task = get_task("elbo")

  def loss_fn(params, state, key):
    out, state = model.apply({"params": params, **state}, x, train=True,
                             mutable=["batch_stats"], rngs={"dropout": key})
    return task.loss(out, {"counts": x, "label": labels})[0], state

  params, _, losses = train_check.fit(loss_fn, variables["params"], steps=150,
                                      learning_rate=1e-2,
                                      state={"batch_stats": variables["batch_stats"]})
  out = model.apply({**variables, "params": params}, x)
  ari = sk.adjusted_rand_score(labels, np.argmax(out["cluster_probabilities"], axis=1))
  assert losses[-1] < 0.6 * losses[0] and ari > 0.7, (losses[::50], ari)


def test_elbo_metrics_score_clusters_against_labels():
  task = get_task("elbo")
  accumulator = task.new_metrics()
  probabilities = np.eye(3)[[0, 0, 1, 1, 2, 2]]
  accumulator.update({"cluster_probabilities": probabilities, "z_mean": np.zeros((6, 2)),
                      "kl": np.ones(6), "reconstruction_probabilities": np.full((6, 4), 0.5)},
                     {"counts": np.ones((6, 4)), "label": np.array([2, 2, 0, 0, 1, -1])})
  results = accumulator.compute()
  assert results["ari"] == pytest.approx(1.0) and results["nmi"] == pytest.approx(1.0)
  assert results["neg_elbo"] == pytest.approx(4 * math.log(2) + 1)


def test_cnnc_paper_size_and_tiny_shapes():
  # train_with_labels_three_foldx.py: (conv3x3 same, conv3x3 valid, pool 2) x 32/64/128,
  # dense 512, dense 3: 32 -> 15 -> 6 -> 2, so 2 * 2 * 128 = 512 flattened features.
  expected = (9 * 32 + 32 + 9 * 32 * 32 + 32 + 9 * 32 * 64 + 64 + 9 * 64 * 64 + 64
              + 9 * 64 * 128 + 128 + 9 * 128 * 128 + 128 + 512 * 512 + 512 + 512 * 3 + 3)
  assert _num_params(get_model("cnnc", "paper"), (1, 32, 32)) == expected == 550_627
  model = get_model("cnnc", "tiny")
  x = np.random.default_rng(1).random((4, 32, 32)).astype(np.float32)
  assert jax.jit(model.apply)(_init(model, x), x).shape == (4, 3)


def test_cnnc_learns_the_planted_regulation_direction():
  # 60 synthetic modules over 300 cells: 180 pairs, regulator -> target (1), target <-
  # regulator (2) or no direct interaction (0, half of them co-regulated targets). 40
  # full-batch steps on 120 pairs: loss 1.10 -> 0.39, held-out macro AUROC 0.99 (shuffled
  # labels: 1.10 -> 1.09, 0.58).
  adata, pairs = synthetic_singlecell.simulate_expression(num_modules=60, num_cells=300)
  expression = adata.to_df()
  x = np.stack([singlecell.expression_histogram(expression[a], expression[b])
                for a, b, _ in pairs])
  y = np.array([label for _, _, label in pairs])
  model = get_model("cnnc", "tiny")
  params = flax.linen.meta.unbox(jax.jit(model.init)(train_check.key(), x[:2]))["params"]

  def loss_fn(params, state, key):
    logits = model.apply({"params": params}, x[:120], train=True, rngs={"dropout": key})
    return optax.softmax_cross_entropy_with_integer_labels(logits, y[:120]).mean(), state

  params, _, losses = train_check.fit(loss_fn, params, steps=40, learning_rate=3e-3)
  probabilities = jax.nn.softmax(jax.jit(model.apply)({"params": params}, x[120:]))
  auroc = sk.roc_auc_score(y[120:], probabilities, multi_class="ovr")
  assert losses[-1] < 0.5 * losses[0] and auroc > 0.8, (losses[::10], auroc)


def test_multiclass_task_matches_sklearn():
  task = get_task("multiclass", dict(class_names=("none", "ab", "ba")))
  assert task.output_shape(()) == (3,)
  rng = np.random.default_rng(2)
  logits = rng.normal(size=(40, 3)).astype(np.float32)
  labels = rng.integers(0, 3, 40)
  labels[:3] = -1
  loss, weight = task.loss(jnp.asarray(logits), {"label": labels})
  probabilities = np.asarray(task.predictions(jnp.asarray(logits)))
  assert weight == 37
  assert float(loss) == pytest.approx(sk.log_loss(labels[3:], probabilities[3:],
                                                  labels=[0, 1, 2]), rel=1e-5)
  accumulator = task.new_metrics()
  accumulator.update(probabilities, {"label": labels})
  results = accumulator.compute()
  assert results["accuracy"] == pytest.approx(
      sk.accuracy_score(labels[3:], probabilities[3:].argmax(1)))
  assert results["auroc"] == pytest.approx(
      sk.roc_auc_score(labels[3:], probabilities[3:], multi_class="ovr", average="macro"))
  assert results["mcc"] == pytest.approx(
      sk.matthews_corrcoef(labels[3:], probabilities[3:].argmax(1)))
