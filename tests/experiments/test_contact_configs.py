"""akita and orca_1mb configs: every variant builds, and each model's map geometry is the
geometry of the dataset it reads (synthetic_contacts configs, hic_maps defaults)."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

from data_builders.hic_maps import hic_maps
from data_builders.synthetic_contacts import synthetic_contacts
from experiments import configs
from genereg_jax.train import trainer

SYNTHETIC = {c.name: c for c in synthetic_contacts.BUILDER_CONFIGS}


def _output_shape(config, seq_length):
  model = trainer.build_model(config)
  x = jnp.zeros((1, seq_length, 4))
  out = jax.eval_shape(lambda: model.init_with_output(jax.random.key(0), x)[0])
  return model, out


@pytest.mark.parametrize("name", ["akita", "akita:tiny", "orca_1mb", "orca_1mb:tiny"])
def test_synthetic_variants_match_synthetic_contacts(name):
  config = configs.get_config(name)
  dataset = SYNTHETIC[config.dataset.name.split("/")[1]]
  assert config.dataset.build_if_missing and config.task_name == "contact_map"
  assert config.task.head == "human" and config.augment.reverse_complement
  model, out = _output_shape(config, dataset.seq_length)
  assert model.output_stride == dataset.bin_size
  assert model.crop_bins == dataset.crop_bins
  assert model.diagonal_offset == dataset.diagonal_offset
  assert out["human"].shape == (1, dataset.n_pairs, len(dataset.targets))


def test_akita_real_is_the_released_model_on_hic_maps_defaults():
  config = configs.get_config("akita:real")
  defaults = {f.name: f.default for f in dataclasses.fields(hic_maps.HicMapsConfig)}
  assert config.dataset.name.startswith("hic_maps/") and not config.dataset.build_if_missing
  assert (config.optimizer.name, config.optimizer.learning_rate,
          config.optimizer.momentum, config.optimizer.clip_norm,
          config.batch_size) == ("sgd", 0.0065, 0.99575, 10.0, 2)
  model, out = _output_shape(config, defaults["seq_length"])
  assert model.output_stride == defaults["resolution"]
  assert (model.crop_bins, model.diagonal_offset) == (defaults["crop_bins"],
                                                      defaults["diagonal_offset"])
  assert out["human"].shape == (1, 99_681, 5)


def test_akita_human_mouse_alternates_species_heads():
  config = configs.get_config("akita:human_mouse")
  assert config.species == ("human", "mouse")
  assert trainer.dataset_name(config, "mouse") == "hic_maps/akita_mouse"
  assert trainer.build_task(config, "mouse").head == "mouse"
  assert set(trainer.build_model(config).output_heads) == {"human", "mouse"}


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="synthetic, tiny, real"):
    configs.get_config("akita:huge")
  with pytest.raises(ValueError, match="synthetic, tiny"):
    configs.get_config("orca_1mb:real")
