"""``deerect_polya``, ``leung_pas`` and ``deerect_apa`` configs: every variant's model
matches its dataset's records and task; real-data variants never build on first use;
each ``:tiny`` trains end to end with the shared trainer well above chance."""

import importlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.train import trainer

VARIANTS = {
    "deerect_polya": ["", ":human", ":mouse", ":tiny", ":real_human", ":real_mouse",
                      ":real_polyasite"],
    "leung_pas": ["", ":tiny", ":real"],
    "deerect_apa": ["", ":tiny", ":real"],
}


def _info(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  builder = tfds.builder(name, data_dir="/nonexistent")
  return builder.builder_config, builder._info().features  # pylint: disable=protected-access


@pytest.mark.parametrize("config_name, variant",
                         [(c, v) for c, vs in VARIANTS.items() for v in vs])
def test_model_matches_dataset_records(config_name, variant):
  config = configs.get_config(config_name + variant)
  assert config.dataset.build_if_missing == (":real" not in variant)
  _, features = _info(config.dataset.name)
  model = trainer.build_model(config)
  task = trainer.build_task(config)
  inputs = {k: jax.ShapeDtypeStruct((2, *features[k].shape), jnp.float32)
            for k in config.model_inputs}
  out = jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), **i)[0], inputs)
  if config.task_name == "pas_usage":
    assert set(task.target_keys) == {"usage", "pas_mask"}
    assert out.shape == (2, *features["usage"].shape)
  else:
    assert out.shape == (2, *task.output_shape(features["label"].shape))


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="human, mouse, tiny"):
    configs.get_config("deerect_polya:rat")


def _train(tmp_path, name, steps, learning_rate=None, schedule=None, **overrides):
  config = configs.get_config(name)
  config.optimizer.warmup_steps = min(config.optimizer.warmup_steps, 20)
  if schedule:
    config.optimizer.schedule = schedule
  if learning_rate:
    config.optimizer.learning_rate = learning_rate
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.num_train_steps = steps
  config.log_every_steps = steps // 4
  config.eval_every_steps = steps
  config.checkpoint_every_steps = steps
  config.final_eval_splits = ()
  for key, value in overrides.items():
    config[key] = value
  final = trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  lines = [json.loads(l) for l in (tmp_path / "workdir" / "metrics.jsonl").open()]
  losses = [l["loss"] for l in lines if l["split"] == "train"]
  return final["valid"], losses


def test_deerect_polya_tiny_trains(tmp_path):
  # The loss sits near log 2 until the downstream element is found (~200 steps at 1e-3),
  # then falls fast: a constant rate, not a decay over the short run.
  valid, losses = _train(tmp_path, "deerect_polya:tiny", 500, schedule="constant")
  # Balanced classes: chance accuracy 0.5, AUROC 0.5.
  assert np.mean(losses[-2:]) < 0.8 * losses[0], losses
  assert valid["accuracy"] > 0.75 and valid["auroc"] > 0.8, valid


def test_leung_pas_tiny_trains(tmp_path):
  valid, losses = _train(tmp_path, "leung_pas:tiny", 200, learning_rate=3e-3, batch_size=32)
  # Chance: accuracy max(r, 1 - r) of the positive rate r, AUROC 0.5.
  assert valid["auroc"] > 0.65, valid
  assert valid["accuracy"] > max(valid["positive_rate"], 1 - valid["positive_rate"]), valid


def test_deerect_apa_tiny_trains(tmp_path):
  valid, losses = _train(tmp_path, "deerect_apa:tiny", 150)
  assert np.mean(losses[-2:]) < losses[0], losses
  # Chance: uniform predictions give Pearson NaN/0 and top-PAS accuracy ~ 1 / 3.
  assert valid["usage_pearson"] > 0.3 and valid["top_pas_accuracy"] > 0.45, valid


def _real_run(tmp_path, name, manual_dir, **overrides):
  config = configs.get_config(name)
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.dataset.manual_dir = str(manual_dir)
  config.dataset.build_if_missing = True  # Build the few records below on first use.
  config.num_train_steps = 3
  config.log_every_steps = 1
  config.eval_every_steps = 0
  config.checkpoint_every_steps = 3
  config.eval_splits = ()
  config.final_eval_splits = ()
  config.best_metric = None
  for key, value in overrides.items():
    config[key] = value
  trainer.train_and_evaluate(config, str(tmp_path / "workdir"))
  lines = [json.loads(l) for l in (tmp_path / "workdir" / "metrics.jsonl").open()]
  return [l["loss"] for l in lines if l["split"] == "train"]


def test_real_variants_train_on_upstream_layouts(tmp_path):
  rng = np.random.default_rng(0)
  dragon = tmp_path / "dragon"
  for fold in (1, 2, 3):
    for kind, name in (("positive5fold", "AATAAA"), ("negatives5fold", "negAATAAA")):
      (dragon / kind).mkdir(parents=True, exist_ok=True)
      lines = ["".join(rng.choice(list("ACGT"), 100)) + "AATAAA" +
               "".join(rng.choice(list("ACGT"), 100)) for _ in range(4)]
      (dragon / kind / f"{name}_fold_{fold}.txt").write_text("\n".join(lines) + "\n")
  losses = _real_run(tmp_path / "polya", "deerect_polya:real_human", dragon, batch_size=8)
  assert len(losses) == 3 and np.isfinite(losses).all()

  apa = tmp_path / "apa"
  apa.mkdir()
  genes = [f"ENSMUSG{i:05d}.1" for i in range(12)]
  usage = ["BL\tSP"] + [f"{g}:{p}\t{u:.3f}\t{u:.3f}" for g in genes
                        for p, u in ((1, 0.7), (2, 0.3))]
  (apa / "parental.pAs.usage.txt").write_text("\n".join(usage) + "\n")
  sequences = ["sequence"] + [f"{g}:{p}\t" + "".join(rng.choice(list("ACGT"), 440))
                              for g in genes for p in (1, 2)]
  (apa / "bl.pAs.sequence.txt").write_text("\n".join(sequences) + "\n")
  losses = _real_run(tmp_path / "apa_sets", "deerect_apa:real", apa, batch_size=4)
  assert len(losses) == 3 and np.isfinite(losses).all()
  losses = _real_run(tmp_path / "apa_pairs", "leung_pas:real", apa, batch_size=4)
  assert len(losses) == 3 and np.isfinite(losses).all()
