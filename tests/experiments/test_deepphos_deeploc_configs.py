"""``deepphos`` and ``deeploc`` configs: every variant's model matches its dataset and
task, the released settings, kinase transfer from a trained residue-specific model with
frozen branches, and the ``:tiny`` DeepLoc trains end to end."""

import importlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer
from genereg_jax.train import workdir as workdir_lib


def _builder_config(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  return tfds.builder(name, data_dir="/nonexistent").builder_config


@pytest.mark.parametrize("variant", ["", ":st", ":y,tiny", ":kinase=PKA", ":kinase=SRC,tiny",
                                     ":kinase=CK2,frozen", ":kinase=CDK,scratch", ":uniprot",
                                     ":kinase=MAPK,phospho_elm"])
def test_deepphos_variants(variant):
  config = configs.get_config("deepphos" + variant)
  model = trainer.build_model(config)
  task = trainer.build_task(config)
  data = _builder_config(config.dataset.name)
  assert data.window == 51 and set(data.ptm_types) == {"phospho_ST", "phospho_Y"}
  kinases = list(getattr(data, "kinases", None) or ["PKA", "CDK", "CK2", "SRC"])
  task.use_dataset_metadata({"ptm_types": list(data.ptm_types), "kinases": kinases})
  assert task.output_shape((2,)) == (model.num_outputs,)
  x = jax.ShapeDtypeStruct((2, 51, 21), jnp.float32)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  assert out.shape == (2, {"": 2, ":uniprot": 2}.get(variant, 1))
  transfer = "kinase" in variant and "scratch" not in variant
  assert bool(config.get("init_from")) == transfer
  if transfer:
    assert config.init_from_kwargs.workdir.startswith(
        "/tmp/deepphos_y" if "SRC" in variant else "/tmp/deepphos_st")
  assert tuple(config.optimizer.get("frozen", ())) == (
      ("branch_51", "branch_33", "branch_15") if "frozen" in variant else ())
  if "tiny" not in variant:
    assert (config.batch_size, config.optimizer.learning_rate) == (512, 1e-3)  # Released.
  with pytest.raises(ValueError, match="frozen"):
    configs.get_config("deepphos:frozen")
  with pytest.raises(ValueError, match="valid"):
    configs.get_config("deepphos:huge")


@pytest.mark.parametrize("variant", ["", ":hierarchical", ":small", ":tiny",
                                     ":hierarchical,tiny", ":uniprot"])
def test_deeploc_variants(variant):
  config = configs.get_config("deeploc" + variant)
  model = trainer.build_model(config)
  assert model.hierarchical == ("hierarchical" in variant)
  assert config.model_inputs == ("sequence", "mask")
  length, channels = 1000, 20
  if variant != ":uniprot":
    data = _builder_config(config.dataset.name)
    length, channels = 2 * data.ends, 20
    assert data.encoding == "blosum62"
  x = jax.ShapeDtypeStruct((2, length, channels), jnp.float32)
  m = jax.ShapeDtypeStruct((2, length), jnp.float32)
  out = jax.eval_shape(lambda x, m: model.init_with_output(jax.random.key(0), x, m)[0], x, m)
  assert out["location"].shape == (2, 10) and out["membrane"].shape == (2,)
  if variant in ("", ":hierarchical"):
    assert (config.batch_size, config.optimizer.learning_rate, config.optimizer.clip_norm) == (
        128, 5e-4, 3.0)  # The released train.py.
    assert (model.filters_per_width, model.lstm_units, model.decode_steps) == (20, 256, 10)


def _train(config, tmp_path, name, steps):
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = steps
  config.eval_every_steps = config.checkpoint_every_steps = steps
  workdir = str(tmp_path / name)
  final = trainer.train_and_evaluate(config, workdir)
  lines = [json.loads(l) for l in open(f"{workdir}/metrics.jsonl")]
  return workdir, final, [l["loss"] for l in lines if l["split"] == "train"]


def test_deepphos_kinase_transfer_with_frozen_branches(tmp_path):
  st_dir, _, _ = _train(configs.get_config("deepphos:st,tiny"), tmp_path, "st", 4)
  config = configs.get_config("deepphos:kinase=PKA,frozen,tiny")
  config.init_from_kwargs.workdir = st_dir
  pka_dir, final, losses = _train(config, tmp_path, "pka", 3)
  assert np.isfinite(losses).all() and np.isfinite(final["valid"]["auroc"])
  general = trainer.restore_for_eval(workdir_lib.load_saved_config(st_dir), st_dir, "best")[1]
  kinase = trainer.restore_for_eval(workdir_lib.load_saved_config(pka_dir), pka_dir)[1]
  # The branches are the residue-specific model's; the head moved from it.
  for branch in ("branch_51", "branch_33", "branch_15"):
    jax.tree.map(np.testing.assert_array_equal, general.params[branch], kinase.params[branch])
  moved = jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - np.asarray(b)).max()),
                       general.params["head"], kinase.params["head"])
  assert max(jax.tree.leaves(moved)) > 0


def test_deeploc_tiny_trains(tmp_path):
  _, final, losses = _train(configs.get_config("deeploc:tiny"), tmp_path, "deeploc", 60)
  assert np.isfinite(losses).all() and np.mean(losses[-2:]) < losses[0], losses
  # Membrane = a TM helix: learnt within the 60 steps (chance AUROC 0.5).
  assert final["valid"]["membrane_auroc"] > 0.8, final
  assert 0.0 <= final["valid"]["accuracy"] <= 1.0
