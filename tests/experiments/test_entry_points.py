"""Entry points: configs by name, clear errors for bad names/fields, sweeps."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import experiments
import genereg_jax
from conftest import REPO, subprocess_env
from experiments import configs


def test_every_module_imports():
  for package in (genereg_jax, experiments):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
      if module.name.endswith(("train", "evaluate", "sweep", "train_step")):
        continue  # absl apps define flags at import; covered by the subprocess tests.
      importlib.import_module(module.name)


@pytest.mark.parametrize("name", ["deepsea", "deepsea:tiny", "deepsea:real"])
def test_configs_build_and_match_their_model(name):
  import jax
  import jax.numpy as jnp
  from genereg_jax.train import trainer
  config = configs.get_config(name)
  model = trainer.build_model(config)
  length = 200 if name.endswith("tiny") else 1000
  out = jax.eval_shape(lambda: model.init_with_output(jax.random.key(0),
                                                      jnp.zeros((2, length, 4)))[0])
  assert out.shape == (2, config.model.num_outputs)


EVERY_CONFIG = ["deepsea", "deepsea:tiny", "deepsea:real", "basset", "basset:tiny", "danq",
                "danq:tiny", "deepbind", "deepbind:tiny", "enformer_human_mouse",
                "enformer_human_mouse:synthetic", "enformer_human_mouse:synthetic_local",
                "enformer_human_mouse:tiny", "spliceai_10k", "spliceai_10k:synthetic",
                "spliceai_10k:tiny", "bpnet", "bpnet:tiny", "bpnet_mesc", "bpnet_mesc:lite",
                "danq:real", "basset:bed", "basenji2_human", "basenji2_human:human_mouse",
                "basenji2_human:tiny", "pangolin", "pangolin:synthetic", "pangolin:tiny"]


@pytest.mark.parametrize("name", EVERY_CONFIG)
def test_every_config_builds_its_model_task_and_optimizer(name):
  from genereg_jax.train import optim
  from genereg_jax.train import trainer
  config = configs.get_config(name)
  trainer.build_model(config)
  for head in trainer.heads(config):
    trainer.build_task(config, head)
    assert "{" not in trainer.dataset_name(config, head)
  optim.make_optimizer(config.optimizer, config.num_train_steps)


def test_unknown_variant_is_an_error():
  with pytest.raises(ValueError, match="tiny"):
    configs.get_config("deepsea:huge")


def _train(*args):
  return subprocess.run([sys.executable, "-m", "experiments.train", *args], cwd=REPO,
                        env=subprocess_env(), capture_output=True, text=True, timeout=300)


def test_unknown_config_lists_available(tmp_path):
  out = _train("--config=deepsee", f"--workdir={tmp_path}")
  assert out.returncode != 0
  assert "unknown config 'deepsee'" in out.stderr and "deepsea" in out.stderr


def test_unknown_override_names_the_field(tmp_path):
  out = _train("--config=deepsea:tiny", f"--workdir={tmp_path}",
               "--config.optimizer.learnin_rate=0.1")
  assert out.returncode != 0
  assert "learnin_rate" in out.stderr


def test_sweep_print_only_and_run(tfds_dir, tmp_path):
  out = subprocess.run(
      [sys.executable, "-m", "experiments.sweep", "--config=deepsea:tiny",
       f"--workdir={tmp_path}", "--print_only"], cwd=REPO, env=subprocess_env(),
      capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  lines = out.stdout.strip().splitlines()
  assert len(lines) == 3
  assert all(l.startswith("python -m experiments.train --config=deepsea:tiny") for l in lines)
  assert "--config.optimizer.learning_rate=0.003" in lines[2]
  out = subprocess.run(
      [sys.executable, "-m", "experiments.sweep", "--config=deepsea:tiny",
       f"--workdir={tmp_path}", f"--config.dataset.data_dir={tfds_dir}",
       "--config.num_train_steps=4", "--config.eval_every_steps=0",
       "--config.checkpoint_every_steps=0", "--config.final_eval_splits=()"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-2000:]
  summary = (tmp_path / "summary.tsv").read_text().splitlines()
  assert summary[0].startswith("trial\t") and "valid/auroc" in summary[0]
  assert len(summary) == 4
