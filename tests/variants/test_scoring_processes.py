"""``score_variants --workdir`` on two real localhost processes equals one process.

Two processes started with ``jax.distributed.initialize`` (coordinator on a free port,
``--num_processes=2``, each with 2 fake CPU devices) split the VCF's chunks by process
index, each predicting on its own devices; process 0 merges. The merged outputs must
equal a single-process run's.
"""

import socket
import subprocess
import sys

import h5py
import numpy as np

from conftest import REPO, subprocess_env


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _command(config, workdir, args):
  return [sys.executable, "-m", "experiments.score_variants", "--config=deepsea:tiny",
          f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
          "--config.dataset.build_if_missing=False", *args]


def test_two_processes_equal_one(trained_tiny, tmp_path):
  from genereg_jax import predict
  config, workdir = trained_tiny
  length = predict.model_input_length(config)
  rng = np.random.default_rng(21)
  chrom = "".join(rng.choice(list("ACGT"), 3 * length))
  fasta = tmp_path / "genome.fa"
  fasta.write_text(">chr3\n" + "\n".join(chrom[i:i + 70]
                                         for i in range(0, len(chrom), 70)) + "\n")
  other = lambda b: "ACGT"[("ACGT".index(b) + 2) % 4]
  positions = [length + 3 * i for i in range(9)]
  vcf = tmp_path / "in.vcf"
  vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 + "".join(f"chr3\t{p}\tv{i}\t{chrom[p - 1]}\t{other(chrom[p - 1])}\t.\t.\t.\n"
                           for i, p in enumerate(positions))
                 + "chr3\t2\tedge\tA\tC\t.\t.\t.\n")  # Off the start (or a REF mismatch).
  common = [f"--vcf={vcf}", f"--fasta={fasta}", "--batch_size=4", "--chunk_records=2",
            "--scores=diff", "--format=both", "--save_bins=v1,v6"]
  env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=2")

  one = tmp_path / "one"
  run = subprocess.run(_command(config, workdir, [*common, f"--out={one}"]), cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]

  two = tmp_path / "two"
  address = f"127.0.0.1:{_free_port()}"
  processes = [subprocess.Popen(
      _command(config, workdir, [*common, f"--out={two}", f"--coordinator_address={address}",
                                 "--num_processes=2", f"--process_id={i}"]),
      cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]
  results = [p.communicate(timeout=300) for p in processes]
  for p, (_, stderr) in zip(processes, results):
    assert p.returncode == 0, stderr[-3000:]
  assert "9 variant x ALT rows" in results[0][0], results[0][0]
  assert "variant x ALT rows" not in results[1][0]  # Only process 0 merges and reports.
  # 5 chunks of 2 records: process 0 wrote chunks 0, 2, 4 and process 1 chunks 1, 3.
  assert len(list((two / "parts").glob("chunk_*.npz"))) == 5

  assert (two / "scores.tsv").read_text() == (one / "scores.tsv").read_text()
  assert (two / "scores.parquet").read_bytes() == (one / "scores.parquet").read_bytes()
  with h5py.File(one / "bins.h5") as a, h5py.File(two / "bins.h5") as b:
    assert [v.decode() for v in b["id"][...]] == ["v1", "v6"]
    np.testing.assert_array_equal(b["predictions/alt"][...], a["predictions/alt"][...])
  assert (two / "issues.tsv").read_text() == (one / "issues.tsv").read_text()
  with h5py.File(one / "scores.h5") as a, h5py.File(two / "scores.h5") as b:
    np.testing.assert_array_equal(b["predictions/diff"][...], a["predictions/diff"][...])
    np.testing.assert_array_equal(b["line"][...], a["line"][...])
    assert np.abs(a["predictions/diff"][...].astype(np.float32)).max() > 0
