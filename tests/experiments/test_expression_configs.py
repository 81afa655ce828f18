"""``xpresso``, ``cuperus_utr``, ``aparent`` and ``deepmel`` configs: every variant's model
matches its dataset's records and task (shapes only); real-data variants never build on
first use."""

import importlib

import jax
import jax.numpy as jnp
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer

VARIANTS = {
    "xpresso": ["", ":tiny", ":human", ":mouse"],
    "cuperus_utr": ["", ":tiny", ":real"],
    "aparent": ["", ":tiny", ":real"],
    "deepmel": ["", ":tiny", ":real"],
}
REAL = (":real", ":human", ":mouse")


@pytest.mark.parametrize("config_name, variant",
                         [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_model_matches_dataset_records(config_name, variant):
  config = configs.get_config(config_name + variant)
  assert config.dataset.build_if_missing == (variant not in REAL)
  name = config.dataset.name
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  builder = tfds.builder(name, data_dir="/nonexistent")
  features = builder._info().features  # pylint: disable=protected-access
  model, task = trainer.build_model(config), trainer.build_task(config)
  inputs = {k: jax.ShapeDtypeStruct((2, *features[k].shape), jnp.float32)
            for k in config.model_inputs}
  out = jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), **i)[0], inputs)
  if config.task_name == "isoform_cleavage":
    assert out["cleavage"].shape == (2, *features["cleavage"].shape)
    assert out["isoform"].shape == (2, 1)
  else:
    target = task.target_keys[0]
    assert out.shape == (2, *task.output_shape(features[target].shape))


def test_aparent_tiny_trains_and_designs(tmp_path):
  # Dict outputs (isoform, cleavage) through the trainer and its metrics, then a design
  # on the restored checkpoint with the library input left at zero.
  import numpy as np
  from genereg_jax import design
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  config = configs.get_config("aparent:tiny")
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = config.eval_every_steps = config.checkpoint_every_steps = 4
  config.max_eval_batches = 1
  config.final_eval_splits = ()
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  assert {"pearson", "cleavage_kl", "cut_position_mae"} <= set(final["valid"])
  predictor, step = predict.load_predictor(config, str(tmp_path / "workdir"),
                                           zero_missing_inputs=True)
  fn = readout.predictor_readout(predictor, "isoform").fn
  designs = design.seqprop(fn, design.maximise(0, logit=True), 2, predictor.input_length,
                           steps=3)
  assert step == 4 and designs.x.shape == (2, 100, 4) and np.isfinite(designs.scores).all()
