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
