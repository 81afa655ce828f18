"""Shook et al. (Plant Methods 2021): crop yield from the season's weather with an LSTM and
temporal attention, given the genotype's cluster and maturity group.

Our reading of the paper (Fig. 2 and Methods; the authors' code is not public): each
performance record is one genotype grown in one environment (site x year); its input
is the daily weather of the season (214 days x 7 variables: average direct normal
irradiance, precipitation, relative humidity, maximum direct normal irradiance, and
maximum, minimum and average surface temperature) with the genotype's *cluster* (5,838
soybean genotypes grouped by pedigree into 20 clusters, one-hot) and its *maturity
group* appended to every time step. A stacked LSTM encodes the season; temporal
attention (additive, Bahdanau et al. 2015) scores every day's hidden state against the
last one, and the attention-weighted context with the last state gives the yield. The
attention weights say which part of the season mattered, the paper's interpretation
(returned with ``return_attention``). Hidden sizes (two layers of 64) are our reading,
not checked against released code. Loss: mean squared error on yield.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(lstm_features=(8,), attention_features=8),
}


class TemporalAttention(nn.Module):
  """Additive attention of a query over time: ``[batch, T, H]`` -> context, weights."""
  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, states: jnp.ndarray, query: jnp.ndarray):
    keys = gnn.dense(self.features, use_bias=False, dtype=self.dtype, name="keys")(states)
    q = gnn.dense(self.features, dtype=self.dtype, name="query")(query)[:, None, :]
    scores = gnn.dense(1, use_bias=False, dtype=self.dtype, axes=("mlp", "tracks"),
                       name="score")(jnp.tanh(keys + q))[..., 0]
    weights = jax.nn.softmax(scores.astype(jnp.float32), axis=-1)
    return jnp.einsum("bt,bth->bh", weights.astype(states.dtype), states), weights


class ShookYield(nn.Module):
  """``weather [batch, days, variables]`` + genotype cluster + maturity group -> yield.

  Attributes:
    num_clusters: genotype clusters (20); ``genotype_cluster`` is an int per record.
    lstm_features: units of each stacked LSTM layer.
    attention_features: width of the additive attention.
    num_outputs: outputs (1: yield).
    return_attention: also return the ``[batch, days]`` attention weights.
    dtype: compute dtype.
  """
  num_clusters: int = 20
  lstm_features: tuple[int, ...] = (64, 64)
  attention_features: int = 64
  num_outputs: int = 1
  return_attention: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, weather: jnp.ndarray, genotype_cluster: jnp.ndarray,
               maturity_group: jnp.ndarray, *, train: bool = False):
    del train  # No dropout or batch statistics.
    days = weather.shape[1]
    genotype = jnp.concatenate([
        jax.nn.one_hot(genotype_cluster.astype(jnp.int32).reshape(-1), self.num_clusters),
        maturity_group.astype(jnp.float32).reshape(-1, 1)], axis=-1)
    x = jnp.concatenate([weather.astype(jnp.float32),
                         jnp.broadcast_to(genotype[:, None, :],
                                          (genotype.shape[0], days, genotype.shape[1]))],
                        axis=-1).astype(self.dtype)
    for index, features in enumerate(self.lstm_features):
      x = nn.RNN(nn.OptimizedLSTMCell(features, dtype=self.dtype), name=f"lstm_{index}")(x)
    last = x[:, -1]
    context, weights = TemporalAttention(self.attention_features, self.dtype,
                                         name="attention")(x, last)
    out = gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                    name="output")(jnp.concatenate([context, last], axis=-1))
    return (out, weights) if self.return_attention else out


Model = ShookYield
