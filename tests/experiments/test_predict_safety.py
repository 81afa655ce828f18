"""predict writes nothing that looks finished unless it is, and never over its input.

Issue 10 items 1 and 3. Before: an interrupted run left a TSV (and .npy files) without
its .json, and ``--out`` could name the FASTA it was reading.
"""

import json
import os

import numpy as np
import pytest

from genereg_jax import predict

LENGTH = 8


class FakePredictor:
  """What predict_to_files uses of a Predictor; fails at batch ``fail_at`` if given."""

  data_devices = 1
  input_length = LENGTH
  reverse_complement_average = False

  def __init__(self, fail_at=None):
    self.fail_at, self.calls = fail_at, 0

  def output_names(self, name, size):
    return tuple(f"{name}{i}" for i in range(size))

  def __call__(self, sequences):
    self.calls += 1
    if self.calls == self.fail_at:
      raise KeyboardInterrupt  # Like Ctrl-C in the middle of a run.
    n = len(sequences)
    return {"score": np.full((n, 2), 0.5), "profile": np.ones((n, LENGTH, 2))}


@pytest.fixture()
def fasta(tmp_path):
  path = tmp_path / "in.fa"
  path.write_text("".join(f">r{i}\nACGTACGT\n" for i in range(6)))
  return path


def test_complete_run_writes_all_files(tmp_path, fasta):
  out = tmp_path / "preds.tsv"
  summary = predict.predict_to_files(FakePredictor(), predict.FastaRecords(fasta, LENGTH),
                                     str(out), batch_size=2, show_progress=False)
  assert summary["records"] == 6
  assert json.loads((tmp_path / "preds.json").read_text())["arrays"]["profile"]["shape"] == [
      6, LENGTH, 2]
  assert np.load(tmp_path / "preds.profile.npy").shape == (6, LENGTH, 2)
  assert len(out.read_text().splitlines()) == 7
  assert not [n for n in os.listdir(tmp_path) if n.endswith(".partial")]


def test_interrupted_run_leaves_nothing_and_keeps_old_outputs(tmp_path, fasta):
  out = tmp_path / "preds.tsv"
  with pytest.raises(KeyboardInterrupt):
    predict.predict_to_files(FakePredictor(fail_at=2), predict.FastaRecords(fasta, LENGTH),
                             str(out), batch_size=2, show_progress=False)
  assert sorted(os.listdir(tmp_path)) == ["in.fa", "in.fa.fai"]
  out.write_text("old\n")
  (tmp_path / "preds.json").write_text("{}")
  with pytest.raises(KeyboardInterrupt):
    predict.predict_to_files(FakePredictor(fail_at=3), predict.FastaRecords(fasta, LENGTH),
                             str(out), batch_size=2, show_progress=False)
  assert out.read_text() == "old\n" and (tmp_path / "preds.json").read_text() == "{}"
  assert sorted(os.listdir(tmp_path)) == ["in.fa", "in.fa.fai", "preds.json", "preds.tsv"]


def test_output_that_is_an_input_is_refused(tmp_path, fasta):
  before = fasta.read_bytes()
  with pytest.raises(ValueError, match="is the input"):
    predict.predict_to_files(FakePredictor(), predict.FastaRecords(fasta, LENGTH),
                             str(fasta), batch_size=2, show_progress=False)
  assert fasta.read_bytes() == before
