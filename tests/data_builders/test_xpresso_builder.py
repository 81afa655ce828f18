"""``xpresso`` on records written as the paper's gene table (tab-separated, gene id
first, EXPRESSION, eight half-life features, PROMOTER) and as a table + promoter FASTA:
log10 + standardisation, the window around the centre TSS, seed-1 shuffled splits."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders import xpresso as xp
from genereg_jax.data import encoding
from genereg_jax.files import InputFormatError

HEADER = ("\tEXPRESSION\tUTR5LEN\tCDSLEN\tINTRONLEN\tUTR3LEN\tUTR5GC\tCDSGC\tUTR3GC\t"
          "ORFEXONDENSITY")


def _genes(n=12, length=40):
  rng = np.random.default_rng(0)
  return [(f"ENSG{i:05d}", rng.uniform(0, 100, 9).round(3),
           "".join(rng.choice(list("ACGT"), length))) for i in range(n)]


def _build(tmp_path, manual, **config):
  builder = xp.Xpresso(config=xp.XpressoConfig(name="small", upstream=10, downstream=6,
                                               num_valid=2, num_test=3, **config),
                       data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  return {r["gene_id"].decode(): r for s in builder.info.splits
          for r in builder.as_data_source(split=s)}, builder


@pytest.mark.parametrize("fasta", [False, True])
def test_builds_windows_features_and_splits(tmp_path, fasta):
  genes = _genes()
  manual = tmp_path / "manual"
  manual.mkdir()
  lines = [HEADER + ("" if fasta else "\tPROMOTER")]
  lines += ["\t".join([g, *map(str, v), *([] if fasta else [p])]) for g, v, p in genes]
  (manual / "InputData.pM10Kb.txt").write_text("\n".join(lines) + "\n")
  if fasta:
    (manual / "promoters.fa").write_text("".join(f">{g}\n{p}\n" for g, _, p in genes))
  records, builder = _build(tmp_path, manual)
  assert {s: builder.info.splits[s].num_examples for s in builder.info.splits} == {
      "train": 7, "valid": 2, "test": 3}
  gene, values, promoter = genes[4]
  record = records[gene]
  assert encoding.decode_dna(record["promoter"]) == promoter[10:26]  # TSS 20: -10/+6.
  raw = np.array([v for _, v, _ in genes])
  logged = raw.copy()
  logged[:, [0, 1, 2, 3, 4, 8]] = np.log10(logged[:, [0, 1, 2, 3, 4, 8]] + 0.1)
  expected = (logged - logged.mean(0)) / logged.std(0)
  assert record["expression"] == pytest.approx(expected[4, 0], rel=1e-5)
  np.testing.assert_allclose(record["halflife"], expected[4, 1:], rtol=1e-5)


def test_short_promoter_and_missing_column(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  (manual / "t.txt").write_text(HEADER + "\tPROMOTER\nG1" + "\t1" * 9 + "\tACGT\n")
  with pytest.raises(InputFormatError, match="too short"):
    _build(tmp_path, manual)
  (manual / "t.txt").write_text("\tEXPRESSION\nG1\t1\n")
  with pytest.raises(InputFormatError, match="t.txt:1: the header needs"):
    _build(tmp_path, manual)
