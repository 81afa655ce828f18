"""Pretraining configs build, and the tiny DNABERT one trains and evaluates end to end."""

import pytest

from experiments import configs
from genereg_jax.train import trainer

CONFIGS = {"dnabert_pretrain": ("default", "k=3", "k=4", "k=5", "k=6", "tiny", "tiny64",
                                 "tiny128", "small"),
           "esm_pretrain": ("default", "esm1b", "esm2_650m", "esm2_8m", "small", "tiny"),
           "msa_transformer_pretrain": ("default", "tiny")}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_variants_build(name):
  for variant in CONFIGS[name]:
    config = configs.get_config(f"{name}:{variant}")
    assert config.task_name == "mlm" and config.dataset.stream
  dnabert = configs.get_config("dnabert_pretrain:k=4")
  assert dnabert.dataset.k == 4 and dnabert.model.vocab_size == 4**4 + 5
  assert configs.get_config("esm_pretrain").model.num_layers == 33  # the 650M preset
  with pytest.raises(ValueError, match="valid"):
    configs.get_config(f"{name}:nope")


@pytest.mark.parametrize("variant,width", [("tiny64", 64), ("tiny128", 128)])
def test_dnabert_wide_tiny_is_the_measured_recipe(variant, width):
  """``:tiny64`` / ``:tiny128`` are ``:tiny`` with the overrides of the command that
  pretrained README "Fifth proof"'s base (at its width)."""
  named = configs.get_config(f"dnabert_pretrain:{variant}")
  spelt = configs.get_config("dnabert_pretrain:tiny")
  spelt.model.update(hidden_size=width, intermediate_size=2 * width,
                     position_embedding_type="rotary",
                     dropout_rate=0.0, attention_dropout_rate=0.0, embedding_dropout_rate=0.0,
                     max_position_embeddings=256)
  spelt.dataset.update(max_tokens=128, eval_records=1024)
  spelt.optimizer.learning_rate = 3e-3
  spelt.update(batch_size=32, num_train_steps=4000, eval_every_steps=1000)
  named.model_preset = spelt.model_preset
  assert named.to_dict() == spelt.to_dict()
  finetune = configs.get_config(f"dnabert_finetune:{variant}")
  for field in ("hidden_size", "intermediate_size", "num_layers", "num_heads",
                "position_embedding_type"):
    assert finetune.model[field] == named.model[field], field


def test_dnabert_tiny_trains_and_evaluates(tmp_path):
  config = configs.get_config("dnabert_pretrain:tiny")
  config.dataset.data_dir = str(tmp_path / "data")
  config.dataset.eval_records = 16
  config.batch_size = config.eval_batch_size = 8
  config.num_train_steps = 2
  config.eval_every_steps = config.checkpoint_every_steps = 0
  config.final_eval_splits = ("test",)
  final = trainer.train_and_evaluate(config, str(tmp_path / "work"))
  for split in ("valid", "test"):
    assert set(final[split]) >= {"accuracy", "perplexity", "masked_nll", "loss"}
    assert final[split]["masked_tokens"] > 0
    assert final[split]["masked_nll"] == pytest.approx(final[split]["loss"], rel=1e-4)
