"""What a user typing commands sees: help, flag and config errors before JAX loads, the
workdir's saved config, one-line errors (issue 10 items 9, 10, 11, 13; issue 11 items 2,
5, 6, 8)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, subprocess_env

ENTRY_POINTS = ["train", "evaluate", "sweep", "predict", "filter_motifs", "score_variants",
                "interpret", "design", "hard_negatives",
                "benchmarks.train_step", "benchmarks.memory_plan", "scbasset_outputs",
                "mlm_baselines", "compare_baselines"]
ENTRY_POINTS += ["export_lora", "finetune_compare"]  # Issue 20's fine-tuning commands.
ENTRY_POINTS += ["enhancer_deletion"]  # Issue 22's in-silico enhancer deletions.


def _run(module, *args, timeout=300):
  return subprocess.run([sys.executable, "-m", f"experiments.{module}", *args], cwd=REPO,
                        env=subprocess_env(), capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("module,flag", [(m, "--help") for m in ENTRY_POINTS]
                         + [("train", "-h"), ("predict", "--helpshort")])
def test_help_works_without_other_flags(module, flag):
  out = _run(module, flag)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "python -m experiments." in out.stdout  # The module's usage lines.
  assert "--workdir" in out.stdout or "--config" in out.stdout


# Commands that read other commands' outputs rather than a workdir or config.
@pytest.mark.parametrize("module", ["prioritise_variants", "expecto", "plot_tracks",
                                    "plot_graph_attention", "benchmarks.data_loading"])
def test_help_of_table_commands(module):
  out = _run(module, "--help")
  assert out.returncode == 0, out.stderr[-2000:]
  assert f"python -m experiments.{module}" in out.stdout


def test_help_of_graphreg_make():
  out = subprocess.run([sys.executable, "-m", "data_builders.graphreg.make", "--help"],
                       cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                       timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "python -m data_builders.graphreg.make" in out.stdout and "--contacts" in out.stdout


# Dataset builders made from user files.
@pytest.mark.parametrize("module", ["data_builders.hic_maps.make",
                                    "data_builders.synthetic_motifs.genome"])
def test_help_of_builder_commands(module):
  out = subprocess.run([sys.executable, "-m", module, "--help"], cwd=REPO,
                       env=subprocess_env(), capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert f"python -m {module}" in out.stdout


_BEFORE_JAX = """
import runpy, sys
sys.argv = ["train", *{args!r}]
try:
  runpy.run_module("experiments.train", run_name="__main__")
except SystemExit as e:
  print("exit", e.code, "jax loaded:", "jax" in sys.modules)
"""


@pytest.mark.parametrize("args,message", [
    (["--config=deepsee", "--workdir=/nonexistent"], "unknown config 'deepsee'"),
    (["--config=deepsea:tny", "--workdir=/nonexistent"], "unknown variant 'tny'"),
    (["--config=deepsea:tiny", "--workdir=/nonexistent", "--config.optimizer.learnin_rate=1"],
     "config.optimizer has no field 'learnin_rate'; valid fields: b1, b2, clip_norm"),
    (["--config=deepsea:tiny", "--workdir=/nonexistent", "--config.foo=1"],
     "config has no field 'foo'; valid fields: adapters, allow_config_change, augment"),
])
def test_flag_and_config_errors_come_before_jax_is_imported(args, message):
  out = subprocess.run([sys.executable, "-c", _BEFORE_JAX.format(args=args)], cwd=REPO,
                       env=subprocess_env(), capture_output=True, text=True, timeout=120)
  assert "exit 2 jax loaded: False" in out.stdout, out.stdout + out.stderr[-2000:]
  assert message in out.stderr


def test_sweep_print_only_keeps_command_line_overrides(tmp_path):
  out = _run("sweep", "--config=deepsea:tiny", f"--workdir={tmp_path}", "--print_only",
             "--config.batch_size=32", "--config.optimizer.learning_rate=9")
  assert out.returncode == 0, out.stderr[-2000:]
  lines = out.stdout.strip().splitlines()
  assert len(lines) == 3 and all("--config.batch_size=32" in line for line in lines)
  # The trial's own learning rate replaces the one given to the sweep.
  assert "--config.optimizer.learning_rate=0.003" in lines[2]
  assert "learning_rate=9" not in out.stdout


@pytest.fixture(scope="module")
def trained_workdir(tmp_path_factory, tfds_dir):
  """``deepsea:tiny`` trained 2 steps, no evaluation yet (so no best checkpoint)."""
  from experiments import configs
  from genereg_jax.train import trainer
  config = configs.get_config("deepsea:tiny")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  config.update_from_flattened_dict({
      "num_train_steps": 2, "eval_every_steps": 0, "checkpoint_every_steps": 2,
      "eval_splits": (), "final_eval_splits": (), "max_eval_batches": 1})
  workdir = str(tmp_path_factory.mktemp("cli") / "run")
  trainer.train_and_evaluate(config, workdir)
  return workdir


def test_evaluate_defaults_to_the_saved_config_and_prints_before_writing(trained_workdir,
                                                                         tmp_path):
  # eval_valid.json is a folder here: the write fails as on a read-only workdir.
  blocked = os.path.join(trained_workdir, "eval_valid.json")
  os.makedirs(blocked, exist_ok=True)
  out = _run("evaluate", f"--workdir={trained_workdir}", "--split=valid")
  assert out.returncode == 1
  assert json.loads(out.stdout)["split"] == "valid"  # Printed first.
  assert "error: results printed above but not written" in out.stderr
  assert "--out" in out.stderr and "Traceback" not in out.stderr
  written = tmp_path / "eval.json"
  out = _run("evaluate", f"--workdir={trained_workdir}", "--split=valid", f"--out={written}")
  assert out.returncode == 0, out.stderr[-2000:]
  assert json.loads(written.read_text())["step"] == 2


@pytest.mark.parametrize("args,message", [
    (["--config=deepsea"], "was trained with another config: dataset.name: "
     "'synthetic_motifs/tiny' -> 'synthetic_motifs/default'"),
    (["--checkpoint=best"], "no best checkpoint in"),
])
def test_evaluate_errors_are_one_line_and_write_nothing(trained_workdir, args, message):
  before = sorted(os.listdir(trained_workdir))
  out = _run("evaluate", f"--workdir={trained_workdir}", *args)
  assert out.returncode == 1
  errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
  assert len(errors) == 1 and message in errors[0], out.stderr[-3000:]
  assert "Traceback" not in out.stderr and "Event loop is closed" not in out.stderr
  assert sorted(os.listdir(trained_workdir)) == before
