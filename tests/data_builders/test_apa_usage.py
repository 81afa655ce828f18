"""``apa_usage`` on records written in the upstream layouts: the DeeReCT-APA
repository's pandas-written usage table + sequence table (or FASTA), and a genomic
site table + genome FASTA (both strands); padded sets, pairs, and path:line errors."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import apa_usage as au
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.files import InputFormatError

# As APA_ML/Parental/parental.pAs.usage.txt: the header names only the samples.
USAGE = ("BL\tSP\n"
         "ENSMUSG01.1:3\t0.264056663479\t0.260544850594\n"
         "ENSMUSG01.1:2\t0.00615599132596\t0.0140637355828\n"
         "ENSMUSG01.1:1\t0.729787345195\t0.725391413823\n"
         "ENSMUSG02.1:2\t0.0126713999481\t0.0478268363049\n"
         "ENSMUSG02.1:1\t0.959548303406\t0.905447166596\n"
         "ENSMUSG03.1:1\t1.0\t1.0\n")


def _seq(rng, n):
  return "".join(rng.choice(list("ACGT"), n))


def _deerect_dir(tmp_path, fasta=False):
  rng = np.random.default_rng(0)
  sites = {f"ENSMUSG01.1:{i}": _seq(rng, 440 + i) for i in (1, 2, 3)}
  sites.update({f"ENSMUSG02.1:{i}": _seq(rng, 470) for i in (1, 2)})
  sites["ENSMUSG02.1:3"] = _seq(rng, 300)  # A site without a usage row: usage 0.
  sites["ENSMUSG03.1:1"] = _seq(rng, 400)
  (tmp_path / "parental.pAs.usage.txt").write_text(USAGE)
  if fasta:
    (tmp_path / "bl.pAs.fa").write_text("".join(f">{k}\n{v}\n" for k, v in sites.items()))
  else:  # pandas to_csv(sep="\t") of a table indexed by site id, 'sequence' column.
    (tmp_path / "bl.pAs.sequence.txt").write_text(
        "sequence\n" + "".join(f"{k}\t{v.lower()}\n" for k, v in sites.items()))
  return sites


@pytest.mark.parametrize("fasta", [False, True])
def test_deerect_tables_give_ordered_sets(tmp_path, fasta):
  sites = _deerect_dir(tmp_path, fasta)
  suffix = "bl.pAs.fa" if fasta else "bl.pAs.sequence.txt"
  genes = {g: (s, u) for g, s, u in au.deerect_genes(
      str(tmp_path / "parental.pAs.usage.txt"), str(tmp_path / suffix), "SP")}
  sequences, usage = genes["ENSMUSG01.1"]
  assert sequences == [sites[f"ENSMUSG01.1:{i}"] for i in (1, 2, 3)]  # PAS number order.
  np.testing.assert_allclose(usage, [0.725391413823, 0.0140637355828, 0.260544850594])
  np.testing.assert_allclose(genes["ENSMUSG02.1"][1], [0.905447166596, 0.0478268363049, 0.0])


def test_builds_padded_sets_and_pairs(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  sites = _deerect_dir(manual)
  built = {}
  for config in ("default", "pairs"):
    builder = au.APAUsage(config=config, data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(manual)), file_format="array_record")
    built[config] = [r for split in builder.info.splits
                     for r in builder.as_data_source(split=split)]
  genes = {r["gene_id"].decode(): r for r in built["default"]}
  assert sorted(genes) == ["ENSMUSG01.1", "ENSMUSG02.1"]  # One-site genes are skipped.
  gene = genes["ENSMUSG01.1"]
  assert gene["sequence"].shape == (12, 455, 4) and gene["pas_mask"].tolist() == [1] * 3 + [0] * 9
  usage = np.array([0.729787345195, 0.00615599132596, 0.264056663479])
  np.testing.assert_allclose(gene["usage"][:3], usage / usage.sum(), rtol=1e-6)
  # Site 1 (441 nt) is centred in 455 nt: 7 N columns (zeros) on each side.
  assert encoding.decode_dna(gene["sequence"][0])[7:448] == sites["ENSMUSG01.1:1"]
  assert not gene["sequence"][0, :7].any()
  pairs = [r for r in built["pairs"] if r["gene_id"] == b"ENSMUSG01.1"]
  # |du| > 0.05: (1,2), (1,3), (2,3) all differ.
  assert len(pairs) == 3 and [int(p["label"]) for p in pairs] == [1, 1, 0]


def test_genomic_site_table(tmp_path):
  rng = np.random.default_rng(1)
  chrom = _seq(rng, 3000)
  (tmp_path / "genome.fa").write_text(">chr2\n" + chrom + "\n")
  table = tmp_path / "sites.tsv"
  table.write_text("gene_id\tchrom\tposition\tstrand\tliver\tbrain\n"
                   "G1\tchr2\t1001\t+\t30\t1\nG1\tchr2\t801\t+\t10\t3\n"
                   "G2\tchr2\t2001\t-\t5\t0\nG2\tchr2\t2501\t-\t15\t0\n")
  with genome_lib.Genome(str(tmp_path / "genome.fa")) as genome:
    genes = {g: (s, u) for g, s, u in au.genomic_genes(str(table), genome, "liver", 101)}
  sequences, usage = genes["G1"]
  assert sequences == [chrom[800 - 50:800 + 51], chrom[1000 - 50:1000 + 51]]  # Proximal first.
  np.testing.assert_allclose(usage, [10, 30])
  minus, usage = genes["G2"]
  complement = str.maketrans("ACGT", "TGCA")
  # On '-', the proximal site is the one at the higher coordinate.
  assert minus[0] == chrom[2500 - 50:2500 + 51].translate(complement)[::-1]
  np.testing.assert_allclose(usage, [15, 5])


def test_bad_lines(tmp_path):
  bad = tmp_path / "x.usage.txt"
  bad.write_text("BL\tSP\nGENE:1\t0.5\t0.5\nGENE2\t0.1\t0.2\n")
  with pytest.raises(InputFormatError, match=r"x.usage.txt:3: expected a <gene>:<pas number>"):
    au.read_usage_table(str(bad))
  bad.write_text("BL\tSP\nGENE:1\t0.5\n")
  with pytest.raises(InputFormatError, match=r"x.usage.txt:2: expected the id and 2"):
    au.read_usage_table(str(bad))
  seq = tmp_path / "s.sequence.txt"
  seq.write_text("sequence\nGENE:1\tACGTXX\n")
  with pytest.raises(InputFormatError, match=r"s.sequence.txt:2: not a DNA sequence"):
    au.read_site_sequences(str(seq))
  assert au.centred("ACGTA", 3) == "CGT" and au.centred("AC", 5) == "NACNN"
