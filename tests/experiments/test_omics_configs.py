"""``deepcpg``, ``fusion_demo``, ``deepgp`` and ``shook_yield`` configs: every variant's model
matches its dataset's records and task; real-data variants never build on first use;
each ``:tiny`` builds its embedded data and takes train steps with the shared trainer."""

import importlib

import jax
import numpy as np
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer

VARIANTS = {
    "deepcpg": ["", ":tiny", ":real"],
    "fusion_demo": ["", ":late", ":late_mean", ":autoencoder", ":expression", ":methylation",
                    ":cnv", ":tiny", ":real"],
    "deepgp": ["", ":tiny", ":plink", ":vcf"],
    "shook_yield": ["", ":tiny", ":real"],
}
TARGET = {"multilabel_binary": "label", "omics_label": "label", "phenotype": "phenotype"}


def _features(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  builder = tfds.builder(name, data_dir="/nonexistent")
  return builder._info().features  # pylint: disable=protected-access


@pytest.mark.parametrize("config_name, variant",
                         [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_model_matches_dataset_records(config_name, variant):
  config = configs.get_config(config_name + variant)
  real = variant in (":real", ":plink", ":vcf")
  assert config.dataset.build_if_missing == (not real)
  features = _features(config.dataset.name)
  model = trainer.build_model(config)
  task = trainer.build_task(config)
  # Real files fix the variable sizes (None) at build time: the model's cell count, or 30.
  size = config.model.get("num_cells") or 30
  inputs = {k: jax.ShapeDtypeStruct((2, *(d or size for d in features[k].shape)),
                                    features[k].np_dtype)
            for k in config.model_inputs}
  out = jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), **i)[0], inputs)
  out = out["logits"] if isinstance(out, dict) else out
  assert set(task.target_keys) <= set(features)
  target = features[TARGET[config.task_name]].shape
  # A real cell count (None) is the model's num_cells.
  assert out.shape == (2, *(d or out.shape[1 + i] for i, d in enumerate(target)))


@pytest.mark.parametrize("name", ["deepcpg:tiny", "fusion_demo:tiny", "deepgp:tiny",
                                  "shook_yield:tiny"])
def test_tiny_builds_and_trains(tmp_path, name):
  config = configs.get_config(name)
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = 2
  config.log_every_steps = config.eval_every_steps = config.checkpoint_every_steps = 2
  config.max_eval_batches = 1
  config.final_eval_splits = ()
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  assert np.isfinite(final["valid"]["loss"])
  assert np.isfinite(final["valid"]["auroc" if "label" in config.task_name or
                                    config.task_name == "multilabel_binary" else "pearson"])
