"""Tests for the ``graphreg`` builder on small files written in the real formats.

bigWigs by pyBigWig, a ``.cool`` by ``cooler.create_cooler``, a ``.hic`` by
``hictkpy.hic.FileWriter``, a FitHiChIP-style BEDPE, a GTF and a FASTA: the records
must hold the binned signals, the TSS nodes, the contact graph (the planted loop
called by the FDR rule; the same edges from .cool and .hic), the sequence with N
padding, GraphReg's tiling and chromosome splits; malformed inputs name path:line.
"""

import cooler
import hictkpy
import numpy as np
import pandas as pd
import pyBigWig
import pytest

from data_builders import graphreg as gr
from data_builders.graphreg import edges as graph_edges
from data_builders.graphreg import make
from genereg_jax.data import pipeline
from genereg_jax.data.gene_annotation import AnnotationFormatError
from genereg_jax.files import InputFormatError

SIZES = {"chr1": 30_000, "chr2": 20_000, "chr3": 25_000}
NODE = 1_000
# 12 nodes of 1 kb per region, loss on nodes 4-8: tiles every 4 kb from -4 kb.
GEOMETRY = dict(n_nodes=12, node_size=NODE, epi_bin_size=100, scored_nodes=(4, 8),
                valid_chromosomes=("chr2",), test_chromosomes=("chr3",), max_edges=64)
LOOP = (2, 9)  # Nodes of chr1 joined by a strong loop (bins 2 and 9 of chr1).


def _signal(chrom, seed):
  return np.random.default_rng([seed, int(chrom[3:])]).gamma(1.0, 2.0, SIZES[chrom])


def _write_bigwig(path, seed, negative=False):
  bw = pyBigWig.open(str(path), "w")
  bw.addHeader(list(SIZES.items()))
  for chrom in SIZES:
    values = _signal(chrom, seed) * (-1 if negative else 1)
    bw.addEntries(chrom, 0, values=values.tolist(), span=1, step=1)
  bw.close()


def _contacts():
  """Bins of every chromosome, and raw counts: 1/d decay + LOOP on chr1."""
  bins = pd.DataFrame([(c, s, min(s + NODE, n)) for c, n in SIZES.items()
                       for s in range(0, n, NODE)], columns=["chrom", "start", "end"])
  rows = []
  offset = 0
  rng = np.random.default_rng(3)
  for chrom, n in SIZES.items():
    k = -(-n // NODE)
    for i in range(k):
      for j in range(i, k):
        mean = 200.0 / (1 + j - i) * (20 if (chrom, i, j) == ("chr1", *LOOP) else 1)
        rows.append((offset + i, offset + j, int(rng.poisson(mean))))
    offset += k
  pixels = pd.DataFrame(rows, columns=["bin1_id", "bin2_id", "count"])
  return bins, pixels[pixels["count"] > 0].reset_index(drop=True)


def _gtf_line(chrom, feature, start, end, strand, gene_id, name, gene_type="protein_coding"):
  attributes = (f'gene_id "{gene_id}"; transcript_id "{gene_id}.1"; '
                f'gene_type "{gene_type}"; gene_name "{name}";')
  return f"{chrom}\tTEST\t{feature}\t{start + 1}\t{end}\t.\t{strand}\t.\t{attributes}\n"


GENES = [  # (chrom, start, end, strand, name): TSS = start (+) or end - 1 (-).
    ("chr1", 2_100, 4_000, "+", "A"), ("chr1", 8_000, 9_500, "-", "B"),
    ("chr1", 9_100, 9_900, "-", "C"), ("chr2", 15_000, 16_000, "+", "D")]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
  root = tmp_path_factory.mktemp("graphreg_inputs")
  for i, name in enumerate(("dnase", "h3k27ac", "h3k4me3")):
    _write_bigwig(root / f"{name}.bw", i)
  _write_bigwig(root / "cage_plus.bw", 10)
  _write_bigwig(root / "cage_minus.bw", 11, negative=True)
  bins, pixels = _contacts()
  cooler.create_cooler(str(root / "contacts.cool"), bins, pixels)
  cooler.zoomify_cooler(str(root / "contacts.cool"), str(root / "contacts.mcool"),
                        resolutions=[NODE, 2 * NODE], chunksize=100_000)
  writer = hictkpy.hic.FileWriter(str(root / "contacts.hic"), SIZES, NODE)
  writer.add_pixels(pixels.astype({"count": np.int32}))
  writer.finalize()
  (root / "loops.bedpe").write_text(
      "chr1\ts1\te1\tchr2\ts2\te2\tcc\tP-Value_Bias\tQ-Value_Bias\n"
      "chr1\t2000\t3000\tchr1\t9000\t10000\t40\t1e-9\t1e-6\n"      # nodes 2-9 of chr1.
      "chr1\t1000\t2000\tchr1\t5000\t6000\t9\t0.2\t0.5\n"          # q > 0.01: dropped.
      "chr1\t2000\t3000\tchr2\t9000\t10000\t9\t1e-9\t1e-6\n"       # trans: dropped.
      "chr2\t12500\t13500\tchr2\t17000\t18000\t30\t1e-9\t1e-5\n")  # chr2 nodes 13-17.
  lines = ["##description: test\n"]
  for i, (chrom, start, end, strand, name) in enumerate(GENES):
    lines.append(_gtf_line(chrom, "transcript", start, end, strand, f"G{i}", name))
    lines.append(_gtf_line(chrom, "exon", start, end, strand, f"G{i}", name))
  lines.append(_gtf_line("chr1", "transcript", 5_000, 5_500, "+", "L0", "LNC", "lncRNA"))
  lines.append(_gtf_line("chr1", "exon", 5_000, 5_500, "+", "L0", "LNC", "lncRNA"))
  (root / "genes.gtf").write_text("".join(lines))
  rng = np.random.default_rng(5)
  genome = {c: "".join(rng.choice(list("ACGT"), size=n)) for c, n in SIZES.items()}
  with open(root / "genome.fa", "w") as f:
    for name, seq in genome.items():
      f.write(f">{name}\n")
      f.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))
  return root, genome


def _config(root, name, **overrides):
  fields = dict(
      name=name, epi_bigwigs=tuple(str(root / f"{t}.bw") for t in
                                   ("dnase", "h3k27ac", "h3k4me3")),
      epi_names=("DNase", "H3K27ac", "H3K4me3"),
      cage_bigwigs=(str(root / "cage_plus.bw"), str(root / "cage_minus.bw")),
      contacts=str(root / "contacts.cool"), gtf=str(root / "genes.gtf"),
      fasta=str(root / "genome.fa"), **GEOMETRY)
  fields.update(overrides)
  return gr.GraphRegConfig(**fields)


def _text(value):
  return value.decode() if isinstance(value, bytes) else str(value)


def _records(builder):
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in source}


@pytest.fixture(scope="module")
def built(files, tmp_path_factory):
  root, _ = files
  builder = make.build(_config(root, "cool"), str(tmp_path_factory.mktemp("tfds")))
  return builder, _records(builder)


def test_tiles_splits_and_metadata(built):
  builder, records = built
  meta = builder.info.metadata
  assert (meta["node_size"], meta["epi_bin_size"], meta["n_nodes"]) == (NODE, 100, 12)
  assert meta["epi_tracks"] == ["DNase", "H3K27ac", "H3K4me3"]
  assert meta["scored_nodes"] == [4, 8] and meta["max_edges"] == 64
  assert meta["seq_length"] == 12_000
  # Scored windows of 4 kb tile chr1 (30 kb: 8 tiles), chr2 (5), chr3 (7).
  starts = {s: [(_text(r["chrom"]), int(r["start"])) for r in records[s]] for s in records}
  assert starts["train"] == [("chr1", -4_000 + 4_000 * i) for i in range(8)]
  assert [s for _, s in starts["valid"]] == [-4_000 + 4_000 * i for i in range(5)]
  assert len(starts["test"]) == 7 and {c for c, _ in starts["test"]} == {"chr3"}


def test_signals_are_binned_from_the_bigwigs(built):
  _, records = built
  for record in records["train"][:3] + records["test"][-1:]:
    chrom, start = _text(record["chrom"]), int(record["start"])
    window = np.zeros(12_000)
    low, high = max(start, 0), min(start + 12_000, SIZES[chrom])
    for track, seed in enumerate((0, 1, 2)):
      window[:] = 0
      window[low - start:high - start] = _signal(chrom, seed)[low:high]
      np.testing.assert_allclose(record["epi"][:, track],
                                 window.reshape(120, 100).sum(1), rtol=1e-5)
    window[:] = 0
    window[low - start:high - start] = (_signal(chrom, 10) + _signal(chrom, 11))[low:high]
    np.testing.assert_allclose(record["cage"], window.reshape(12, NODE).sum(1), rtol=1e-5)
    assert record["epi"].dtype == np.float32 and record["epi"].shape == (120, 3)


def test_tss_nodes_and_sequence(built, files):
  _, genome = files
  _, records = built
  first = records["train"][1]  # chr1 [0, 12 kb)
  assert int(first["start"]) == 0
  # A's TSS at 2,100 (node 2); B's and C's on the minus strand at 9,499 and 9,899
  # (node 9, joined); the lncRNA is not protein coding.
  assert np.flatnonzero(first["tss"]).tolist() == [2, 9]
  genes = [_text(g) for g in first["genes"]]
  assert genes[2] == "A" and genes[9] == "B+C" and genes[5] == ""
  padded = records["train"][0]  # chr1 [-4 kb, 8 kb): 4 kb of N, then chr1.
  assert (padded["sequence"][:4_000] == 0).all()
  assert "".join("ACGT"[i] for i in padded["sequence"][4_000:].argmax(1)) == genome["chr1"][:8_000]
  assert (padded["epi"][:40] == 0).all() and (padded["cage"][:4] == 0).all()


def _pairs(record):
  edges = record["edges"][record["edge_mask"].astype(bool)]
  assert set(map(tuple, edges.tolist())) == {(j, i) for i, j in edges.tolist()}
  return {(i, j) for i, j in edges.tolist() if i < j}


def test_fdr_edges_call_the_planted_loop(built):
  _, records = built
  first = records["train"][1]  # chr1 from 0: the loop is nodes 2-9.
  assert LOOP in _pairs(first)
  # A Poisson background of 1/d decay gives few false calls at FDR 0.1.
  assert len(_pairs(first)) <= 4
  shifted = records["train"][0]  # from -4 kb: the loop is nodes 6-13, 13 is outside.
  assert (6, 13) not in _pairs(shifted)
  assert all(j < 12 for _, j in _pairs(shifted))


def test_cool_mcool_and_hic_give_the_same_graph(files, tmp_path):
  root, _ = files
  for rule in ({"edge_rule": "fdr"}, {"edge_rule": "threshold", "contact_threshold": 60.0},
               {"edge_rule": "top_k", "top_k": 1, "min_edge_distance": 2}):
    graphs = []
    for suffix in ("cool", "mcool", "hic"):
      name = f"{suffix}_{rule['edge_rule']}"
      config = _config(root, name, contacts=str(root / f"contacts.{suffix}"), fasta="",
                       chromosomes=("chr1",), **rule)
      records = _records(make.build(config, str(tmp_path)))
      graphs.append([_pairs(r) for r in records["train"]])
    assert graphs[0] == graphs[1] == graphs[2], rule
    assert LOOP in graphs[0][1], rule  # chr1 from 0; threshold 60 keeps d <= 2 and it.


def test_bedpe_loops_with_fithichip_q_values(files, tmp_path):
  root, _ = files
  config = _config(root, "loops", contacts="", loops=str(root / "loops.bedpe"), fasta="")
  records = _records(make.build(config, str(tmp_path)))
  by_start = {(_text(r["chrom"]), int(r["start"])): _pairs(r)
              for s in records for r in records[s]}
  assert by_start[("chr1", 0)] == {LOOP}
  assert by_start[("chr1", 4_000)] == set()  # Node 9 + 4 = 13 is outside [4 kb, 16 kb).
  assert by_start[("chr2", 8_000)] == {(5, 9)}  # Anchor midpoints 13 kb and 17.5 kb.
  assert all(not p for (c, _), p in by_start.items() if c == "chr3")


def test_tile_regions_cover_each_chromosome_once():
  config = gr.GraphRegConfig(name="paper", epi_bigwigs=("x",), cage_bigwigs=("x",),
                             loops="x", gtf="x")
  assert (config.n_nodes, config.node_size, config.scored_nodes) == (1200, 5000, (400, 800))
  regions = gr.tile_regions({"chr7": 5_000_001}, config)
  assert [r.start for r in regions] == [-2_000_000, 0, 2_000_000]
  scored = [(r.start + 2_000_000, r.start + 4_000_000) for r in regions]
  assert scored[0][0] == 0 and scored[-1][1] >= 5_000_001
  assert all(a[1] == b[0] for a, b in zip(scored, scored[1:]))
  assert config.split_of("1") == "valid" and config.split_of("chr12") == "test"


def test_edge_helpers():
  counts = np.array([[0, 9, 1, 30], [9, 0, 9, 1], [1, 9, 0, 9], [30, 1, 9, 0]], float)
  pairs, values = graph_edges.threshold_pairs(counts, 9)
  assert pairs.tolist() == [[0, 3], [0, 1], [1, 2], [2, 3]] and values[0] == 30
  pairs, _ = graph_edges.top_k_pairs(counts, 1)
  # Node 0 and 3 pick each other; 1 picks 0 and 2 picks 1 (ties: the lower index).
  assert pairs.tolist() == [[0, 3], [0, 1], [1, 2]]
  edges, mask, dropped = graph_edges.pad_edges(np.array([[0, 3], [1, 2], [0, 1]]), 4)
  assert dropped == 1 and mask.tolist() == [1, 1, 1, 1]
  assert edges.tolist() == [[0, 3], [1, 2], [2, 1], [3, 0]]
  q = graph_edges.benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
  np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_bad_inputs_name_the_file_and_line(files, tmp_path):
  root, _ = files
  regions = tmp_path / "regions.bed"
  regions.write_text("# regions\nchr1\t0\t12000\nchr1\t1000\t12000\n")
  with pytest.raises(InputFormatError, match=r"regions\.bed:3: region is 11000 bp"):
    gr.read_regions(str(regions), _config(root, "r"))
  regions.write_text("chr1\t500\t12500\n")
  with pytest.raises(InputFormatError, match=r"regions\.bed:1: start 500 is not a multiple"):
    gr.read_regions(str(regions), _config(root, "r"))
  bedpe = tmp_path / "bad.bedpe"
  bedpe.write_text("chr1\t100\t200\tchr1\t900\t1000\nchr1\t1x\t200\tchr1\t900\t1000\n")
  with pytest.raises(gr.BedpeFormatError, match=r"bad\.bedpe:2: anchor coordinates"):
    gr.read_loops(str(bedpe), 0.01)
  bedpe.write_text("chr1\t100\t200\tchr1\t900\n")
  with pytest.raises(gr.BedpeFormatError, match=r"bad\.bedpe:1: need chr1 s1 e1"):
    gr.read_loops(str(bedpe), 0.01)
  fake = tmp_path / "fake.cool"
  fake.write_text("not hdf5")
  with pytest.raises(InputFormatError, match=r"fake\.cool: cannot read a 1000-bp"):
    gr.ContactMatrix(str(fake), NODE, "NONE")
  with pytest.raises(InputFormatError, match=r"contacts\.hic: cannot read a 2000-bp"):
    gr.ContactMatrix(str(root / "contacts.hic"), 2 * NODE, "NONE")
  with pytest.raises(InputFormatError, match=r"genes\.gtf: not a bigWig"):
    gr.open_bigwig(str(root / "genes.gtf"))
  gtf = tmp_path / "bad.gtf"
  gtf.write_text(_gtf_line("chr1", "exon", 10, 20, "+", "G", "G").replace("\t+\t", "\t*\t")
                 .replace("exon", "transcript") + "chr1\tT\texon\tx\t5\t.\t+\t.\tgene_id \"G\";\n")
  config = _config(root, "badgtf", gtf=str(gtf), fasta="", chromosomes=("chr1",))
  with pytest.raises(AnnotationFormatError, match=r"bad\.gtf:\d+:"):
    make.build(config, str(tmp_path / "d"))
  with pytest.raises(ValueError, match="exactly one of contacts"):
    _config(root, "both", loops=str(root / "loops.bedpe"))


def test_make_command_line(files, tmp_path, capsys):
  root, _ = files
  argv = ["--name=cli", f"--data_dir={tmp_path}", f"--gtf={root / 'genes.gtf'}",
          *(f"--epi={n}={root / f'{f}.bw'}" for n, f in (("DNase", "dnase"),
                                                         ("H3K27ac", "h3k27ac"))),
          f"--cage={root / 'cage_plus.bw'}", f"--loops={root / 'loops.bedpe'}",
          "--n_nodes=12", "--node_size=1000", "--scored_nodes=4,8", "--max_edges=64",
          "--valid=chr2", "--test=chr3", "--gene_types=all"]
  builder = make.main(argv)
  assert builder.info.metadata["epi_tracks"] == ["DNase", "H3K27ac"]
  assert builder.info.metadata["config"]["gene_types"] is None
  out = capsys.readouterr().out
  assert "graphreg/cli" in out and "train: 8 regions" in out
  # Loads by name like any other dataset (TFDS reads the config from the files).
  loaded = pipeline.load_builder("graphreg/cli", str(tmp_path))
  assert loaded.info.metadata["n_nodes"] == 12 and loaded.info.splits["test"].num_examples == 7
  make.main(argv)  # Same inputs: reused.
  with pytest.raises(SystemExit, match="built from other inputs"):
    make.main(argv + ["--loop_fdr=0.5"])
