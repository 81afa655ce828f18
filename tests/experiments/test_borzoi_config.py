"""``borzoi_human_mouse`` configs: the paper's recipe, models that fit their data, and
one train step of ``:tiny`` through the trainer's Experiment (no dataset built).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_builders.synthetic_coverage import synthetic_coverage as sc
from experiments import configs
from experiments.configs import borzoi_human_mouse
from genereg_jax.train import optim
from genereg_jax.train import partitioning
from genereg_jax.train import trainer


def test_real_variant_is_the_papers_recipe():
  config = configs.get_config("borzoi_human_mouse")
  assert (config.model_name, config.model_preset) == ("borzoi", "paper")
  assert config.model.output_heads.to_dict() == {"human": 7611, "mouse": 2608}
  assert (config.task.objective, config.task.total_weight) == ("poisson_multinomial", 0.2)
  opt = config.optimizer
  assert (opt.learning_rate, opt.warmup_steps, opt.clip_norm) == (6e-5, 20_000, 0.15)
  assert (config.augment.reverse_complement, config.augment.max_shift) == (True, 3)
  assert [trainer.dataset_name(config, h) for h in trainer.heads(config)] == [
      "borzoi_data/human", "borzoi_data/mouse"]
  for head in trainer.heads(config):
    assert trainer.build_task(config, head).objective == "poisson_multinomial"
  optim.make_optimizer(config.optimizer, config.num_train_steps)
  with pytest.raises(ValueError, match="real, synthetic, tiny"):
    configs.get_config("borzoi_human_mouse:huge")


@pytest.mark.parametrize("variant", ["synthetic", "tiny"])
def test_models_fit_the_synthetic_datasets(variant):
  config = configs.get_config(f"borzoi_human_mouse:{variant}")
  builds = {c.name: c for c in sc.BUILDER_CONFIGS}
  model = trainer.build_model(config)
  data = {s: builds[config.dataset.name.format(species=s).split("/")[1]]
          for s in config.species}
  x = jax.ShapeDtypeStruct((2, data["human"].seq_length, 4), jnp.float32)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  for species, build in data.items():
    assert model.output_stride == build.pool_width == 32
    assert out[species].shape == (2, build.target_length, len(build.tracks))


def test_tiny_train_step():
  """One step of the human head (each head is its own jitted step; the mouse one
  compiles the same model again)."""
  config = configs.get_config("borzoi_human_mouse:tiny")
  config.batch_size = 2
  rng = np.random.default_rng(0)
  batch = {"sequence": np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (2, 2048))],
           "target": rng.poisson(2.0, (2, 48, 6)).astype(np.float16)}
  experiment = trainer.Experiment(config, partitioning.make_mesh((1, 1), jax.devices()[:1]))
  state, shardings, _ = experiment.create_state({k: v[0] for k, v in batch.items()})
  step = experiment.jit_train_steps(shardings)["human"]
  state, metrics = step(state, partitioning.global_batch(batch, experiment.mesh))
  assert np.isfinite(float(metrics["loss"])) and float(metrics["grad_norm"]) > 0
  assert int(state.step) == 1
