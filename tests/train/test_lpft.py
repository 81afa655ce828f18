"""``finetune.linear_probe_head`` (LP-FT's first stage): the probe, folded into a dense
head on the raw features, scores as scikit-learn's standardised logistic regression, and a
label with one class gets its rate's logit."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from genereg_jax.train import finetune


def test_probe_head_reads_raw_features_as_the_standardised_probe():
  rng = np.random.default_rng(0)
  # Pooled vectors vary little around a large shared part, as an encoder's mean pool.
  x = 0.6 + 0.05 * rng.standard_normal((300, 6))
  y = np.stack([(x[:, 0] - x[:, 1] + 0.02 * rng.standard_normal(300)) > 0,
                np.zeros(300, bool)], -1).astype(np.float32)
  y[:3, 1] = 1.0  # Rare but present: a real probe.
  kernel, bias = finetune.linear_probe_head(x, y, c=0.05)
  assert kernel.shape == (6, 2) and bias.shape == (2,) and kernel.dtype == np.float32
  logits = x @ kernel + bias
  z = StandardScaler().fit_transform(x)
  reference = LogisticRegression(C=0.05, max_iter=2000).fit(z, y[:, 0]).decision_function(z)
  np.testing.assert_allclose(logits[:, 0], reference, rtol=1e-3, atol=1e-3)
  assert roc_auc_score(y[:, 0], logits[:, 0]) > 0.95

  kernel, bias = finetune.linear_probe_head(x, np.zeros(300))  # One class only.
  assert not kernel.any() and np.isclose(bias[0], np.log(1e-3 / (1 - 1e-3)))
