"""SCALE (Xiong et al., Nat. Commun. 2019): a VAE with a Gaussian-mixture prior on scATAC.

"SCALE method for single-cell ATAC-seq analysis via latent feature extraction", Fig. 1,
as ``scale/model.py``/``layer.py``/``loss.py`` of jsxlei/SCALE:

  encoder   binary peak vector -> dense 1024 -> ReLU -> dense 128 -> ReLU
            -> (mu, log sigma^2), each a dense layer to the latent size 10
  sample    z = mu + sigma * eps (reparameterised; z = mu when not training)
  decoder   dense from z to every peak -> sigmoid (the released ``decode_dim=[]``)
  prior     p(c) = pi_c, p(z | c) = N(mu_c, diag var_c): K learned components

``q(c | x)`` is the responsibility ``gamma = p(c) p(z | c) / sum_c' ...`` of the
sampled ``z`` (``get_gamma``); a cell's cluster is its most responsible component.
The loss (task ``elbo``) is the negative ELBO of ``elbo_SCALE``: the Bernoulli
reconstruction summed over peaks plus ``KL(q(z, c | x) || p(z, c)) = -E[log p(z|c)]
- E[log p(c)] + E[log q(z|x)] + E[log q(c|x)]`` per cell, which the model returns
as ``kl`` so the task needs no knowledge of the prior.

KL warm-up (Sonderby et al. 2016, the reference's ``DeterministicWarmup(n=200)``): the
KL term's weight rises linearly as ``min(1, (t + 1) / warmup_steps)`` over training
step ``t``, so the decoder learns before the prior pulls the latents together. The
step count is a ``batch_stats`` variable (the only collection the trainer updates in
a train step), advanced once per train call; evaluation uses weight 1, the true ELBO.

Departures, both because the trainer has no data-dependent initialisation: the
reference fits a scikit-learn GMM to the encoder's latents before training to set
``mu_c, var_c`` (``init_gmm_params``); here ``mu_c`` starts at N(0, 1) draws (equal
means would keep the components identical forever) and ``var_c`` at 1. ``pi`` is a
softmax of learned logits, where the reference updates raw probabilities.
Training in the reference: Adam (learning rate 2e-4, weight decay 5e-4), batches of 32
cells, gradient-norm clipping 10, 30,000 iterations; latent 10, ``K`` the expected
number of cell types (default 30). ``paper`` at 6,000 peaks and K=6 (the synthetic
set) has 6,344,930 parameters: ``1035 P + 134,804 + 21 K`` for ``P`` peaks.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import layers

PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(num_peaks=6000, num_clusters=6),
    "tiny": dict(num_peaks=2000, num_clusters=3, encoder_features=(64, 32), latent_features=4,
                 warmup_steps=50),
}


class SCALE(nn.Module):
  """``[batch, num_peaks]`` binary accessibility -> VAE outputs (a dict).

  Returns ``{"logits": [batch, num_peaks] reconstruction logits, "kl": [batch],
  "kl_weight": [batch] (the warm-up weight, repeated), "z_mean": [batch, latent],
  "cluster_probabilities": [batch, num_clusters]}``.

  Attributes:
    num_peaks: input and output size.
    num_clusters: mixture components ``K``.
    encoder_features: hidden widths of the encoder (1024, 128).
    decoder_features: hidden widths of the decoder (none).
    latent_features: latent size (10).
    warmup_steps: steps of the linear KL warm-up (200; 0 for none).
    dtype: compute dtype.
  """
  num_peaks: int = 6000
  num_clusters: int = 30
  encoder_features: Sequence[int] = (1024, 128)
  decoder_features: Sequence[int] = ()
  latent_features: int = 10
  warmup_steps: int = 200
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, counts: jax.Array, *, train: bool = False) -> dict[str, jax.Array]:
    x = counts.astype(self.dtype)
    for index, width in enumerate(self.encoder_features):
      x = nn.relu(layers.dense(width, dtype=self.dtype, name=f"encoder_{index}")(x))
    mu = layers.dense(self.latent_features, dtype=self.dtype, name="z_mean")(x)
    logvar = layers.dense(self.latent_features, dtype=self.dtype, name="z_log_var")(x)
    z = mu
    if train:
      z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(self.make_rng("dropout"), mu.shape)
    h = z
    for index, width in enumerate(self.decoder_features):
      h = nn.relu(layers.dense(width, dtype=self.dtype, name=f"decoder_{index}")(h))
    logits = layers.dense(self.num_peaks, dtype=self.dtype, axes=("mlp", "tracks"),
                          name="reconstruction")(h)

    k, d = self.num_clusters, self.latent_features
    pi_logits = self.param("pi_logits", nn.initializers.zeros_init(), (k,))
    mu_c = self.param("mu_c", nn.initializers.normal(1.0), (k, d))
    log_var_c = self.param("log_var_c", nn.initializers.zeros_init(), (k, d))
    log_pi = jax.nn.log_softmax(pi_logits)
    var_c = jnp.exp(log_var_c)
    # log p(c) + log p(z | c) of each component, then responsibilities (get_gamma).
    log_pz_c = -0.5 * jnp.sum(math.log(2 * math.pi) + log_var_c
                              + (z[:, None, :] - mu_c) ** 2 / var_c, axis=-1)
    gamma = jax.nn.softmax(log_pi + log_pz_c, axis=-1)
    # elbo_SCALE's KL(q(z, c | x) || p(z, c)), per cell.
    expected_log_pz_c = -0.5 * jnp.sum(
        gamma * jnp.sum(math.log(2 * math.pi) + log_var_c
                        + jnp.exp(logvar)[:, None, :] / var_c
                        + (mu[:, None, :] - mu_c) ** 2 / var_c, axis=-1), axis=-1)
    expected_log_pc = jnp.sum(gamma * log_pi, axis=-1)
    log_qz_x = -0.5 * jnp.sum(1 + logvar + math.log(2 * math.pi), axis=-1)
    log_qc_x = jnp.sum(gamma * jnp.log(gamma + 1e-10), axis=-1)
    kl = -expected_log_pz_c - expected_log_pc + log_qz_x + log_qc_x

    step = self.variable("batch_stats", "warmup_step", lambda: jnp.zeros((), jnp.float32))
    weight = jnp.ones((), jnp.float32)
    if train:
      if self.warmup_steps > 0:
        weight = jnp.minimum(1.0, (step.value + 1.0) / self.warmup_steps)
      if not self.is_initializing():
        step.value = step.value + 1.0
    return {"logits": logits, "kl": kl,
            "kl_weight": jnp.broadcast_to(weight, kl.shape),
            "z_mean": mu, "cluster_probabilities": gamma}


Model = SCALE
