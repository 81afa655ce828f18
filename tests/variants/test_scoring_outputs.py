"""Outputs of genereg_jax.variants.scoring beyond the defaults: Parquet, per-gene exon
SED from a GENCODE GTF, per-bin predictions of listed variants, and the default size.

The toy predictor of test_scoring.py (coverage = base counts per 4-bp bin) makes each
expected number easy to recompute.
"""

import gzip

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation
from genereg_jax.variants import scoring

from test_scoring import LENGTH, RESOLUTION, ToyPredictor, _other, _ref, _vcf
from test_scoring import genome  # noqa: F401  (fixture)

POS = 150  # REF window [129, 169) 0-based; bin b covers [129 + 4 b, 133 + 4 b).
FIRST_BIN = POS - 1 - LENGTH // 2

GENCODE_HEADER = """##description: evidence-based annotation of the human genome (GRCh38), version 44 (Ensembl 110)
##provider: GENCODE
##contact: gencode-help@ebi.ac.uk
##format: gtf
##date: 2023-03-28
"""


def _gtf_line(feature, start, end, gene, transcript=None, strand="+"):
  """One GTF line as GENCODE writes it (1-based inclusive coordinates)."""
  attributes = (f'gene_id "{gene}.1"; ' + (f'transcript_id "{transcript}.1"; '
                                           if transcript else "")
                + f'gene_type "protein_coding"; gene_name "{gene}N"; level 2;')
  if transcript:
    attributes += (f' transcript_type "protein_coding"; transcript_name "{transcript}-201";'
                   ' tag "basic"; tag "Ensembl_canonical";')
  return f"chr1\tHAVANA\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attributes}\n"


def _gene(gene, transcripts, strand="+"):
  """A gene with its transcripts' exons ``{transcript: [(start, end) 1-based]}``."""
  spans = [e for exons in transcripts.values() for e in exons]
  lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
  text = _gtf_line("gene", lo, hi, gene, strand=strand)
  for transcript, exons in transcripts.items():
    text += _gtf_line("transcript", exons[0][0], exons[-1][1], gene, transcript, strand)
    for start, end in exons:
      text += _gtf_line("exon", start, end, gene, transcript, strand)
  return text


def _bin_span(b):
  """1-based inclusive GTF coordinates of bin ``b``'s bases."""
  return FIRST_BIN + RESOLUTION * b + 1, FIRST_BIN + RESOLUTION * (b + 1)


@pytest.fixture
def gtf(tmp_path):
  text = GENCODE_HEADER
  # GENE_A: exons on bins 2-3, the first base of bin 5 (the variant's), the last of 7.
  text += _gene("GENE_A", {"TA": [(_bin_span(2)[0], _bin_span(3)[1]),
                                  (_bin_span(5)[0], _bin_span(5)[0]),
                                  (_bin_span(7)[1], _bin_span(7)[1])]})
  # GENE_D: two transcripts, one exon on bin 0, the other on bin 9 (union of both).
  text += _gene("GENE_D", {"TD1": [(_bin_span(0)[0] - 30, _bin_span(0)[0])],
                           "TD2": [(_bin_span(9)[1] - 1, _bin_span(9)[1] + 5)]}, "-")
  # GENE_B: far from the window.
  text += _gene("GENE_B", {"TB": [(260, 270), (280, 290)]})
  path = tmp_path / "genes.gtf.gz"
  with gzip.open(path, "wt") as f:
    f.write(text)
  return str(path)


def test_exon_sed_per_gene(genome, gtf, tmp_path):  # noqa: F811
  genes = scoring.GeneExons(gtf)
  scorer = scoring.Scorer(ToyPredictor(), genome, ["SAD", "logSAD", "diff"],
                          batch_size=4, genes=genes)
  alt = {"A": "C", "C": "A", "G": "T", "T": "G"}[_ref(POS)]  # Moves AT <-> CG.
  path = _vcf(tmp_path, [("chr1", POS, "v1", _ref(POS), alt, ".", ".", "."),
                         ("chr1", 40, "far", _ref(40), _other(_ref(40)), ".", ".", ".")])
  out = str(tmp_path / "out")
  scoring.score_vcf(scorer, path, out)
  scoring.merge(out, output_names=ToyPredictor().output_names, tracks="AT,CG,p0",
                formats=("tsv", "parquet"))
  ref, (alt_window,) = scoring.windows(genome, "chr1", POS, _ref(POS), [alt], LENGTH)
  direct = ToyPredictor()(np.stack([encoding.one_hot_dna(s) for s in (ref, alt_window)]))
  ref_cov, alt_cov = direct["coverage"].astype(np.float64)
  rows = [line.split("\t") for line in open(f"{out}/scores.tsv").read().splitlines()]
  header = rows[0]
  assert header[:8] == [*scoring.ID_COLUMNS, *scoring.GENE_COLUMNS]
  by_gene = {row[6]: dict(zip(header, row)) for row in rows[1:]}
  assert sorted(by_gene) == ["GENE_A.1", "GENE_D.1"] and by_gene["GENE_A.1"]["gene_name"] \
      == "GENE_AN"
  for gene, bins in (("GENE_A.1", [2, 3, 5, 7]), ("GENE_D.1", [0, 9])):
    sad = alt_cov[bins].sum(0) - ref_cov[bins].sum(0)
    sed = np.log2((alt_cov[bins].sum(0) + 1) / (ref_cov[bins].sum(0) + 1))
    for t, track in enumerate(("AT", "CG")):
      assert float(by_gene[gene][f"coverage/SAD/{track}"]) == pytest.approx(sad[t], abs=1e-5)
      assert float(by_gene[gene][f"coverage/logSAD/{track}"]) == pytest.approx(sed[t],
                                                                               abs=1e-5)
    # Vector outputs are per variant: the same on every gene row.
    assert float(by_gene[gene]["probs/diff/p0"]) == pytest.approx(
        direct["probs"][1, 0] - direct["probs"][0, 0], abs=1e-5)
  # The SNV's bin is one of GENE_A's exon bins, not GENE_D's.
  assert float(by_gene["GENE_A.1"]["coverage/SAD/AT"]) != 0
  assert float(by_gene["GENE_D.1"]["coverage/SAD/AT"]) == 0
  issues = open(f"{out}/issues.tsv").read().splitlines()
  assert len(issues) == 2 and issues[1].startswith("4\tchr1\t40\t")
  assert "no exon of a gene" in issues[1]
  table = pq.read_table(f"{out}/scores.parquet").to_pydict()
  assert list(table) == header and table["gene_id"] == [r[6] for r in rows[1:]]


def test_gtf_errors_name_the_line(tmp_path):
  path = tmp_path / "bad.gtf"
  path.write_text(GENCODE_HEADER + _gene("G", {"T": [(10, 20)]})
                  + "chr1\tHAVANA\texon\t30\tx\t.\t+\t.\tgene_id \"G\"; transcript_id \"T\";\n")
  with pytest.raises(gene_annotation.AnnotationFormatError, match=r"bad.gtf:9: "):
    scoring.GeneExons(path)


def test_parquet_equals_tsv(genome, tmp_path):  # noqa: F811
  rows = [("chr1", p, f"v{p}", _ref(p), _other(_ref(p)), ".", ".", ".")
          for p in range(100, 110)]
  path = _vcf(tmp_path, rows)
  out = str(tmp_path / "out")
  scoring.score_vcf(scoring.Scorer(ToyPredictor(), genome, batch_size=4), path, out,
                    chunk_records=3)
  scoring.merge(out, output_names=ToyPredictor().output_names, formats=("parquet",))
  assert not (tmp_path / "out" / "scores.tsv").exists()
  scoring.merge(out, output_names=ToyPredictor().output_names, formats=("tsv", "parquet"))
  lines = [line.split("\t") for line in open(f"{out}/scores.tsv").read().splitlines()]
  table = pq.read_table(f"{out}/scores.parquet")
  assert table.column_names == lines[0] and table.num_rows == 10
  assert str(table.schema.field("pos").type) == "int64"
  assert str(table.schema.field("coverage/SAD/max").type) == "float"
  columns = table.to_pydict()
  for j, name in enumerate(lines[0]):
    tsv = [row[j] for row in lines[1:]]
    if isinstance(columns[name][0], float):
      np.testing.assert_allclose(columns[name], np.array(tsv, float), rtol=1e-5)
    else:
      assert [str(v) for v in columns[name]] == tsv
  with pytest.raises(ValueError, match="unknown table formats"):
    scoring.merge(out, formats=("csv",))


def test_bins_only_for_listed_variants_and_default_size(genome, tmp_path):  # noqa: F811
  positions = list(range(100, 140))
  rows = [("chr1", p, f"v{p}", _ref(p), _other(_ref(p)), ".", ".", ".") for p in positions]
  rows.append(("chr1", 160, "del", _ref(160, 3), _ref(160), ".", ".", "."))
  path = _vcf(tmp_path, rows)
  listed = tmp_path / "ids.txt"
  listed.write_text(f"# wanted\nv105\nchr1:160:{_ref(160, 3)}:{_ref(160)}\nnot_in_vcf\n")
  wanted = scoring.read_variant_list(str(listed))
  assert wanted == scoring.read_variant_list(f"v105,chr1:160:{_ref(160, 3)}:{_ref(160)},"
                                             "not_in_vcf")
  predictor = ToyPredictor()
  out = str(tmp_path / "with")
  scoring.score_vcf(scoring.Scorer(predictor, genome, batch_size=4, save_bins=wanted),
                    path, out, chunk_records=7)
  summary = scoring.merge(out, output_names=predictor.output_names)
  assert summary["bins"] == 2
  ref, (alt,) = scoring.windows(genome, "chr1", 105, _ref(105), [_other(_ref(105))], LENGTH)
  direct = predictor(np.stack([encoding.one_hot_dna(s) for s in (ref, alt)]))
  with h5py.File(f"{out}/bins.h5") as h5:
    assert [v.decode() for v in h5["id"][...]] == ["v105", "del"]
    assert h5["coverage/ref"].shape == (2, 10, 2) and h5["probs/alt"].shape == (2, 3)
    np.testing.assert_allclose(h5["coverage/ref"][0], direct["coverage"][0])
    np.testing.assert_allclose(h5["coverage/alt"][0], direct["coverage"][1])
    np.testing.assert_allclose(h5["probs/alt"][0], direct["probs"][1], rtol=1e-6)

  # Default: no per-bin data anywhere, and 2 bytes x tracks per variant and score.
  out = str(tmp_path / "default")
  scoring.score_vcf(scoring.Scorer(predictor, genome, batch_size=4), path, out,
                    chunk_records=7)
  summary = scoring.merge(out, output_names=predictor.output_names)
  assert summary["bins"] == 0 and not (tmp_path / "default" / "bins.h5").exists()
  for part in (tmp_path / "default" / "parts").glob("chunk_*.npz"):
    with np.load(part) as data:
      assert not [k for k in data.files if k.startswith("bins:")]
  variants = len(positions) + 1
  with h5py.File(f"{out}/scores.h5") as h5:
    for key in summary["scores"]:
      tracks = h5[key].shape[1]
      assert h5[key].shape[0] == variants and h5[key].dtype == np.float16
      assert h5[key].id.get_storage_size() <= 2 * tracks * variants
