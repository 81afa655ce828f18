"""Pretraining configs build, and the tiny DNABERT one trains and evaluates end to end."""

import pytest

from experiments import configs
from genereg_jax.train import trainer

CONFIGS = {"dnabert_pretrain": ("default", "k=3", "k=4", "k=5", "k=6", "tiny", "small"),
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
