"""``experiments.plot_tracks``: predicted vs observed tracks per BED region from the files
``predict`` writes (a stand-in profile model: G+C and A+T counts per 4 bp bin)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from conftest import REPO, subprocess_env

LENGTH, BIN = 200, 4


class _ProfileModel:
  """What ``predict_to_files`` needs of a ``Predictor``; a 2-track profile output."""
  input_length = LENGTH
  data_devices = 1
  reverse_complement_average = False

  def __call__(self, sequences):
    counts = sequences.reshape(len(sequences), LENGTH // BIN, BIN, 4).sum(2)
    return {"profile": np.stack([counts[..., 1] + counts[..., 2],
                                 counts[..., 0] + counts[..., 3]], -1).astype(np.float32)}

  def output_names(self, name, size):
    return ("gc", "at")[:size]


def test_plot_tracks_from_predict_outputs(tmp_path):
  import pyBigWig
  from experiments import plot_tracks
  from genereg_jax import predict
  rng = np.random.default_rng(0)
  genome = tmp_path / "genome.fa"
  genome.write_text(">chr1\n" + "".join(rng.choice(list("ACGT"), 800)) + "\n")
  bed = tmp_path / "regions.bed"
  bed.write_text("chr1\t100\t300\tr1\nchr1\t500\t700\tr2\n")
  out = str(tmp_path / "preds.tsv")
  predict.predict_to_files(_ProfileModel(), predict.BedRegions(bed, genome, LENGTH), out,
                           batch_size=2, show_progress=False)
  observed = tmp_path / "observed.bw"
  values = rng.uniform(0, 4, (1, 800))
  predict.write_bigwig(observed, {"chr1": 800}, [("chr1", 0)], values)
  with pyBigWig.open(str(observed)) as bw:
    np.testing.assert_allclose(plot_tracks.observed_bins(bw, "chr1", 96, 3, BIN),
                               values[0, 96:108].reshape(3, BIN).mean(1), rtol=1e-5)
    # Off the chromosome: 0.
    np.testing.assert_allclose(plot_tracks.observed_bins(bw, "chr1", 796, 2, BIN)[1], 0)

  command = [sys.executable, "-m", "experiments.plot_tracks", f"--predictions={out}",
             f"--bed={bed}", f"--genome={genome}"]
  run = subprocess.run([*command, f"--out={tmp_path / 'png'}", f"--observed={observed}",
                        "--tracks=gc"], cwd=REPO, env=subprocess_env(),
                       capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  assert "2 track plots" in run.stdout
  names = sorted(p.name for p in (tmp_path / "png").iterdir())
  assert names == ["profile.chr1_100_300.png", "profile.chr1_500_700.png"]
  for name in names:
    data = (tmp_path / "png" / name).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000

  run = subprocess.run([*command, f"--out={tmp_path / 'svg'}", "--format=svg"], cwd=REPO,
                       env=subprocess_env(), capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  svg = (tmp_path / "svg" / "profile.chr1_500_700.svg").read_text()
  assert svg.lstrip().startswith("<?xml") and "</svg>" in svg

  run = subprocess.run([*command, f"--out={tmp_path / 'bad'}", f"--observed={observed}"],
                       cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                       timeout=300)
  assert run.returncode != 0 and "1 --observed bigWigs for 2 tracks" in run.stderr
