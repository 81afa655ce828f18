"""The ``synthetic_expression`` oracles: each planted element moves the truth the way the
module docstring says, and generated records carry their oracle's value."""

import numpy as np
import pytest

from data_builders.synthetic_expression import synthetic_expression as se


def test_utr_oracle_kozak_and_uaugs():
  base = "C" * 20 + "T" * 27 + "TTT"  # No ATG, GC 0.4, T at -3..-1.
  assert se.utr_oracle(base)[0] == pytest.approx(0.0)
  assert se.utr_oracle(base[:-3] + "AAA")[0] == pytest.approx(0.8 + 0.3 + 0.2)
  out_of_frame = base[:10] + "ATG" + base[13:]  # 40 nt before the main AUG.
  in_frame = base[:11] + "ATG" + base[14:]  # 39 nt: in frame.
  assert se.utr_oracle([out_of_frame, in_frame]) == pytest.approx([-1.2, -0.6], abs=1e-6)


def test_isoform_oracle_position_and_library():
  background = "C" * 100
  at = lambda text, i: background[:i] + text + background[i + len(text):]
  near, far = at("AATAAA", 35), at("AATAAA", 80)  # p = 35 for 100 nt.
  iso = se.isoform_oracle([background, near, far])
  assert iso[1] > iso[2] > iso[0] - 1e-6
  assert se.isoform_oracle(near, 3)[0] > iso[1]  # Library 3: offset +1.
  profile = se.cleavage_profile(near, 0.7)
  assert profile.shape == (101,) and profile[-1] == pytest.approx(0.3)
  assert profile[:-1].argmax() == 35 + 21


def test_generated_records_follow_their_oracles():
  rng = np.random.default_rng(0)
  record = se.aparent_example(rng, 100)
  assert record["true_isoform"] == pytest.approx(
      se.isoform_oracle(record["sequence"][None], record["library_index"])[0])
  record = se.promoter_example(rng, 600, 400)
  assert record["true_expression"] == pytest.approx(
      se.promoter_oracle(record["promoter"][None], 400, record["halflife"][None])[0], rel=1e-5)
  record = se.topic_example(rng, 200, 24)
  assert record["label"].tolist() == se.topic_oracle(record["sequence"][None], 24)[0].tolist()
  assert record["label"].sum() >= 1
  assert len(se.topic_sets(24)[20]) == 2
