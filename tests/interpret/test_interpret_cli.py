"""``experiments.interpret`` on a ``deepsea:tiny`` checkpoint trained here, and its readout."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, subprocess_env
from genereg_jax import interpret
from genereg_jax.interpret import readout


def test_resolve_target_by_name_or_index():
  names = ("CTCF", "GATA1", "SP1")
  assert readout.resolve_target(names, "GATA1") == 1
  assert readout.resolve_target(names, "2") == 2
  assert readout.resolve_target(names, -1) == 2
  with pytest.raises(ValueError, match="valid targets .*: CTCF, GATA1, SP1"):
    readout.resolve_target(names, "YY1")


def test_command_line_deeplift_shap(trained_tiny, tmp_path):
  from genereg_jax import predict
  config, workdir = trained_tiny
  predictor, _ = predict.load_predictor(config, workdir)
  model_readout = readout.predictor_readout(predictor)
  names = model_readout.names
  assert len(names) == 13 and model_readout.output == "predictions"

  rng = np.random.default_rng(0)
  sequences = ["".join(rng.choice(list("ACGT"), 200)) for _ in range(3)]
  fasta = tmp_path / "in.fa"
  fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(sequences)))
  out = tmp_path / "attr"
  common = [sys.executable, "-m", "experiments.interpret", "--config=deepsea:tiny",
            f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
            "--config.dataset.build_if_missing=False", f"--fasta={fasta}", f"--out={out}",
            "--method=deeplift_shap", "--n_shuffles=3", "--batch_size=2"]
  run = subprocess.run([*common, f"--target={names[1]}"], cwd=REPO, env=subprocess_env(),
                       capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  assert f"3 records, deeplift_shap of predictions[{names[1]}]" in run.stdout

  with np.load(out / "attributions.npz") as data:
    arrays = {k: data[k] for k in data.files}
  assert sorted(arrays) == ["attributions", "hypothetical", "x"]
  assert all(a.shape == (3, 200, 4) and a.dtype == np.float16 for a in arrays.values())
  x = arrays["x"].astype(np.float32)
  want = interpret.deeplift_shap(model_readout.fn, x, 1, n_shuffles=3, seed=0,
                                 hypothetical=True)
  np.testing.assert_allclose(arrays["hypothetical"], want, rtol=1e-2,
                             atol=1e-3 * np.abs(want).max())
  np.testing.assert_allclose(arrays["attributions"], arrays["hypothetical"] * x, atol=1e-6)
  rows = [line.split("\t") for line in (out / "records.tsv").read_text().splitlines()]
  assert rows[0] == ["record", "name", "prediction", "attribution_sum"]
  assert [r[1] for r in rows[1:]] == ["s0", "s1", "s2"]
  np.testing.assert_allclose([float(r[2]) for r in rows[1:]],
                             np.asarray(model_readout.fn(x))[:, 1], rtol=1e-4)
  summary = json.loads((out / "interpret.json").read_text())
  assert summary["target"] == names[1] and summary["dtype"] == "float16"

  run = subprocess.run([*common, "--target=NOT_A_LABEL"], cwd=REPO, env=subprocess_env(),
                       capture_output=True, text=True, timeout=300)
  assert run.returncode != 0
  assert "unknown target 'NOT_A_LABEL'" in run.stderr and names[0] in run.stderr


def test_command_line_bed_bigwig_and_logos(trained_tiny, tmp_path):
  import pyBigWig
  config, workdir = trained_tiny
  rng = np.random.default_rng(1)
  genome = tmp_path / "genome.fa"
  genome.write_text(">chr1\n" + "".join(rng.choice(list("ACGT"), 600)) + "\n")
  bed = tmp_path / "regions.bed"
  bed.write_text("chr1\t100\t300\nchr1\t150\t350\n")  # 200 bp windows, 50 bp apart.
  out = tmp_path / "attr"
  run = subprocess.run(
      [sys.executable, "-m", "experiments.interpret", "--config=deepsea:tiny",
       f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
       "--config.dataset.build_if_missing=False", f"--bed={bed}", f"--genome={genome}",
       f"--out={out}", "--method=input_x_gradient", "--target=0", "--float32",
       "--bigwig", "--logos=2", "--logo_width=20"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  with np.load(out / "attributions.npz") as data:
    per_base = data["attributions"].sum(-1)
  want = np.full(600, np.nan)
  want[100:300] = per_base[0]
  want[150:350] = per_base[1]
  want[150:300] = (per_base[0][50:] + per_base[1][:150]) / 2  # Overlap: the mean.
  with pyBigWig.open(str(out / "attributions.bw")) as bw:
    assert bw.chroms() == {"chr1": 600}
    np.testing.assert_allclose(bw.values("chr1", 0, 600), want, rtol=1e-5, atol=1e-7)
  logos = sorted(p.name for p in (out / "logos").iterdir())
  assert len(logos) == 2 and logos[0].startswith("top0_record")
