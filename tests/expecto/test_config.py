"""experiments/configs/expecto.py: Beluga through the shared trainer builds at both sizes."""

import jax
import jax.numpy as jnp
import pytest

from experiments import configs


@pytest.mark.parametrize("name,length", [("expecto", 1000), ("expecto:tiny", 200)])
def test_config_builds_beluga_task_and_optimizer(name, length):
  from genereg_jax.train import optim
  from genereg_jax.train import trainer
  config = configs.get_config(name)
  assert config.model_name == "beluga"
  model = trainer.build_model(config)
  out = jax.eval_shape(lambda: model.init_with_output(jax.random.key(0),
                                                      jnp.zeros((2, length, 4)))[0])
  assert out.shape == (2, config.model.num_outputs)
  trainer.build_task(config, trainer.heads(config)[0])
  optim.make_optimizer(config.optimizer, config.num_train_steps)
  with pytest.raises(ValueError, match="tiny"):
    configs.get_config("expecto:huge")
