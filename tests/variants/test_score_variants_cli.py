"""``python -m experiments.score_variants --workdir=...`` on a trained deepsea:tiny.

One run on 1 CPU device and one on 4 (``--xla_force_host_platform_device_count``, the
batch split over the mesh's data axis) must give the same scores, and those must equal
the probability differences of the workdir's predictor called directly.
"""

import subprocess
import sys

import h5py
import numpy as np

from conftest import REPO, subprocess_env
from genereg_jax.data import encoding


def _run(config, workdir, args, devices):
  command = [sys.executable, "-m", "experiments.score_variants", "--config=deepsea:tiny",
             f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
             "--config.dataset.build_if_missing=False", *args]
  env = subprocess_env(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
  return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=300)


def test_command_line_one_and_four_devices(trained_tiny, tmp_path):
  from genereg_jax import predict
  config, workdir = trained_tiny
  predictor, _ = predict.load_predictor(config, workdir)
  length = predictor.input_length
  rng = np.random.default_rng(7)
  chrom = "".join(rng.choice(list("ACGT"), 4 * length))
  fasta = tmp_path / "genome.fa"
  fasta.write_text(">chr7\n" + "\n".join(chrom[i:i + 60]
                                         for i in range(0, len(chrom), 60)) + "\n")
  centre = 2 * length
  other = lambda b: "ACGT"[("ACGT".index(b) + 1) % 4]
  rows = [(centre + i, chrom[centre + i - 1], other(chrom[centre + i - 1]))
          for i in range(6)]
  rows += [(centre + 10, chrom[centre + 9:centre + 12], chrom[centre + 9]),  # deletion
           (centre + 20, chrom[centre + 19], chrom[centre + 19] + "GA"),  # insertion
           (5, chrom[4], other(chrom[4]))]  # window off the chromosome start
  vcf = tmp_path / "in.vcf"
  vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 + "".join(f"7\t{p}\tv{i}\t{r}\t{a}\t.\t.\t.\n"
                           for i, (p, r, a) in enumerate(rows)))
  outputs = {}
  for devices in (1, 4):
    out = tmp_path / f"out{devices}"
    run = _run(config, workdir, [f"--vcf={vcf}", f"--fasta={fasta}", f"--out={out}",
                                 "--batch_size=4", "--chunk_records=3",
                                 "--scores=diff,log_odds_diff", "--vcf_top=2"], devices)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "8 variant x ALT rows from step 20" in run.stdout, run.stdout
    assert "1 records or ALTs not scored" in run.stdout
    with h5py.File(out / "scores.h5") as h5:
      outputs[devices] = (h5["predictions/diff"][...].astype(np.float32),
                          h5["predictions/log_odds_diff"][...].astype(np.float32))
    issues = (out / "issues.tsv").read_text().splitlines()
    assert len(issues) == 2 and "runs off the end of chr7" in issues[1]
    assert (out / "scores.vcf.gz").exists()
  for one, four in zip(outputs[1], outputs[4]):
    np.testing.assert_allclose(four, one, atol=1e-3)

  # The same numbers from the predictor directly (SNVs: windows centred on POS).
  half = length // 2
  windows = []
  for pos, _, alt in rows[:2]:
    start = pos - 1 - half
    ref_window = chrom[start:start + length]
    windows += [ref_window, ref_window[:half] + alt + ref_window[half + 1:]]
  probs = predictor(np.stack([encoding.one_hot_dna(w) for w in windows]))["predictions"]
  np.testing.assert_allclose(outputs[1][0][:2], probs[1::2] - probs[0::2], atol=1e-3)
  assert np.abs(outputs[1][0]).max() > 0
