"""Prototypical networks: the N-way k-shot episodic sampler, the prototype loss against
a hand computation, and the embedding taken from a registered trunk's penultimate layer."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.models import get_model
from genereg_jax.tasks import class_prototypes
from genereg_jax.tasks import get_task
from genereg_jax.train import protonets


def test_episode_has_n_classes_k_shots_and_disjoint_queries():
  groups = {c: np.arange(c * 100, c * 100 + 12) for c in range(8)}
  rng = np.random.default_rng(0)
  indices, labels, support = protonets.sample_episode(rng, groups, range(8), ways=5,
                                                      shots=3, queries=4)
  assert len(indices) == 5 * (3 + 4) and support.sum() == 5 * 3
  assert len(set(labels)) == 5
  for c in set(labels):
    rows = labels == c
    assert (support[rows] > 0).sum() == 3 and (support[rows] == 0).sum() == 4
    assert set(indices[rows]) <= set(groups[c])
  assert len(set(indices)) == len(indices)  # No example both support and query.
  with pytest.raises(ValueError, match="fewer than shots"):
    protonets.sample_episode(rng, {0: np.arange(3), 1: np.arange(9)}, (0, 1), 2, 3, 1)
  with pytest.raises(ValueError, match="5-way"):
    protonets.sample_episode(rng, groups, range(3), 5, 1, 1)


def test_prototype_loss_matches_hand_computation():
  rng = np.random.default_rng(1)
  embeddings = rng.normal(size=(6, 3)).astype(np.float32)
  labels = np.array([7, 7, 2, 2, 7, 2], np.int32)
  support = np.array([1, 1, 1, 1, 0, 0], np.float32)
  task = get_task("class_prototypes")
  loss, weight = task.loss({"embedding": jnp.asarray(embeddings)},
                           {"label": jnp.asarray(labels), "support": jnp.asarray(support)})
  prototypes = np.stack([embeddings[:2].mean(0), embeddings[2:4].mean(0)])  # Classes 7, 2.
  expected = []
  for row, target in ((4, 0), (5, 1)):
    logits = -((embeddings[row] - prototypes) ** 2).sum(1)
    expected.append(-(logits[target] - np.log(np.exp(logits).sum())))
  np.testing.assert_allclose(loss, np.mean(expected), rtol=1e-5)
  assert int(weight) == 2
  metric = task.new_metrics()
  metric.update(embeddings, {"label": labels, "support": support})
  nearest = [int(np.argmin(((embeddings[r] - prototypes) ** 2).sum(1)) == t)
             for r, t in ((4, 0), (5, 1))]
  assert metric.compute()["accuracy"] == pytest.approx(np.mean(nearest))
  with pytest.raises(ValueError, match="unknown distance"):
    class_prototypes.ClassPrototypes(distance="manhattan")


def test_embedding_is_the_trunks_penultimate_features():
  model = get_model("prototypical", "tiny", dict(trunk="deerect_tss"))
  inputs = dict(sequence=jnp.zeros((2, 101, 4)), coverage=jnp.ones((2, 101)))
  variables = nn.meta.unbox(model.init(jax.random.key(0), **inputs))
  embedding = model.apply(variables, **inputs)["embedding"]
  trunk = get_model("deerect_tss", "tiny")
  trunk_variables = {"params": variables["params"]["trunk"]}
  merged_width = 2 * trunk.hidden_features  # Sequence and coverage branches.
  assert embedding.shape == (2, merged_width)
  logits = trunk.apply(trunk_variables, **inputs)
  output = variables["params"]["trunk"]["output"]
  np.testing.assert_allclose(embedding @ output["kernel"] + output["bias"], logits,
                             rtol=1e-5, atol=1e-6)


def test_kmer_profiles_count_windows():
  one_hot = np.eye(4, dtype=np.float32)[[[0, 0, 1, 0]]]  # AACA
  one_hot[0, 3] = 0  # An N ends the last 2-mer.
  profile = protonets.kmer_profiles(one_hot, k=2)
  assert profile.shape == (1, 16)
  np.testing.assert_allclose(profile[0, [0, 1]], [0.5, 0.5])  # AA, AC; CN skipped.


def test_protonet_training_runs_and_reports_baselines(tmp_path):
  from experiments import configs
  from genereg_jax.train import trainer
  config = configs.get_config("protonet_motifs:tiny")
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = 2
  config.meta.update(eval_episodes=2, ways=4)
  config.eval_splits, config.final_eval_splits = ("valid",), ()
  final = trainer.train_and_evaluate(config, str(tmp_path / "run"))["valid"]
  assert set(final) == {"fewshot/accuracy", "untrained/accuracy", "kmer/accuracy", "chance"}
  assert final["chance"] == 0.2  # 5-way evaluation episodes (eval_ways), 4-way training.
