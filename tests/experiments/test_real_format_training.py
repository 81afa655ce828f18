"""The real-data configs train end to end from tiny files in their real formats.

``deepsea:real`` and ``danq:real`` read the DeepSEA .mat bundle (v7.3 ``train.mat``,
v5 ``valid.mat``/``test.mat``, 919 labels); ``basset:bed`` reads a FASTA and one
narrowPeak per cell type through ``data_builders.intervals``. The files come from
``tests/real_formats.py``; each config runs as published but for a tiny model, a
small batch and a few steps, with its output count set from the dataset's labels as
the builders' instructions say.
"""

import math
import os

import numpy as np
import pytest

import real_formats
from data_builders.intervals import make
from experiments import configs
from genereg_jax.data import pipeline
from genereg_jax.train import trainer

STEPS = 3
CELL_TYPES = {"k562": 3, "hepg2": 2, "gm12878": 2}  # Peaks per chromosome.


@pytest.fixture(scope="module")
def deepsea_dir(tmp_path_factory):
  """A data_dir with ``deepsea`` built from the dummy bundle."""
  root = tmp_path_factory.mktemp("deepsea_real")
  real_formats.write_deepsea_bundle(root / "manual" / "deepsea_train",
                                    np.random.default_rng(0))
  pipeline.load_builder("deepsea", str(root / "tfds"), build_if_missing=True,
                        manual_dir=str(root / "manual"))
  return str(root / "tfds")


@pytest.fixture(scope="module")
def basset_dhs_dir(tmp_path_factory):
  """A data_dir with ``intervals/basset_dhs`` built as the basset:bed config says."""
  root = tmp_path_factory.mktemp("basset_bed")
  _, beds = real_formats.write_genome_and_peaks(root, np.random.default_rng(0),
                                                CELL_TYPES)
  make.main([f"--fasta={root / 'genome.fa'}", *[f"--bed={p}" for p in beds.values()],
             "--window=600", "--valid=chr7", "--test=chr8,chr9", "--name=basset_dhs",
             f"--data_dir={root / 'tfds'}"])
  return str(root / "tfds")


def _short_run(name, data_dir):
  """``name``'s config on ``data_dir`` with a tiny model and ``STEPS`` steps."""
  config = configs.get_config(name)
  builder = pipeline.load_builder(config.dataset.name, data_dir)
  config.dataset.data_dir = data_dir
  config.model_preset = "tiny"
  config.model.num_outputs = len(builder.info.metadata["label_names"])
  config.batch_size = 8
  config.eval_batch_size = 8
  config.num_train_steps = STEPS
  config.log_every_steps = 1
  config.eval_every_steps = 0
  config.checkpoint_every_steps = 0
  return config, builder.info.metadata["label_names"]


def _train_and_check(config, label_names, workdir, monkeypatch):
  """Trains; checks the checkpoint, finite metrics and where the labels came from."""
  built, build_task = [], trainer.build_task

  def recording_build_task(*args):
    built.append(build_task(*args))
    return built[-1]

  monkeypatch.setattr(trainer, "build_task", recording_build_task)
  final = trainer.train_and_evaluate(config, workdir)
  assert str(STEPS) in os.listdir(os.path.join(workdir, "checkpoints"))
  for split in ("valid", "test"):
    assert math.isfinite(final[split]["auroc"]), (split, final[split])
    assert math.isfinite(final[split]["loss"]), (split, final[split])
    assert len(final[split]["auroc_per_label"]) == len(label_names)
  assert config.task.label_names == ()  # None in the config ...
  assert built[0].label_names == tuple(label_names)  # ... all from the dataset.


@pytest.mark.parametrize("name", ["deepsea:real", "danq:real"])
def test_mat_bundle_configs_train(name, deepsea_dir, tmp_path, monkeypatch):
  config, label_names = _short_run(name, deepsea_dir)
  assert len(label_names) == real_formats.DEEPSEA_NUM_LABELS
  assert label_names[:2] == ["Cell0|DNase|None", "Cell1|DNase|None"]
  assert config.dataset.name == "deepsea" and not config.dataset.build_if_missing
  _train_and_check(config, label_names, str(tmp_path / "run"), monkeypatch)


def test_basset_bed_trains(basset_dhs_dir, tmp_path, monkeypatch):
  config, label_names = _short_run("basset:bed", basset_dhs_dir)
  assert label_names == list(CELL_TYPES)  # One label per BED, named by its stem.
  assert config.model.num_outputs == 3  # Not the config's 164.
  _train_and_check(config, label_names, str(tmp_path / "run"), monkeypatch)
