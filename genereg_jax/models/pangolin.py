"""Pangolin: tissue-specific splice-site strength from sequence (Zeng & Li, Genome Biol 2022).

"Predicting RNA splicing from DNA sequence using Pangolin" keeps SpliceAI-10k's residual
trunk unchanged (Jaganathan et al. 2019; `spliceai.SpliceAITrunk`: ``L`` = 32 channels,
4 x 4 residual units with kernel/dilation 11/1, 11/4, 21/10, 41/25, so 10,000 nt of
context: a 15,000-nt input gives 5,000 outputs) and replaces the 3-class head with two
1x1 heads per tissue (heart, liver, brain, testis):

* ``P(splice)``: a 2-class softmax (not a site, a site), the position is a splice site
  used in that tissue;
* ``usage``: a sigmoid, the fraction of transcripts spliced at the site (SpliSER's splice
  site strength estimate from RNA-seq), trained with binary cross-entropy.

That is the released network's 12 output channels (``tkzeng/Pangolin``,
``pangolin/model.py``: per tissue 2 softmax channels then 1 sigmoid channel, tissues in
the order above). The release is an ensemble: for each of the 8 outputs, 5 copies of the
12-channel network fine-tuned on that output alone, averaged; this module is one copy.
PyTorch BatchNorm1d defaults (epsilon 1e-5, momentum 0.1) are kept, as the released
models were trained with them; convolutions start from SpliceAI's Keras (Glorot)
initialisation rather than PyTorch's default.

Outputs are a dict (see `Pangolin.__call__`)::

  {"splice": float32[batch, length - 10000, tissues, 2],  # softmax; [..., 1] = P(splice)
   "usage": float32[batch, length - 10000, tissues]}       # sigmoid usage in [0, 1]

Train it with the ``splice_usage`` task on ``spliceai_gencode/gencode_usage`` or
``synthetic_splicing/usage`` (config ``pangolin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.models import spliceai

#: Pangolin's tissues, in the released network's channel order.
TISSUES = ("heart", "liver", "brain", "testis")

PRESETS: dict[str, dict[str, Any]] = {
    # Zeng & Li 2022 / tkzeng/Pangolin pangolin/model.py: L = 32, W = 11 x8, 21 x4, 41 x4,
    # AR = 1 x4, 4 x4, 10 x4, 25 x4 — SpliceAI-10k's trunk; 15,000-nt training inputs.
    "paper": dict(channels=32, kernel_sizes=(11, 11, 21, 41), dilations=(1, 4, 10, 25),
                  units_per_group=(4, 4, 4, 4)),
    # 80 nt of context in two groups, as the ``tiny`` synthetic datasets' 200 + 80 nt.
    "tiny": dict(channels=16, kernel_sizes=(11, 11), dilations=(1, 1),
                 units_per_group=(2, 2)),
}


class Pangolin(spliceai.SpliceAITrunk):
  """Pangolin (Zeng & Li, Genome Biology 2022): SpliceAI trunk, per-tissue heads.

  Defaults are the paper's network (`PRESETS` ``paper``).

  Attributes:
    channels, kernel_sizes, dilations, units_per_group, dtype, param_dtype: the
      SpliceAI trunk's (see `spliceai.SpliceAITrunk`).
    tissues: one pair of heads per name; the released model's are `TISSUES`.
    output: ``"probs"`` (softmax P(splice), sigmoid usage, as the released model) or
      ``"logits"`` (pre-softmax / pre-sigmoid scores, for the ``splice_usage`` loss).
    bn_epsilon: BatchNorm epsilon (PyTorch's default, which Pangolin was trained with).
    bn_momentum: BatchNorm running-average decay (PyTorch's momentum 0.1).
  """
  tissues: Sequence[str] = TISSUES
  output: str = "probs"
  bn_epsilon: float = 1e-5
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, sequence: jax.Array, *, train: bool = False) -> dict[str, jax.Array]:
    """Predicts per-tissue splice-site probability and usage of the central positions.

    Args:
      sequence: one-hot ``[batch, length, 4]`` in A,C,G,T order, N all zeros, read 5'->3'
        along the transcript; ``length >= context`` (10,000 for ``paper``).
      train: use batch statistics in BatchNorm and update the running ones
        (call with ``mutable=["batch_stats"]``).

    Returns:
      ``{"splice": float32[batch, length - context, len(tissues), 2],
      "usage": float32[batch, length - context, len(tissues)]}``. With ``output ==
      "probs"``, ``splice[..., t, 1]`` is P(splice site in tissue t) (a softmax over
      not-a-site / site) and ``usage[..., t]`` the predicted usage in [0, 1]; with
      ``"logits"`` the scores before softmax and sigmoid. Output position ``j`` is input
      position ``j + context // 2``.
    """
    if self.output not in ("probs", "logits"):
      raise ValueError(f'output must be "probs" or "logits", got {self.output!r}.')
    if not self.tissues:
      raise ValueError("Pangolin needs at least one tissue.")
    features = self.trunk(sequence, train=train, bn_epsilon=self.bn_epsilon,
                          bn_momentum=self.bn_momentum)
    splice = jnp.stack([self.pointwise(2, f"splice_{tissue}")(features)
                        for tissue in self.tissues], axis=-2).astype(jnp.float32)
    usage = jnp.concatenate([self.pointwise(1, f"usage_{tissue}")(features)
                             for tissue in self.tissues], axis=-1).astype(jnp.float32)
    if self.output == "logits":
      return {"splice": splice, "usage": usage}
    return {"splice": jax.nn.softmax(splice, axis=-1), "usage": jax.nn.sigmoid(usage)}


Model = Pangolin
