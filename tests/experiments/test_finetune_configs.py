"""``dnabert_finetune`` configs: every task x mode fits its dataset; a LoRA run on a saved
base stores the base by reference, restores it, refuses another base and exports merged
weights."""

import importlib
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
import tensorflow_datasets as tfds

from experiments import configs
from genereg_jax.models import language
from genereg_jax.nn import adapters
from genereg_jax.train import finetune
from genereg_jax.train import trainer


def _features(name):
  importlib.import_module(f"data_builders.{name.split('/')[0]}")  # Registers it.
  builder = tfds.builder(name, data_dir="/nonexistent")
  return builder._info().features  # pylint: disable=protected-access


@pytest.mark.parametrize("variant", ["tiny,rotary", "tiny64,dora", "splice,tiny,lora",
                                     "promoter,tiny,ia3", "tfbs,frozen",
                                     "splice,scratch,n=100"])
def test_model_matches_dataset_records(variant):
  config = configs.get_config(f"dnabert_finetune:{variant}")
  features = _features(config.dataset.name)
  model, task = trainer.build_model(config), trainer.build_task(config)
  assert isinstance(model, adapters.Adapted) == any(
      m in variant for m in ("lora", "dora", "ia3"))
  assert config.base_by_reference == any(
      m in variant for m in ("lora", "dora", "ia3", "frozen"))
  assert bool(config.init_from) == ("scratch" not in variant)
  inputs = {k: jax.ShapeDtypeStruct((2, *features[k].shape), jnp.float32)
            for k in config.model_inputs}
  out = jax.eval_shape(lambda i: model.init_with_output(jax.random.key(0), **i)[0], inputs)
  label = task.target_keys[0]
  assert out.shape == (2, *task.output_shape(features[label].shape))
  with pytest.raises(ValueError, match="unknown variant 'rat'"):
    configs.get_config("dnabert_finetune:tiny,rat")


@pytest.mark.parametrize("variant,share", [("tiny64,lora,all", 0.0547),
                                           ("tiny128,lora,all", 0.0414),
                                           ("tiny128,dora,all", 0.0474)])
def test_all_layer_adapter_shares(variant, share):
  """``all`` adapts every encoder Dense layer and trains the LayerNorms; the trained
  shares README "Sixth proof" states (under 5% on the 2 x 128 encoder; the 2 x 64 one's
  640 LayerNorm parameters take it to 5.5%)."""
  config = configs.get_config(f"dnabert_finetune:{variant}")
  experiment = trainer.Experiment(config)
  example = {"sequence": np.zeros((200, 4), np.float32), "label": np.zeros(13, np.float32)}
  params = flax.linen.meta.unbox(
      jax.eval_shape(experiment.init_fn(example), jax.random.key(0)).params)
  labels = flax.traverse_util.flatten_dict(finetune.parameter_labels(config, params), sep="/")
  sizes = {k: int(np.prod(v.shape))
           for k, v in flax.traverse_util.flatten_dict(params, sep="/").items()}
  trained = {k for k, label in labels.items() if label == "train"}
  adapted = {k.rsplit("/", 1)[0] for k in trained if adapters.is_adapter_path(k)}
  assert len(adapted) == 2 * 6  # q, k, v, output, mlp_in, mlp_out in both layers.
  assert any("_norm/" in k for k in trained)
  assert sum(sizes[k] for k in trained) / sum(sizes.values()) == pytest.approx(share, abs=1e-4)
  with pytest.raises(ValueError, match="needs mode lora or dora"):
    configs.get_config("dnabert_finetune:tiny128,full,all")


def _base(path, seed):
  """A dnabert_pretrain:tiny-shaped model (256 positions, MLM head) saved to ``path``."""
  model = language.language_model("dnabert_tiny", max_position_embeddings=256)
  variables = flax.linen.meta.unbox(
      jax.jit(model.init)(jax.random.key(seed), jnp.zeros((1, 8), jnp.int32)))
  finetune.save_variables(str(path), variables)
  return flax.traverse_util.flatten_dict(jax.device_get(variables["params"]), sep="/")


@pytest.mark.parametrize("mode", ["lora", "dora"])
def test_adapter_checkpoint_by_reference(mode, tmp_path, tfds_dir):
  base = _base(tmp_path / "base.npz", seed=0)
  config = configs.get_config(f"dnabert_finetune:tiny,{mode},n=64")
  config.init_from_kwargs.path = str(tmp_path / "base.npz")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  config.update(num_train_steps=2, log_every_steps=1, eval_every_steps=0,
                checkpoint_every_steps=2, eval_splits=(), final_eval_splits=(),
                best_metric=None)
  config.optimizer.warmup_steps = 0
  workdir = str(tmp_path / "workdir")
  trainer.train_and_evaluate(config, workdir)

  # The checkpoint holds only adapter leaves and the head.
  stored = ocp.StandardCheckpointer().metadata(
      os.path.join(workdir, "checkpoints", "2", "state")).item_metadata["params"]
  names = set(flax.traverse_util.flatten_dict(stored, sep="/"))
  assert names and all(adapters.is_adapter_path(n) or n.startswith(("classifier/", "pooler/"))
                       for n in names), names

  # Restoring reloads the base through init_from; the export folds the adapters into the
  # kernels:
  # un-adapted kernels equal the base's, adapted ones moved, no adapter leaves remain.
  merged = finetune.export_merged(config, workdir, str(tmp_path / "merged.npz"))
  params = flax.traverse_util.flatten_dict(merged["params"], sep="/")
  assert not any(adapters.is_adapter_path(k) for k in params)
  layer = "encoder/layer_0/attention"
  np.testing.assert_array_equal(params[f"{layer}/key/kernel"], base[f"{layer}/key/kernel"])
  assert np.abs(params[f"{layer}/query/kernel"] - base[f"{layer}/query/kernel"]).max() > 0
  reloaded = flax.traverse_util.flatten_dict(
      finetune.load_base(str(tmp_path / "merged.npz"))["params"], sep="/")
  assert reloaded.keys() == params.keys()

  _base(tmp_path / "base.npz", seed=1)  # Another base at the same path.
  with pytest.raises(finetune.BaseMismatchError, match="fingerprint"):
    trainer.restore_for_eval(config, workdir)


def test_full_finetuning_starts_from_the_base_and_trains_it(tmp_path, tfds_dir):
  """The pretrained path is connected: after ``init_from`` every encoder parameter is
  the base's (only the new head is fresh), and a step of full fine-tuning moves them."""
  base = _base(tmp_path / "base.npz", seed=3)
  config = configs.get_config("dnabert_finetune:tiny,n=64")
  config.init_from_kwargs.path = str(tmp_path / "base.npz")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  config.optimizer.warmup_steps = 0
  experiment = trainer.Experiment(config)
  source = trainer.load_split(config, config.train_split)
  state, shardings, _ = experiment.create_state(source[0])
  params = flax.traverse_util.flatten_dict(jax.device_get(state.params), sep="/")
  encoder = {k for k in base if not k.startswith("lm_head/")}
  assert encoder < set(params)
  assert all(k.startswith(("classifier/", "pooler/")) for k in set(params) - encoder)
  for key in encoder:
    np.testing.assert_array_equal(params[key], base[key], err_msg=key)
  batch = {k: np.stack([source[i][k] for i in range(config.batch_size)])
           for k in (*config.model_inputs, "label")}
  state, _ = experiment.jit_train_steps(shardings)[None](state, batch)
  moved = flax.traverse_util.flatten_dict(jax.device_get(state.params), sep="/")
  assert all(np.abs(moved[k] - base[k]).max() > 0 for k in encoder
             if k.startswith("encoder/") and k.endswith("kernel"))


def test_learning_rate_multipliers_scale_the_matching_updates():
  import ml_collections
  from genereg_jax.train import optim
  config = ml_collections.ConfigDict(dict(
      name="sgd", learning_rate=1.0, schedule="constant", warmup_steps=0,
      learning_rate_multipliers=(("^classifier/", 10.0), ("classifier", 3.0))))
  tx, _ = optim.make_optimizer(config, 10)
  params = {"classifier": {"kernel": jnp.ones(2)}, "encoder": {"kernel": jnp.ones(2)}}
  updates, _ = tx.update(jax.tree.map(jnp.ones_like, params), tx.init(params), params)
  np.testing.assert_allclose(updates["classifier"]["kernel"], -10.0)  # The first match.
  np.testing.assert_allclose(updates["encoder"]["kernel"], -1.0)


def test_evaluation_refuses_another_adapter_setup(tmp_path):
  from genereg_jax.train import workdir as workdir_lib
  lora = configs.get_config("dnabert_finetune:tiny,lora")
  workdir_lib.write_config(str(tmp_path), lora)
  workdir_lib.check_same_config(str(tmp_path), lora, fields=workdir_lib.MODEL_FIELDS)
  with pytest.raises(workdir_lib.WorkdirError, match="adapters.kind"):
    workdir_lib.check_same_config(str(tmp_path), configs.get_config("dnabert_finetune:tiny,ia3"),
                                  what="evaluate", fields=workdir_lib.MODEL_FIELDS)
