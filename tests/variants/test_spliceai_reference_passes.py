"""SpliceAI REF passes shared by nearby records (``region_span``) give today's scores.

The records and the tiny random SpliceAI of test_spliceai_scoring are scored with one
REF window per record (the default) and with shared REF passes of several spans; delta
scores agree to float rounding and delta positions wherever the delta is not a tie
of exact zeros (ALT = REF; see ``spliceai_scoring.REGION_SPAN``).
"""

import numpy as np
import pytest

import test_spliceai_scoring as base
from test_spliceai_scoring import genome, tiny_model  # noqa: F401 (fixtures)
from genereg_jax.variants import spliceai_scoring as ss


def _score(genome, tiny_model, span):
  _, chroms = genome
  scorer = base._scorer(genome, tiny_model, region_span=span)
  results = []
  for line, (pos, _, kind) in enumerate(base.CASES, start=1):
    ref, alt = base._variant(chroms["chrS"], pos, kind)
    results.append(ss.parse_record(f"chrS\t{pos}\t.\t{ref}\t{alt},A,C\t.\t.\t.", line))
  scorer.score(results)
  entries = [e for r in results for e in r.entries if e.scores is not None]
  return entries, scorer.batched.num_windows


@pytest.mark.parametrize("span", [64, 2048])
def test_shared_reference_passes_give_the_same_scores(genome, tiny_model, span):
  expected, windows = _score(genome, tiny_model, 0)
  got, shared_windows = _score(genome, tiny_model, span)
  assert len(got) == len(expected) > 20
  assert shared_windows < windows
  for e, g in zip(expected, got):
    assert (e.allele, e.gene) == (g.allele, g.gene)
    np.testing.assert_allclose(g.scores, e.scores, atol=1e-6)
    clear = e.scores > 1e-5
    np.testing.assert_array_equal(g.positions[clear], e.positions[clear])


def test_reference_passes_group_within_the_span():
  groups = list(ss.reference_passes([5, 10, 70, 71, 200], 64))
  assert groups == [(5, [5, 10]), (70, [70, 71]), (200, [200])]
  assert list(ss.reference_passes([5, 10], 0)) == [(5, [5]), (10, [10])]
