"""``enformer_human_mouse`` configs: variants resolve, the synthetic models fit their data,
and ``:synthetic_local`` is the same recipe with a short (646 bp) conv-only window.

No training here: the measured runs are in the config's docstring and README.md.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from data_builders.synthetic_coverage import synthetic_coverage as sc
from experiments import configs
from experiments.configs import enformer_human_mouse
from genereg_jax.train import trainer


@pytest.mark.parametrize("variant", enformer_human_mouse.VARIANTS)
def test_variants_resolve(variant):
  # Model, tasks and optimizer of every variant are built in test_entry_points.py.
  config = configs.get_config(f"enformer_human_mouse:{variant}")
  assert config.model_name == "enformer"
  assert config.species == ("human", "mouse")


def test_unknown_variant_lists_the_valid_ones():
  with pytest.raises(ValueError, match="real, synthetic, synthetic_local, synthetic_warm, tiny"):
    configs.get_config("enformer_human_mouse:huge")


def test_local_variant_differs_only_in_the_transformer_depth():
  long = configs.get_config("enformer_human_mouse:synthetic").to_dict()
  local = configs.get_config("enformer_human_mouse:synthetic_local").to_dict()
  assert long["model"].pop("depth") == 2
  assert local["model"].pop("depth") == 0
  assert long == local


def test_warm_variant_is_the_long_model_started_from_a_local_workdir():
  long = configs.get_config("enformer_human_mouse:synthetic").to_dict()
  warm = configs.get_config("enformer_human_mouse:synthetic_warm").to_dict()
  assert warm["model"].pop("identity_init") and not long["model"].pop("identity_init")
  assert warm.pop("init_from") == "genereg_jax.train.finetune:load_base"
  assert warm.pop("init_from_keep") == ("^transformer_",)
  assert set(warm.pop("init_from_kwargs")) == {"path", "step"}
  assert long == warm


@pytest.mark.parametrize("variant", ["synthetic", "synthetic_local"])
def test_synthetic_models_fit_the_dataset(variant):
  config = configs.get_config(f"enformer_human_mouse:{variant}")
  builds = {c.name: c for c in sc.SyntheticCoverage.BUILDER_CONFIGS}
  model = trainer.build_model(config)
  x = jax.ShapeDtypeStruct((2, builds["human"].seq_length, 4), jnp.float32)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.key(0), x)[0], x)
  for species in config.species:
    data = builds[f"{species}_distal"]
    assert config.dataset.name.format(species=species) == f"synthetic_coverage/{species}_distal"
    assert model.output_stride == data.pool_width
    assert out[species].shape == (2, data.target_length, len(data.tracks))


def _input_support(model, length, bin_index):
  """Input positions with a nonzero gradient of one output bin (all tracks summed)."""
  x = jax.random.uniform(jax.random.key(1), (1, length, 4))

  # One jit each for init+perturb and for the gradient: run eagerly, every parameter
  # shape compiles its own random initializer and every layer its own kernels.
  @jax.jit
  def init(x):
    variables = model.init(jax.random.key(0), x)
    # Attention output projections start at zero (as in enformer-pytorch), which would
    # hide the transformer's reach: perturb every parameter.
    leaves, tree = jax.tree.flatten(variables["params"])
    keys = jax.random.split(jax.random.key(2), len(leaves))
    return {**variables, "params": jax.tree.unflatten(tree, [
        leaf + 0.1 * jax.random.normal(k, leaf.shape) for leaf, k in zip(leaves, keys)])}

  variables = init(x)

  def bin_sum(x, variables):  # Variables as an argument: not baked into the HLO.
    outputs = model.apply(variables, x)
    return sum(o[0, bin_index].sum() for o in outputs.values())

  grad = np.abs(np.asarray(jax.jit(jax.grad(bin_sum))(x, variables))[0]).sum(-1)
  return np.flatnonzero(grad > 0), variables


def test_local_model_has_no_transformer_and_the_stated_receptive_field():
  config = configs.get_config("enformer_human_mouse:synthetic_local")
  # Keep every bin of a short input; the window does not depend on the length.
  model = trainer.build_model(config).clone(target_length=None)
  stride, bin_index = model.output_stride, 12
  support, variables = _input_support(model, 24 * stride, bin_index)
  assert not any(k.startswith("transformer_") for k in variables["params"])
  field = enformer_human_mouse.conv_receptive_field_bp(config.model.num_downsamples)
  assert field == 646
  margin = (field - stride) // 2
  np.testing.assert_array_equal(
      support, np.arange(bin_index * stride - margin, (bin_index + 1) * stride + margin))


def test_long_model_sees_the_whole_sequence():
  config = configs.get_config("enformer_human_mouse:synthetic")
  model = trainer.build_model(config).clone(target_length=None)
  length = 24 * model.output_stride
  support, variables = _input_support(model, length, 12)
  assert {"transformer_0", "transformer_1"} <= set(variables["params"])
  np.testing.assert_array_equal(support, np.arange(length))
