"""``epd_promoters`` on records written in the real formats: EPD's BED (60-bp regions with
the TSS as the thick base) and FPS (SIB ``FP`` lines on RefSeq accessions), RegulonDB's
promoter set (``#`` header naming the columns) and a DBTBS table; positives are the
windows around the TSSs on their strand, negatives are far from every TSS, GC/CpG-matched
or shuffled, and malformed lines are named."""

import numpy as np
import pytest

from data_builders import epd_promoters as epd
from data_builders.epd_promoters import epd_promoters as module
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError

_RNG = np.random.default_rng(0)
CHR1 = "".join(_RNG.choice(list("ACGT"), 6000))
CHR2 = "".join(_RNG.choice(list("ACGT"), 4000))
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _write_genome(folder, records):
  with open(folder / "genome.fa", "w") as f:
    for name, bases in records.items():
      f.write(f">{name}\n" + "".join(bases[i:i + 60] + "\n" for i in range(0, len(bases), 60)))


def _window(bases, tss, strand, window=251, tss_index=200):
  if strand == "+":
    return bases[tss - tss_index:tss - tss_index + window]
  start = tss - (window - 1 - tss_index)
  return bases[start:start + window].translate(COMPLEMENT)[::-1]


def test_epd_bed_and_fps_give_the_same_tss(tmp_path):
  bed = tmp_path / "Hs_EPDnew_006_hg38.bed"
  # EPDnew: -49..+10 regions, the TSS as thickStart..thickEnd (+ at 1049, - at 3010).
  bed.write_text("track name=EPDnew\n"
                 "chr1\t1000\t1060\tGENEA_1\t900\t+\t1049\t1050\n"
                 "chr1\t3000\t3060\tGENEB_1\t900\t-\t3010\t3011\n"
                 "chr2\t2000\t2060\tGENEC_1\t900\t+\n")  # No thick columns: start + 49.
  fps = tmp_path / "Hs_EPDnew.fps"
  fps.write_text("FP   Hs_GENEA_1          :+S  EU:NC_000001.11       1+      1050; 00001.001\n"
                 "FP   Hs_GENEB_1          :+S  EU:NC_000001.11       1-      3011; 00002.001\n"
                 "FP   Hs_GENEC_1          :+S  EU:NC_000002.12       1+      2050; 00003.001\n")
  from_bed = epd.read_epd_bed(str(bed))
  from_fps = epd.read_fps(str(fps))
  assert [(p.position, p.strand) for p in from_bed] == [(1049, "+"), (3010, "-"), (2049, "+")]
  assert [(p.position, p.strand) for p in from_fps] == [(1049, "+"), (3010, "-"), (2049, "+")]
  assert from_fps[0].chrom == "NC_000001.11" and epd.REFSEQ_CHROMOSOMES["NC_000023"] == "chrX"
  assert epd.REFSEQ_CHROMOSOMES["NC_000067"] == "chr1"


def test_regulondb_and_dbtbs_tables(tmp_path):
  regulondb = tmp_path / "PromoterSet.txt"
  regulondb.write_text(
      "# RegulonDB: 10.9\n# Columns:\n"
      "# (1) Promoter identifier assigned by RegulonDB\n# (2) Promoter Name\n"
      "# (3) DNA strand where the promoter is located\n"
      "# (4) Genome map position of Transcription Start Site (+1)\n"
      "# (5) Sigma Factor that recognize the promoter\n"
      "# (6) Promoter Sequence (+1 upper case)\n"
      "# (7) Evidence that supports the existence of the promoter\n"
      "# (8) Evidence confidence level (Confirmed, Strong, Weak)\n"
      "ECK120010236\taceBp\tforward\t1200\tSigma70\tacgtA\t[EXP]\tStrong\n"
      "ECK120010237\tdnaKp2\treverse\t2400\tSigma32\tacgtA\t[EXP]\tStrong\n"
      "ECK120010238\tlacZp\treverse\t3300\tSigma70, Sigma38\tacgtA\t[EXP]\tWeak\n"
      "ECK120010239\tunmapped\tforward\t0\tSigma70\t\t\t\n")
  sites = epd.read_regulondb(str(regulondb), "Sigma70")
  assert [(p.name, p.position, p.strand) for p in sites] == [("aceBp", 1199, "+"),
                                                             ("lacZp", 3299, "-")]
  dbtbs = tmp_path / "dbtbs.tsv"
  dbtbs.write_text("Gene\tSigma factor\tTSS position\tStrand\tSequence\n"
                   "abrB\tSigA\t1500\t-\tacgt\n"
                   "spoIIAA\tSigF\t2500\t+\tacgt\n")
  assert [(p.name, p.position, p.strand) for p in epd.read_dbtbs(str(dbtbs), "SigA")] == [
      ("abrB", 1499, "-")]
  bad = tmp_path / "bad.tsv"
  bad.write_text("Gene\tSigma\tTSS\tStrand\nabrB\tSigA\tx\t-\n")
  with pytest.raises(InputFormatError, match="bad.tsv:2:"):
    epd.read_dbtbs(str(bad))


def test_windows_and_the_three_negative_kinds():
  promoters = [epd.Promoter(f"p{i}", "chr1", 1000 + 900 * i, "+-"[i % 2]) for i in range(5)]
  genome = {"chr1": CHR1, "chr2": CHR2}
  fetch = lambda c, start, end: ("N" * max(0, -start) + genome[c][max(start, 0):end]).ljust(
      end - start, "N")
  records = list(epd.promoter_windows(promoters, fetch, {c: len(v) for c, v in genome.items()},
                                      251, 200, ("random", "gc_matched", "shuffled")))
  assert len(records) == 10
  for i, p in enumerate(promoters):
    (_, split, positive), (_, split2, negative) = records[2 * i], records[2 * i + 1]
    assert split == split2 and positive["label"] == 1 and negative["label"] == 0
    assert encoding.decode_dna(positive["sequence"]) == _window(CHR1, p.position, p.strand)
    text = encoding.decode_dna(negative["sequence"])
    assert negative["kind"] == ("random", "gc_matched", "shuffled")[i % 3]
    if negative["kind"] == "shuffled":  # Same bases, same dinucleotides, other order.
      original = encoding.decode_dna(positive["sequence"])
      assert sorted(text) == sorted(original) and text != original
      assert text[:1] == original[:1]
    else:  # Not overlapping any TSS +-1,000 (chr1) or from chr2.
      assert text not in _window(CHR1, p.position, p.strand, 2251, 1100)


def test_build_from_fps_and_a_fasta(tmp_path):
  import tensorflow_datasets as tfds
  manual = tmp_path / "manual"
  manual.mkdir()
  _write_genome(manual, {"chr1": CHR1, "chr2": CHR2})
  lines = [f"FP   Hs_G{i}_1          :+S  EU:NC_000001.11       1{'+-'[i % 2]}"
           f"{1001 + 400 * i:>10d}; {i:05d}.001" for i in range(12)]
  (manual / "promoters.fps").write_text("\n".join(lines) + "\n")
  config = epd.EpdPromotersConfig(name="t", negatives=("random",))
  builder = epd.EpdPromoters(config=config, data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(
      file_format="array_record",
      download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
  rows = [r for split in builder.info.splits for r in builder.as_data_source(split=split)]
  assert len(rows) == 24 and sum(r["label"] for r in rows) == 12
  positives = {encoding.decode_dna(r["sequence"]) for r in rows if r["label"] == 1}
  assert _window(CHR1, 1000, "+") in positives and _window(CHR1, 1400, "-") in positives
