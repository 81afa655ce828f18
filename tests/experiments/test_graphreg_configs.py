"""graphreg_epi / graphreg_seq configs: geometry per variant; tiny runs end to end,
including Seq-GraphReg's two stages (pretrained trunk copied in, then frozen)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_builders.synthetic_graphs import synthetic_graphs as sg
from experiments import configs
from experiments.configs import graphreg_epi, graphreg_seq
from genereg_jax.train import trainer


def _output_shape(config, nodes, max_edges=8):
  model = trainer.build_model(config)
  inputs = {"epi": jnp.zeros((1, nodes * 50, 3)), "sequence": jnp.zeros((1, nodes * 5000, 4)),
            "edges": jnp.zeros((1, max_edges, 2), jnp.int32),
            "edge_mask": jnp.ones((1, max_edges), bool)}
  inputs = {k: inputs[k] for k in config.model_inputs}
  return jax.eval_shape(lambda: model.init_with_output(jax.random.key(0), **inputs)[0]).shape


@pytest.mark.parametrize("name", [f"graphreg_epi:{v}" for v in graphreg_epi.VARIANTS]
                         + [f"graphreg_seq:{v}" for v in graphreg_seq.VARIANTS])
def test_every_variant_builds_its_model_and_task(name):
  config = configs.get_config(name)
  task = trainer.build_task(config)
  nodes = 4
  shape = _output_shape(config, nodes)
  if config.task_name == "coverage":  # Seq stage 1: the 100-bp epigenomic tracks.
    assert shape == (1, nodes * 50, 3) and task.target_key == "epi"
  else:
    assert shape == (1, nodes)
    assert ("edges" in config.model_inputs) == (config.model.head == "graph")
    assert task.target_keys[:2] == ("cage", "tss")
  assert config.dataset.build_if_missing == (":real" not in name)


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="synthetic, cnn, tiny"):
    configs.get_config("graphreg_epi:huge")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  """A smaller ``tiny`` build (16/4/4 regions of 40 nodes, with sequence)."""
  directory = str(tmp_path_factory.mktemp("tfds"))
  tiny = {c.name: c for c in sg.BUILDER_CONFIGS}["tiny"]
  config = sg.SyntheticGraphsConfig(**{**{f: getattr(tiny, f) for f in (
      "n_nodes", "include_sequence", "tad_nodes", "far_bp", "max_loop_bp", "local_window_bp",
      "half_contact_bp", "random_loops_per_mb", "max_edges")}},
      name="e2e", num_train=16, num_valid=4, num_test=4)
  sg.SyntheticGraphs(config=config, data_dir=directory,
                     file_format="array_record").download_and_prepare()
  return directory


def _small(config, data_dir, steps):
  config.dataset.update(name="synthetic_graphs/e2e", data_dir=data_dir, build_if_missing=False)
  config.num_train_steps = steps
  config.eval_every_steps = config.checkpoint_every_steps = steps
  return config


def test_epi_tiny_trains_and_reports_contact_dependent_genes(data_dir, tmp_path):
  config = _small(configs.get_config("graphreg_epi:tiny"), data_dir, steps=4)
  final = trainer.train_and_evaluate(config, str(tmp_path / "epi"))
  test = final["test"]
  for key in ("loss", "pearsonr_tss", "pearsonr_contact_dependent", "pearsonr_all"):
    assert np.isfinite(test[key]), (key, test)
  assert test["n_contact_dependent"] > 0 and test["n_tss"] > test["n_contact_dependent"]


def test_seq_two_stages_copy_and_freeze_the_pretrained_trunk(data_dir, tmp_path):
  stage1 = _small(configs.get_config("graphreg_seq:tiny_pretrain"), data_dir, steps=3)
  stage1.final_eval_splits = ()  # Compile time dominates: one evaluation pass per stage.
  final1 = trainer.train_and_evaluate(stage1, str(tmp_path / "stage1"))
  assert np.isfinite(final1["valid"]["pearsonr_log1p"])
  _, state1, _ = trainer.restore_for_eval(stage1, str(tmp_path / "stage1"), which="best")

  stage2 = _small(configs.get_config("graphreg_seq:tiny"), data_dir, steps=3)
  stage2.final_eval_splits = ()
  stage2.init_from_kwargs.workdir = str(tmp_path / "stage1")
  final2 = trainer.train_and_evaluate(stage2, str(tmp_path / "stage2"))
  assert np.isfinite(final2["valid"]["pearsonr_tss"])
  _, state2, _ = trainer.restore_for_eval(stage2, str(tmp_path / "stage2"))
  trunk1, trunk2 = state1.params["trunk"], state2.params["trunk"]
  assert sorted(trunk2) == [f"conv_{i}" for i in range(5)]  # No epi heads in stage 2.
  for key in trunk2:  # Copied, then unchanged by 3 steps of training.
    for a, b in zip(jax.tree.leaves(trunk1[key]), jax.tree.leaves(trunk2[key])):
      np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree.leaves(state1.batch_stats["trunk"][key]),
                    jax.tree.leaves(state2.batch_stats["trunk"][key])):
      np.testing.assert_array_equal(a, b)
  assert int(state2.step) == 3
