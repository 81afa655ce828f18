"""``synthetic_splicing_code``: the planted grammar is the truth of PSI and delta PSI."""

import numpy as np
import pytest

from data_builders import synthetic_splicing_code as ssc
from genereg_jax.splicing import features as cis


def test_exon_layout_and_planted_elements():
  rng = np.random.default_rng(0)
  exons = [ssc.sample_exon(rng) for _ in range(200)]
  for e in exons[:20]:
    assert cis.donor_strength(e.c1, e.i1) > 10 and cis.acceptor_strength(e.i2, e.c2) > 10
    assert 50 <= len(e.a) <= 250 and 300 <= len(e.i1) <= 1500
  counts = np.array([e.element_counts() for e in exons])
  assert (counts.mean(0) > 0.5).all()  # Poisson(0.7) planted, plus chance copies.
  strengths = np.array([sum(e.strengths()) for e in exons])
  assert strengths.std() > 4  # Splice-site strength varies, centred near 18 bits.
  assert abs(np.median(strengths) - ssc.synthetic_splicing_code.SPLICE_SITE_CENTRE) < 3


def test_logit_follows_the_grammar():
  rng = np.random.default_rng(1)
  exon = ssc.sample_exon(rng)
  base = ssc.exon_logit(exon)
  fox, (motif, _, weights) = list(ssc.ELEMENTS).index("FOX"), ssc.ELEMENTS["FOX"]
  i2 = exon.i2[:40] + motif + exon.i2[46:]  # One more Rbfox site in the proximal I2.
  more = ssc.CassetteExon(exon.c1, exon.i1, exon.a, i2, exon.c2)
  assert more.element_counts()[fox] == exon.element_counts()[fox] + 1
  diff = ssc.exon_logit(more) - base
  expected = [weights.get(t, 0.0) for t in ssc.TISSUES]
  assert diff == pytest.approx(expected, abs=1e-5)  # Brain +1.5, heart +1.0, else 0.


def test_darts_knockdowns_change_only_exons_with_the_element():
  rng = np.random.default_rng(2)
  events = []
  for _ in range(60):
    exon = ssc.sample_exon(rng)
    record = ssc.darts_events(rng, exon)
    knocked = int(np.argmin(record["trans"][1] - record["trans"][0]))
    assert record["trans"][0, knocked] - record["trans"][1, knocked] > 1.2
    driven = knocked < len(ssc.ELEMENTS) and exon.element_counts()[knocked] > 0
    events.append((record, driven))
  for record, driven in events:
    assert record["trans"].shape == (2, len(ssc.RBPS))
    if not driven:  # Only replicate noise: small changes.
      assert abs(record["delta_psi"]) < 0.1
  strong = [r for r, _ in events if abs(r["delta_psi"]) > 0.3]
  assert strong and all(r["label"] == 1 for r in strong)  # Deep counts find them.


def test_lmh_targets_follow_reads():
  lmh = ssc.lmh_probabilities(np.array([0, 60, 120]), np.array([60, 30, 0]))
  assert lmh.argmax(-1).tolist() == [0, 1, 2]
