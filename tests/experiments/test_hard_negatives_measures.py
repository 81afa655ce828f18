"""``experiments.hard_negatives``: PromID's own measures (TestPromID.java) from a round's
report -- a found TSS counts once, calls far from every TSS are errors."""

import math

import pytest

from experiments import hard_negatives


def test_promid_measures_count_found_tsss_against_errors():
  # 10 TSSs, 8 found; 14 calls of which 11 lie within 500 bp of a TSS (3 of them second
  # calls at a found TSS: ours count them right, PromID ignores them), 3 are errors.
  report = {"tss_tss": 10, "tss_tss_found": 8, "tss_calls": 14, "tss_right_calls": 11,
            "tss_recall": 0.8}
  measures = hard_negatives.promid_measures(report, scanned_bp=20_000)
  assert measures["errors"] == 3
  assert measures["promid_precision"] == pytest.approx(8 / 11)
  assert measures["promid_f1"] == pytest.approx(2 * (8 / 11) * 0.8 / (8 / 11 + 0.8))
  assert measures["errors_per_correct"] == pytest.approx(3 / 8)
  assert measures["errors_per_kb"] == pytest.approx(0.15)
  nothing = hard_negatives.promid_measures({**report, "tss_tss_found": 0, "tss_calls": 0,
                                            "tss_right_calls": 0, "tss_recall": 0.0}, 1000)
  assert nothing["promid_f1"] == 0.0 and nothing["errors_per_kb"] == 0.0


def test_promid_precision_at_recall_counts_a_found_tss_once():
  from genereg_jax.train import hard_negatives as hn
  sites = [hn.Tss("chr1", 1000, "+"), hn.Tss("chr1", 5000, "+")]
  calls = [("chr1", "+", 1000, 0.9), ("chr1", "+", 1200, 0.8),  # Both at the first TSS.
           ("chr1", "+", 3000, 0.7), ("chr1", "+", 5100, 0.6)]  # An error; the second TSS.
  # Recall 1 needs the 0.6 threshold: 2 found, 1 error (ours: 3 right calls of 4).
  assert hard_negatives.promid_precision_at_recall(calls, sites, 500, 1.0) == 2 / 3
  assert hn.precision_at_recall(calls, sites, 500, 1.0) == 0.75
  assert hard_negatives.promid_precision_at_recall(calls, sites, 500, 0.5) == 1.0
  assert math.isnan(hard_negatives.promid_precision_at_recall(
      calls, sites + [hn.Tss("chr2", 10, "-")], 500, 1.0))
