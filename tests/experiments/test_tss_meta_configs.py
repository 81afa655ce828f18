"""deerect_tss and protonet_motifs: every variant builds its model, task and optimizer;
the meta variants' settings are valid and their outer optimizer is Reptile's exact
interpolation (plain SGD, no momentum, clipping or decay)."""

import pytest

from experiments import configs
from genereg_jax.train import meta
from genereg_jax.train import optim
from genereg_jax.train import trainer

VARIANTS = [f"deerect_tss{v}" for v in ("", ":tiny", ":reptile", ":tiny_reptile", ":real",
                                        ":real_reptile")] + [
    "protonet_motifs", "protonet_motifs:tiny"]


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_builds(name):
  config = configs.get_config(name)
  trainer.build_model(config)
  trainer.build_task(config)
  optim.make_optimizer(config.optimizer, config.num_train_steps)
  if config.get("meta"):
    meta.settings(config)
  if "reptile" in name:
    o = config.optimizer
    assert (o.name, o.momentum, o.clip_norm, o.weight_decay, o.warmup_steps) == (
        "sgd", 0.0, 0.0, 0.0, 0)
