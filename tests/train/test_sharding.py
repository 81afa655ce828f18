"""8 fake CPU devices on a 4×2 mesh give the loss trajectory of 1 device."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from conftest import subprocess_env

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    from experiments import configs
    from genereg_jax.train import trainer
    config = configs.get_config("deepsea:tiny")
    config.dataset.data_dir = sys.argv[1]
    config.num_train_steps = 6
    config.log_every_steps = 1
    config.eval_every_steps = 0
    config.checkpoint_every_steps = 0
    config.eval_splits = ()
    config.final_eval_splits = ("valid",)
    config.mesh_shape = tuple(json.loads(sys.argv[3]))
    # Conv filters and hidden units are sharded over "model" (13 output tracks are
    # not divisible by 2, so they stay replicated).
    config.logical_axis_rules = (("batch", "data"), ("mlp", "model"), ("conv_out", "model"))
    final = trainer.train_and_evaluate(config, sys.argv[2])
    print(json.dumps({"devices": jax.device_count(), "auroc": final["valid"]["auroc"]}))
""")


def _run(tfds_dir, workdir, mesh, devices):
  env = subprocess_env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                       JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", SCRIPT, tfds_dir, workdir, json.dumps(mesh)],
                       env=env, capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  summary = json.loads(out.stdout.strip().splitlines()[-1])
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    losses = [json.loads(l)["loss"] for l in f if '"train"' in l]
  return summary, losses


def test_mesh_4x2_matches_single_device(tfds_dir, tmp_path):
  one, one_losses = _run(tfds_dir, str(tmp_path / "one"), [1, 1], 1)
  eight, eight_losses = _run(tfds_dir, str(tmp_path / "eight"), [4, 2], 8)
  assert one["devices"] == 1 and eight["devices"] == 8
  assert len(one_losses) == 6
  np.testing.assert_allclose(eight_losses, one_losses, rtol=1e-4)
  np.testing.assert_allclose(eight["auroc"], one["auroc"], atol=1e-4)


ENFORMER_SCRIPT = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    import flax.linen as nn
    from genereg_jax.models import get_model
    from genereg_jax.train import partitioning
    model = get_model("enformer", "tiny", dict(heads=4, output_heads={"human": 8, "mouse": 4}))
    x = jax.random.bernoulli(jax.random.key(0), 0.25, (4, 256, 4)).astype(jnp.float32)
    boxed = model.init(jax.random.key(1), x)
    variables = nn.meta.unbox(boxed)

    def loss(v, x):
      out = model.apply(v, x)
      return sum(jnp.mean(o ** 2) for o in out.values()), out

    (ref_loss, ref_out), ref_grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(variables, x)
    mesh = partitioning.make_mesh((2, 4))
    rules = [("batch", "data"), ("heads", "model"), ("mlp", "model"), ("tracks", "model")]
    shardings = partitioning.logical_shardings(boxed, mesh, rules)
    sharded = jax.device_put(variables, shardings)
    xs = jax.device_put(x, partitioning.batch_sharding(mesh))
    step = jax.jit(jax.value_and_grad(loss, has_aux=True), in_shardings=(shardings, partitioning.batch_sharding(mesh)))
    (s_loss, s_out), s_grads = step(sharded, xs)
    specs = [str(s.spec) for s in jax.tree.leaves(shardings)]
    assert any("model" in s for s in specs), specs
    assert s_out["human"].sharding.spec[-1] == "model", s_out["human"].sharding
    diff = lambda a, b: max(float(jnp.max(jnp.abs(jnp.asarray(p) - jnp.asarray(q))))
                            for p, q in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    print("DIFF", diff(ref_out, s_out), diff(ref_grads, s_grads), float(ref_loss - s_loss),
          sum("model" in s for s in specs))
""")


def test_enformer_sharded_outputs_and_gradients_equal_unsharded():
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=8",
                       JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", ENFORMER_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  line = [l for l in out.stdout.splitlines() if l.startswith("DIFF")][-1]
  output_diff, grad_diff, loss_diff, sharded_params = map(float, line.split()[1:])
  assert output_diff < 1e-5 and grad_diff < 1e-5 and abs(loss_diff) < 1e-6, line
  assert sharded_params >= 10
