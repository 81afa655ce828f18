"""``polya_sites`` on records written in the upstream layouts: the DeeReCT-PolyA
repository's Dragon (5 named folds), Omni and mouse window files, and PolyASite BED /
PolyA_DB TSV sites + a genome FASTA (both strands); bad lines fail with path:line."""

import os

import numpy as np
import pytest

from data_builders import polya_sites as ps
from data_builders.polya_sites import polya_sites as module
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.files import InputFormatError

_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _window(rng, hexamer):
  bases = "".join(rng.choice(list("CG"), 206))  # No hexamer variant by chance.
  return bases[:100] + hexamer + bases[106:]


def _write(path, lines):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    f.write("".join(line + "\n" for line in lines))


def _records(manual_dir):
  return list(ps.folder_records(str(manual_dir)))


def test_dragon_omni_and_mouse_layouts(tmp_path):
  rng = np.random.default_rng(0)
  dragon = tmp_path / "dragon_polyA_data"
  for fold in range(1, 6):
    _write(str(dragon / "positive5fold" / f"AATAAA_fold_{fold}.txt"),
           [_window(rng, "AATAAA") for _ in range(2)])
    _write(str(dragon / "negatives5fold" / f"negATTAAA_fold_{fold}.txt"),
           [_window(rng, "ATTAAA")])
  _write(str(dragon / "README.txt"), ["not data"])
  records = _records(dragon)
  assert len(records) == 15
  splits = {split: [r for _, s, r in records if s == split] for split in ("train", "valid", "test")}
  assert [len(splits[s]) for s in ("train", "valid", "test")] == [9, 3, 3]
  positives = [r for _, _, r in records if r["label"] == 1]
  assert len(positives) == 10 and {r["hexamer"] for r in positives} == {"AATAAA"}
  assert encoding.decode_dna(positives[0]["sequence"])[100:106] == "AATAAA"

  omni = tmp_path / "omni"
  _write(str(omni / "positive" / "AGTAAA.txt"), [_window(rng, "AGTAAA") for _ in range(20)])
  _write(str(omni / "negative" / "AGTAAA.txt"), [_window(rng, "AGTAAA") for _ in range(20)])
  records = _records(omni)
  assert sum(r["label"] for _, _, r in records) == 20
  assert {s for _, s, _ in records} == {"train", "valid", "test"}  # Hashed folds.
  assert [(k, s) for k, s, _ in records] == [(k, s) for k, s, _ in _records(omni)]  # Stable.

  mouse = tmp_path / "mouse"
  _write(str(mouse / "bl_mouse" / "positive" / "posTTTAAA.txt"), [_window(rng, "TTTAAA")])
  _write(str(mouse / "bl_mouse" / "negative" / "negTTTAAA.txt"), [_window(rng, "TTTAAA")])
  assert sorted(r["label"] for _, _, r in _records(mouse)) == [0, 1]


def test_bad_window_files_fail_with_path_and_line(tmp_path):
  rng = np.random.default_rng(1)
  _write(str(tmp_path / "a" / "positive" / "AATAAA.txt"),
         [_window(rng, "AATAAA"), _window(rng, "AATAAA")[:150]])
  with pytest.raises(InputFormatError, match=r"AATAAA.txt:2: expected a 206-nt"):
    _records(tmp_path / "a")
  _write(str(tmp_path / "b" / "positive" / "AATAAA.txt"), [_window(rng, "ATTAAA")])
  with pytest.raises(InputFormatError, match=r"AATAAA.txt:1: the file is named for AATAAA"):
    _records(tmp_path / "b")
  os.makedirs(tmp_path / "c")
  with pytest.raises(FileNotFoundError, match="no positive/negative"):
    _records(tmp_path / "c")


def _genome_with_sites(tmp_path):
  """chr1 of 12 kb GC-only background with a + site at 8,000 (AATAAA 21 nt upstream)
  and a - site at 4,000 (ATTAAA 18 nt upstream on the minus strand), plus decoy
  hexamers upstream of each for the negatives."""
  rng = np.random.default_rng(2)
  bases = list("".join(rng.choice(list("CG"), 12000)))
  bases[8000 - 21:8000 - 15] = "AATAAA"
  bases[6000:6006] = "AATAAA"  # 2 kb upstream of the + site: a negative.
  # Minus strand: the hexamer's 5' base at 4,018, occupying 4,013-4,018 (revcomp).
  bases[4013:4019] = "ATTAAA".translate(_COMPLEMENT)[::-1]
  bases[5513:5519] = "ATTAAA".translate(_COMPLEMENT)[::-1]  # 1.5 kb upstream on -.
  fasta = tmp_path / "genome.fa"
  fasta.write_text(">chr1\n" + "\n".join("".join(bases[i:i + 60]) for i in range(0, 12000, 60))
                   + "\n")
  return str(fasta), "".join(bases)


def test_polyasite_bed_and_polya_db_tsv(tmp_path):
  fasta, chrom = _genome_with_sites(tmp_path)
  bed = tmp_path / "atlas.clusters.2.0.GRCh38.96.bed"
  bed.write_text("chr1\t7990\t8010\tchr1:8000:+\t12.5\t+\t80.0\t5\t3.2\tTE\tAATAAA@-21\n"
                 "chr1\t3995\t4005\tchr1:4000:-\t3.1\t-\t40.0\t3\t1.1\tTE\tNA\n")
  sites = ps.read_sites(str(bed))
  assert sites == [ps.Site("chr1", 8000, "+", "chr1:8000:+"),
                   ps.Site("chr1", 4000, "-", "chr1:4000:-")]
  tsv = tmp_path / "human_pas.txt"
  tsv.write_text("PAS_ID\tChromosome\tPosition\tStrand\tGene Symbol\n"
                 "a\tchr1\t8001\t+\tG1\nb\tchr1\t4001\t-\tG2\n")
  assert [(s.position, s.strand) for s in ps.read_sites(str(tsv))] == [(8000, "+"), (4000, "-")]
  with genome_lib.Genome(fasta) as genome:
    records = {key: r for key, _, r in ps.site_windows(sites, genome)}
  assert sorted(records) == ["chr1:4000:-:neg", "chr1:4000:-:pos", "chr1:8000:+:neg",
                             "chr1:8000:+:pos"]
  plus = encoding.decode_dna(records["chr1:8000:+:pos"]["sequence"])
  assert plus == chrom[8000 - 21 - 100:8000 - 21 + 106]
  minus = encoding.decode_dna(records["chr1:4000:-:pos"]["sequence"])
  assert minus == chrom[4018 - 105:4018 + 101].translate(_COMPLEMENT)[::-1]
  assert minus[100:106] == "ATTAAA" and records["chr1:4000:-:pos"]["hexamer"] == "ATTAAA"
  assert encoding.decode_dna(records["chr1:8000:+:neg"]["sequence"]) == chrom[5900:6106]
  assert records["chr1:8000:+:neg"]["label"] == 0
  neg = encoding.decode_dna(records["chr1:4000:-:neg"]["sequence"])
  assert neg == chrom[5518 - 105:5518 + 101].translate(_COMPLEMENT)[::-1]


def test_bad_site_lines(tmp_path):
  bed = tmp_path / "sites.bed"
  bed.write_text("chr1\t10\t20\tx\t1\t+\nchr1\t30\tnope\tx\t1\t+\n")
  with pytest.raises(InputFormatError, match=r"sites.bed:2: bad start/end"):
    ps.read_sites(str(bed))
  tsv = tmp_path / "sites.tsv"
  tsv.write_text("Chromosome\tPosition\tStrand\nchr1\t10\t*\n")
  with pytest.raises(InputFormatError, match=r"sites.tsv:2: bad position/strand"):
    ps.read_sites(str(tsv))


def test_builder_builds_from_manual_dir(tmp_path):
  rng = np.random.default_rng(3)
  manual = tmp_path / "omni"
  _write(str(manual / "positive" / "AATAAA.txt"), [_window(rng, "AATAAA") for _ in range(10)])
  _write(str(manual / "negative" / "AATAAA.txt"), [_window(rng, "AATAAA") for _ in range(10)])
  builder = ps.PolyASites(config="omni", data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(
      download_config=__import__("tensorflow_datasets").download.DownloadConfig(
          manual_dir=str(manual)), file_format="array_record")
  total = sum(builder.info.splits[s].num_examples for s in ("train", "valid", "test"))
  assert total == 20
  example = builder.as_data_source(split="train")[0]
  assert example["sequence"].shape == (206, 4) and example["label"] in (0, 1)
  assert module.split_of_fold(4) == "valid"
