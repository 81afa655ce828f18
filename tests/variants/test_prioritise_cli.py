"""``python -m experiments.prioritise_variants zhou|deepwas`` on the synthetic files.

The builder writes score_variants' scores.h5 layout, a labelled TSV, a PLINK fileset
(bed-reader ``to_bed``) and phenotype/covariate tables; the command must find the
planted tracks / causal SNPs from those files, score new variants with the saved model,
and answer a bad input line with one ``error: file:line`` line and exit status 1.
"""

import json
import subprocess
import sys

import pytest

from conftest import REPO, subprocess_env
from data_builders.prioritise import synthetic


def _run(*args):
  return subprocess.run([sys.executable, "-m", "experiments.prioritise_variants", *args],
                        cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
                        timeout=300)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
  root = tmp_path_factory.mktemp("prioritise")
  synthetic.write_zhou(str(root / "zhou"), seed=0)
  synthetic.write_deepwas(str(root / "deepwas"), seed=0)
  return root


def test_zhou_train_then_score(inputs, tmp_path):
  zhou = inputs / "zhou"
  out = tmp_path / "dis"
  done = _run("zhou", f"--scores={zhou / 'scores.h5'}", f"--labels={zhou / 'labels.tsv'}",
              f"--out={out}", "--folds=5", "--seed=0")
  assert done.returncode == 0, done.stderr
  cv = json.loads((out / "cross_validation.json").read_text())
  assert cv["mean_auroc"] > 0.75 and cv["disease"] + cv["control"] == 600
  assert cv["labelled_without_scores"] == 0 and cv["score_key"] == "probs/diff"
  planted = set(json.loads((zhou / "truth.json").read_text())["planted_tracks"])
  top = [line.split("\t")[0] for line in (out / "coefficients.tsv").read_text()
         .splitlines()[1:4]]
  assert set(top) == planted
  table = (out / "disease_impact.tsv").read_text().splitlines()
  assert table[0].split("\t")[-4:] == ["out_of_fold_probability", "probability", "evalue",
                                       "dis"] and len(table) == 601

  scored = tmp_path / "new"
  done = _run("zhou", f"--scores={zhou / 'scores.h5'}", f"--model={out / 'model.npz'}",
              f"--out={scored}")
  assert done.returncode == 0, done.stderr
  new = (scored / "disease_impact.tsv").read_text().splitlines()
  # Same variants, same model: the probabilities equal the training table's.
  assert [r.split("\t")[4] for r in new[1:]] == [r.split("\t")[6] for r in table[1:]]


def test_deepwas_finds_causal_pairs(inputs, tmp_path):
  data = inputs / "deepwas"
  out = tmp_path / "deepwas"
  done = _run("deepwas", f"--scores={data / 'scores.h5'}",
              f"--bfile={data / 'genotypes'}", f"--pheno={data / 'phenotype.tsv'}",
              f"--covar={data / 'covariates.tsv'}", f"--background={data / 'background.h5'}",
              "--pairs=20", f"--out={out}")
  assert done.returncode == 0, done.stderr
  truth = {tuple(p) for p in json.loads((data / "truth.json").read_text())["causal_pairs"]}
  summary = json.loads((out / "summary.json").read_text())
  found = {tuple(p) for p in summary["stable_pairs"]}
  assert len(found & truth) >= 3 and len(found - truth) <= 1, (found, truth)
  rows = [r.split("\t") for r in (out / "deepwas.tsv").read_text().splitlines()]
  assert rows[0][:2] == ["feature", "snp"] and rows[1][7] == "1"  # Stable pairs first.


def test_bad_inputs_are_one_error_line(inputs, tmp_path):
  zhou = inputs / "zhou"
  labels = tmp_path / "labels.tsv"
  labels.write_text((zhou / "labels.tsv").read_text() + "1\t5\tA\tC\tunknown\n")
  done = _run("zhou", f"--scores={zhou / 'scores.h5'}", f"--labels={labels}",
              f"--out={tmp_path / 'o'}")
  assert done.returncode == 1
  assert done.stderr.strip().splitlines()[-1] == (
      f"error: {labels}:602: label 'unknown' is not one of 1, case, pathogenic, "
      "likely_pathogenic, disease, positive, true (disease) or 0, control, benign, "
      "likely_benign, neutral, negative, false (control)")
  done = _run("zhou", f"--scores={zhou / 'scores.h5'}", f"--labels={labels}",
              f"--model={tmp_path / 'model.npz'}", f"--out={tmp_path / 'o'}")
  assert done.returncode == 1 and "either --labels (to train) or --model" in done.stderr
  data = inputs / "deepwas"
  done = _run("deepwas", f"--scores={data / 'scores.h5'}", f"--bfile={data / 'genotypes'}",
              f"--pheno={data / 'phenotype.tsv'}", f"--out={tmp_path / 'd'}")
  assert done.returncode == 1 and "no SNP has a feature e-value below 5e-05" in done.stderr
  assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
