"""Negative ELBO of a VAE with a Bernoulli decoder over binary features (SCALE, Xiong et
al., Nat. Commun. 2019), and clustering agreement of its latent clusters.

The model returns ``logits`` (reconstruction), ``kl`` (per example, whatever its prior),
``kl_weight`` (the warm-up weight) and ``cluster_probabilities``. The loss per example is
SCALE's ``-likelihood + kl``: the binary cross-entropy summed over features plus the
weighted KL term, averaged over the batch (the reference's ``(recon + kl) / len(x)``).
Metrics: the ELBO's two terms, and when examples carry a known ``label`` (>= 0), the
adjusted Rand index and normalised mutual information of the most responsible
component against it (scikit-learn's ``adjusted_rand_score``/
``normalized_mutual_info_score``, as SCALE's evaluation).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from genereg_jax.tasks import base


class ELBO(base.Task):
  """``-ELBO`` of ``input_key`` under a Bernoulli decoder; ARI/NMI of the clusters."""

  def __init__(self, input_key: str = "counts", label_key: str = "label"):
    self.input_key = input_key
    self.label_key = label_key
    self.target_keys = (input_key, label_key)

  def _terms(self, outputs, batch):
    targets = jnp.clip(batch[self.input_key].astype(jnp.float32), 0.0, 1.0)
    reconstruction = optax.sigmoid_binary_cross_entropy(
        outputs["logits"].astype(jnp.float32), targets).sum(axis=-1)
    return reconstruction, outputs["kl"].astype(jnp.float32)

  def loss(self, outputs, batch):
    reconstruction, kl = self._terms(outputs, batch)
    per_example = reconstruction + outputs["kl_weight"] * kl
    mask = batch.get("example_mask", jnp.ones_like(per_example))
    weight = mask.sum()
    return jnp.sum(per_example * mask) / jnp.maximum(weight, 1.0), weight

  def predictions(self, outputs):
    return {"cluster_probabilities": outputs["cluster_probabilities"],
            "z_mean": outputs["z_mean"], "kl": outputs["kl"],
            "reconstruction_probabilities": jax.nn.sigmoid(outputs["logits"].astype(jnp.float32))}

  def new_metrics(self) -> "ClusterMetrics":
    return ClusterMetrics(self.input_key, self.label_key)


class ClusterMetrics:
  """Host accumulator: reconstruction BCE and KL per example; clusters vs labels."""

  def __init__(self, input_key: str, label_key: str):
    self.input_key, self.label_key = input_key, label_key
    self.reconstruction, self.kl, self.clusters, self.labels = [], [], [], []

  def update(self, predictions: Any, batch: base.Batch) -> None:
    p = np.clip(np.asarray(predictions["reconstruction_probabilities"], np.float64),
                1e-7, 1 - 1e-7)
    x = np.clip(np.asarray(batch[self.input_key], np.float64), 0, 1)
    self.reconstruction.append(-(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=-1))
    self.kl.append(np.asarray(predictions["kl"], np.float64))
    self.clusters.append(np.argmax(np.asarray(predictions["cluster_probabilities"]), axis=-1))
    self.labels.append(np.asarray(batch[self.label_key]).reshape(-1))

  def merge(self, other: "ClusterMetrics") -> "ClusterMetrics":
    for name in ("reconstruction", "kl", "clusters", "labels"):
      getattr(self, name).extend(getattr(other, name))
    return self

  def compute(self) -> dict[str, float]:
    from sklearn import metrics as sk
    reconstruction, kl = np.concatenate(self.reconstruction), np.concatenate(self.kl)
    clusters, labels = np.concatenate(self.clusters), np.concatenate(self.labels)
    results = {"reconstruction": float(reconstruction.mean()), "kl": float(kl.mean()),
               "neg_elbo": float((reconstruction + kl).mean()),
               "num_clusters_used": float(len(np.unique(clusters)))}
    known = labels >= 0
    if known.any():
      results["ari"] = float(sk.adjusted_rand_score(labels[known], clusters[known]))
      results["nmi"] = float(sk.normalized_mutual_info_score(labels[known], clusters[known]))
    return results


Task = ELBO
