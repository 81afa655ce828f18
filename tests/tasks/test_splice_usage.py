"""The splice_usage task (Pangolin, Zeng & Li 2022): the loss equals a numpy transcription
of the released training code's, unknown usage neither counts nor leaks NaN gradients,
streaming metrics equal scikit-learn / SciPy on the whole set, and the rank and linear
correlations equal SciPy's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from genereg_jax.tasks import get_task
from genereg_jax.tasks import metrics
from genereg_jax.tasks import splice_sites
from genereg_jax.tasks import splice_usage

TISSUES = ("heart", "liver", "brain", "testis")


def _batch(rng, batch=3, length=40, tissues=4, skill=2.0):
  """Usage targets (sites ~10%, some unknown) and logits that track them."""
  usage = np.where(rng.random((batch, length, tissues)) < 0.1,
                   rng.uniform(0.05, 1, (batch, length, tissues)), 0.0).astype(np.float32)
  usage[rng.random(usage.shape) < 0.05] = np.nan  # NA in the table.
  usage[1, 30:] = -1.0  # Padding past the gene end.
  usage[2, :, 3] = -1.0  # A gene unquantified in one tissue.
  site = np.nan_to_num(usage) > 0
  splice = rng.normal(size=(batch, length, tissues, 2)).astype(np.float32)
  splice[..., 1] += skill * site
  predicted = (rng.normal(size=usage.shape) + skill * (np.nan_to_num(usage) * 4 - 2)
               ).astype(np.float32)
  return {"splice": splice, "usage": predicted}, usage


def _reference_loss(outputs, usage, example_mask):
  """Pangolin_train's loss: sum over tissues of CE(P(splice)) + BCE(usage), each over
  the tissue's known positions (the official CE is divided by every position)."""
  known = (np.nan_to_num(usage, nan=-1) >= 0) & (example_mask[:, None, None] > 0)
  target = np.where(known, np.nan_to_num(usage), 0.0)
  log_p = outputs["splice"] - np.log(np.exp(outputs["splice"]).sum(-1, keepdims=True))
  cross_entropy = -np.where(target > 0, log_p[..., 1], log_p[..., 0])
  p = 1 / (1 + np.exp(-outputs["usage"].astype(np.float64)))
  bce = -(target * np.log(p) + (1 - target) * np.log(1 - p))
  total = 0.0
  for t in range(usage.shape[-1]):
    k = known[..., t]
    total += (cross_entropy[..., t][k].sum() + bce[..., t][k].sum()) / max(k.sum(), 1)
  return total, known.any(-1).sum()


def test_loss_matches_the_released_training_code():
  rng = np.random.default_rng(0)
  outputs, usage = _batch(rng)
  example_mask = np.array([1, 1, 0], np.float32)
  task = get_task("splice_usage", {"tissues": TISSUES})
  loss, weight = jax.jit(task.loss)(jax.tree.map(jnp.asarray, outputs),
                                    {"usage": usage, "example_mask": example_mask})
  expected, expected_weight = _reference_loss(outputs, usage, example_mask)
  np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
  assert float(weight) == expected_weight


def test_unknown_usage_gets_no_gradient_and_no_nan():
  rng = np.random.default_rng(1)
  outputs, usage = _batch(rng)
  task = get_task("splice_usage")
  grads = jax.grad(lambda o: task.loss(o, {"usage": usage})[0])(
      jax.tree.map(jnp.asarray, outputs))
  assert all(bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(grads))
  unknown = ~(np.nan_to_num(usage, nan=-1) >= 0)
  assert (np.asarray(grads["usage"])[unknown] == 0).all()
  assert (np.asarray(grads["splice"])[unknown] == 0).all()
  assert (np.asarray(grads["usage"])[~unknown] != 0).all()


def test_shape_errors_name_the_expected_outputs():
  task = get_task("splice_usage", {"tissues": TISSUES})
  usage = np.zeros((2, 10, 4), np.float32)
  with pytest.raises(ValueError, match='"splice": \\[batch, length, tissues, 2\\]'):
    task.loss(jnp.zeros((2, 10, 3)), {"usage": usage})
  with pytest.raises(ValueError, match="do not match usage targets"):
    task.loss({"splice": jnp.zeros((2, 10, 3, 2)), "usage": jnp.zeros((2, 10, 3))},
              {"usage": usage[..., :3]})


def test_tissues_come_from_the_dataset_and_must_agree():
  task = get_task("splice_usage")
  task.use_dataset_metadata({"tissues": list(TISSUES)})
  assert task.tissues == TISSUES
  configured = get_task("splice_usage", {"tissues": TISSUES})
  configured.use_dataset_metadata({"tissues": list(TISSUES)})
  with pytest.raises(ValueError, match="dataset's usage columns are"):
    configured.use_dataset_metadata({"tissues": ["liver", "heart", "brain", "testis"]})


def test_streaming_metrics_match_direct_computation():
  rng = np.random.default_rng(2)
  task = get_task("splice_usage", {"tissues": TISSUES})
  predict = jax.jit(task.predictions)
  first, second = task.new_metrics(), task.new_metrics()
  everything = []
  for i in range(4):
    outputs, usage = _batch(rng, skill=1.0)
    predictions = jax.tree.map(np.asarray, predict(outputs))
    (first if i % 2 else second).update(predictions, {"usage": usage})
    everything.append((predictions, usage))
  results = first.merge(second).compute()
  # Merging is concatenation: order of batches does not matter for these metrics.
  p_site = np.concatenate([p["splice"].reshape(-1, 4) for p, _ in everything])
  p_usage = np.concatenate([p["usage"].reshape(-1, 4) for p, _ in everything])
  usage = np.concatenate([u.reshape(-1, 4) for _, u in everything])
  known = np.nan_to_num(usage, nan=-1) >= 0
  used_somewhere = (known & (np.nan_to_num(usage) > 0)).any(1)
  for t, name in enumerate(TISSUES):
    k = known[:, t]
    is_site = usage[k, t] > 0
    assert results[f"num_sites_{name}"] == is_site.sum()
    np.testing.assert_allclose(results[f"auprc_{name}"],
                               skm.average_precision_score(is_site, p_site[k, t]), rtol=1e-6)
    assert results[f"top_k_accuracy_{name}"] == splice_sites.top_k_accuracy(
        p_site[k, t], is_site)
    q = k & used_somewhere
    assert results[f"num_quantified_sites_{name}"] == q.sum() > 20
    np.testing.assert_allclose(results[f"usage_spearman_{name}"],
                               stats.spearmanr(p_usage[q, t], usage[q, t]).statistic,
                               rtol=1e-6)
    np.testing.assert_allclose(results[f"usage_pearson_{name}"],
                               stats.pearsonr(p_usage[q, t], usage[q, t]).statistic, rtol=1e-6)
  assert results["auprc"] == pytest.approx(np.mean([results[f"auprc_{n}"] for n in TISSUES]))
  assert 0.3 < results["usage_spearman"] < 1.0


def test_reverse_complement_reverses_positions():
  task = get_task("splice_usage")
  usage = np.arange(12, dtype=np.float32).reshape(6, 2)
  out = task.reverse_complement_targets({"usage": usage, "sequence": np.zeros((10, 4))})
  np.testing.assert_array_equal(out["usage"], usage[::-1])


def test_correlations_equal_scipy_with_ties():
  rng = np.random.default_rng(3)
  x = rng.integers(0, 5, 200).astype(np.float32)  # Many ties.
  y = x + rng.normal(size=200)
  np.testing.assert_array_equal(metrics.average_ranks(x), stats.rankdata(x))
  np.testing.assert_allclose(metrics.spearman_r(x, y), stats.spearmanr(x, y).statistic,
                             rtol=1e-10)
  np.testing.assert_allclose(metrics.pearson_r(x, y), stats.pearsonr(x, y).statistic,
                             rtol=1e-10)
  assert np.isnan(metrics.pearson_r(np.ones(5), y[:5]))
  assert np.isnan(metrics.spearman_r(x[:1], y[:1]))


def test_known_usage_mask():
  usage = np.array([[[0.5, np.nan], [-1.0, 0.0]]], np.float32)
  known = np.asarray(splice_usage.known_usage({"usage": usage}))
  np.testing.assert_array_equal(known, [[[True, False], [False, True]]])
