"""A rebuild with other inputs is refused or redone, never silently skipped (issue 10.6).

Before: ``intervals.make --name=X`` rerun with another window or other BEDs returned
the old dataset (TFDS skips any dataset whose folder exists).
"""

import numpy as np
import pytest

from genereg_jax.data import fingerprint
from data_builders.intervals import make


@pytest.fixture()
def inputs(tmp_path):
  rng = np.random.default_rng(0)
  with open(tmp_path / "g.fa", "w") as f:
    for chrom in ("chr1", "chr2"):
      f.write(f">{chrom}\n" + "".join(rng.choice(list("ACGT"), 2000)) + "\n")
  (tmp_path / "a.bed").write_text("chr1\t500\t600\nchr1\t1200\t1300\nchr2\t700\t800\n")
  (tmp_path / "b.bed").write_text("chr1\t520\t580\nchr2\t900\t1000\n")
  return tmp_path


def _make(root, *extra, bed="a.bed", window=100):
  return make.main([f"--fasta={root / 'g.fa'}", f"--bed={root / bed}", f"--window={window}",
                    "--valid=chr2", "--name=x", "--negative_ratio=0",
                    f"--data_dir={root / 'tfds'}", *extra])


def _windows(builder):
  return builder.info.splits["train"].num_examples


def test_changed_inputs_are_refused_or_rebuilt(inputs, capsys):
  first = _make(inputs)
  stored = first.info.metadata[fingerprint.KEY]
  assert stored["options"]["window"] == 100
  assert set(stored["files"]) == {str(inputs / "g.fa"), str(inputs / "a.bed")}
  assert _windows(_make(inputs)) == _windows(first)  # Same inputs: reused.
  with pytest.raises(SystemExit, match=r"built from other inputs: window: 100 -> 50.*"
                                       "--overwrite"):
    _make(inputs, window=50)
  with pytest.raises(SystemExit, match=r"beds: \[.*a\.bed'\] -> \[.*b\.bed'\]; input "
                                       r".*a\.bed is no longer used; input .*b\.bed is new"):
    _make(inputs, bed="b.bed")
  (inputs / "a.bed").write_text("chr1\t500\t600\nchr2\t700\t800\n")
  with pytest.raises(SystemExit, match=r"input .*a\.bed changed since the build"):
    _make(inputs)
  rebuilt = _make(inputs, "--overwrite")
  assert _windows(rebuilt) == 1 and _windows(first) == 2
  assert _windows(_make(inputs)) == 1  # The rebuild's fingerprint is stored.


def test_differences_lists_each_change():
  old = {"options": {"window": 1000, "seed": 0}, "files": {"/a": {"size": 1}}}
  new = {"options": {"window": 600, "seed": 0}, "files": {"/a": {"size": 2}}}
  assert fingerprint.differences(old, new) == [
      "window: 1000 -> 600", "input /a changed since the build (size, content or time)"]
  assert fingerprint.differences(new, new) == []


def test_manual_dir_builder_checks_its_files(tmp_path):
  """spliceai_gencode/tiny reads genome.fa and annotation.gtf.gz from --manual_dir."""
  import gzip
  from data_builders import build
  manual = tmp_path / "manual"
  manual.mkdir()
  rng = np.random.default_rng(1)
  (manual / "genome.fa").write_text(">chr1\n" + "".join(rng.choice(list("ACGT"), 900))
                                    + "\n")

  def gtf(end):
    attributes = 'gene_id "g"; transcript_id "t"; gene_type "protein_coding";'
    rows = [("transcript", 101, end), ("exon", 101, 300), ("exon", 501, end)]
    (manual / "annotation.gtf.gz").write_bytes(gzip.compress("".join(
        f"chr1\tT\t{kind}\t{start}\t{stop}\t.\t+\t.\t{attributes}\n"
        for kind, start, stop in rows).encode()))

  gtf(700)
  args = ("spliceai_gencode/tiny", str(tmp_path / "tfds"), str(manual))
  first = build.build(*args)
  assert str(manual / "annotation.gtf.gz") in first.info.metadata[fingerprint.KEY]["files"]
  build.build(*args)  # Unchanged: reused.
  gtf(800)
  with pytest.raises(ValueError, match=r"annotation\.gtf\.gz changed since the build"):
    build.build(*args)
  # Training (build_if_missing) reads the stale dataset no more than the build command.
  from genereg_jax.data import pipeline
  with pytest.raises(ValueError, match=r"(?s)built from other inputs .*--overwrite"):
    pipeline.load_builder(args[0], args[1], build_if_missing=True, manual_dir=args[2])
  build.build(*args, overwrite=True)
  build.build(*args)
