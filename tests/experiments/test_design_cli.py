"""``experiments.design`` end to end on the ``deepsea:tiny`` checkpoint trained here."""

import subprocess
import sys

import numpy as np

from conftest import REPO, subprocess_env


def _read_fasta(path):
  lines = path.read_text().splitlines()
  return lines[0::2], lines[1::2]


def _design(config, workdir, out, *args):
  command = [sys.executable, "-m", "experiments.design", "--config=deepsea:tiny",
             f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
             "--config.dataset.build_if_missing=False", f"--out={out}", *args]
  return subprocess.run(command, cwd=REPO, env=subprocess_env(), capture_output=True,
                        text=True, timeout=300)


def test_design_command(trained_tiny, tmp_path):
  from genereg_jax import predict
  from genereg_jax.interpret import readout
  config, workdir = trained_tiny
  out = tmp_path / "designs.fa"
  run = _design(config, workdir, out, "--target=CTCF", "--n=3", "--steps=8",
                "--length=120", "--fixed=0:TATA", "--gc_min=0.4", "--gc_max=0.5",
                "--forbid=GAATTC", "--logit")
  assert run.returncode == 0, run.stderr[-2000:]
  assert "3 designs (seqprop, maximise logit(CTCF)) from step 20" in run.stdout
  assert "seqprop: 8/8 step (" in run.stderr  # the progress line with its rate
  headers, sequences = _read_fasta(out)
  assert [h.split()[0] for h in headers] == [">design_0", ">design_1", ">design_2"]
  assert all(len(s) == 120 and s.startswith("TATA") and "GAATTC" not in s
             and "GAATTC" not in s[::-1].translate(str.maketrans("ACGT", "TGCA"))
             and 0.4 <= (s.count("G") + s.count("C")) / 120 <= 0.5 for s in sequences)
  rows = [line.split("\t") for line in (tmp_path / "designs.tsv").read_text().splitlines()]
  assert rows[0][:5] == ["name", "score", "gc", "forbidden_hits", "CTCF"]
  scores = [float(r[1]) for r in rows[1:]]
  assert scores == sorted(scores, reverse=True)
  assert [f"score={r[1]}" in h for r, h in zip(rows[1:], headers)] == [True] * 3

  # The scores are the model's on the written sequences, centred in N flanks.
  predictor, _ = predict.load_predictor(config, workdir)
  fn = readout.predictor_readout(predictor).fn
  x = np.zeros((3, 200, 4), np.float32)
  x[:, 40:160] = np.eye(4)[[["ACGT".index(c) for c in s] for s in sequences]]
  p = np.asarray(fn(x))[:, 0]
  np.testing.assert_allclose([float(r[4]) for r in rows[1:]], p, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(scores, np.log(p + 1e-7) - np.log1p(1e-7 - p), rtol=1e-3,
                             atol=1e-3)

  evolved = _design(config, workdir, tmp_path / "evolved.fa", "--target=1", "--n=2",
                    "--method=evolution", "--rounds=2", "--length=40")
  assert evolved.returncode == 0, evolved.stderr[-2000:]
  assert "2 designs (evolution, maximise GATA1)" in evolved.stdout
  bad = _design(config, workdir, tmp_path / "bad.fa", "--target=NOPE")
  assert bad.returncode == 1 and "unknown target 'NOPE'" in bad.stderr


def test_design_oracle_reads_the_planted_grammar():
  from data_builders.synthetic_motifs import synthetic_motifs as sm
  from experiments.benchmarks import design_oracle
  motifs = sm.load_motifs()
  x = np.full((3, 200, 4), 0.0, np.float32)
  x[..., 0] = 1  # poly-A background: no site
  consensus = lambda name: np.eye(4)[motifs[name].probabilities.argmax(1)]
  x[1, 20:20 + motifs["CTCF"].width] = consensus("CTCF")
  # HNF4A and reverse-complemented FOXA2: liver_enhancer (2 of HNF4A, FOXA2, CEBPB).
  x[2, 10:10 + motifs["HNF4A"].width] = consensus("HNF4A")
  x[2, 100:100 + motifs["FOXA2"].width] = consensus("FOXA2")[::-1, ::-1]
  labels, best = design_oracle.oracle(x, motifs, 0.7)
  names = list(sm.LABEL_NAMES)
  assert labels[0].sum() == 0
  assert labels[1, names.index("CTCF")] == 1 and labels[1].sum() == 1
  assert labels[2, names.index("liver_enhancer")] == 1 and labels[2, names.index("HNF4A")] == 1
  np.testing.assert_allclose(best["CTCF"][1], 1.0, rtol=1e-5)
  assert best["CTCF"][0] < 0.7
