"""``experiments.interpret --modisco`` end to end: a ``deepsea:tiny`` trained long enough
(300 steps) that DeepLIFT-SHAP of its CTCF output gives TF-MoDISco seqlets, which are
written as MEME, a report and JASPAR matches, and TomTom matches one to CTCF."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO, subprocess_env

STEPS = 300  # 20 (the shared trained_tiny) leaves too few seqlets for MoDISco.


@pytest.fixture(scope="module")
def trained_ctcf(tfds_dir, tmp_path_factory):
  from experiments import configs
  from genereg_jax.train import trainer
  config = configs.get_config("deepsea:tiny")
  config.dataset.data_dir = tfds_dir
  config.dataset.build_if_missing = False
  config.num_train_steps = STEPS
  config.eval_every_steps = 0
  config.checkpoint_every_steps = STEPS
  config.log_every_steps = STEPS
  config.max_eval_batches = 1
  config.final_eval_splits = ()
  workdir = str(tmp_path_factory.mktemp("trained_ctcf"))
  trainer.train_and_evaluate(config, workdir)
  return config, workdir


def test_modisco_finds_planted_ctcf(trained_ctcf, tmp_path):
  config, workdir = trained_ctcf
  out = tmp_path / "attr"
  run = subprocess.run(
      [sys.executable, "-m", "experiments.interpret", "--config=deepsea:tiny",
       f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
       "--config.dataset.build_if_missing=False", "--split=test", "--max_sequences=300",
       "--target=CTCF", "--method=deeplift_shap", "--n_shuffles=5", "--batch_size=50",
       "--logos=0", "--modisco", "--modisco_min_seqlets=30", f"--out={out}"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=900)
  assert run.returncode == 0, run.stderr[-3000:]
  assert "TF-MoDISco:" in run.stdout and "patterns ->" in run.stdout
  meme = (out / "modisco.meme").read_text()
  assert meme.startswith("MEME version") and "MOTIF pos_0" in meme
  assert "| pos_0 |" in (out / "modisco.md").read_text()
  rows = [line.split("\t") for line in (out / "modisco_matches.tsv").read_text().splitlines()]
  header = rows[0]
  best = [dict(zip(header, r)) for r in rows[1:] if r[0] == "tomtom" and r[2] == "1"]
  assert best, rows[:5]
  ctcf = [r for r in best if r["target_name"] == "CTCF" and float(r["q_value"]) < 0.05]
  assert ctcf, best
