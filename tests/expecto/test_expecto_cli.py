"""python -m experiments.expecto: train on the synthetic set, then score variants that break
planted motifs (known sign of effect), with bad records listed, outputs written whole."""

import subprocess
import sys

import numpy as np

from conftest import REPO, subprocess_env
from data_builders.expecto import synthetic
from data_builders.expecto import tables
from genereg_jax import expecto
from genereg_jax.data import genome as genome_lib


def _run(*args):
  return subprocess.run([sys.executable, "-m", "experiments.expecto", *args], cwd=REPO,
                        env=subprocess_env(), capture_output=True, text=True, timeout=600)


def test_train_and_variants_on_the_synthetic_set(tmp_path):
  data = synthetic.make(num_genes=200, num_tissues=2, seed=2)
  paths = synthetic.write(data, tmp_path)
  genes, layout = tables.read_tss(paths["tss"]), synthetic.LAYOUT
  with genome_lib.Genome(paths["fasta"]) as genome:
    preds = expecto.gene_window_predictions(synthetic.motif_counts_fn(), genome, genes.chroms,
                                            genes.tss, genes.strand, layout, batch_size=200,
                                            reverse_complement_average=False)
    features = expecto.spatial_features(preds, genes.strand, layout=layout)
    np.savez(tmp_path / "features.npz", gene_ids=np.asarray(genes.ids), features=features,
             window=layout.window, step=layout.step, span=layout.span,
             decays=np.asarray(layout.decays))
    # Variants: one base inside the strongest planted site near each of the first genes.
    records, expected = [], []
    for g in range(6):
      motif, distance = max(data.sites[g], key=lambda s: np.abs(
          data.activity[:, list(synthetic.MOTIFS).index(s[0])]).max() * synthetic.truth_decay(s[1]))
      start = int(genes.tss[g] + genes.strand[g] * distance)
      pos = start + 3
      ref = genome.fetch(genes.chroms[g], pos, pos + 1)
      alt = "A" if ref != "A" else "C"
      records.append(f"{genes.chroms[g]}\t{pos + 1}\tv{g}\t{ref}\t{alt}\t.\tPASS\t.")
      expected.append(-data.activity[:, list(synthetic.MOTIFS).index(motif)]
                      * synthetic.truth_decay(distance))
  records.append("chr1\t5\tbad_ref\tN\tA\t.\tPASS\t.")  # REF mismatch (genome has ACGT)
  records.append("chr1\tten\tmalformed\tA\tC\t.\tPASS\t.")
  (tmp_path / "in.vcf").write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\t"
                                   "FILTER\tINFO\n" + "\n".join(records) + "\n")

  out = _run("train", f"--tss={paths['tss']}", f"--expression={paths['expression']}",
             f"--features={tmp_path / 'features.npz'}", f"--out={tmp_path / 'models'}")
  assert out.returncode == 0, out.stderr[-3000:]
  spearman = [float(v.split()[-1]) for v in out.stdout.split("held-out Spearman: ")[1]
              .splitlines()[0].split(", ")]
  assert min(spearman) > 0.85, out.stdout
  assert (tmp_path / "models" / "training_table.tsv").read_text().count("\ttest\t") == 20

  out = _run("variants", f"--motif_counts={paths['truth']}", f"--vcf={tmp_path / 'in.vcf'}",
             f"--fasta={paths['fasta']}", f"--tss={paths['tss']}",
             f"--model={tmp_path / 'models' / 'model.npz'}", f"--out={tmp_path / 'effects.tsv'}")
  assert out.returncode == 0, out.stderr[-3000:]
  lines = (tmp_path / "effects.tsv").read_text().splitlines()
  assert lines[0].split("\t") == ["chrom", "pos", "id", "ref", "alt", "gene_id", "strand",
                                  "tss_distance", "tissue_0", "tissue_1"]
  rows = [line.split("\t") for line in lines[1:]]
  assert [r[2] for r in rows] == [f"v{g}" for g in range(6)]  # genes 6 kb apart: one each
  assert [r[5] for r in rows] == genes.ids[:6]
  effects = np.array([[float(v) for v in r[8:]] for r in rows])
  expected = np.array(expected)
  strong = np.abs(expected) > 0.3
  assert strong.sum() >= 4 and np.all(np.sign(effects[strong]) == np.sign(expected[strong]))
  issues = (tmp_path / "effects.tsv.issues.tsv").read_text()
  assert "9\tREF N does not match" in issues and "10\tmalformed record" in issues

  out = _run("variants", f"--vcf={tmp_path / 'in.vcf'}", "--out=x.tsv")
  assert out.returncode == 1 and "variants needs --fasta, --tss, --model" in out.stderr


def test_features_from_reference_beluga_weights(tmp_path):
  """``--beluga_weights``: a reference-layout state dict (random, 200 bp inputs) is
  converted, run over each gene's 200 windows, and spatially transformed."""
  rng = np.random.default_rng(0)
  sd, channels = {}, 4
  for key in ("model.0.0", "model.0.2", "model.0.6", "model.0.8", "model.0.12", "model.0.14"):
    sd[f"{key}.weight"] = rng.normal(0, 0.3, (8, channels, 1, 8)).astype(np.float32)
    sd[f"{key}.bias"] = np.zeros(8, np.float32)
    channels = 8
  sd["model.1.2.1.weight"] = rng.normal(0, 0.05, (6, 25 * 8)).astype(np.float32)  # 200 bp, pool 2
  sd["model.1.2.1.bias"] = np.zeros(6, np.float32)
  sd["model.1.4.1.weight"] = rng.normal(0, 0.3, (3, 6)).astype(np.float32)
  sd["model.1.4.1.bias"] = np.zeros(3, np.float32)
  np.savez(tmp_path / "beluga.npz", **sd)
  paths = synthetic.write(synthetic.make(num_genes=3, num_tissues=1, seed=3), tmp_path)
  out = _run("features", "--layout=synthetic", f"--beluga_weights={tmp_path / 'beluga.npz'}",
             f"--tss={paths['tss']}", f"--fasta={paths['fasta']}",
             f"--out={tmp_path / 'features.npz'}")
  assert out.returncode == 0, out.stderr[-3000:]
  with np.load(tmp_path / "features.npz") as data:
    assert list(data["gene_ids"]) == ["GENE00000", "GENE00001", "GENE00002"]
    assert data["features"].shape == (3, 10 * 3) and int(data["window"]) == 200
    # Probabilities summed under decays: positive, at most 200 windows x 1 each.
    assert (data["features"] > 0).all() and (data["features"] < 200).all()
