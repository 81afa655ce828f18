"""Akita (genereg_jax.models.akita): the released model's size, geometry, training, sharding.

The parameter count is the released model's: calico/basenji
``manuscripts/akita/keras_print.txt`` (the Keras summary of ``params.json``) ends with
"Trainable params: 746,149 / Non-trainable params: 5,504" (Total 751,653). From
``params.json``: stem 4x11x96 = 4,224; 10 tower convs 96x5x96 = 46,080 each; 8 residual
blocks 96x3x48 + 48x96 = 18,432 each; reduce 96x5x64 = 30,720; 2-D 65x3x3x48 = 28,080;
6 residual 2-D blocks 48x3x3x24 + 24x48 = 11,520 each; dense 48x5 + 5 = 245 (no conv
biases: every convolution is followed by batch norm); batch-norm scale/offset
2 x (96 x 11 + (48 + 96) x 8 + 64 + 48 + (24 + 48) x 6) = 5,504 trainable, and as many
running statistics.
"""

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
from genereg_jax.models import akita
from genereg_jax.nn import conv2d
from genereg_jax.tasks import contact_map


def _count(tree) -> int:
  return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(tree))


def test_paper_parameter_count_and_geometry():
  model = akita.akita("paper")
  x = jnp.zeros((1, akita.SEQUENCE_LENGTH, 4))
  variables = nn.meta.unbox(jax.eval_shape(lambda: model.init(jax.random.key(0), x)))
  convs = 4 * 11 * 96 + 10 * 96 * 5 * 96 + 8 * (96 * 3 * 48 + 48 * 96) + 96 * 5 * 64
  convs += 65 * 9 * 48 + 6 * (48 * 9 * 24 + 24 * 48) + 48 * 5 + 5
  norms = 2 * (96 * 11 + (48 + 96) * 8 + 64 + 48 + (24 + 48) * 6)
  assert convs + norms == 746_149
  assert _count(variables["params"]) == 746_149
  assert _count(variables["batch_stats"]) == 5_504
  params = variables["params"]
  assert params["stem"]["conv"]["kernel"].shape == (11, 4, 96)
  assert params["conv_2d"]["conv"]["kernel"].shape == (3, 3, 65, 48)
  assert params["head_human"]["kernel"].shape == (48, 5)
  out = jax.eval_shape(lambda v: model.apply(v, x), variables)
  assert out["human"].shape == (1, 99_681, 5)
  assert model.output_stride == 2048 and model.map_bins(akita.SEQUENCE_LENGTH) == 448
  assert model.dilations == [1, 2, 3, 5, 9, 16, 29, 50]
  assert len(akita.TARGET_NAMES) == 5


def test_human_mouse_heads_share_the_trunk_only():
  model = akita.akita("tiny", output_heads={"human": 2, "mouse": 3})
  x = jnp.zeros((1, 8_192, 4))
  variables = nn.meta.unbox(jax.eval_shape(lambda: model.init(jax.random.key(0), x)))
  params = variables["params"]
  assert {"human_conv_2d", "mouse_conv_2d", "human_dilated_residual_2d",
          "mouse_dilated_residual_2d", "head_human", "head_mouse", "stem"} <= set(params)
  assert "conv_2d" not in params
  out = jax.eval_shape(lambda v: model.apply(v, x), variables)
  assert out["human"].shape == (1, 351, 2) and out["mouse"].shape == (1, 351, 3)


def _random_batch(model, length, batch_size, seed=0):
  rng = np.random.default_rng(seed)
  sequence = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (batch_size, length))]
  n = model.map_bins(length)
  pairs = conv2d.num_pairs(n, model.diagonal_offset)
  targets = rng.normal(size=(batch_size, pairs, 2)).astype(np.float32)
  targets[:, ::7] = np.nan  # Filtered bins are NaN and masked.
  return {"sequence": sequence, "target": targets}


def test_tiny_forward_shapes_and_train_steps_lower_masked_mse():
  # The tiny preset with 4 tower blocks (32-bp bins) and one 1-D and one 2-D residual
  # block, on 512 bp (a 12 x 12 map): every kind of block once; the train step's compile
  # is the cost, and it grows with the number of blocks.
  model = akita.akita("tiny", num_tower_blocks=4, num_residual_blocks=1,
                      num_residual_2d_blocks=1)
  batch = _random_batch(model, 512, 2)
  # One jitted init that also runs the forward pass (an eager init compiles every
  # initialiser op on its own: minutes on 2 cores).
  out, variables = jax.jit(model.init_with_output)(jax.random.key(0), batch["sequence"])
  variables, out = nn.meta.unbox(variables), out["human"]
  assert out.shape == (2, conv2d.num_pairs(12, 2), 2) and out.dtype == jnp.float32
  assert np.isfinite(out).all() and akita.akita("tiny").map_bins(8_192) == 28
  task = contact_map.ContactMap(head="human", diagonal_offset=2)
  tx = optax.adam(3e-3)

  @jax.jit
  def step(params, batch_stats, opt_state, rng):
    def loss_fn(p):
      outputs, mutated = model.apply({"params": p, "batch_stats": batch_stats},
                                     batch["sequence"], train=True,
                                     rngs={"dropout": rng}, mutable=["batch_stats"])
      return task.loss(outputs, batch)[0], mutated["batch_stats"]
    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), stats, opt_state, loss

  params, stats = variables["params"], variables["batch_stats"]
  opt_state, losses = tx.init(params), []
  for i in range(3):
    params, stats, opt_state, loss = step(params, stats, opt_state, jax.random.key(i))
    losses.append(float(loss))
  assert np.isfinite(losses).all() and losses[-1] < losses[0], losses


def test_unknown_preset():
  with pytest.raises(KeyError, match="tiny"):
    akita.akita("huge")


SHARDING_SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    from experiments import configs
    from genereg_jax.train import partitioning, trainer
    config = configs.get_config("akita:tiny")
    config.batch_size = 4
    # Conv filters on "model" (12 and 8 are divisible by 4); 2 targets stay replicated.
    config.logical_axis_rules = (("batch", "data"), ("conv_out", "model"))
    model = trainer.build_model(config)
    rng = np.random.default_rng(0)
    length = 4096
    n = model.map_bins(length)
    pairs = (n - 2) * (n - 1) // 2
    batches = []
    for _ in range(2):
      target = rng.normal(size=(4, pairs, 2)).astype(np.float32)
      target[:, ::5] = np.nan
      batches.append({"sequence": np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (4, length))],
                      "target": target})
    def run(shape, devices):
      experiment = trainer.Experiment(config, partitioning.make_mesh(shape, devices))
      state, shardings, _ = experiment.create_state({k: v[0] for k, v in batches[0].items()})
      step = experiment.jit_train_steps(shardings)[None]
      losses = []
      for batch in batches:
        state, metrics = step(state, partitioning.global_batch(batch, experiment.mesh))
        losses.append(float(metrics["loss"]))
      specs = [str(s.spec) for s in jax.tree.leaves(shardings.params)]
      return losses, jax.device_get(state.params), jax.device_get(state.batch_stats), specs
    one = run((1, 1), jax.devices()[:1])
    eight = run((2, 4), jax.devices())
    diff = lambda a, b: max(float(np.max(np.abs(np.asarray(p) - np.asarray(q))))
                            for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    print("RESULT", jax.device_count(), max(abs(a - b) for a, b in zip(one[0], eight[0])),
          diff(one[1], eight[1]), diff(one[2], eight[2]), sum("model" in s for s in eight[3]),
          one[0][0], one[0][-1])
""")


def test_tiny_step_on_2x4_mesh_equals_single_device():
  """Akita tiny, two train steps: 8 fake devices (data 2 x model 4) == 1 device."""
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=8",
                       JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", SHARDING_SCRIPT], env=env,
                       capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][-1]
  devices, loss_diff, param_diff, stats_diff, sharded, first, last = line.split()[1:]
  assert int(devices) == 8 and int(sharded) >= 10, line
  assert float(loss_diff) < 1e-5 and float(param_diff) < 1e-5, line
  assert float(stats_diff) < 1e-5, line
  assert float(first) != float(last), line
