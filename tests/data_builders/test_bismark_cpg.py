"""``bismark_cpg``: Bismark coverage files read line by line, strands merged onto CpGs,
DeepCpG's neighbour features, and records built from files written in that format."""

import gzip
import os

import numpy as np
import pytest

from data_builders import bismark_cpg
from genereg_jax.data import bismark
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError


def _write(path, lines):
  with open(path, "w") as f:
    f.writelines(lines)
  return str(path)


def test_read_coverage_sorts_and_names_bad_lines(tmp_path):
  path = _write(tmp_path / "c.cov", ["chr1\t20\t20\t100\t2\t0\n", "chr1\t10\t10\t0\t0\t3\n",
                                     "chr2\t5\t5\t50\t1\t1\n"])
  calls = bismark.read_coverage(path)
  np.testing.assert_array_equal(calls["chr1"].position, [10, 20])
  np.testing.assert_array_equal(calls["chr1"].state, [0, 1])
  assert calls["chr2"].state[0] == 1  # 50 % counts as methylated.
  for line, message in [("chr1\t10\t10\t0\t0\n", "6 \\(chromosome"),
                        ("chr1\t10\t11\t0\t0\t1\n", "start 10 != end 11"),
                        ("chr1\tx\tx\t0\t0\t1\n", "non-negative integers")]:
    bad = _write(tmp_path / "bad.cov", ["chr1\t5\t5\t0\t0\t1\n", line])
    with pytest.raises(InputFormatError, match=f"bad.cov:2: .*{message}"):
      bismark.read_coverage(bad)
  with pytest.raises(InputFormatError, match="chr1:5 appears twice"):
    bismark.read_coverage(_write(tmp_path / "d.cov", ["chr1\t5\t5\t0\t0\t1\n"] * 2))


def test_merge_strands_and_neighbours():
  cpgs = bismark.cpg_positions(np.frombuffer(b"ACGTTcgAACGA", np.uint8))
  np.testing.assert_array_equal(cpgs, [2, 6, 10])  # Soft-masked "cg" counts.
  # Plus strand at 2 (the C), minus strand at 3 (the G) of the same CpG; 8 is no CpG.
  calls = bismark.CpgCalls(np.array([2, 3, 8, 11]), np.array([1, 1, 5, 0]),
                           np.array([0, 1, 0, 2]))
  merged = bismark.merge_strands(calls, cpgs)
  np.testing.assert_array_equal(merged.position, [2, 10])
  np.testing.assert_array_equal(merged.methylated, [2, 0])
  np.testing.assert_array_equal(merged.unmethylated, [1, 2])
  observed = bismark.CpgCalls(np.array([100, 200, 300, 400]), np.ones(4, int),
                              np.array([0, 1, 1, 0]) * 3)
  state, dist = bismark.neighbour_features(np.array([200, 250]), observed, k=2,
                                           max_dist=1000)
  # Left columns farthest first, right nearest first; the target's own call excluded.
  np.testing.assert_array_equal(state, [[0.5, 1, 0, 1], [1, 0, 0, 1]])
  np.testing.assert_allclose(dist, [[1.0, 0.1, 0.1, 0.2], [0.15, 0.05, 0.05, 0.15]])


def test_records_from_written_cov_files(tmp_path):
  config = bismark_cpg.BismarkCpgConfig(name="t", synthetic=True, num_cells=3, k=2,
                                        chrom_length=4000, window=101)
  truths = bismark_cpg.write_synthetic(str(tmp_path), config)
  covs = sorted(str(tmp_path / f) for f in os.listdir(tmp_path) if f.endswith(".cov.gz"))
  with gzip.open(covs[0], "rt") as f:
    assert len(f.readline().split("\t")) == 6
  records = list(bismark_cpg.cpg_records(str(tmp_path / "genome.fa"), covs, config,
                                         bismark_cpg.SYNTHETIC_SPLIT.get, truths))
  assert {split for _, split, _ in records} == {"train", "valid", "test"}
  first = bismark.read_coverage(covs[0])
  for key, split, record in records[:40]:
    chrom, position = key.split(":")
    assert split == bismark_cpg.SYNTHETIC_SPLIT[chrom]
    assert encoding.decode_dna(record["sequence"])[50:52] == "CG"  # The CpG at the centre.
    calls = first[chrom]
    on = np.isin(calls.position, [int(position), int(position) + 1])
    expected = calls.state[on][0] if on.any() else -1
    assert record["label"][0] == expected
    assert record["cpg_state"].shape == (3, 4) and 0 <= record["truth"].min() <= 1
  assert all((r["label"] >= 0).any() for _, _, r in records)


def test_manual_build_takes_any_number_of_cells(tmp_path):
  from genereg_jax.data import pipeline
  files = tmp_path / "cells"
  # Chromosome names chr1..chr6 fall in DeepCpG's train / test split (no valid split).
  bismark_cpg.write_synthetic(str(files), bismark_cpg.BismarkCpgConfig(
      name="t", synthetic=True, num_cells=3, chrom_length=3000))
  builder = pipeline.load_builder("bismark_cpg/manual", str(tmp_path / "tfds"),
                                  build_if_missing=True, manual_dir=str(files))
  assert set(builder.info.splits) == {"train", "test"}
  record = builder.as_data_source(split="train")[0]
  assert record["cpg_state"].shape == (3, 50) and record["label"].shape == (3,)
