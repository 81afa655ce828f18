"""data_builders.expecto: the paper's TSS/expression tables and the synthetic set."""

import numpy as np
import pytest
from scipy import stats

from data_builders.expecto import synthetic
from data_builders.expecto import tables
from genereg_jax import expecto
from genereg_jax.data import genome as genome_lib
from genereg_jax.files import InputFormatError

# Records as in FunctionLab/ExPecto resources/geneanno.pc.sorted.bed and geneanno.csv.
PAPER_BED = ("chr1\t69090\t69091\t+\tENSG00000186092\n"
             "chr1\t1266659\t1266660\t+\tENSG00000169962\n"
             "chr1\t3713057\t3713058\t-\tENSG00000130764\n"
             "chr8\t500\t501\t-\tENSG00000000008\n")
PAPER_CSV = ("id,symbol,seqnames,strand,TSS,CAGE_representative_TSS,type\n"
             "ENSG00000130764,LRRC47,chr1,-,3713068,3713058,protein_coding\n"
             "ENSG00000169962,TAS1R3,chr1,+,1266694,1266660,protein_coding\n"
             "ENSG00000186092,OR4F5,chr1,+,69091,69091,protein_coding\n"
             "ENSG00000000009,RNA5S1,chrX,+,100,100,rRNA\n")
GCT = ("#1.2\n3\t2\nName\tDescription\tAdipose - Subcutaneous\tWhole Blood\n"
       "ENSG00000186092.4\tOR4F5\t0\t0.5\n"
       "ENSG00000130764.9\tLRRC47\t12.25\t3\n"
       "ENSG00000000008.1\tX\t1\t2\n")


def test_paper_bed_and_geneanno_csv_give_the_same_tss(tmp_path):
  (tmp_path / "tss.bed").write_text(PAPER_BED)
  (tmp_path / "geneanno.csv").write_text(PAPER_CSV)
  bed = tables.read_tss(tmp_path / "tss.bed")
  csv = tables.read_tss(tmp_path / "geneanno.csv")
  assert bed.ids[:3] == ["ENSG00000186092", "ENSG00000169962", "ENSG00000130764"]
  np.testing.assert_array_equal(bed.tss, [69090, 1266659, 3713057, 500])
  np.testing.assert_array_equal(bed.strand, [1, 1, -1, -1])
  by_id = dict(zip(csv.ids, csv.tss))
  assert "ENSG00000000009" not in by_id  # rRNA dropped, as the paper's --filterStr all
  assert all(by_id[g] == t for g, t in zip(bed.ids[:3], bed.tss[:3]))
  # BED6 gene bodies: TSS at start (+) or end - 1 (-).
  (tmp_path / "genes.bed").write_text("chr2\t100\t900\tG1\t0\t+\nchr2\t100\t900\tG2\t0\t-\n")
  np.testing.assert_array_equal(tables.read_tss(tmp_path / "genes.bed").tss, [100, 899])


def test_gct_and_paper_csv_expression_to_training_table(tmp_path):
  (tmp_path / "tss.bed").write_text(PAPER_BED)
  (tmp_path / "median.gct").write_text(GCT)
  genes = tables.read_tss(tmp_path / "tss.bed")
  expression = tables.read_expression(tmp_path / "median.gct")
  assert expression.tissues == ["Adipose - Subcutaneous", "Whole Blood"]
  table = tables.training_table(genes, expression)
  assert table.genes.ids == ["ENSG00000186092", "ENSG00000130764", "ENSG00000000008"]
  np.testing.assert_allclose(table.targets[1], np.log([12.25 + 1e-4, 3 + 1e-4]), rtol=1e-6)
  np.testing.assert_allclose(table.targets[0, 0], np.log(1e-4), rtol=1e-6)
  assert list(table.split) == ["train", "train", "test"]  # chr8 held out
  # geneanno.exp.csv as pandas writes it: empty index header, rows in TSS-table order.
  (tmp_path / "geneanno.exp.csv").write_text(
      ",Adipose_Subcutaneous,Brain_Cortex\n0,1,2\n1,3,4\n2,5,6\n3,7,8\n")
  by_order = tables.training_table(genes, tables.read_expression(tmp_path / "geneanno.exp.csv"))
  np.testing.assert_allclose(np.exp(by_order.targets[:, 1]) - 1e-4, [2, 4, 6, 8], rtol=1e-5)
  tables.write_training_table(tmp_path / "table.tsv", by_order)
  lines = (tmp_path / "table.tsv").read_text().splitlines()
  assert lines[0] == "gene_id\tchrom\ttss\tstrand\tsplit\tAdipose_Subcutaneous\tBrain_Cortex"
  assert lines[3].startswith("ENSG00000130764\tchr1\t3713057\t-\ttrain\t")


@pytest.mark.parametrize("name,content,line,message", [
    ("tss.bed", "chr1\t10\t11\t+\tG1\nchr1\tten\t11\t+\tG2\n", 2, "start"),
    ("tss.bed", "chr1\t10\t11\t*\tG1\n", 1, "strand"),
    ("tss.bed", "chr1\t10\t11\n", 1, "columns"),
    ("geneanno.csv", "id,symbol,seqnames,strand,TSS,CAGE_representative_TSS,type\n"
                     "G1,S,chr1,+,5,x,protein_coding\n", 2, "CAGE_representative_TSS"),
    ("geneanno.csv", "id,seqnames\nG1,chr1\n", 1, "header"),
])
def test_bad_tss_lines_name_file_and_line(tmp_path, name, content, line, message):
  path = tmp_path / name
  path.write_text(content)
  with pytest.raises(InputFormatError, match=message) as error:
    tables.read_tss(path)
  assert str(error.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize("content,line,message", [
    ("gene_id\tA\tB\nG1\t1\t2\nG2\t-3\t1\n", 3, "non-negative"),
    ("gene_id\tA\tB\nG1\t1\n", 2, "columns"),
    ("#1.2\n1\t1\nid\tDescription\tA\nG1\tx\t1\n", 3, "Name, Description"),
    ("gene_id,A\nG1,NA\n", 2, "non-negative"),
])
def test_bad_expression_lines_name_file_and_line(tmp_path, content, line, message):
  path = tmp_path / "expression.tsv"
  path.write_text(content)
  with pytest.raises(InputFormatError, match=message) as error:
    tables.read_expression(path)
  assert str(error.value).startswith(f"{path}:{line}:")


def test_synthetic_pipeline_recovers_held_out_expression(tmp_path):
  """Planted motifs -> ideal chromatin counts -> spatial transform -> ridge: Spearman > 0.9
  on chromosome 8's genes in every tissue, and the fitted response to one site follows the
  planted tissue activity."""
  data = synthetic.make(num_genes=300, num_tissues=3, seed=1)
  paths = synthetic.write(data, tmp_path)
  table = tables.training_table(tables.read_tss(paths["tss"]),
                                tables.read_expression(paths["expression"]))
  genes, layout = table.genes, synthetic.LAYOUT
  with genome_lib.Genome(paths["fasta"]) as genome:
    preds = expecto.gene_window_predictions(synthetic.motif_counts_fn(), genome, genes.chroms,
                                            genes.tss, genes.strand, layout, batch_size=200,
                                            reverse_complement_average=False)
  x = expecto.spatial_features(preds, genes.strand, layout=layout)
  train, test = table.split == "train", table.split == "test"
  assert test.sum() == 30
  model = expecto.fit_expression_model(x[train], table.targets[train], table.tissues,
                                       layout=layout)
  predicted = model.predict(x[test])
  rho = [stats.spearmanr(predicted[:, t], table.targets[test][:, t])[0] for t in range(3)]
  assert min(rho) > 0.9, rho
  # One site 100 bp upstream covers windows 100 bp either side of it: its fitted effect per
  # tissue and motif should match the planted activity x h(-100) in sign and ordering.
  distances = layout.offsets
  covered = (np.abs(distances + 100) < layout.window // 2).astype(np.float32)
  response = np.zeros((3, len(synthetic.MOTIFS)))
  for m in range(len(synthetic.MOTIFS)):
    single = np.zeros((1, len(distances), len(synthetic.MOTIFS)), np.float32)
    single[0, :, m] = covered
    response[:, m] = model.predict(expecto.spatial_features(single, [1], layout=layout))[0] \
        - model.bias
  planted = data.activity * synthetic.truth_decay(-100)
  assert stats.pearsonr(response.ravel(), planted.ravel())[0] > 0.9
