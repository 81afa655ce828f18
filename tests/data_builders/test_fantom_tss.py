"""``fantom_tss`` on records written in the FANTOM5 layouts (CTSS BED6, robust-peak BED9
with its ``chr:start..end,strand`` names), RNA-seq bigWigs written with pyBigWig, and a
genome FASTA; then one TFDS build of the same files."""

import gzip

import numpy as np
import pyBigWig
import pytest

from data_builders import fantom_tss as ft
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import pipeline

_COMPLEMENT = str.maketrans("ACGT", "TGCA")
WINDOW = 101


def _write_bigwig(path, sizes, values):
  writer = pyBigWig.open(str(path), "w")
  writer.addHeader(list(sizes.items()))
  for chrom, track in values.items():
    writer.addEntries(chrom, 0, values=[float(v) for v in track], span=1, step=1)
  writer.close()


@pytest.fixture(scope="module")
def manual_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("fantom")
  rng = np.random.default_rng(0)
  sizes = {"chr1": 8000, "chr8": 3000, "chr9": 3000}
  genome = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in sizes.items()}
  with open(root / "genome.fa", "w") as f:
    for chrom, text in genome.items():
      f.write(f">{chrom}\n" + "\n".join(text[i:i + 60] for i in range(0, len(text), 60))
              + "\n")
  # HepG2: a CTSS BED6 (gzipped): TSSs on both strands of chr1 and one on chr8.
  with gzip.open(root / "HepG2.CNhs12328.ctss.bed.gz", "wt") as f:
    f.write("chr1\t2000\t2001\tchr1:2001..2001,+\t12\t+\n"
            "chr1\t5000\t5001\tchr1:5001..5001,-\t3\t-\n"
            "chr8\t1500\t1501\tchr8:1501..1501,+\t5\t+\n")
  # K562: robust peaks BED9; its representative TSS is thickStart.
  with open(root / "K562.robust_peaks.bed", "w") as f:
    f.write("track name=robust\n"
            "chr1\t1995\t2010\tchr1:1996..2010,+\t40\t+\t2003\t2004\t255,0,0\n"
            "chr9\t1200\t1230\tchr9:1201..1230,-\t7\t-\t1210\t1211\t0,0,255\n")
  plus = {c: np.zeros(n) for c, n in sizes.items()}
  plus["chr1"][2001:2500] = 9.0  # Reads downstream of the + TSS at 2000.
  minus = {c: np.zeros(n) for c, n in sizes.items()}
  minus["chr1"][4500:5000] = 4.0  # Upstream in genome order = downstream of the - TSS.
  _write_bigwig(root / "HepG2.plus.bw", sizes, plus)
  _write_bigwig(root / "HepG2.minus.bw", sizes, minus)
  _write_bigwig(root / "K562.bw", sizes, plus)
  with open(root / "cell_types.tsv", "w") as f:
    f.write("cell_type\tcage_bed\trnaseq_bigwig\trnaseq_bigwig_minus\n"
            "HepG2\tHepG2.CNhs12328.ctss.bed.gz\tHepG2.plus.bw\tHepG2.minus.bw\n"
            "K562\tK562.robust_peaks.bed\tK562.bw\t\n")
  return root, genome


def test_reads_both_fantom_layouts(manual_dir):
  root, _ = manual_dir
  ctss = ft.read_tss_bed(str(root / "HepG2.CNhs12328.ctss.bed.gz"))
  assert [(s.chrom, s.position, s.strand, s.score) for s in ctss] == [
      ("chr1", 2000, "+", 12.0), ("chr1", 5000, "-", 3.0), ("chr8", 1500, "+", 5.0)]
  peaks = ft.read_tss_bed(str(root / "K562.robust_peaks.bed"), min_score=10)
  assert [(s.chrom, s.position, s.strand) for s in peaks] == [("chr1", 2003, "+")]


def test_windows_labels_strands_and_coverage(manual_dir):
  root, genome = manual_dir
  with genome_lib.Genome(str(root / "genome.fa")) as fasta:
    rows = list(ft.tss_windows(ft.read_manifest(str(root)), fasta, window=WINDOW))
  by_key = {key: (split, record) for key, split, record in rows}
  half = WINDOW // 2
  split, tss = by_key["HepG2:chr1:2000:+:tss"]
  assert split == "train" and tss["label"] == 1 and tss["cell_type"] == 0
  assert encoding.decode_dna(tss["sequence"]) == genome["chr1"][2000 - half:2000 + half + 1]
  assert (tss["coverage"][half + 1:] == 9).all() and (tss["coverage"][:half + 1] == 0).all()
  # Minus strand: reverse complement, coverage (of the minus bigWig) reversed.
  _, minus = by_key["HepG2:chr1:5000:-:tss"]
  assert encoding.decode_dna(minus["sequence"]) == genome["chr1"][
      5000 - half:5000 + half + 1].translate(_COMPLEMENT)[::-1]
  assert (minus["coverage"][half + 1:] == 4).all() and (minus["coverage"][:half] == 0).all()
  # K562's chr1 peak (2003) is within 100 bp of HepG2's TSS: not "used elsewhere" there,
  # but the chr9 one is (and lands in the test split).
  assert "HepG2:chr1:2003:+:elsewhere" not in by_key
  split, elsewhere = by_key["HepG2:chr9:1210:-:elsewhere"]
  assert split == "test" and elsewhere["label"] == 0
  assert by_key["K562:chr8:1500:+:elsewhere"][0] == "valid"
  backgrounds = [r for k, (_, r) in by_key.items() if ":background" in k]
  assert backgrounds and all(r["label"] == 0 for r in backgrounds)
  assert all(abs(int(r["position"]) - 2000) > 100 for r in backgrounds
             if r["chrom"] == "chr1" and r["strand"] == "+")
  assert {r["label"] for _, _, r in rows} == {0, 1}


def test_bad_lines_name_path_and_line(tmp_path):
  path = tmp_path / "bad.bed"
  path.write_text("chr1\t10\t11\tx\t1\t+\nchr1\t10\t11\tx\t1\t*\n")
  with pytest.raises(ft.FantomFormatError, match="bad.bed:2: strand"):
    ft.read_tss_bed(str(path))
  path.write_text("chr1\t10\t20\tx\t1\t+\t25\t26\t0\n")
  with pytest.raises(ft.FantomFormatError, match="thickStart 25 outside"):
    ft.read_tss_bed(str(path))


def test_tfds_build(manual_dir, tmp_path):
  root, _ = manual_dir
  builder = ft.FantomTSS(config=ft.FantomTSSConfig(name="small", window=WINDOW),
                         data_dir=str(tmp_path), file_format="array_record")
  builder.download_and_prepare(download_config=pipeline.tfds.download.DownloadConfig(
      manual_dir=str(root)))
  assert builder.info.metadata["cell_types"] == ["HepG2", "K562"]
  train = builder.as_data_source(split="train")
  assert train[0]["coverage"].shape == (WINDOW,) and train[0]["sequence"].shape == (WINDOW, 4)
