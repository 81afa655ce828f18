"""DeepBind (Alipanahi et al., Nature Biotechnology 2015) and a DeFine-style variant.

DeepBind (Fig. 1 and Supplementary Notes): the sequence, padded at each end with
``motif_length - 1`` columns of 0.25 ('N') so that a motif may overhang either end, is
scanned by 16 motif detectors (24 wide for DNA: ChIP-seq, PBM, HT-SELEX; 16 for the
short RNAcompete probes), rectified against a learned threshold (``max(0, x - b)``: a
bias and a ReLU), pooled over the whole sequence (max, or max and average), passed
through dropout and a network with no hidden layer or one of 32 ReLU units, giving one
binding score per sequence. DNA and RNA are both ``[batch, length, 4]`` (U in T's
column). In reverse-complement mode (DNA; Supplementary Fig. 1) both strands go through
the model and the larger score is kept. Global pooling makes the model length-agnostic:
the same weights read 101 bp ChIP-seq peaks, 60-mer PBM probes and 30-40 nt RNA probes.

DeFine (Wang, Tai, E & Wei, Nucleic Acids Res. 2018;46(11):e69) predicts real-valued
TF-binding intensities learned from ChIP-seq, as well as bound/unbound classes, with
sequence-based deep CNNs. That is all its abstract (PubMed 29617928) says, and the
abstract is the only part we could read; we found neither the methods section nor the
code (http://define.cbi.pku.edu.cn). So ``PRESETS["define_style"]`` is a model in
DeFine's spirit built from DeepBind's blocks, and none of its choices are DeFine's
confirmed ones. Assumed: 300 bp inputs; both strands scanned by shared motif detectors
with their pooled features concatenated (rather than DeepBind's max over strands); 128
detectors of 24 bp; max + average pooling; one hidden layer of 64 ReLUs; DeepBind's
dropout 0.5; one linear output per TF (regression; apply a sigmoid for classification).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn
from genereg_jax.data.encoding import reverse_complement

STRAND_MODES = ("forward", "max", "concat")

PRESETS: dict[str, dict[str, Any]] = {
    # DNA (ChIP-seq / PBM / SELEX) models: 16 detectors of 24, max+avg, 32 hidden.
    "paper": {},
    # RNAcompete models used motif length 16 (probes are 30-40 nt).
    "rnacompete": dict(motif_length=16),
    # DeFine-like: every size below is assumed, not taken from the paper (see the module
    # docstring); pooling ("max_avg") and dropout (0.5) are DeepBind's defaults.
    "define_style": dict(num_motifs=128, motif_length=24, hidden_features=64, strands="concat"),
    # Seconds on a CPU.
    "tiny": dict(motif_length=12, hidden_features=16, num_outputs=12),
}


class DeepBind(nn.Module):
  """DeepBind: ``[batch, length, 4]`` -> ``[batch, num_outputs]`` binding scores (Fig. 1).

  Attributes:
    num_motifs: motif detectors (convolution kernels).
    motif_length: detector width in bp/nt.
    pooling: ``"max"``, ``"avg"`` or ``"max_avg"`` (``gnn.global_pool``).
    hidden_features: ReLU units of the hidden layer; None for a linear network.
    dropout_rate: dropout on the pooled features, the network's input.
    num_outputs: scores per sequence (DeepBind trains one model per protein: 1).
    strands: ``"forward"`` (the given strand; RNA), ``"max"`` (DeepBind's
      reverse-complement mode: the larger score of both strands) or ``"concat"``
      (DeFine style: both strands' pooled features side by side).
    pad_value: value of the ``motif_length - 1`` padding columns at each end.
    dtype: compute dtype.
  """
  num_motifs: int = 16
  motif_length: int = 24
  pooling: str = "max_avg"
  hidden_features: int | None = 32
  dropout_rate: float = 0.5
  num_outputs: int = 1
  strands: str = "forward"
  pad_value: float = 0.25
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    if self.strands not in STRAND_MODES:
      raise ValueError(f"unknown strands {self.strands!r}; valid: {list(STRAND_MODES)}")
    x = sequence.astype(self.dtype)
    batch = x.shape[0]
    if self.strands != "forward":
      x = jnp.concatenate([x, reverse_complement(x)], axis=0)
    pad = self.motif_length - 1
    x = jnp.pad(x, ((0, 0), (pad, pad), (0, 0)), constant_values=self.pad_value)
    # conv + bias + ReLU is DeepBind's rectification max(0, x - b) with b = -bias.
    x = nn.relu(gnn.conv(self.num_motifs, self.motif_length, padding="VALID",
                         dtype=self.dtype, name="motifs")(x))
    features = gnn.global_pool(x, self.pooling)
    if self.strands == "concat":
      features = jnp.concatenate([features[:batch], features[batch:]], axis=-1)
    features = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    if self.hidden_features:
      features = gnn.DenseBlock(self.hidden_features, dtype=self.dtype, name="hidden")(
          features, train=train)
    scores = gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                       name="output")(features)
    if self.strands == "max":
      scores = jnp.maximum(scores[:batch], scores[batch:])
    return scores


Model = DeepBind
