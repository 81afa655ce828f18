"""``musitedeep`` and ``deepubi`` configs: every variant's model fits its dataset and task,
the released settings, and the ``:tiny`` variants train end to end on embedded data."""

import importlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer


def _builder_config(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  return tfds.builder(name, data_dir="/nonexistent").builder_config


def _output_shapes(config, window):
  model = trainer.build_model(config)
  x = jax.ShapeDtypeStruct((2, window, 21), jnp.float32)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  return jax.tree.map(lambda o: o.shape, out)


@pytest.mark.parametrize("variant", ["", ":cnn", ":capsule", ":ensemble", ":synthetic",
                                     ":small", ":tiny", ":capsule,tiny", ":cnn,small"])
def test_musitedeep_synthetic_variants(variant):
  config = configs.get_config("musitedeep" + variant)
  data = _builder_config(config.dataset.name)
  task = trainer.build_task(config)
  types = len(data.ptm_types)
  assert data.window == 33 and task.ptm_types == tuple(data.ptm_types)
  assert task.target_keys == ("label", "label_mask")
  shapes = _output_shapes(config, data.window)
  member = variant.strip(":").split(",")[0]
  if member == "cnn":
    assert shapes == (2, types) and task.loss_name == "bce"
  elif member == "capsule":
    assert shapes == (2, types, 2) and task.loss_name == "margin"
  else:  # The ensemble, each member on its own loss.
    assert shapes == {"cnn": (2, types), "capsule": (2, types, 2)}
    assert task.member_losses == {"cnn": "bce", "capsule": "margin"}
  assert config.optimizer.learning_rate == (3e-3 if "tiny" in variant else 1e-3)


def test_musitedeep_real_variant_and_errors():
  config = configs.get_config("musitedeep:capsule,uniprot")
  assert config.dataset.name == "uniprot_ptm/musitedeep"
  assert not config.dataset.build_if_missing
  assert config.model.num_outputs == len(config.task.ptm_types) == 13
  data = _builder_config(config.dataset.name)
  assert (tuple(data.ptm_types), data.window) == (config.task.ptm_types, 33)
  assert _output_shapes(config, 33) == (2, 13, 2)
  with pytest.raises(ValueError, match="capsule"):
    configs.get_config("musitedeep:lstm")


@pytest.mark.parametrize("variant", ["", ":tiny", ":uniprot"])
def test_deepubi_variants(variant):
  config = configs.get_config("deepubi" + variant)
  assert _output_shapes(config, 31) == (2, 1)
  assert config.batch_size == 40  # Released.
  assert not variant == ":uniprot" or not config.dataset.build_if_missing
  data = _builder_config(config.dataset.name)
  assert data.window == 31 and tuple(data.ptm_types) == config.task.ptm_types == ("ubiquitin_K",)


@pytest.mark.parametrize("name", ["musitedeep:tiny", "deepubi:tiny"])
def test_tiny_variants_train(name, tmp_path):
  config = configs.get_config(name)
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = config.eval_every_steps = config.checkpoint_every_steps = 60
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  lines = [json.loads(l) for l in (tmp_path / "workdir" / "metrics.jsonl").open()]
  losses = [l["loss"] for l in lines if l["split"] == "train"]
  assert np.isfinite(losses).all() and losses[-1] < losses[0]
  test = final["test"]
  for key in ("auroc", "auprc", "mcc", "f1"):
    assert np.isfinite(test[key]), key
  if name.startswith("musitedeep"):
    # Chance is 0.5. (DeepUbi's global max pooling cannot tell where a motif sits, and
    # 272 tiny windows only get memorised; its synthetic result is in the README.)
    assert test["auroc"] > 0.6
