"""``spliceai_10k`` configs: model geometry matches each dataset's blocks, and ``:tiny``
trains end to end with the shared trainer to well above chance (Jaganathan et al. 2019)."""

import importlib

import jax
import jax.numpy as jnp
import pytest

from experiments import configs
from genereg_jax.train import trainer


def _builder_config(name):
  dataset, _, config_name = name.partition("/")
  module = importlib.import_module(f"data_builders.{dataset}")
  builder_cls = next(v for v in vars(module).values()
                     if isinstance(v, type) and hasattr(v, "BUILDER_CONFIGS"))
  return next(c for c in builder_cls.BUILDER_CONFIGS if c.name == config_name)


@pytest.mark.parametrize("variant", ["", ":synthetic", ":tiny"])
def test_model_output_covers_the_dataset_block(variant):
  config = configs.get_config("spliceai_10k" + variant)
  data = _builder_config(config.dataset.name)
  model = trainer.build_model(config)
  assert model.context == data.context
  x = jax.ShapeDtypeStruct((2, data.block_length + data.context, 4), jnp.float32)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  assert out.shape == (2, data.block_length, 3)
  assert trainer.build_task(config).output_shape((data.block_length,)) == out.shape[1:]
  assert config.optimizer.name == "adam" and config.optimizer.learning_rate == (
      3e-3 if variant == ":tiny" else 1e-3)


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="default, synthetic, tiny"):
    configs.get_config("spliceai_10k:huge")


def test_tiny_trains_end_to_end(tmp_path):
  config = configs.get_config("spliceai_10k:tiny")
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = 120
  config.eval_every_steps = 120
  config.checkpoint_every_steps = 120
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  test = final["test"]
  # Splice sites are ~0.4% of positions: chance PR-AUC is ~0.004, chance top-k ~0.004.
  assert test["num_acceptors"] > 100 and test["num_donors"] > 100
  assert test["auprc"] > 0.3 and test["top_k_accuracy"] > 0.3, test
  assert test["loss"] < 0.05
