"""SNV ALTs through the receptive cone (``ConeEnsemble``) give today's SpliceAI scores.

The records of test_spliceai_scoring (SNVs, insertions, deletions, both strands, near
the gene ends) on a two-member ensemble of the tiny random SpliceAI, scored with whole
ALT windows and with SNV ALTs recomputed only on each layer's cone over the stored REF
layers; with and without shared REF passes.
"""

import subprocess
import sys

import jax
import numpy as np
import pytest

import test_spliceai_scoring as base
from conftest import REPO, subprocess_env
from test_spliceai_scoring import genome, tiny_model  # noqa: F401 (fixtures)
from genereg_jax.data import gene_annotation
from genereg_jax.models import spliceai
from genereg_jax.variants import spliceai_scoring as ss


@pytest.fixture(scope="module")
def ensemble(tiny_model):
  model, variables = tiny_model
  second = jax.tree.map(lambda a: a * 0.9, variables)
  stacked = jax.tree.map(lambda a, b: np.stack([a, b]), variables, second)
  members = {collection: {"members": tree} for collection, tree in stacked.items()}
  geometry = {k: getattr(model, k) for k in ("channels", "kernel_sizes", "dilations",
                                             "units_per_group")}
  return model, spliceai.SpliceAIEnsemble(num_models=2, **geometry), members


def _score(genome, ensemble, span, use_cone):
  _, chroms = genome
  model, ensemble_model, members = ensemble
  cone = ss.ConeEnsemble(model, members, base.DISTANCE, mutants_per_call=3) if use_cone \
      else None
  scorer = ss.SpliceAIScorer(
      ss.Predictor(ensemble_model, members), model.context,
      gene_annotation.Genome(genome[0]), ss.GeneIndex(base.TRANSCRIPTS),
      distance=base.DISTANCE, batch_size=4, region_span=span, cone=cone)
  results = []
  for line, (pos, _, kind) in enumerate(base.CASES, start=1):
    ref, alt = base._variant(chroms["chrS"], pos, kind)
    results.append(ss.parse_record(f"chrS\t{pos}\t.\t{ref}\t{alt},A,C\t.\t.\t.", line))
  scorer.score(results)
  return [e for r in results for e in r.entries if e.scores is not None], scorer


@pytest.mark.parametrize("span", [0, 64])
def test_cone_alternatives_give_the_same_scores(genome, ensemble, span):
  expected, _ = _score(genome, ensemble, span, use_cone=False)
  got, scorer = _score(genome, ensemble, span, use_cone=True)
  assert len(got) == len(expected) > 20
  assert scorer.cone.num_alternatives >= 12  # SNVs went through the cone ...
  assert scorer.batched.num_windows < 20  # ... and only indel ALTs ran whole.
  for e, g in zip(expected, got):
    assert (e.allele, e.gene) == (g.allele, g.gene)
    np.testing.assert_allclose(g.scores, e.scores, atol=1e-6)
    clear = e.scores > 1e-5
    np.testing.assert_array_equal(g.positions[clear], e.positions[clear])
  assert max(np.abs(e.scores).max() for e in expected) > 0.05


def test_cone_must_match_the_scorer(genome, ensemble):
  model, ensemble_model, members = ensemble
  with pytest.raises(ValueError, match="distance"):
    ss.SpliceAIScorer(ss.Predictor(ensemble_model, members), model.context,
                      gene_annotation.Genome(genome[0]), ss.GeneIndex(base.TRANSCRIPTS),
                      distance=5, cone=ss.ConeEnsemble(model, members, 6))


def test_all_snvs_of_a_region(genome, ensemble, tmp_path):
  """Every SNV of a region: 3 per base, only records in a gene, the scores of the same
  records given as a VCF."""
  _, chroms = genome
  model, ensemble_model, members = ensemble
  scorer = ss.SpliceAIScorer(
      ss.Predictor(ensemble_model, members), model.context,
      gene_annotation.Genome(genome[0]), ss.GeneIndex(base.TRANSCRIPTS),
      distance=base.DISTANCE, batch_size=4, region_span=64,
      cone=ss.ConeEnsemble(model, members, base.DISTANCE))
  counts = ss.score_region_snvs(scorer, "chrS:1,498-1,503", tmp_path / "all.vcf")
  assert counts["records"] == 18
  body = [l for l in (tmp_path / "all.vcf").read_text().splitlines()
          if not l.startswith("#")]
  # PLUS ends at 1500, MINUS covers them all: 6 bases x 3, each with 1 or 2 genes.
  assert len(body) == 18
  assert [l.split("\t")[1] for l in body[:3]] == ["1498"] * 3
  assert sorted(l.split("\t")[4] for l in body[:3]) == sorted(
      "ACGT".replace(chroms["chrS"][1497], ""))
  assert body[0].count("|PLUS|") == 1 and body[-1].count("|PLUS|") == 0
  vcf = tmp_path / "same.vcf"
  base._write_vcf(vcf, ["\t".join(l.split("\t")[:7] + ["."]) for l in body])
  ss.score_vcf(scorer, vcf, tmp_path / "same.out.vcf")
  again = [l for l in (tmp_path / "same.out.vcf").read_text().splitlines()
           if not l.startswith("#")]
  assert again == body
  with pytest.raises(ValueError, match="start <= end"):
    ss.score_region_snvs(scorer, "chrS:10-5000", tmp_path / "bad.vcf")


def test_all_snvs_replaces_the_vcf(genome, tmp_path):
  for extra in (["--vcf=x.vcf", "--all_snvs=chrS:5-10"], []):
    run = subprocess.run(
        [sys.executable, "-m", "experiments.score_variants", "--config=spliceai_10k",
         f"--fasta={genome[0]}", "--annotation=grch38", f"--out={tmp_path / 'o.vcf'}",
         *extra], cwd=REPO, env=subprocess_env(), capture_output=True, text=True,
        timeout=120)
    assert run.returncode != 0 and "--all_snvs chrom:start-end" in run.stderr, run.stderr
