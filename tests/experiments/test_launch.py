"""The pod launch scripts in experiments/launch/ print the exact commands they would run."""

import os
import re
import subprocess

import pytest

from conftest import REPO

LAUNCH = os.path.join(REPO, "experiments", "launch")
# An override with spaces and parentheses, and one with every character a shell treats
# specially: each must reach experiments.train as the one argument it was.
TRAIN_FLAGS = ["--config=enformer", "--workdir=/mnt/runs/enformer",
               "--config.mesh_shape=(-1, 1)", "--config.note=it's $HOME \"q\" `x` \\ [a]"]


def _run(script, *args, **env):
  """``bash script args`` with the scripts' settings (REPO_DIR...) only from ``env``."""
  inherited = {k: v for k, v in os.environ.items()
               if k not in ("REPO_DIR", "PYTHON", "PROJECT")}
  return subprocess.run(["bash", os.path.join(LAUNCH, script), *args], capture_output=True,
                        text=True, timeout=60, env={**inherited, **env})


def _words(line: str) -> list[str]:
  """The words bash makes of ``line`` (pasted into a shell, as a user would)."""
  out = subprocess.run(["bash", "-c", 'words() { printf "%s\\0" "$@"; }; eval "words $1"', "_",
                        line], capture_output=True, text=True, timeout=60)
  assert out.returncode == 0, out.stderr
  return out.stdout.split("\0")[:-1]


def test_tpu_vm_dry_run_is_one_gcloud_ssh_to_every_worker():
  out = _run("tpu_vm.sh", "--dry_run", "my-v4-32", "us-central2-b", *TRAIN_FLAGS)
  assert out.returncode == 0, out.stderr
  assert out.stdout.count("\n") == 1
  words = _words(out.stdout)
  assert words[:-1] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh", "my-v4-32", "--zone",
                        "us-central2-b", "--worker=all", "--command"]
  # What each worker's shell runs: cd into the checkout, then the trainer on that host.
  cd, train = words[-1].split(" && ", 1)
  assert cd == "cd ~/genereg-jax"
  assert _words(train) == ["python3", "-m", "experiments.train", "--jax_distributed",
                           *TRAIN_FLAGS]


def test_tpu_vm_environment_and_usage():
  out = _run("tpu_vm.sh", "--dry_run", "t", "z", "--config=deepsea", PROJECT="lab",
             REPO_DIR="/opt/genereg-jax", PYTHON="/opt/venv/bin/python")
  words = _words(out.stdout)
  assert words[words.index("--project") + 1] == "lab"
  assert words[-1] == ("cd /opt/genereg-jax && /opt/venv/bin/python -m experiments.train "
                       "--jax_distributed --config=deepsea")
  missing = _run("tpu_vm.sh", "only-a-name")
  assert missing.returncode == 2 and "TPU_NAME ZONE" in missing.stderr
  helped = _run("tpu_vm.sh", "--help")
  assert helped.returncode == 0
  assert "experiments/launch/tpu_vm.sh [--dry_run] TPU_NAME ZONE" in helped.stdout


def test_slurm_dry_run_is_srun_of_the_trainer_per_gpu():
  out = _run("slurm.sbatch", "--dry_run", *TRAIN_FLAGS, PYTHON="/opt/venv/bin/python")
  assert out.returncode == 0, out.stderr
  assert _words(out.stdout) == ["srun", "--kill-on-bad-exit=1", "/opt/venv/bin/python",
                                "-m", "experiments.train", "--jax_distributed",
                                *TRAIN_FLAGS]
  # sbatch reads the #SBATCH lines: one task per GPU, as JAX's SLURM detection assumes.
  with open(os.path.join(LAUNCH, "slurm.sbatch")) as f:
    options = dict(re.findall(r"^#SBATCH --([\w-]+)=(\S+)$", f.read(), re.M))
  assert options["ntasks-per-node"] == options["gpus-per-node"] == "8"
  helped = _run("slurm.sbatch", "--help")
  assert helped.returncode == 0 and "sbatch experiments/launch/slurm.sbatch" in helped.stdout


@pytest.mark.parametrize("script", ["tpu_vm.sh", "slurm.sbatch"])
def test_launch_scripts_are_executable(script):
  assert os.access(os.path.join(LAUNCH, script), os.X_OK)
