"""The ``spliceai_gencode`` builder on a tiny genome, from a GTF and from a SpliceAI table.

Checks what the SpliceAI recipe (Jaganathan et al. 2019) fixes: principal-transcript
choice, acceptor/donor positions, blocks with N-padded context, reverse-complemented
minus-strand genes, padding labels and the chromosome split; and Pangolin's per-tissue
usage targets (Zeng & Li 2022) from a usage TSV written in the documented format.
"""

import gzip
import zlib

import numpy as np
import pytest

from data_builders import spliceai_gencode as sg
from genereg_jax.data import encoding
from genereg_jax.data import gene_annotation

BLOCK, CONTEXT = 200, 80
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")

# Genes, exons 0-based half-open. PLUS1 has a longer non-canonical transcript that must
# lose to the Ensembl_canonical one; LNC1 is not protein-coding; UN1 is off the primary
# chromosomes.
GENES = {
    "PLUS1": dict(gene_id="ENSG01", chrom="chr2", strand="+",
                  exons=[(100, 200), (300, 400), (500, 560)]),
    "MINUS1": dict(gene_id="ENSG02", chrom="chr1", strand="-",
                   exons=[(50, 150), (400, 520), (800, 900)]),
    "EDGE1": dict(gene_id="ENSG03", chrom="chr2", strand="+",
                  exons=[(10, 60), (150, 300)]),
}
NONCANONICAL_EXONS = [(100, 200), (300, 450), (500, 700)]


def _gtf_line(chrom, feature, start, end, strand, attributes):
  text = " ".join(f'{k} "{v}";' for k, v in attributes)
  return f"{chrom}\tTEST\t{feature}\t{start + 1}\t{end}\t.\t{strand}\t.\t{text}\n"


def _transcript_lines(chrom, strand, exons, gene_id, name, transcript_id, gene_type,
                      tags=()):
  base = [("gene_id", gene_id), ("transcript_id", transcript_id), ("gene_type", gene_type),
          ("gene_name", name)] + [("tag", t) for t in tags]
  lines = [_gtf_line(chrom, "transcript", exons[0][0], exons[-1][1], strand, base)]
  lines += [_gtf_line(chrom, "exon", s, e, strand, base) for s, e in exons]
  return lines


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
  """genome.fa, annotation.gtf and annotation.txt in one manual directory."""
  root = tmp_path_factory.mktemp("manual")
  rng = np.random.default_rng(0)
  genome = {name: "".join(rng.choice(list("ACGT"), size=n))
            for name, n in (("chr1", 1000), ("chr2", 800), ("chrUn_x", 300))}
  # Soft-masked bases must read as ordinary bases.
  genome["chr2"] = genome["chr2"][:320] + genome["chr2"][320:340].lower() + genome["chr2"][340:]
  with open(root / "genome.fa", "w") as f:
    for name, seq in genome.items():
      f.write(f">{name} test\n")
      f.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))

  lines = ["##description: test\n", "chr2\tTEST\tgene\t101\t700\t.\t+\t.\t"
           'gene_id "ENSG01"; gene_type "protein_coding"; gene_name "PLUS1";\n']
  lines += _transcript_lines("chr2", "+", NONCANONICAL_EXONS, "ENSG01", "PLUS1",
                             "ENST01B", "protein_coding", ("basic",))
  lines += _transcript_lines("chr2", "+", GENES["PLUS1"]["exons"], "ENSG01", "PLUS1",
                             "ENST01A", "protein_coding", ("basic", "Ensembl_canonical"))
  lines += _transcript_lines("chr1", "-", GENES["MINUS1"]["exons"], "ENSG02", "MINUS1",
                             "ENST02A", "protein_coding", ("MANE_Select",))
  lines += _transcript_lines("chr2", "+", GENES["EDGE1"]["exons"], "ENSG03", "EDGE1",
                             "ENST03A", "protein_coding")
  lines += _transcript_lines("chr2", "-", [(600, 650), (700, 750)], "ENSG04", "LNC1",
                             "ENST04A", "lncRNA", ("Ensembl_canonical",))
  lines += _transcript_lines("chrUn_x", "+", [(10, 50), (100, 200)], "ENSG05", "UN1",
                             "ENST05A", "protein_coding")
  (root / "annotation.gtf").write_text("".join(lines))

  rows = ["#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n"]
  for name, gene in GENES.items():
    exons = gene["exons"]
    rows.append(f"{name}\t{gene['chrom'][3:]}\t{gene['strand']}\t{exons[0][0]}\t"
                f"{exons[-1][1]}\t{''.join(f'{s},' for s, _ in exons)}\t"
                f"{''.join(f'{e},' for _, e in exons)}\n")
  (root / "annotation.txt").write_text("".join(rows))
  return root, {k: v.upper() for k, v in genome.items()}


def _valid_fraction():
  """A fraction that puts exactly one of the chr2 genes in ``valid``."""
  buckets = sorted(zlib.crc32(GENES[n]["gene_id"].encode()) / 2**32
                   for n in ("PLUS1", "EDGE1"))
  return (buckets[0] + buckets[1]) / 2


def _build(root, tmp_path, **fields):
  config = sg.SpliceaiGencodeConfig(
      name="test", block_length=BLOCK, context=CONTEXT,
      **{"valid_fraction": _valid_fraction(), **fields})
  builder = sg.SpliceaiGencode(config=config, data_dir=str(tmp_path / config.annotation),
                               file_format="array_record")
  import tensorflow_datasets as tfds
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in source}


def _by_gene(records):
  genes = {}
  for split, rows in records.items():
    for row in rows:
      genes.setdefault(row["gene_name"].decode(), []).append((split, row))
  return genes


def _expected_gene(genome, gene, mask=True):
  """Labels and block sequences computed directly from the gene's definition."""
  exons, strand = gene["exons"], gene["strand"]
  tx_start, tx_end = exons[0][0], exons[-1][1]
  chrom = genome[gene["chrom"]]
  length = tx_end - tx_start
  num_blocks = -(-length // BLOCK)
  labels = np.full(num_blocks * BLOCK, -1)
  labels[:length] = 0
  genomic_first = [s for s, _ in exons[1:]]  # First bases of exons 2..n, genomic order.
  genomic_last = [e - 1 for _, e in exons[:-1]]
  if strand == "+":
    for p in genomic_first:
      labels[p - tx_start] = 1
    for p in genomic_last:
      labels[p - tx_start] = 2
  else:
    for p in genomic_last:  # 5' ends of exons on the minus strand: acceptors.
      labels[tx_end - 1 - p] = 1
    for p in genomic_first:
      labels[tx_end - 1 - p] = 2
  def base(g):
    if mask:
      inside = tx_start <= g < tx_end
    else:  # Genome up to CONTEXT / 2 past the transcript (all any label sees).
      inside = (0 <= g < len(chrom)) and (
          tx_start - CONTEXT // 2 <= g < tx_end + CONTEXT // 2)
    return chrom[g] if inside else "N"
  sequences = []
  for i in range(num_blocks):
    if strand == "+":
      positions = range(tx_start + i * BLOCK - CONTEXT // 2,
                        tx_start + (i + 1) * BLOCK + CONTEXT // 2)
      sequences.append("".join(base(g) for g in positions))
    else:
      high = tx_end - 1 - i * BLOCK + CONTEXT // 2
      positions = range(high, high - BLOCK - CONTEXT, -1)
      sequences.append("".join(base(g) for g in positions).translate(_COMPLEMENT))
  return labels, sequences


@pytest.fixture(scope="module")
def gtf_records(inputs, tmp_path_factory):
  root, _ = inputs
  return _build(root, tmp_path_factory.mktemp("gtf"), annotation="annotation.gtf")


def test_principal_transcripts_and_gene_filter(inputs):
  root, _ = inputs
  transcripts = gene_annotation.read_gtf(root / "annotation.gtf")
  chosen = {t.gene_name: t.transcript_id for t in transcripts}
  assert chosen == {"PLUS1": "ENST01A", "MINUS1": "ENST02A", "EDGE1": "ENST03A",
                    "UN1": "ENST05A"}
  everything = gene_annotation.read_gtf(root / "annotation.gtf", gene_types=None,
                                        all_transcripts=True)
  assert len(everything) == 6
  # Without the tag the longer transcript wins.
  untagged = [t for t in everything if t.gene_name == "PLUS1"]
  untagged = [gene_annotation.Transcript(**{**t.__dict__, "tags": frozenset()})
              for t in untagged]
  assert gene_annotation.principal_transcript(untagged).transcript_id == "ENST01B"


def test_labels_sequences_and_splits_from_gtf(inputs, gtf_records):
  _, genome = inputs
  genes = _by_gene(gtf_records)
  assert set(genes) == {"PLUS1", "MINUS1", "EDGE1"}  # No lncRNA, no chrUn.
  assert {split for split, _ in genes["MINUS1"]} == {"test"}
  train_valid = {name: {split for split, _ in genes[name]} for name in ("PLUS1", "EDGE1")}
  assert sorted(map(tuple, train_valid.values())) == [("train",), ("valid",)]

  for name, gene in GENES.items():
    rows = [row for _, row in genes[name]]
    labels, sequences = _expected_gene(genome, gene)
    assert [int(r["block_index"]) for r in rows] == list(range(len(sequences)))
    got_labels = np.concatenate([r["label"] for r in rows])
    np.testing.assert_array_equal(got_labels, labels)
    for row, expected in zip(rows, sequences):
      assert row["sequence"].shape == (BLOCK + CONTEXT, 4)
      assert row["sequence"].dtype == np.uint8 and row["label"].dtype == np.int8
      assert encoding.decode_dna(row["sequence"]) == expected
      assert row["strand"] == (1 if gene["strand"] == "+" else -1)
      assert row["chrom"].decode() == gene["chrom"]
      assert row["gene_id"].decode() == gene["gene_id"]


def test_minus_strand_details(gtf_records):
  rows = [row for _, row in _by_gene(gtf_records)["MINUS1"]]
  labels = np.concatenate([r["label"] for r in rows])
  # Transcript [50, 900): 850 labelled bases in 5 blocks, 150 padding labels.
  assert len(rows) == 5 and (labels == -1).sum() == 150 and labels[849] == 0
  # Acceptors at the 5' (genomic high) ends of exons 2 and 3, donors at the 3' ends.
  assert np.flatnonzero(labels == 1).tolist() == [899 - 519, 899 - 149]
  assert np.flatnonzero(labels == 2).tolist() == [899 - 800, 899 - 400]
  assert [int(r["start"]) for r in rows] == [899, 699, 499, 299, 99]
  # The context before the transcript's first base (genomic > 899) is N, and the
  # first labelled base is the complement of genomic base 899.
  first = encoding.decode_dna(rows[0]["sequence"])
  assert first[:CONTEXT // 2] == "N" * (CONTEXT // 2)
  # An acceptor reads ...AG|exon on the transcript strand: the dinucleotide before it
  # is the reverse complement of the genome after the genomic exon end.
  assert rows[0]["sequence"][CONTEXT // 2].sum() == 1


def test_table_format_gives_the_same_records(inputs, gtf_records, tmp_path):
  root, _ = inputs
  table = gene_annotation.read_spliceai_table(root / "annotation.txt")
  assert [(t.gene_name, t.tx_start, t.tx_end, t.exons[0]) for t in table] == [
      (n, g["exons"][0][0], g["exons"][-1][1], g["exons"][0]) for n, g in GENES.items()]
  # Table gene IDs are the names, so hash splits differ; with no valid fraction the
  # train chromosome's genes are all "train" and no empty "valid" split is written.
  records = _build(root, tmp_path, annotation="annotation.txt", valid_fraction=0.0)
  assert set(records) == {"train", "test"}
  gtf, tab = _by_gene(gtf_records), _by_gene(records)
  assert set(tab) == set(gtf)
  for name in GENES:
    assert {s for s, _ in tab[name]} == {"test" if name == "MINUS1" else "train"}
    assert len(tab[name]) == len(gtf[name])
    for (_, a), (_, b) in zip(tab[name], gtf[name]):
      np.testing.assert_array_equal(a["sequence"], b["sequence"])
      np.testing.assert_array_equal(a["label"], b["label"])
      assert a["chrom"].decode() == gtf[name][0][1]["chrom"].decode()[3:]


def test_genomic_flanks_with_n_beyond_chromosome_ends(inputs, tmp_path):
  root, genome = inputs
  records = _build(root, tmp_path, annotation="annotation.gtf",
                   mask_outside_transcript=False)
  rows = [row for _, row in _by_gene(records)["EDGE1"]]
  _, expected = _expected_gene(genome, GENES["EDGE1"], mask=False)
  for row, sequence in zip(rows, expected):
    assert encoding.decode_dna(row["sequence"]) == sequence
  # EDGE1 starts at 10: 30 of its 40 left-context bases lie before the chromosome.
  assert encoding.decode_dna(rows[0]["sequence"])[:31] == "N" * 30 + genome["chr2"][0]


def test_bad_inputs_name_file_and_line(inputs, tmp_path):
  root, _ = inputs
  bad = tmp_path / "bad.gtf"
  bad.write_text((root / "annotation.gtf").read_text() + "chr2\tTEST\texon\t5\n")
  with pytest.raises(gene_annotation.AnnotationFormatError, match=r"bad\.gtf:\d+: expected 9"):
    gene_annotation.read_gtf(bad)
  table = tmp_path / "bad.txt"
  table.write_text("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n"
                   "G\t1\t+\t10\tx\t10,\t20,\n")
  with pytest.raises(gene_annotation.AnnotationFormatError, match=r"bad\.txt:2: TX_START"):
    gene_annotation.read_spliceai_table(table)
  other = tmp_path / "other"
  other.mkdir()
  (other / "genome.fa").write_text(">chr9\nACGT\n")
  (other / "annotation.gtf").write_text((root / "annotation.gtf").read_text())
  with pytest.raises(ValueError, match="does not have"):
    _build(other, tmp_path / "o", annotation="annotation.gtf")


def test_spliceai_package_tables():
  try:
    path = gene_annotation.spliceai_table_path("grch38")
  except FileNotFoundError as e:
    pytest.skip(str(e))
  transcripts = gene_annotation.read_spliceai_table(path)
  assert len(transcripts) == 19305
  samd11 = next(t for t in transcripts if t.gene_name == "SAMD11")
  # Table row: TX_START 925737 (0-based), first exon end 925800 (1-based inclusive).
  assert (samd11.chrom, samd11.strand, samd11.tx_start, samd11.tx_end) == (
      "1", "+", 925737, 944575)
  assert samd11.exons[0] == (925737, 925800) and len(samd11.exons) == 14


# ---------------------------------------------------------------------------------------
# Per-tissue usage (gencode_usage, for Pangolin; Zeng & Li 2022).

# Tissue columns out of order and an extra column, as a user's table may have them.
USAGE_HEADER = "#chrom\tpos\tstrand\tgene\ttestis\tbrain\tliver\theart\n"
USAGE_ROWS = [
    "chr2\t200\t+\tPLUS1\t1\t0.9\t0.8\t0.7\n",    # donor, genomic 199
    "chr2\t301\t+\tPLUS1\t1\tNA\t0\t0.5\n",       # acceptor 300: brain unknown, liver unused
    "chr2\t251\t+\tPLUS1\t0.2\t0\t0\t0.3\n",      # an unannotated site, 250
    "chr2\t400\t+\tPLUS1\t.\t1\t1\t1\n",          # donor 399, testis unknown
    "chr2\t251\t-\tANTISENSE\t1\t1\t1\t1\n",      # other strand: no transcript
    "1\t520\t-\tMINUS1\t0.6\t0.6\t0.6\t0.6\n",    # acceptor 519, no "chr" prefix
    "1\t401\t-\tMINUS1\t0.1\t0.2\t0.3\t0.4\n",    # donor 400
    "chr9\t100\t+\tNOWHERE\t1\t1\t1\t1\n",        # chromosome without genes
]
# Expected usage (heart, liver, brain, testis) by transcript offset; -1 unknown.
EXPECTED_USAGE = {
    "PLUS1": {99: (0.7, 0.8, 0.9, 1), 200: (0.5, 0, -1, 1), 150: (0.3, 0, 0, 0.2),
              299: (1, 1, 1, -1)},  # Acceptor 500 is not in the table: 0 everywhere.
    "MINUS1": {899 - 519: (0.6,) * 4, 899 - 400: (0.4, 0.3, 0.2, 0.1)},
    # EDGE1 [10, 300) overlaps PLUS1 on the same strand and shares two of its sites.
    "EDGE1": {189: (0.7, 0.8, 0.9, 1), 240: (0.3, 0, 0, 0.2)},
}


def _expected_usage(name):
  gene = GENES[name]
  length = gene["exons"][-1][1] - gene["exons"][0][0]
  usage = np.full((-(-length // BLOCK) * BLOCK, 4), -1.0, np.float32)
  usage[:length] = 0.0
  for offset, values in EXPECTED_USAGE[name].items():
    usage[offset] = values
  return usage


@pytest.fixture(scope="module")
def usage_table(tmp_path_factory):
  path = tmp_path_factory.mktemp("usage") / "usage.tsv"
  path.write_text("## per-tissue usage for the test genome\n" + USAGE_HEADER +
                  "".join(USAGE_ROWS))
  return path


def test_usage_targets_per_tissue(inputs, gtf_records, usage_table, tmp_path):
  root, _ = inputs
  records = _build(root, tmp_path, annotation="annotation.gtf",
                   usage_table=str(usage_table), tissues=sg.PANGOLIN_TISSUES)
  plain, with_usage = _by_gene(gtf_records), _by_gene(records)
  assert set(with_usage) == set(plain) == set(EXPECTED_USAGE)
  for name in EXPECTED_USAGE:
    rows = [row for _, row in with_usage[name]]
    assert [s for s, _ in with_usage[name]] == [s for s, _ in plain[name]]
    for row, reference in zip(rows, (row for _, row in plain[name])):
      # Sequence, labels and metadata as without usage; usage is added.
      assert set(row) - set(reference) == {"usage"}
      np.testing.assert_array_equal(row["sequence"], reference["sequence"])
      np.testing.assert_array_equal(row["label"], reference["label"])
      assert row["usage"].shape == (BLOCK, 4) and row["usage"].dtype == np.float32
    np.testing.assert_allclose(np.concatenate([r["usage"] for r in rows]),
                               _expected_usage(name), atol=1e-7)


def test_usage_config_metadata_and_unchanged_configs():
  configs = sg.SpliceaiGencode.builder_configs
  assert (configs["gencode_usage"].usage_table, configs["gencode_usage"].tissues) == (
      "usage.tsv", ("heart", "liver", "brain", "testis"))
  info = sg.SpliceaiGencode(config="gencode_usage", data_dir="/nonexistent").info
  assert info.features["usage"].shape == (5000, 4)
  assert info.metadata["tissues"] == ["heart", "liver", "brain", "testis"]
  for name in ("gencode", "spliceai_grch38", "spliceai_grch37", "tiny"):
    assert "usage" not in sg.SpliceaiGencode(config=name, data_dir="/nonexistent").info.features
  with pytest.raises(ValueError, match="usage_table and tissues go together"):
    sg.SpliceaiGencodeConfig(name="bad", usage_table="usage.tsv")


def test_usage_table_reads_gzip_and_finds_sites(usage_table, tmp_path):
  packed = tmp_path / "usage.tsv.gz"
  packed.write_bytes(gzip.compress(usage_table.read_bytes()))
  table = sg.read_usage_table(usage_table, ("heart", "testis"))
  again = sg.read_usage_table(packed, ("heart", "testis"))
  assert table.tissues == again.tissues == ("heart", "testis")
  for key in table.sites:
    np.testing.assert_array_equal(table.sites[key][0], again.sites[key][0])
    np.testing.assert_array_equal(table.sites[key][1], again.sites[key][1])
  positions, values = table.rows_in("chr2", "+", 100, 560)
  assert positions.tolist() == [199, 250, 300, 399]
  np.testing.assert_array_equal(values[2], [0.5, 1.0])
  assert np.isnan(values[3, 1])
  assert table.rows_in("2", "-", 0, 800)[0].tolist() == [250]
  # A transcript without any row in the table is unquantified: unknown throughout; one
  # with rows is 0 where the table has none.
  lone = gene_annotation.Transcript("G", "G", "T", "chr2", "+", 600, 700,
                                    ((600, 650), (660, 700)))
  np.testing.assert_array_equal(sg.transcript_usage(lone, table), -np.ones((100, 2)))
  plus1 = gene_annotation.Transcript("G", "G", "T", "chr2", "+", 100, 560,
                                     ((100, 200), (300, 400), (500, 560)))
  usage = sg.transcript_usage(plus1, table)
  assert usage.shape == (460, 2) and np.flatnonzero(usage[:, 0]).tolist() == [99, 150, 200, 299]
  np.testing.assert_array_equal(usage[299], [1.0, -1.0])


@pytest.mark.parametrize("line,message", [
    ("chr2\t200\t+\tG\t1\t0.9\t1.5\t0.7\n", r"bad\.tsv:3: liver usage must be a number in "
     r"\[0, 1\] or NA, got '1\.5'"),
    ("chr2\tx\t+\tG\t1\t1\t1\t1\n", r"bad\.tsv:3: pos must be a 1-based position"),
    ("chr2\t0\t+\tG\t1\t1\t1\t1\n", r"bad\.tsv:3: pos must be a 1-based position"),
    ("chr2\t200\t.\tG\t1\t1\t1\t1\n", r"bad\.tsv:3: strand must be \+ or -"),
    ("chr2\t200\t+\t1\t1\t1\t1\n", r"bad\.tsv:3: expected 8 tab-separated columns"),
    ("chr2\t400\t+\tG\t1\t1\t1\t1\n", r"bad\.tsv:3: site chr2:400:\+ is already on line 2"),
    ("chr2\t500\t+\tG\tlow\t1\t1\t1\n", r"bad\.tsv:3: testis usage must be"),
])
def test_malformed_usage_lines_name_file_and_line(tmp_path, line, message):
  bad = tmp_path / "bad.tsv"
  bad.write_text(USAGE_HEADER + "chr2\t400\t+\tG\t1\t1\t1\t1\n" + line)
  with pytest.raises(gene_annotation.AnnotationFormatError, match=message):
    sg.read_usage_table(bad, sg.PANGOLIN_TISSUES)


def test_bad_usage_tables_stop_the_build(inputs, tmp_path):
  root, _ = inputs
  header_only_heart = tmp_path / "heart.tsv"
  header_only_heart.write_text("chrom\tpos\tstrand\theart\nchr2\t200\t+\t1\n")
  with pytest.raises(gene_annotation.AnnotationFormatError,
                     match=r"heart\.tsv:1: the header needs columns .* missing \['liver', "
                     r"'brain', 'testis'\]"):
    _build(root, tmp_path / "a", annotation="annotation.gtf",
           usage_table=str(header_only_heart), tissues=sg.PANGOLIN_TISSUES)
  elsewhere = tmp_path / "elsewhere.tsv"
  elsewhere.write_text(USAGE_HEADER + USAGE_ROWS[-1] + USAGE_ROWS[4])
  with pytest.raises(ValueError, match="no site of .*elsewhere.tsv lies in a transcript"):
    _build(root, tmp_path / "b", annotation="annotation.gtf", usage_table=str(elsewhere),
           tissues=sg.PANGOLIN_TISSUES)
