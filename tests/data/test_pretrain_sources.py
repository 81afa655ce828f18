"""Streaming pretraining sources: hold-outs, N skipping, determinism and resume."""

import os

import numpy as np
import pytest

from genereg_jax.data import pipeline
from genereg_jax.data import pretrain_sources as ps
from genereg_jax.tasks import mlm


@pytest.fixture(scope="module")
def genome(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("genome") / "genome.fa")
  return ps.synthetic_genome(path, num_chromosomes=4, length=12_000)


def test_chromosome_holdout_and_n_windows_skipped(genome):
  train = ps.GenomeWindows(genome, "train", k=3, max_tokens=64,
                           valid_chromosomes=("chr3",), test_chromosomes=("4",))
  valid = ps.GenomeWindows(genome, "valid", k=3, max_tokens=64,
                           valid_chromosomes=("chr3",), test_chromosomes=("4",))
  assert train.chromosomes == ["chr1", "chr2"] and valid.chromosomes == ["chr3"]
  rng = np.random.default_rng(0)
  seen = set()
  for _ in range(300):
    chrom, start, bases = train.window_at(rng)
    seen.add(chrom)
    assert bases.count("N") <= 0.1 * train.window
  assert seen == {"chr1", "chr2"}
  # The synthetic chromosomes start with 5 kb of N: a window there is never returned.
  all_n = ps.GenomeWindows(genome, "train", k=3, max_tokens=64, valid_chromosomes=("chr3",),
                           test_chromosomes=("chr4",), max_n_fraction=0.0)
  assert all(all_n.window_at(rng)[1] >= 5000 for _ in range(100))
  with pytest.raises(ValueError, match="chr7"):
    ps.GenomeWindows(genome, "train", k=3, valid_chromosomes=("chr7",))


def test_genome_example_tokens_and_masks(genome):
  source = ps.GenomeWindows(genome, "train", k=6, max_tokens=128,
                            valid_chromosomes=("chr3",), test_chromosomes=("chr4",),
                            mlm_probability=0.05)
  example = source[5]
  assert {k: v.shape for k, v in example.items()} == {
      "input_ids": (128,), "attention_mask": (128,), "labels": (128,)}
  labels, inputs = example["labels"], example["input_ids"]
  assert inputs[0] == 2 and inputs[-1] == 3  # [CLS] ... [SEP], never masked
  assert labels[0] == labels[-1] == mlm.IGNORE_INDEX
  assert (labels != mlm.IGNORE_INDEX).any()
  # A record is a function of (seed, split, index): same seed same record, other seed not.
  np.testing.assert_array_equal(source[5]["input_ids"], inputs)
  other = ps.GenomeWindows(genome, "train", k=6, max_tokens=128, seed=1,
                           valid_chromosomes=("chr3",), test_chromosomes=("chr4",))
  assert not np.array_equal(other[5]["labels"], labels)


def test_loader_resumes_from_iterator_state(genome):
  keys = ("input_ids", "attention_mask", "labels")

  def loader():
    # A new source each time, as a restarted run builds one: grain checks that the
    # restored state's source (its repr) is the same.
    source = ps.GenomeWindows(genome, "train", k=3, max_tokens=32, num_records=10**6,
                              valid_chromosomes=("chr3",), test_chromosomes=("chr4",))
    return iter(pipeline.make_loader(source, batch_size=4, keys=keys, seed=3))

  first = loader()
  for _ in range(3):
    next(first)
  state = first.get_state()
  expected = next(first)
  resumed = loader()
  resumed.set_state(state)
  got = next(resumed)
  for key in keys:
    np.testing.assert_array_equal(got[key], expected[key])
  assert not np.array_equal(next(loader())["input_ids"], expected["input_ids"])


def test_protein_and_msa_sources(tmp_path):
  fasta = ps.synthetic_proteins(str(tmp_path / "p.fa"), num_families=5, per_family=8)
  splits = {s: ps.ProteinSequences(fasta, s, max_length=48, valid_fraction=0.2,
                                   test_fraction=0.2) for s in ("train", "valid", "test")}
  names = [set(s.names) for s in splits.values()]
  assert not (names[0] & names[1]) and not (names[0] & names[2])
  assert sum(map(len, names)) == 40
  example = splits["train"][0]
  length = int(example["attention_mask"].sum())
  assert example["input_ids"][0] == 0 and example["labels"][0] == mlm.IGNORE_INDEX  # <cls>
  assert example["labels"][length - 1] == mlm.IGNORE_INDEX  # <eos>
  assert (example["labels"][length:] == mlm.IGNORE_INDEX).all()

  directory = ps.synthetic_msas(str(tmp_path / "msas"), num_families=6, depth=10)
  msas = ps.MsaFiles(directory, "train", max_rows=4, max_columns=32, valid_fraction=0.0,
                     test_fraction=0.0, mlm_probability=0.0)
  example = msas[1]
  assert example["input_ids"].shape == (4, 32)
  assert (example["input_ids"][:, 0] == 0).all()  # <cls> on every row
  assert (example["labels"] == mlm.IGNORE_INDEX).all()  # masking off
  assert len(msas.paths) == 6 and os.path.isdir(directory)


def test_genome_plants_the_synthetic_motifs_vocabulary(genome):
  """The embedded genome holds sites of the JASPAR motifs the fine-tuning task labels:
  strong CTCF matches (>= 70% of the consensus log-odds) are planted ~once per 750 bp
  and essentially never occur by chance in the i.i.d. background."""
  from genereg_jax.data import motifs
  lines = open(genome, "rb").read().split(b"\n")
  text = np.frombuffer(b"".join(l for l in lines if not l.startswith(b">")), np.uint8)
  codes = np.full(256, 4)
  codes[np.frombuffer(b"ACGT", np.uint8)] = np.arange(4)
  log_odds = np.log2(motifs.jaspar_matrices({"CTCF": "MA0139"})["CTCF"][1] / 0.25)
  log_odds = np.concatenate([log_odds, np.full((len(log_odds), 1), -100.0)], 1)  # N column.
  windows = np.lib.stride_tricks.sliding_window_view(codes[text], len(log_odds))
  columns = np.arange(len(log_odds))
  scores = np.maximum(log_odds[columns, windows].sum(1),
                      log_odds[::-1, [3, 2, 1, 0, 4]][columns, windows].sum(1))
  hits = int((scores >= 0.7 * log_odds.max(1).sum()).sum())
  assert hits >= 10, hits  # ~27 expected in the 4 x 7 kb of non-N sequence.


def test_genome_windows_mask_wider_spans(genome):
  options = dict(k=3, max_tokens=128, valid_chromosomes=("chr3",), test_chromosomes=("chr4",),
                 mlm_probability=0.01)
  dnabert = ps.GenomeWindows(genome, "train", mask_span=3, **options)
  assert repr(dnabert) == repr(ps.GenomeWindows(genome, "train", **options))
  wide = ps.GenomeWindows(genome, "train", mask_span=8, **options)
  runs = []
  for i in range(20):
    masked = np.concatenate([[0], wide[i]["labels"] != mlm.IGNORE_INDEX, [0]]).astype(int)
    edges = np.flatnonzero(np.diff(masked))
    runs += [(start, end - start) for start, end in zip(edges[::2], edges[1::2])]
  assert runs
  # Every run of masked tokens is at least one 8-token span unless cut at the window end.
  assert all(length >= 8 or start + length >= 126 or start <= 4 for start, length in runs)
