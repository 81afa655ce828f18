"""``experiments.hard_negatives``: PromID's own measures (TestPromID.java) from a round's
report -- a found TSS counts once, calls far from every TSS are errors."""

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
