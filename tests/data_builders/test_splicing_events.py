"""``splicing_events``: rMATS SE.MATS.JC.txt + GTF + FASTA -> cassette exons.

The files are written in rMATS 4.x's layout (duplicate ``ID`` column, quoted gene
fields, comma-separated replicate counts, ``NA`` IncLevels)."""

import numpy as np
import pytest

from data_builders import splicing_events
from genereg_jax.data import gene_annotation
from genereg_jax.data import pipeline
from genereg_jax.files import InputFormatError
from genereg_jax.splicing import features as cis

HEADER = "\t".join(splicing_events.RMATS_SE_COLUMNS)


def _event(i, strand, up, exon, down, ijc1="30,20", sjc1="5,5", ijc2="4,6", sjc2="40,30",
           gene=None):
  gene = gene or f"ENSG{i:05d}"
  return "\t".join(map(str, [
      i, f'"{gene}"', f'"GENE{i}"', "chr1", strand, exon[0], exon[1], up[0], up[1], down[0],
      down[1], i, ijc1, sjc1, ijc2, sjc2, 199, 100, "0.001", "0.01", "0.8,0.7", "0.1,NA",
      "0.65"]))


def _write(root, rng, n_events=30, darts=False):
  root.mkdir()
  genome = "".join(rng.choice(list("ACGT"), 60_000))
  (root / "genome.fa").write_text(">chr1\n" + "\n".join(
      genome[i:i + 60] for i in range(0, len(genome), 60)) + "\n")
  rows = []
  for i in range(n_events):
    base = 100 + i * 1900
    up, exon, down = (base, base + 100), (base + 700, base + 820), (base + 1500, base + 1600)
    rows.append(_event(i, "+-"[i % 2], up, exon, down))
  (root / "SE.MATS.JC.txt").write_text(HEADER + "\n" + "\n".join(rows) + "\n")
  # GTF: event 0's gene has a transcript with the cassette exon (1-based inclusive).
  attrs = 'gene_id "ENSG00000"; transcript_id "T0"; gene_name "GENE0"; gene_type "protein_coding";'
  gtf = [f"chr1\tTEST\ttranscript\t101\t1700\t.\t+\t.\t{attrs}"]
  for start, end in ((100, 200), (800, 920), (1600, 1700)):
    gtf.append(f"chr1\tTEST\texon\t{start + 1}\t{end}\t.\t+\t.\t{attrs}")
  (root / "genes.gtf").write_text("\n".join(gtf) + "\n")
  if darts:
    (root / "rbp_expression.tsv").write_text("gene\tcond1\tcond2\nRBFOX2\t10\t30\nPTBP1\t5\t0\n")
  return genome


def test_read_events_and_strand_aware_sequences(tmp_path):
  genome = _write(tmp_path / "m", np.random.default_rng(0), n_events=2)
  events = splicing_events.read_rmats_se(tmp_path / "m" / "SE.MATS.JC.txt")
  assert [e.strand for e in events] == ["+", "-"]
  plus, minus = events
  assert plus.counts.tolist() == [50, 10, 10, 70] and plus.lengths.tolist() == [199, 100]
  assert plus.gene_id == "ENSG00000" and plus.inc_level_difference == pytest.approx(0.65)
  with gene_annotation.Genome(tmp_path / "m" / "genome.fa") as g:
    c1, i1, a, i2, c2 = splicing_events.cassette_sequences(plus, g)
    assert (c1, a, c2) == (genome[100:200], genome[800:920], genome[1600:1700])
    assert i1 == genome[200:800]
    c1, i1, a, i2, c2 = splicing_events.cassette_sequences(minus, g)
  rc = lambda s: s.translate(str.maketrans("ACGT", "TGCA"))[::-1]
  base = 2000
  # Minus strand: the transcript's upstream exon is rMATS's downstream one.
  assert c1 == rc(genome[base + 1500:base + 1600]) and a == rc(genome[base + 700:base + 820])
  assert i1 == rc(genome[base + 820:base + 1500]) and c2 == rc(genome[base:base + 100])


@pytest.mark.parametrize("line, message", [
    (_event(1, "+", (100, 200), (150, 300), (400, 500)), "not ordered"),
    (_event(1, "*", (100, 200), (300, 400), (500, 600)), "strand"),
    (_event(1, "+", (100, 200), (300, 400), (500, 600), ijc1="3,x"), "IJC_SAMPLE_1"),
    ("1\t2\t3", "fields"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
  path = tmp_path / "SE.MATS.JC.txt"
  path.write_text(HEADER + "\n" + _event(0, "+", (1, 2), (3, 4), (5, 6)) + "\n" + line + "\n")
  with pytest.raises(InputFormatError, match=rf"SE.MATS.JC.txt:3: .*{message}"):
    splicing_events.read_rmats_se(path)
  path.write_text("ID\tGeneID\n")
  with pytest.raises(InputFormatError, match="SE.MATS.JC.txt:1: not an rMATS"):
    splicing_events.read_rmats_se(path)


def test_build_psi_and_darts_configs(tmp_path):
  _write(tmp_path / "m", np.random.default_rng(1), darts=True)
  data_dir = str(tmp_path / "tfds")
  builder = pipeline.load_builder("splicing_events/default", data_dir, build_if_missing=True,
                                  manual_dir=str(tmp_path / "m"))
  records = [r for s in builder.info.splits for r in builder.as_data_source(s)]
  assert len(records) == 30 and builder.info.metadata["tissues"] == ["SAMPLE_1", "SAMPLE_2"]
  first = next(r for r in records if r["event_id"] == b"0" or r["event_id"] == "0")
  # Pooled replicates: (50 / 199) / (50 / 199 + 10 / 100) and (10 / 199) / (... + 70 / 100).
  assert first["psi"] == pytest.approx([0.7153, 0.0670], abs=1e-3)
  assert first["lmh"][0].argmax() == 2 and first["lmh"][1].argmax() == 0
  assert first["annotated"] == 1 and sum(r["annotated"] for r in records) == 1
  assert first["features"].shape == (len(cis.feature_names()),)
  darts = pipeline.load_builder("splicing_events/darts", data_dir, build_if_missing=True,
                                manual_dir=str(tmp_path / "m"))
  record = darts.as_data_source("train")[0]
  assert record["trans"].shape == (2, 2)
  assert record["trans"][:, 0] == pytest.approx(np.log2([11, 31]))
  assert record["counts"].tolist() == [50, 10, 10, 70] and record["label"] == 1
  assert record["delta_psi"] == pytest.approx(-0.65)
