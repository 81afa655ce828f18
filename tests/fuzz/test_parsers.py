"""Every parser of user files succeeds or raises the package's format error, naming the
file (issue 10's fuzzing suite): VCF records and whole VCFs (text, raw bytes, gzipped
and truncated), FASTA, BED / narrowPeak / label BEDs, bpnet peak files, GraphReg loop
BEDPEs and region BEDs, GTF, the SpliceAI gene table and per-tissue usage TSVs. Profiles
in ``conftest.py``; BUILD.md tells how to run the long one.
"""

import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_builders.bpnet_profiles import bpnet_profiles
from data_builders.graphreg import graphreg
from data_builders.spliceai_gencode import spliceai_gencode
from fuzz.fuzz_inputs import as_bytes, check_parser, lines, token_text
from genereg_jax.data import bed
from genereg_jax.data import gene_annotation
from genereg_jax.data import genome
from genereg_jax.data import tfrecord
from genereg_jax.variants import spliceai_scoring as ss

VCF_HEADER = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
SIZES = {"chr1": 300, "chr2": 40}
CONTEXT = 10


@pytest.fixture(scope="module")
def scorer():
  """A SpliceAI scorer on a 300 bp genome with one gene and a model of zeros."""
  directory = tempfile.mkdtemp()
  path = os.path.join(directory, "g.fa")
  rng = np.random.default_rng(0)
  with open(path, "w") as f:
    for chrom, size in SIZES.items():
      f.write(f">{chrom}\n" + "".join(rng.choice(list("ACGT"), size)) + "\n")
  genes = [gene_annotation.Transcript("G", "G", "G", "chr1", "-", 20, 280,
                                      ((20, 100), (150, 280)))]
  zeros = lambda batch: np.zeros((len(batch), batch.shape[1] - CONTEXT, 3), np.float32)
  return ss.SpliceAIScorer(zeros, CONTEXT, gene_annotation.Genome(path),
                           ss.GeneIndex(genes), distance=3, batch_size=2)


vcf_field = st.one_of(st.sampled_from(["chr1", "1", "chr2", "chrX", "A", "C", "G", "T", "N",
                                       "AC", "GTA", "<DEL>", "*", ".", "A,C", "AG,T", "C[1:5[",
                                       "²", "٣", "150", "21", "279", "0", "-4", "9" * 20]),
                      st.integers(0, 320).map(str), st.text(max_size=5))
vcf_records = lines(vcf_field, separators=("\t",))


@given(st.lists(vcf_field, max_size=10).map("\t".join))
def test_vcf_record_never_raises(line):
  result = ss.parse_record(line, 7)
  assert (result.variant is None) == bool(result.issues)


@given(as_bytes(vcf_records), st.booleans(), st.booleans())
def test_vcf_file(scorer, data, with_header, gzip_out):
  prefix = VCF_HEADER if with_header else b""

  def parse(path):
    total = ss.count_records(path)
    counts = ss.score_vcf(scorer, path, path + (".out.vcf.gz" if gzip_out else ".out.vcf"),
                          chunk_records=3)
    assert counts["records"] == total
  check_parser(data, parse, ".vcf", prefix)


fasta_line = st.one_of(
    st.sampled_from([">chr1", ">chr2 description", ">", "> x", ">chr1", "", " ", "\r"]),
    st.text(alphabet="ACGTNacgtnRY", min_size=1, max_size=12),
    st.text(alphabet="ACGT>*- 1é\t", max_size=8))
fasta_text = st.builds(lambda rows, end: "\n".join(rows) + end,
                       st.lists(fasta_line, max_size=14), st.sampled_from(["\n", ""]))


@given(as_bytes(fasta_text))
def test_fasta(data):
  def parse(path):
    with genome.Genome(path) as fasta:
      for chrom, size in fasta.sizes.items():
        assert fasta.sequence(chrom).size == size
        assert len(fasta.fetch(chrom, -2, size + 2)) == size + 4
  check_parser(data, parse, ".fa")


bed_text = token_text(["chr1\t10\t20", "chr2", "30", "15", "-1", "5", "chrom\tstart\tend\tk"])


@given(as_bytes(bed_text), st.sampled_from([".bed", ".narrowPeak", ".bed.gz"]),
       st.booleans())
def test_bed(data, suffix, label_columns):
  def parse(path):
    if label_columns:
      bed.bed_column_names(path)
    return bed.read_bed(path, SIZES, "g.fa", label_columns)
  check_parser(data, parse, suffix)


@given(as_bytes(bed_text), st.sampled_from(["auto", "bed", "narrowPeak"]))
def test_bpnet_peaks(data, peak_format):
  check_parser(data, lambda path: bpnet_profiles.read_peaks(path, peak_format), ".bed")


bedpe_text = token_text(["chr1\t10\t20\tchr1\t50\t60", "chr1\ts1\te1\tchr2\ts2\te2\tcc\t"
                         "Q-Value_Bias", "chr2", "30", "0.5", "1e-9", "-1", "#", "²"])


@given(as_bytes(bedpe_text), st.booleans())
def test_graphreg_loops_and_regions(data, regions):
  config = graphreg.GraphRegConfig(name="fuzz", epi_bigwigs=("x",), cage_bigwigs=("x",),
                                   loops="x", gtf="x", n_nodes=2, node_size=10,
                                   epi_bin_size=10, scored_nodes=(0, 2))
  parse = ((lambda path: graphreg.read_regions(path, config)) if regions
           else (lambda path: graphreg.read_loops(path, 0.01)))
  check_parser(data, parse, ".bed")


gtf_field = st.one_of(
    st.sampled_from(["chr1", "HAVANA", "exon", "transcript", "gene", "1", "100", "50", "0",
                     "²", "+", "-", ".", 'gene_id "g1"; transcript_id "t1";',
                     'gene_id "g1"; transcript_id "t2"; tag "MANE_Select";',
                     'gene_id "g2"; transcript_id "t1";', 'gene_id g1', '"', ";"]),
    st.text(max_size=5))
gtf_text = lines(gtf_field, separators=("\t",))


@given(as_bytes(gtf_text))
def test_gtf(data):
  check_parser(data, lambda path: gene_annotation.read_gtf(path, gene_types=None), ".gtf")


table_header = ("\t".join(gene_annotation.SPLICEAI_TABLE_COLUMNS) + "\n").encode()
table_field = st.one_of(st.sampled_from(["G", "chr1", "+", "-", "10", "200", "10,150,",
                                         "100,200,", "10,", "100,", ",", "²", "٣,", "-5"]),
                        st.text(max_size=5))


@given(as_bytes(lines(table_field, separators=("\t",))), st.booleans())
def test_spliceai_table(data, with_header):
  check_parser(data, gene_annotation.read_spliceai_table, ".txt",
               table_header if with_header else b"")


usage_header = b"chrom\tpos\tstrand\tbrain\theart\n"
usage_field = st.one_of(st.sampled_from(["chr1", "1", "0", "²", "+", "-", "0.5", "NA", "1.5",
                                         "nan", "inf", "#chrom", "pos", "brain"]),
                        st.text(max_size=5))


@given(as_bytes(lines(usage_field, separators=("\t",))), st.booleans())
def test_usage_table(data, with_header):
  check_parser(data, lambda path: spliceai_gencode.read_usage_table(path, ["brain", "heart"]),
               ".tsv", usage_header if with_header else b"")


@given(st.one_of(
    st.binary(max_size=200),
    st.lists(st.binary(max_size=40), max_size=4).map(
        lambda records: b"".join(tfrecord.frame_record(r) for r in records)),
    st.builds(lambda data, cut: data[:cut], st.lists(st.binary(max_size=40), min_size=1,
                                                     max_size=3).map(
        lambda records: b"".join(tfrecord.frame_record(r) for r in records)),
        st.integers(0, 60))))
def test_tfrecord(data):
  check_parser(data, lambda path: list(tfrecord.read_examples(path)), ".tfr")
