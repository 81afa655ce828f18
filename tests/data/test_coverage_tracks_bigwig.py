"""`coverage_tracks.BigWigReader` against pyBigWig on files pyBigWig writes.

Every section type of the bigWig format (bedGraph with gaps, varStep, fixedStep with
a step other than its span, per-base fixedStep), an R tree deep enough to have inner
nodes, windows inside one block and across many, chromosomes without data: the
reader's ``values`` must be pyBigWig's ``values(numpy=True)`` bit for bit, with and
without libdeflate.
"""

import numpy as np
import pytest

pyBigWig = pytest.importorskip("pyBigWig")

from genereg_jax.data import coverage_tracks  # pylint: disable=g-bad-import-order

SIZES = [("chr1", 1_200_000), ("chr2", 50_000), ("chrEmpty", 5_000)]


def _write(path, add):
  bw = pyBigWig.open(str(path), "w")
  bw.addHeader(SIZES)
  add(bw)
  bw.close()
  return str(path)


@pytest.fixture(scope="module")
def bigwigs(tmp_path_factory):
  root = tmp_path_factory.mktemp("bigwigs")
  rng = np.random.default_rng(0)

  def bedgraph(bw):  # 240k intervals of 1-5 bp with gaps: > 64 blocks, so inner nodes.
    starts = np.cumsum(rng.integers(1, 9, 240_000))
    ends = np.minimum(starts + rng.integers(1, 6, len(starts)), np.r_[starts[1:], 10**9])
    bw.addEntries(["chr1"] * len(starts), starts.tolist(), ends=ends.tolist(),
                  values=rng.normal(size=len(starts)).tolist())
    bw.addEntries(["chr2"] * 3, [5, 100, 200], ends=[50, 150, 40_000],
                  values=[1.5, -2.0, 3.25])

  def var_step(bw):
    starts = np.cumsum(rng.integers(20, 60, 20_000))
    bw.addEntries("chr1", starts.tolist(), values=rng.random(len(starts)).tolist(), span=20)

  def fixed_step(bw):  # Span 5 every 7 bp (gaps), then span = step (tiled).
    bw.addEntries("chr1", 7, values=rng.poisson(3, 150_000).astype(float).tolist(),
                  span=5, step=7)
    bw.addEntries("chr2", 0, values=rng.random(3_000).tolist(), span=10, step=10)

  def per_base(bw):  # Basenji's bam_cov writes: span 1, step 1, a gap on chr1.
    values = rng.poisson(1.5, 300_000).astype(float)
    bw.addEntries("chr1", 0, values=values[:100_000].tolist(), span=1, step=1)
    bw.addEntries("chr1", 100_040, values=values[100_040:].tolist(), span=1, step=1)

  return {name: _write(root / f"{name}.bw", add) for name, add in
          (("bedgraph", bedgraph), ("var_step", var_step), ("fixed_step", fixed_step),
           ("per_base", per_base))}


@pytest.mark.parametrize("inflate", ["zlib", "libdeflate"])
@pytest.mark.parametrize("name", ["bedgraph", "var_step", "fixed_step", "per_base"])
def test_values_equal_pybigwig(bigwigs, name, inflate, monkeypatch):
  if inflate == "zlib":
    monkeypatch.setattr(coverage_tracks, "deflate", None)
  elif coverage_tracks.deflate is None:
    pytest.skip("deflate (libdeflate) is not installed")
  expected, reader = pyBigWig.open(bigwigs[name]), coverage_tracks.BigWigReader(bigwigs[name])
  rng = np.random.default_rng(1)
  windows = [("chr1", 0, 1), ("chr1", 99_990, 100_050), ("chr1", 0, 1_200_000),
             ("chr2", 49_000, 50_000), ("chrEmpty", 0, 5_000)]
  for chrom, size in SIZES:
    for width in (w for w in (1, 7, 128, 1536, 40_000) if w < size):
      windows += [(chrom, s, s + width) for s in rng.integers(0, size - width, 20).tolist()]
  for chrom, start, end in windows:
    want = expected.values(chrom, start, end, numpy=True)
    got = reader.values(chrom, start, end)
    assert got.dtype == np.float32 and got.shape == want.shape
    # Bit for bit, NaN (no data) included.
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32),
                                  err_msg=f"{name} {chrom}:{start}-{end}")
    row = reader.values(chrom, start, end, out=np.full(end - start, 9, np.float16))
    np.testing.assert_array_equal(row.view(np.uint16), want.astype(np.float16).view(np.uint16))
  assert [reader.chroms(c) for c, _ in SIZES] == [s for _, s in SIZES]
  assert reader.chroms("chrX") is None
  reader.close()


def test_inner_index_nodes_are_kept_and_leaves_are_not(bigwigs):
  reader = coverage_tracks.BigWigReader(bigwigs["bedgraph"])
  is_leaf, _, _, children, _, ordered = reader._node(reader._root)  # pylint: disable=protected-access
  assert not is_leaf and len(children) > 1 and ordered  # Deep enough to test the walk.
  want = reader.values("chr1", 500_000, 600_000)
  kept = reader._inner_nodes  # pylint: disable=protected-access
  assert kept and not any(leaf for leaf, *_ in kept.values())
  np.testing.assert_array_equal(want, pyBigWig.open(bigwigs["bedgraph"]).values(
      "chr1", 500_000, 600_000, numpy=True))
  for offset, node in kept.items():  # Unsorted keys (no writer makes them): a scan.
    kept[offset] = (*node[:5], False)
  np.testing.assert_array_equal(reader.values("chr1", 500_000, 600_000), want)


def test_bad_reads_and_files_raise(bigwigs, tmp_path):
  reader = coverage_tracks.BigWigReader(bigwigs["per_base"])
  for chrom, start, end in (("chrX", 0, 10), ("chr2", 49_990, 50_010), ("chr1", 5, 5)):
    with pytest.raises(RuntimeError, match="invalid interval bounds"):
      reader.values(chrom, start, end)
  not_bigwig = tmp_path / "peaks.bw"
  not_bigwig.write_bytes(b"chr1\t0\t10\n" * 10)
  with pytest.raises(ValueError, match="not a bigWig"):
    coverage_tracks.open_bigwig(str(not_bigwig), streaming=True)
  assert isinstance(coverage_tracks.open_bigwig(bigwigs["per_base"], streaming=True),
                    coverage_tracks.BigWigReader)


def test_fill_lets_a_later_item_win_and_keeps_earlier_blocks_values():
  """Items that overlap or come out of order (files pyBigWig refuses to write), and a
  block whose gaps hold values of an earlier block: libBigWig's loop, base by base."""

  def looped(out, items):
    for begin, end, value in items:
      out[begin - 100:end - 100] = value
    return out

  cases = [[(100, 110, 1.0), (105, 115, 2.0)],  # Overlapping: the later one wins.
           [(120, 130, 3.0), (100, 104, 4.0)],  # Out of order.
           [(100, 102, 5.0), (106, 110, 6.0)]]  # A gap at 102-106.
  for prefilled in (False, True):
    for items in cases:
      start = np.full(30, np.nan, np.float32)
      if prefilled:  # An earlier block covered 102-106.
        start[2:6] = 7.0
      got = start.copy()
      begins, ends, values = (np.array(column) for column in zip(*items))
      coverage_tracks._fill(got, 100, begins, ends,  # pylint: disable=protected-access
                            values.astype(np.float32))
      np.testing.assert_array_equal(got, looped(start.copy(), items), err_msg=str(items))
