r"""Protein subcellular localisation: one location class + a membrane flag per protein
(DeepLoc, Almagro Armenteros et al., Bioinformatics 2017).

Targets: ``location`` int (0..K-1 in the dataset's ``locations`` order, < 0 unknown) and
``membrane`` int (1 membrane-bound, 0 soluble, < 0 unknown: masked, as DeepLoc's
proteins without a membrane annotation). Outputs: ``{"location": [batch, K] logits,
"membrane": [batch] logit}``. Loss: categorical cross-entropy of the location plus
``membrane_weight`` times the sigmoid cross-entropy of the membrane flag, each averaged
over its known targets (the paper trains both outputs jointly).

Metrics, as the paper reports them (its Table 2), from a streaming confusion matrix
(merged across devices by addition):

* accuracy, and the per-class Matthews correlation coefficient (class k against the
  rest);
* Gorodkin's multiclass MCC (Gorodkin, Comput. Biol. Chem. 2004), the :math:`R_K` of a
  :math:`K \times K` confusion matrix :math:`C` (rows true, columns predicted) with
  :math:`s = \sum C`, :math:`c = \operatorname{tr} C`, true counts :math:`t_k` and
  predicted counts :math:`p_k`:

  .. math:: R_K = \frac{c s - \sum_k p_k t_k}
                       {\sqrt{(s^2 - \sum_k p_k^2)(s^2 - \sum_k t_k^2)}}

  (scikit-learn's ``matthews_corrcoef`` on multiclass labels computes the same);
* the membrane flag's accuracy, MCC and AUROC.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base
from genereg_jax.tasks import metrics

#: DeepLoc's ten locations, in the order of its 2017 data set.
DEEPLOC_LOCATIONS = ("Nucleus", "Cytoplasm", "Extracellular", "Mitochondrion",
                     "Cell membrane", "Endoplasmic reticulum", "Plastid", "Golgi apparatus",
                     "Lysosome/Vacuole", "Peroxisome")


class Localization(base.Task):
  """Location cross-entropy + masked membrane BCE; accuracy, per-class and Gorodkin MCC."""

  target_keys = ("location", "membrane")

  def __init__(self, locations: Sequence[str] = (), membrane_weight: float = 1.0):
    self.locations = tuple(locations)
    self.membrane_weight = float(membrane_weight)

  def use_dataset_metadata(self, metadata: Mapping[str, Any]) -> None:
    """Location names from the dataset unless the config names them."""
    if not self.locations and metadata.get("locations"):
      self.locations = tuple(metadata["locations"])

  def output_shape(self, target_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (len(self.locations or DEEPLOC_LOCATIONS),)

  def _masks(self, batch: base.Batch):
    location_known = batch["location"] >= 0
    membrane_known = batch["membrane"] >= 0
    if "example_mask" in batch:  # Padding rows of a partial evaluation batch.
      location_known = location_known & (batch["example_mask"] > 0)
      membrane_known = membrane_known & (batch["example_mask"] > 0)
    return location_known.astype(jnp.float32), membrane_known.astype(jnp.float32)

  def loss(self, outputs, batch):
    location_known, membrane_known = self._masks(batch)
    logits = outputs["location"].astype(jnp.float32)
    location = optax.softmax_cross_entropy_with_integer_labels(
        logits, jnp.maximum(batch["location"], 0).astype(jnp.int32))
    weight = location_known.sum()
    loss = (location * location_known).sum() / jnp.maximum(weight, 1.0)
    membrane = optax.sigmoid_binary_cross_entropy(
        outputs["membrane"].astype(jnp.float32),
        jnp.clip(batch["membrane"], 0, 1).astype(jnp.float32))
    loss += self.membrane_weight * (membrane * membrane_known).sum() / jnp.maximum(
        membrane_known.sum(), 1.0)
    return loss, weight

  def predictions(self, outputs):
    return {"location": jax.nn.softmax(outputs["location"].astype(jnp.float32), axis=-1),
            "membrane": jax.nn.sigmoid(outputs["membrane"].astype(jnp.float32))}

  def new_metrics(self) -> "LocalizationMetrics":
    return LocalizationMetrics(len(self.locations or DEEPLOC_LOCATIONS))


class LocalizationMetrics:
  """Host accumulator: the location confusion matrix and the membrane (score, label) pairs."""

  def __init__(self, num_locations: int):
    self.confusion = np.zeros((num_locations, num_locations), np.int64)
    self.membrane = metrics.MultilabelRanking()
    self._membrane_confusion = np.zeros((2, 2), np.int64)

  def update(self, predictions: Any, batch: base.Batch) -> None:
    valid = np.ones(np.shape(batch["location"]), bool)
    if "example_mask" in batch:
      valid &= np.asarray(batch["example_mask"]) > 0
    location = np.asarray(batch["location"])
    known = valid & (location >= 0)
    predicted = np.asarray(predictions["location"]).argmax(-1)
    np.add.at(self.confusion, (location[known], predicted[known]), 1)
    membrane = np.asarray(batch["membrane"])
    known = valid & (membrane >= 0)
    scores = np.asarray(predictions["membrane"])
    self.membrane.update(scores[known, None], membrane[known, None])
    np.add.at(self._membrane_confusion, (membrane[known], (scores[known] > 0.5).astype(int)), 1)

  def merge(self, other: "LocalizationMetrics") -> "LocalizationMetrics":
    self.confusion += other.confusion
    self.membrane.merge(other.membrane)
    self._membrane_confusion += other._membrane_confusion
    return self

  def compute(self) -> dict[str, Any]:
    total = self.confusion.sum()
    results = {
        "accuracy": float(np.trace(self.confusion) / total) if total else float("nan"),
        "gorodkin_mcc": metrics.gorodkin_mcc(self.confusion),
        "mcc_per_class": metrics.one_vs_rest_mcc(self.confusion),
    }
    membrane_total = self._membrane_confusion.sum()
    if membrane_total:
      results["membrane_accuracy"] = float(np.trace(self._membrane_confusion) / membrane_total)
      results["membrane_mcc"] = float(metrics.one_vs_rest_mcc(self._membrane_confusion)[1])
      results["membrane_auroc"] = float(self.membrane.compute()["auroc"])
    return results


Task = Localization
