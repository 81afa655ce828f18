"""``scbasset``, ``basset_pseudobulk``, ``scale`` and ``cnnc`` configs: every variant's
model matches its dataset; real-data variants never build on first use; scBasset and
SCALE train a few steps on a real ``.h5ad`` (+ FASTA) through the shared trainer."""

import importlib
import json

import anndata
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds
from scipy import sparse

from experiments import configs
from experiments.configs import model_config
from genereg_jax.train import trainer

VARIANTS = {"scbasset": ["", ":synthetic", ":tiny", ":h5ad"],
            "basset_pseudobulk": ["", ":tiny", ":h5ad"],
            "scale": ["", ":tiny", ":h5ad"], "cnnc": ["", ":tiny", ":h5ad"]}


def _builder(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  builder = tfds.builder(name, data_dir="/nonexistent")
  return builder.builder_config, builder._info().features  # pylint: disable=protected-access


def _outputs(config, features):
  model = trainer.build_model(config)
  inputs = {k: jax.ShapeDtypeStruct((2, *(n or 5 for n in features[k].shape)), jnp.float32)
            for k in config.model_inputs}
  if config.model_name == "scale":
    inputs = {"counts": jax.ShapeDtypeStruct((2, config.model.num_peaks), jnp.float32)}
  return jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), **i)[0], inputs)


@pytest.mark.parametrize("config_name, variant",
                         [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_model_matches_dataset_records(config_name, variant):
  config = configs.get_config(config_name + variant)
  assert config.dataset.build_if_missing == (variant != ":h5ad")
  builder_config, features = _builder(config.dataset.name)
  out = _outputs(config, features)
  if variant == ":h5ad":  # Sizes come from the user's file (set on the command line).
    return
  if config_name == "scbasset":
    assert out.shape == (2, builder_config.num_cells)
  elif config_name == "basset_pseudobulk":
    simulation = _builder(f"scatac_peaks/{builder_config.simulation}")[0]
    assert out.shape == (2, simulation.num_types)
  elif config_name == "scale":
    assert config.model.num_peaks == builder_config.num_peaks
    assert out["cluster_probabilities"].shape == (2, builder_config.num_types)
  else:
    assert out.shape == (2, len(config.task.class_names))


def _manual_dir(tmp_path):
  rng = np.random.default_rng(0)
  genome = "".join(rng.choice(list("ACGT"), 20_000))
  manual = tmp_path / "manual"
  manual.mkdir()
  (manual / "genome.fa").write_text(f">chr1\n{genome}\n")
  starts = np.arange(1000, 19_000, 600)
  var = pd.DataFrame({"chr": "chr1", "start": starts, "end": starts + 400},
                     index=[f"peak{i}" for i in range(len(starts))])
  obs = pd.DataFrame({"cell_type": ["a", "b"] * 6}, index=[f"cell{i}" for i in range(12)])
  counts = sparse.csr_matrix(rng.poisson(0.5, (12, len(starts))).astype(np.float32))
  anndata.AnnData(X=counts, obs=obs, var=var).write_h5ad(manual / "cells.h5ad")
  return manual, len(starts)


@pytest.mark.parametrize("name", ["scbasset:h5ad", "scale:h5ad"])
def test_trains_on_a_real_h5ad(tmp_path, name):
  manual, num_peaks = _manual_dir(tmp_path)
  config = configs.get_config(name)
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.dataset.manual_dir = str(manual)
  config.dataset.build_if_missing = True  # Build the few records above on first use.
  if name.startswith("scbasset"):
    # One tower block: the compile, not the 3 steps, is this test's cost.
    config.model = model_config("scbasset", "tiny", num_cells=12, num_tower_blocks=1)
    config.batch_size = 8
  else:
    config.model = model_config("scale", "tiny", num_peaks=num_peaks, num_clusters=2)
    config.batch_size = 4
  config.num_train_steps = 3
  config.log_every_steps = 1
  config.eval_every_steps = 3
  config.checkpoint_every_steps = 3
  config.final_eval_splits = ()
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  lines = [json.loads(l) for l in (tmp_path / "workdir" / "metrics.jsonl").open()]
  assert all(np.isfinite(l["loss"]) for l in lines)
  assert np.isfinite(final["valid"]["loss"])
  if name.startswith("scale"):
    assert "ari" in final["valid"]
