"""Predict: FASTA/BED in, TSV (+ .npy) out, on a deepsea:tiny checkpoint trained here.

The filter-motif command is exercised on the same checkpoint at the end; its library
is tested in tests/interpret/test_filter_motifs.py.
"""

import csv
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, subprocess_env

LENGTH = 200  # synthetic_motifs/tiny, the model's input length.


@pytest.fixture(scope="module")
def predictors(trained_tiny):
  from genereg_jax import predict
  config, workdir = trained_tiny
  forward, step = predict.load_predictor(config, workdir)
  both, _ = predict.load_predictor(config, workdir, reverse_complement_average=True)
  assert step == 20
  return forward, both


def _random_dna(rng, n):
  return "".join(rng.choice(list("ACGT"), n))


def _write_fasta(path, records, width=60):
  with open(path, "w") as f:
    for name, seq in records:
      f.write(f">{name} some description\n")
      for i in range(0, len(seq), width):
        f.write(seq[i:i + width] + "\n")


def _read_tsv(path):
  with open(path) as f:
    rows = list(csv.reader(f, delimiter="\t"))
  return rows[0], rows[1:]


def _one_hot(seq):
  from genereg_jax.data import encoding
  return encoding.one_hot_dna(seq)


def test_fasta_of_mixed_lengths(predictors, tmp_path, caplog):
  from data_builders.synthetic_motifs import synthetic_motifs
  from genereg_jax import predict
  forward, _ = predictors
  rng = np.random.default_rng(0)
  seqs = {"exact": _random_dna(rng, LENGTH), "long": _random_dna(rng, 263),
          "short": _random_dna(rng, 151), "soft_n": _random_dna(rng, LENGTH).lower()[:190]
          + "N" * 10}
  fasta = tmp_path / "seqs.fa"
  _write_fasta(fasta, seqs.items())
  out = str(tmp_path / "preds.tsv")
  records = predict.open_records(forward.input_length, fasta=str(fasta))
  with caplog.at_level(logging.WARNING):
    summary = predict.predict_to_files(forward, records, out, batch_size=3,
                                       show_progress=False)
  assert forward.input_length == LENGTH
  warning = ("2 of 4 sequences are not 200 bp, the model's input length (lengths "
             "151-263 bp): 1 longer were centre-cropped, 1 shorter were N-padded on both "
             "sides")
  assert warning in caplog.text
  assert summary["warning"] == warning
  header, rows = _read_tsv(out)
  assert header == ["name", *synthetic_motifs.LABEL_NAMES]
  assert [r[0] for r in rows] == ["exact", "long", "short", "soft_n"]
  values = np.array([[float(v) for v in r[1:]] for r in rows])
  assert values.shape == (4, 13)
  assert np.all((values > 0) & (values < 1))
  assert summary["records"] == 4 and summary["arrays"] == {}
  assert json.load(open(tmp_path / "preds.json"))["length_changes"]["cropped"] == 1
  # Each row is the model on the fitted sequence: crop the centre 200 of 263 (31 left),
  # pad 151 with 24 N left and 25 right; lower case and N read as in training.
  long_, short = _one_hot(seqs["long"]), _one_hot(seqs["short"])
  padded = np.zeros((LENGTH, 4), np.uint8)
  padded[24:175] = short
  expected = forward(np.stack([_one_hot(seqs["exact"]), long_[31:231], padded,
                               _one_hot(seqs["soft_n"])]))["predictions"]
  np.testing.assert_allclose(values, expected, rtol=2e-5, atol=1e-6)


def test_reverse_complement_average_is_the_mean_of_both_strands(predictors, tmp_path):
  from genereg_jax import predict
  from genereg_jax.data import encoding
  forward, both = predictors
  rng = np.random.default_rng(1)
  x = np.stack([_one_hot(_random_dna(rng, LENGTH)) for _ in range(4)])
  f = forward(x)["predictions"]
  r = forward(np.ascontiguousarray(encoding.reverse_complement(x)))["predictions"]
  averaged = both(x)["predictions"]
  np.testing.assert_allclose(averaged, (f + r) / 2, rtol=1e-6, atol=1e-7)
  assert np.abs(f - r).max() > 1e-4  # The model is not strand-symmetric by itself.
  # Same through the files.
  fasta = tmp_path / "rc.fa"
  _write_fasta(fasta, [(f"s{i}", encoding.decode_dna(s)) for i, s in enumerate(x)])
  out = str(tmp_path / "rc.tsv")
  predict.predict_to_files(both, predict.open_records(LENGTH, fasta=str(fasta)), out,
                           batch_size=4, show_progress=False)
  _, rows = _read_tsv(out)
  np.testing.assert_allclose(np.array([[float(v) for v in r[1:]] for r in rows]),
                             (f + r) / 2, rtol=1e-5)


def test_bed_regions_read_centred_genome_windows(predictors, tmp_path, caplog):
  from genereg_jax import predict
  forward, _ = predictors
  rng = np.random.default_rng(2)
  chr1, chr2 = _random_dna(rng, 1000), _random_dna(rng, 300)
  genome = tmp_path / "genome.fa"
  _write_fasta(genome, [("chr1", chr1), ("chr2", chr2)])
  bed = tmp_path / "regions.bed"
  bed.write_text("chr1\t400\t600\tpeak_a\nchr2\t100\t130\tpeak_b\nchr1\t10\t60\tpeak_c\n")
  out = str(tmp_path / "bed.tsv")
  records = predict.open_records(LENGTH, bed=str(bed), genome=str(genome))
  with caplog.at_level(logging.WARNING):
    predict.predict_to_files(forward, records, out, batch_size=2, show_progress=False)
  assert ("2 of 3 regions are not the 200 bp window the model reads (lengths 30-200 bp)"
          in caplog.text)
  assert "1 windows run off a chromosome end" in caplog.text
  header, rows = _read_tsv(out)
  assert header[:3] == ["chrom", "start", "end"]
  assert [r[:3] for r in rows] == [["chr1", "400", "600"], ["chr2", "100", "130"],
                                   ["chr1", "10", "60"]]
  # chr2:100-130 -> centre 115 -> window 15-215; chr1:10-60 -> centre 35 -> -65..135.
  edge = np.zeros((LENGTH, 4), np.uint8)
  edge[65:] = _one_hot(chr1[:135])
  expected = forward(np.stack([_one_hot(chr1[400:600]), _one_hot(chr2[15:215]), edge,
                               edge]))["predictions"][:3]
  np.testing.assert_allclose(np.array([[float(v) for v in r[3:]] for r in rows]), expected,
                             rtol=2e-5, atol=1e-6)


def test_malformed_inputs_name_the_file_and_line(tmp_path):
  from data_builders.intervals import BedFormatError
  from data_builders.intervals import FastaFormatError
  from genereg_jax import predict
  ragged = tmp_path / "ragged.fa"
  ragged.write_text(">a\nACGTACGT\nACG\nACGTACGT\n")
  with pytest.raises(FastaFormatError, match=r"ragged\.fa:3: the line lengths"):
    predict.open_records(LENGTH, fasta=str(ragged))
  headless = tmp_path / "headless.fa"
  headless.write_text("ACGT\n")
  with pytest.raises(FastaFormatError, match=r"headless\.fa:1: sequence before"):
    predict.open_records(LENGTH, fasta=str(headless))
  genome = tmp_path / "g.fa"
  genome.write_text(">chr1\n" + "ACGT" * 50 + "\n")
  bed = tmp_path / "bad.bed"
  bed.write_text("chr1\t0\t10\nchr1\tten\t20\n")
  with pytest.raises(BedFormatError, match=r"bad\.bed:2: start 'ten' is not an integer"):
    predict.open_records(LENGTH, bed=str(bed), genome=str(genome))
  with pytest.raises(ValueError, match="either a FASTA"):
    predict.open_records(LENGTH)


def test_writer_puts_multi_axis_outputs_in_npy_files(tmp_path):
  from genereg_jax import predict
  out = str(tmp_path / "multi.tsv")
  names = {"log_counts": ("plus", "minus")}
  writer = predict.PredictionWriter(
      out, 5, ("name",), lambda name, size: names.get(name, tuple(map(str, range(size)))))
  rng = np.random.default_rng(3)
  human, mouse = rng.random((5, 7, 3)), rng.random((5, 7, 2))
  counts = rng.random((5, 2))
  # Two batches, the second padded to 4 rows like predict_records' last batch.
  writer.write([("a",), ("b",), ("c",)], {"human": human[:3], "mouse": mouse[:3],
                                          "log_counts": counts[:3]})
  writer.write([("d",), ("e",)], {"human": np.concatenate([human[3:], human[:2]]),
                                  "mouse": np.concatenate([mouse[3:], mouse[:2]]),
                                  "log_counts": np.concatenate([counts[3:], counts[:2]])})
  files = writer.close()
  assert files == {"human": str(tmp_path / "multi.human.npy"),
                   "mouse": str(tmp_path / "multi.mouse.npy")}
  np.testing.assert_allclose(np.load(files["human"]), human, rtol=1e-6)
  np.testing.assert_allclose(np.load(files["mouse"]), mouse, rtol=1e-6)
  header, rows = _read_tsv(out)
  assert header == ["name", "plus", "minus"]
  assert [r[0] for r in rows] == ["a", "b", "c", "d", "e"]
  np.testing.assert_allclose([[float(v) for v in r[1:]] for r in rows], counts, rtol=1e-5)


def test_positional_outputs_are_reverse_complemented_back():
  from genereg_jax import predict
  from genereg_jax.tasks import coverage
  task = coverage.Coverage(strand_pair=[1, 0, 2])  # plus, minus, unstranded.
  rc = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
  back = predict.to_forward_strand(task, rc)
  np.testing.assert_array_equal(back, rc[:, ::-1][:, :, [1, 0, 2]])
  vectors = np.ones((2, 5), np.float32)
  assert predict.to_forward_strand(task, vectors) is vectors
  assert predict.flatten_outputs({"human": 1, "mouse": {"a": 2}}) == {"human": 1,
                                                                      "mouse/a": 2}
  assert predict.flatten_outputs({None: 3}) == {"predictions": 3}


def test_command_line(trained_tiny, tmp_path):
  config, workdir = trained_tiny
  rng = np.random.default_rng(4)
  fasta = tmp_path / "cli.fa"
  _write_fasta(fasta, [("x", _random_dna(rng, 180)), ("y", _random_dna(rng, 200))])
  common = [sys.executable, "-m", "experiments.predict", "--config=deepsea:tiny",
            f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
            "--config.dataset.build_if_missing=False"]
  out = tmp_path / "cli.tsv"
  run = subprocess.run([*common, f"--fasta={fasta}", f"--out={out}",
                        "--reverse_complement_average", "--batch_size=8"], cwd=REPO,
                       env=subprocess_env(), capture_output=True, text=True, timeout=120)
  assert run.returncode == 0, run.stderr[-2000:]
  assert "1 shorter were N-padded" in run.stderr
  assert "seq/s" in run.stderr  # tqdm's rate.
  assert "2 records from step 20" in run.stdout
  header, rows = _read_tsv(out)
  assert len(header) == 14 and len(rows) == 2
  bad = tmp_path / "bad.fa"
  bad.write_text(">a\nACGTACGT\nACG\nACGTACGT\n")
  run = subprocess.run([*common, f"--fasta={bad}", f"--out={tmp_path / 'bad.tsv'}"],
                       cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                       timeout=120)
  assert run.returncode != 0
  assert f"error: {bad}:3: the line lengths of record 'a' are uneven" in run.stderr
  assert not os.path.exists(tmp_path / "bad.tsv")


def test_filter_motifs_command_line(trained_tiny, tmp_path):
  config, workdir = trained_tiny
  out_dir = tmp_path / "motifs"
  run = subprocess.run(
      [sys.executable, "-m", "experiments.filter_motifs", "--config=deepsea:tiny",
       f"--workdir={workdir}", f"--config.dataset.data_dir={config.dataset.data_dir}",
       "--config.dataset.build_if_missing=False", "--max_sequences=100", "--batch_size=64",
       "--num_shuffles=2", "--top_k=2", "--nologos", f"--out_dir={out_dir}"],
      cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120)
  assert run.returncode == 0, run.stderr[-2000:]
  assert "filters: tower/ConvBlock_0/Conv_0, 64 of width 8" in run.stderr
  assert "of 64 filters fired on 100 sequences" in run.stdout
  assert "planted motifs recovered (top1):" in run.stdout
  filters = [line.split("\t") for line in open(out_dir / "filters.tsv").read().splitlines()]
  fired = [row for row in filters[1:] if row[1] != "0"]
  assert len(filters) == 65 and len(fired) > 32
  meme = open(out_dir / "filters.meme").read()
  assert meme.count("\nMOTIF filter") == len(fired)
  matches = open(out_dir / "matches.tsv").read().splitlines()
  assert len(matches) == 1 + 2 * len(fired)
  recovery = json.load(open(out_dir / "planted_motif_recovery.json"))
  assert recovery["truth"]["CTCF"] == "MA0139" and len(recovery["truth"]) == 10
