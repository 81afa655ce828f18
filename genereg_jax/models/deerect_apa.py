"""DeeReCT-APA (Li et al., Genomics Proteomics Bioinformatics 2021): usage of all PASs of a gene.

Each PAS of a gene is read by the same CNN, a bidirectional LSTM runs *across the PASs*
in genomic order (proximal -> distal) so that each site's score sees its competitors,
and a softmax over the gene's valid sites gives their usage fractions (Fig. 1). Genes
have different numbers of PASs, so a batch holds padded sets: ``sequence [batch,
max_pas, length, 4]`` with ``pas_mask [batch, max_pas]`` (1 for real sites, which come
first); padded sites get no probability and the LSTM's backward pass starts at each
gene's last real site.

Sizes from the released code (``lzx325/DeeReCT-APA-repo``, ``main.py``, net type
"Multi-Conv-Net"): 455-nt windows around each PAS (the issue's 448 is the paper's
rounded text; the code pads to the longest, 455), convolution 40 x 12 -> ReLU -> max-pool 3 ->
convolution 40 x 12 -> ReLU -> max-pool 4 (34 x 40 = 1,360 features) -> dense 200 ReLU
-> dropout 0.7 -> BiLSTM with 100 units per direction -> one logit per PAS. Training:
Adam 1e-3, batches of 32 genes, up to 10 epochs (best dev MAE kept), the loss the
cross-entropy between measured and predicted usage over the valid sites
(`genereg_jax.tasks.pas_usage`). Assumed: valid (unpadded) convolutions.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(conv_features=(16, 16), kernel_sizes=(8, 8), hidden_features=32,
                 lstm_features=16, dropout_rate=0.2),
}


class PASEncoder(nn.Module):
  """The per-PAS CNN: ``[..., length, 4]`` -> ``[..., hidden_features]`` (shared by
  every site of every gene)."""
  conv_features: Sequence[int] = (40, 40)
  kernel_sizes: Sequence[int] = (12, 12)
  pool_sizes: Sequence[int] = (3, 4)
  hidden_features: int = 200
  dropout_rate: float = 0.7
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequences: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    lead, (length, channels) = sequences.shape[:-2], sequences.shape[-2:]
    x = sequences.reshape(-1, length, channels).astype(self.dtype)
    x = gnn.ConvTower(self.conv_features, self.kernel_sizes, self.pool_sizes,
                      (0.0,) * len(self.conv_features), dtype=self.dtype, name="tower")(
                          x, train=train)
    x = x.reshape(x.shape[0], -1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                       dtype=self.dtype, name="hidden")(x, train=train)
    return x.reshape(*lead, self.hidden_features)


class DeeReCTAPA(nn.Module):
  """``sequence [batch, max_pas, 455, 4]``, ``pas_mask [batch, max_pas]`` ->
  usage logits ``[batch, max_pas]`` (padded sites at -inf-like values).

  Attributes:
    conv_features, kernel_sizes, pool_sizes: the per-PAS convolution tower.
    hidden_features: dense units per PAS (200).
    dropout_rate: dropout after the dense layer (0.7).
    lstm_features: LSTM units per direction across the PASs (100); 0 scores each site
      alone (the ablation: sites still compete through the softmax, but no site's
      score sees its neighbours or its place in the gene).
    dtype: compute dtype.
  """
  conv_features: Sequence[int] = (40, 40)
  kernel_sizes: Sequence[int] = (12, 12)
  pool_sizes: Sequence[int] = (3, 4)
  hidden_features: int = 200
  dropout_rate: float = 0.7
  lstm_features: int = 100
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, pas_mask: jnp.ndarray, *,
               train: bool = False) -> jnp.ndarray:
    valid = pas_mask > 0
    features = PASEncoder(self.conv_features, self.kernel_sizes, self.pool_sizes,
                          self.hidden_features, self.dropout_rate, self.dtype,
                          name="encoder")(sequence, train=train)
    features = jnp.where(valid[..., None], features, 0.0)
    x = features
    if self.lstm_features:
      lengths = valid.sum(-1).astype(jnp.int32)
      x = gnn.BiLSTM(self.lstm_features, dtype=self.dtype, name="bilstm")(
          features, seq_lengths=lengths)
    logits = gnn.dense(1, dtype=self.dtype, axes=("mlp", "tracks"), name="output")(x)[..., 0]
    # Padded sites get (nearly) no probability in any softmax over the set.
    return jnp.where(valid, logits.astype(jnp.float32), -1e9)


Model = DeeReCTAPA
