"""graph_nodes task: masked Poisson loss per node; log-CAGE Pearson vs SciPy on node subsets."""

import numpy as np
import pytest
from scipy import special, stats

from genereg_jax import tasks
from genereg_jax.tasks import graph_nodes


def _batch(rng, batch=3, nodes=12):
  cage = rng.poisson(4.0, size=(batch, nodes)).astype(np.float32)
  tss = rng.random((batch, nodes)) < 0.5
  contact = tss & (rng.random((batch, nodes)) < 0.5)
  predictions = rng.gamma(2.0, 2.0, size=(batch, nodes)).astype(np.float32)
  return predictions, dict(cage=cage, tss=tss.astype(np.uint8),
                           contact_dependent=contact.astype(np.uint8))


def test_center_mask():
  np.testing.assert_array_equal(graph_nodes.center_mask(9, 1 / 3), [0, 0, 0, 1, 1, 1, 0, 0, 0])
  assert graph_nodes.center_mask(5, 1.0).all()
  with pytest.raises(ValueError, match="center_fraction"):
    graph_nodes.center_mask(5, 0.0)


@pytest.mark.parametrize("loss_on", ["all", "tss"])
def test_loss_is_the_poisson_nll_on_scored_nodes(loss_on):
  predictions, batch = _batch(np.random.default_rng(0))
  batch["example_mask"] = np.array([1, 1, 0], np.float32)
  task = tasks.get_task("graph_nodes", dict(center_fraction=0.5, loss_on=loss_on))
  loss, weight = task.loss(predictions, batch)
  keep = np.zeros_like(predictions, bool)
  keep[:2, 3:9] = True
  if loss_on == "tss":
    keep &= batch["tss"] > 0
  # Full Poisson NLL minus its constant log-gamma term.
  nll = -stats.poisson.logpmf(batch["cage"], predictions) - special.gammaln(batch["cage"] + 1)
  np.testing.assert_allclose(float(loss), nll[keep].mean(), rtol=1e-5)
  assert float(weight) == keep.sum()


def test_metrics_match_scipy_on_each_subset_and_merge():
  rng = np.random.default_rng(1)
  task = tasks.get_task("graph_nodes", dict(contact_key="contact_dependent",
                                            center_fraction=2 / 3))
  parts, whole = [task.new_metrics() for _ in range(2)], task.new_metrics()
  rows = []
  for i in range(4):
    predictions, batch = _batch(rng)
    parts[i % 2].update(predictions, batch)
    whole.update(predictions, batch)
    keep = graph_nodes.center_mask(12, 2 / 3)
    rows.append((predictions[:, keep], batch["cage"][:, keep], batch["tss"][:, keep] > 0,
                 batch["contact_dependent"][:, keep] > 0))
  merged = parts[0].merge(parts[1]).compute()
  result = whole.compute()
  p, y, tss, contact = (np.concatenate([r[k].ravel() for r in rows]) for k in range(4))
  lp, ly = np.log2(p.astype(np.float64) + 1), np.log2(y.astype(np.float64) + 1)
  expected = {
      "pearsonr_tss": stats.pearsonr(lp[tss], ly[tss])[0],
      "spearmanr_tss": stats.spearmanr(lp[tss], ly[tss])[0],
      "pearsonr_all": stats.pearsonr(lp, ly)[0],
      "pearsonr_contact_dependent": stats.pearsonr(lp[contact & tss], ly[contact & tss])[0],
      "pearsonr_not_contact_dependent": stats.pearsonr(lp[tss & ~contact],
                                                       ly[tss & ~contact])[0],
      "n_tss": tss.sum(), "n_contact_dependent": (contact & tss).sum()}
  for key, value in expected.items():
    assert result[key] == pytest.approx(value, abs=1e-9), key
    assert merged[key] == pytest.approx(value, abs=1e-9), key


def test_scored_nodes_from_metadata_win_over_center_fraction():
  predictions, batch = _batch(np.random.default_rng(3))
  task = tasks.get_task("graph_nodes", dict(center_fraction=0.5))
  task.use_dataset_metadata({"scored_nodes": [2, 5]})
  loss, weight = task.loss(predictions, batch)
  nll = predictions - batch["cage"] * np.log(predictions + 1e-7)
  np.testing.assert_allclose(float(loss), nll[:, 2:5].mean(), rtol=1e-5)
  assert float(weight) == 9
  given = tasks.get_task("graph_nodes", dict(scored_nodes=(0, 4)))
  given.use_dataset_metadata({"scored_nodes": [2, 5]})
  assert given.scored_nodes == (0, 4)
  with pytest.raises(ValueError, match="do not fit"):
    tasks.get_task("graph_nodes", dict(scored_nodes=(3, 20))).loss(predictions, batch)


def test_target_keys_and_errors():
  assert tasks.get_task("graph_nodes").target_keys == ("cage", "tss")
  assert "pearsonr_contact_dependent" not in _computed(tasks.get_task("graph_nodes"))
  with pytest.raises(ValueError, match="loss_on"):
    tasks.get_task("graph_nodes", dict(loss_on="genes"))
  with pytest.raises(ValueError, match="differ in shape"):
    tasks.get_task("graph_nodes").loss(np.ones((2, 3)), dict(cage=np.ones((2, 4)),
                                                             tss=np.ones((2, 4))))


def _computed(task):
  metrics = task.new_metrics()
  predictions, batch = _batch(np.random.default_rng(2))
  metrics.update(predictions, batch)
  return metrics.compute()
