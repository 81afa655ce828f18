"""Promoter / non-promoter classification of a window around a TSS (CNNProm, Umarov &
Solovyev 2017; DeeReCT-PromID, Umarov et al. 2019): `genereg_jax.tasks.pairwise.
BinaryDecision` on the window's label (1 promoter), reporting what the papers report --
sensitivity ``sn`` (TP / (TP + FN)), specificity ``sp`` (TN / (TN + FP)) and Matthews'
correlation coefficient ``mcc`` (CNNProm's "CC") of the calls at probability 0.5 -- beside
accuracy, AUROC and AUPRC."""

from __future__ import annotations

import numpy as np

from genereg_jax.tasks import pairwise


class PromoterMetrics(pairwise.BinaryDecisionMetrics):
  """`pairwise.BinaryDecisionMetrics` plus Sn, Sp and MCC at probability 0.5."""

  def compute(self) -> dict[str, float]:
    results = super().compute()
    scores, labels = np.concatenate(self._scores), np.concatenate(self._labels) > 0.5
    called = scores > 0.5
    tp, tn = float((called & labels).sum()), float((~called & ~labels).sum())
    fp, fn = float((called & ~labels).sum()), float((~called & labels).sum())
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    results.update(
        sn=tp / (tp + fn) if tp + fn else float("nan"),
        sp=tn / (tn + fp) if tn + fp else float("nan"),
        # 0 when a row or column of the confusion matrix is empty (scikit-learn's rule).
        mcc=float((tp * tn - fp * fn) / denominator) if denominator else 0.0)
    return results


class PromoterClassification(pairwise.BinaryDecision):
  """Binary cross-entropy on the promoter logit; accuracy, Sn, Sp, MCC, AUROC, AUPRC."""

  def new_metrics(self) -> PromoterMetrics:
    return PromoterMetrics(self.label_key, self)


Task = PromoterClassification
