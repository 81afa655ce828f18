"""Reptile (`genereg_jax.train.meta`): the outer step is the paper's interpolation on a toy,
settings are checked, and a meta-training run interrupted after a checkpoint resumes to
the same parameters (with few-shot and from-scratch metrics at the end)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import subprocess_env
from experiments import configs
from genereg_jax.tasks import get_task
from genereg_jax.train import checkpointing
from genereg_jax.train import meta
from genereg_jax.train import trainer


class _Toy(nn.Module):

  @nn.compact
  def __call__(self, x, train=False):
    return nn.Dense(1)(x)


def test_reptile_step_is_the_interpolation():
  model, task = _Toy(), get_task("tss_usage")
  rng = np.random.default_rng(0)
  tasks, steps, batch = 2, 3, 4
  batches = {"x": jnp.asarray(rng.normal(size=(tasks, steps, batch, 3)), jnp.float32),
             "label": jnp.asarray(rng.integers(0, 2, (tasks, steps, batch)), jnp.int32)}
  params = model.init(jax.random.key(0), batches["x"][0, 0])["params"]
  inner_lr, eps = 0.3, 0.7
  tx = optax.sgd(eps)
  state = trainer.TrainState(step=jnp.zeros((), jnp.int32), params=params, batch_stats={},
                             opt_state=tx.init(params), rng=jax.random.key(1))
  task_loss = meta.make_task_loss(model, task, ("x",))
  new_state, metrics = jax.jit(meta.make_reptile_step(
      task_loss, tx, optax.constant_schedule(eps), inner_lr))(state, batches)

  @jax.jit
  def loss(p, b):
    return task.loss(model.apply({"params": p}, b["x"]), b)[0]

  grad = jax.jit(jax.grad(loss))

  adapted = []
  for t in range(tasks):
    w = params
    for k in range(steps):
      b = jax.tree.map(lambda x: x[t, k], batches)
      w = jax.tree.map(lambda p, g: p - inner_lr * g, w, grad(w, b))
    adapted.append(w)
  mean = jax.tree.map(lambda *w: sum(w) / tasks, *adapted)
  expected = jax.tree.map(lambda p, m: p + eps * (m - p), params, mean)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
               new_state.params, expected)
  assert int(new_state.step) == 1
  first = np.mean([loss(params, jax.tree.map(lambda x: x[t, 0], batches))
                   for t in range(tasks)])
  np.testing.assert_allclose(metrics["loss"], first, rtol=1e-5)


def test_settings_and_held_out_tasks_are_checked():
  config = configs.get_config("deerect_tss:tiny_reptile")
  assert meta.settings(config).inner_steps == 5
  config.meta.wrong = 1
  with pytest.raises(ValueError, match="unknown field"):
    meta.settings(config)
  groups = {0: np.arange(3), 1: np.arange(3), 4: np.arange(3)}
  assert meta.split_tasks(groups, (-1,), "cell_type") == ([0, 1], [4])
  with pytest.raises(ValueError, match="are not cell_type values"):
    meta.split_tasks(groups, (7,), "cell_type")


# A micro Reptile run: 3 cell types (one held out), 4 outer steps of 2 tasks x 2 x 4.
MICRO_META = dict(heldout_tasks=(2,), tasks_per_step=2, inner_steps=2, inner_batch_size=4,
                  shots=4, adapt_steps=2, fewshot_repeats=1)
MICRO_FIELDS = dict(num_train_steps=4, checkpoint_every_steps=2, eval_every_steps=0,
                    final_eval_splits=(), eval_batch_size=8, log_every_steps=2)

SHARDED = textwrap.dedent("""
    import json, sys
    import jax
    from experiments import configs
    from genereg_jax.train import trainer
    config = configs.get_config("deerect_tss:tiny_reptile")
    config.dataset.name = "synthetic_tss/micro_tss"
    config.dataset.data_dir = sys.argv[1]
    config.meta.update(json.loads(sys.argv[3]))
    config.update(json.loads(sys.argv[4]))
    config.mesh_shape = (2, 1)
    config.eval_splits = ()  # The losses say it; few-shot evaluation is tested above.
    trainer.train_and_evaluate(config, sys.argv[2])
    print(json.dumps({"devices": jax.device_count()}))
""")


def _train_losses(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [json.loads(line)["loss"] for line in f if '"train"' in line]


def _config(data_dir):
  config = configs.get_config("deerect_tss:tiny_reptile")
  config.dataset.name = "synthetic_tss/micro_tss"
  config.dataset.data_dir = data_dir
  config.meta.update(MICRO_META)
  config.update(MICRO_FIELDS)
  return config


def test_resumed_meta_training_equals_uninterrupted(tmp_path):
  config = _config(str(tmp_path / "tfds"))
  workdir = str(tmp_path / "run")
  final = trainer.train_and_evaluate(config, workdir)
  assert {"fewshot/auroc", "scratch/auroc"} <= set(final["valid"])

  def params_at(step):
    experiment = meta.Reptile(config)
    _, _, abstract = experiment.create_state()
    checkpointer = checkpointing.Checkpointer(workdir, read_only=True)
    try:
      return checkpointer.restore(abstract, step=step)[0].params
    finally:
      checkpointer.close()

  straight, losses = params_at(4), _train_losses(workdir)
  shutil.rmtree(os.path.join(workdir, "checkpoints", "4"))
  resumed_final = trainer.train_and_evaluate(config, workdir)
  jax.tree.map(np.testing.assert_array_equal, params_at(4), straight)
  assert resumed_final["valid"] == final["valid"]

  # The meta-batches' batch axis split over 2 devices: the same run.
  sharded = str(tmp_path / "sharded")
  out = subprocess.run(
      [sys.executable, "-c", SHARDED, config.dataset.data_dir, sharded,
       json.dumps(MICRO_META), json.dumps(MICRO_FIELDS)],
      env=subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2",
                         JAX_PLATFORMS="cpu"), capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  assert json.loads(out.stdout.strip().splitlines()[-1])["devices"] == 2
  np.testing.assert_allclose(_train_losses(sharded), losses, rtol=1e-4)
