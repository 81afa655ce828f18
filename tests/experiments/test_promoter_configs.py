"""``cnnprom`` and ``promid`` configs: every variant's model fits its dataset's records
and task, real-data variants never build on first use, and the hard-negative settings
describe windows the model takes."""

import importlib

import jax
import jax.numpy as jnp
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer

VARIANTS = {
    "cnnprom": ["", ":eukaryote", ":prokaryote", ":tiny", ":real_human", ":real_mouse",
                ":real_arabidopsis", ":real_ecoli", ":real_bsubtilis"],
    "promid": ["", ":hard_negatives", ":tiny", ":real"],
}


@pytest.mark.parametrize("config_name, variant",
                         [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_model_matches_dataset_records(config_name, variant):
  config = configs.get_config(config_name + variant)
  assert config.dataset.build_if_missing == (":real" not in variant)
  importlib.import_module(f"data_builders.{config.dataset.name.split('/')[0]}")
  builder = tfds.builder(config.dataset.name, data_dir="/nonexistent")
  features = builder._info().features  # pylint: disable=protected-access
  assert builder.builder_config.window == features["sequence"].shape[0]
  if "hard_negatives" in config:
    assert (config.hard_negatives.window, config.hard_negatives.tss_index) == (
        builder.builder_config.window, builder.builder_config.tss_index)
  model = trainer.build_model(config)
  task = trainer.build_task(config)
  x = jax.ShapeDtypeStruct((2, *features["sequence"].shape), jnp.float32)
  out = jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), i)[0], x)
  assert out.shape == (2, *task.output_shape(features["label"].shape))
