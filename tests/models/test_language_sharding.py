"""DNABERT MLM on the 2x4 fake-device mesh: heads and MLP split over "model", same loss."""

import json
import subprocess
import sys
import textwrap

from conftest import subprocess_env

SCRIPT = textwrap.dedent("""
    import json
    import jax, jax.numpy as jnp, numpy as np
    import flax.linen as nn
    from experiments.configs.dnabert_pretrain import LANGUAGE_MODEL_RULES
    from genereg_jax.models import get_model
    from genereg_jax.tasks import mlm
    from genereg_jax.train import partitioning
    model = get_model("language", "dnabert_tiny", dict(num_heads=4, intermediate_size=64,
                                                       dropout_rate=0.0))
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 69, (8, 32)).astype(np.int32)
    labels = np.where(rng.random(ids.shape) < 0.3, ids, mlm.IGNORE_INDEX).astype(np.int32)
    inputs = np.where(labels >= 0, 4, ids).astype(np.int32)
    batch = {"input_ids": inputs, "labels": labels}
    boxed = model.init(jax.random.key(1), jnp.asarray(inputs[:1]))
    variables = nn.meta.unbox(boxed)
    task = mlm.Task()

    def loss(v, b):
      return task.loss(model.apply(v, b["input_ids"]), b)[0]

    one_device = jax.devices()[0]
    ref_loss, ref_grads = jax.jit(jax.value_and_grad(loss))(
        jax.device_put(variables, one_device), jax.device_put(batch, one_device))
    mesh = partitioning.make_mesh((2, 4))
    shardings = partitioning.logical_shardings(boxed, mesh, LANGUAGE_MODEL_RULES)
    data = partitioning.batch_sharding(mesh)
    step = jax.jit(jax.value_and_grad(loss), in_shardings=(shardings, data))
    s_loss, s_grads = step(jax.device_put(variables, shardings), jax.device_put(batch, data))
    layer = shardings["params"]["encoder"]["layer_0"]
    specs = {"query": list(layer["attention"]["query"]["kernel"].spec),
             "output": list(layer["attention"]["output"]["kernel"].spec),
             "mlp_in": list(layer["mlp_in"]["kernel"].spec),
             "mlp_out": list(layer["mlp_out"]["kernel"].spec)}
    grad_diff = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in
                    zip(jax.tree.leaves(ref_grads), jax.tree.leaves(s_grads)))
    print(json.dumps({"devices": jax.device_count(), "loss": float(ref_loss),
                      "sharded_loss": float(s_loss), "grad_diff": grad_diff, "specs": specs}))
""")


def test_model_axis_splits_heads_and_mlp_with_equal_loss():
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=8",
                       JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                       text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["devices"] == 8
  assert result["specs"] == {
      "query": [None, "model", None], "output": ["model", None, None],
      "mlp_in": [None, "model"], "mlp_out": ["model", None]}
  assert abs(result["sharded_loss"] - result["loss"]) < 1e-5 * abs(result["loss"])
  assert result["grad_diff"] < 1e-5
