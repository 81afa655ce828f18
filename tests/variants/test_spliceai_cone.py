"""SNV ALTs through the receptive cone (``ConeEnsemble``) give today's SpliceAI scores.

The records of test_spliceai_scoring (SNVs, insertions, deletions, both strands, near
the gene ends) on a two-member ensemble of the tiny random SpliceAI, scored with whole
ALT windows and with SNV ALTs recomputed only on each layer's cone over the stored REF
layers; with and without shared REF passes.
"""

import jax
import numpy as np
import pytest

import test_spliceai_scoring as base
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
