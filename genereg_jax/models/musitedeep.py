"""MusiteDeep (Wang et al., Bioinformatics 2017; NAR web server 2020): PTM sites.

Input: a 33-residue window centred on a candidate residue (16 each side), one-hot over
20 amino acids + the terminal gap "-" (``[batch, 33, 21]``; MusiteDeep fills unknown
letters with 1/21). Two networks, sizes from the released code
(duolinwang/MusiteDeep_web, ``multiCNN_callback.py`` and ``capsulenet_callback.py``):

Multi-layer CNN (``MusiteDeepCNN``)::

  conv 200 x 1 -> dropout 0.75 -> ReLU -> conv 150 x 9 -> dropout 0.75 -> ReLU
  -> conv 200 x 10 -> ReLU          (all "same", He-normal)       [batch, 33, 200]
  -> dropout 0.75 -> attention over the 33 positions (hidden 10)  -> [200]
  -> reshape to [200, 33] -> dropout 0.75 -> attention over those rows (hidden 8) -> [33]
  -> concat [233] -> dense 149 ReLU -> dropout 0.298 -> dense 8 ReLU -> dense 2 softmax

The attention (``attention.py``) scores each row with two linear maps (``x W0 + b0``
then ``. W + b``, no nonlinearity between), softmaxes over rows and returns the
weighted sum of rows. The second branch reads ``Reshape((200, 33))`` of the conv output:
a reshape, not a transpose, kept as released. The code's L1 penalties on the attention
vectors ``W`` (0.152 and 2) are not reproduced (the trainer has no per-tensor L1).

Capsule network (``MusiteDeepCapsNet``, the released ``nogradientstop`` model)::

  conv 200 x 1 "valid" ReLU -> dropout 0.7 -> conv 200 x 9 "valid" ReLU -> dropout 0.75
  -> primary capsules: conv 480 x 20 "valid" -> dropout 0.2 -> 6 positions x 60 capsules
     of 8 -> squash                                               [batch, 360, 8]
  -> class capsules: 2 of 10 (negative, positive), 3 routing iterations, gradients
     through every iteration                                       [batch, 2, 10]
  -> lengths; margin loss (m+ 0.9, m- 0.1, lambda 0.5)

(The released layer also applies dropout 0.1 to ``u_hat`` but discards the result, so
it is a no-op and left out; the reconstruction decoder is defined but unused there.)

The ensemble (``MusiteDeepEnsemble``, what the web server runs) averages the CNN's
positive-class probability and the positive capsule's length; each member trains with
its own loss (``genereg_jax.tasks.ptm_sites``). MusiteDeep trains one binary model per
PTM type (13 types) with 10-fold bootstrapped ensembles; ``num_outputs`` > 1 gives a
multi-label model over several types instead (2 class capsules per type).

Output conventions: the CNN returns one logit per type, ``z_pos - z_neg`` of its
two-unit softmax head (the same probability, the same parameter count);
the capsule network returns lengths ``[batch, num_outputs, 2]`` (negative, positive);
the ensemble a dict of both.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import capsules

PRESETS: dict[str, dict[str, Any]] = {
    # The released sizes above (one PTM type).
    "paper": {},
    # The released structure at about a third of the width: CPU-sized proof runs.
    "small": dict(cnn_filters=(64, 48, 64), caps_filters=(64, 64), primary_capsules=16),
    # Seconds on a CPU.
    "tiny": dict(cnn_filters=(16, 12, 16), cnn_widths=(1, 5, 5), attention_hidden=(4, 4),
                 dense_features=(16, 8), caps_filters=(16, 16), caps_widths=(1, 5),
                 primary_capsules=8, primary_width=9, class_capsule_dim=6),
}


def _he_normal():
  return nn.initializers.he_normal()


class MusiteDeepFields(nn.Module):
  """The fields of both members (each reads its own), so presets fit every class.

  Attributes:
    num_outputs: PTM types predicted (1: MusiteDeep's one model per type).
    cnn_filters: filters of the three CNN convolutions.
    cnn_widths: their widths.
    cnn_dropouts: dropout after conv 1, after conv 2, before each attention branch.
    attention_hidden: hidden size of the position and row attention.
    dense_features: the two ReLU dense layers after the attention.
    dense_dropout: dropout after the first of them.
    caps_filters: filters of the capsule network's two convolutions.
    caps_widths: their widths.
    caps_dropouts: dropout after each.
    primary_capsules: primary capsule types per position.
    primary_dim: primary capsule length.
    primary_width: primary capsule convolution width.
    primary_dropout: dropout on the primary capsule convolution.
    class_capsule_dim: class capsule length.
    routing_iterations: routing-by-agreement iterations.
    routing_stop_gradient: stop gradients through routing (CapsNet-Keras) instead of
      MusiteDeep's gradients through every iteration.
    reconstruction: add Sabour et al.'s decoder (512, 1024, sigmoid) redrawing the
      window from the class capsules, each type's longer capsule kept (the labels are
      not model inputs); the capsule network then returns ``{"capsule": lengths,
      "reconstruction": [batch, window, channels]}`` and the task adds its weighted
      squared error. MusiteDeep defines this decoder but trains without it.
    dtype: compute dtype of the convolutions and dense layers.
  """
  num_outputs: int = 1
  cnn_filters: Sequence[int] = (200, 150, 200)
  cnn_widths: Sequence[int] = (1, 9, 10)
  cnn_dropouts: Sequence[float] = (0.75, 0.75, 0.75, 0.75)
  attention_hidden: Sequence[int] = (10, 8)
  dense_features: Sequence[int] = (149, 8)
  dense_dropout: float = 0.298224
  caps_filters: Sequence[int] = (200, 200)
  caps_widths: Sequence[int] = (1, 9)
  caps_dropouts: Sequence[float] = (0.7, 0.75)
  primary_capsules: int = 60
  primary_dim: int = 8
  primary_width: int = 20
  primary_dropout: float = 0.2
  class_capsule_dim: int = 10
  routing_iterations: int = 3
  routing_stop_gradient: bool = False
  reconstruction: bool = False
  dtype: Any = jnp.float32

  def field_values(self) -> dict[str, Any]:
    return {f.name: getattr(self, f.name) for f in dataclasses.fields(MusiteDeepFields)
            if f.name not in ("parent", "name")}


def _conv(features: int, width: int, padding: str, dtype, name: str) -> nn.Conv:
  return nn.Conv(features, (width,), padding=padding, dtype=dtype, name=name,
                 kernel_init=nn.with_logical_partitioning(
                     _he_normal(), ("conv_width", "conv_in", "conv_out")),
                 bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(),
                                                        ("conv_out",)))


def _dense(features: int, dtype, name: str, axes=("embed", "mlp")) -> nn.Dense:
  return nn.Dense(features, dtype=dtype, name=name,
                  kernel_init=nn.with_logical_partitioning(_he_normal(), axes),
                  bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(),
                                                         (axes[-1],)))


class RowAttention(nn.Module):
  """MusiteDeep's attention: ``[batch, rows, features]`` -> weighted sum ``[batch, features]``.

  Scores ``(x W0 + b0) W + b`` (both linear), softmax over rows; the weights are sown
  as ``intermediates/attention`` for plots.
  """
  hidden: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    energy = _dense(self.hidden, self.dtype, "hidden")(x)
    energy = _dense(1, self.dtype, "score", axes=("mlp", "tracks"))(energy)[..., 0]
    weights = nn.softmax(energy.astype(jnp.float32), axis=-1)
    self.sow("intermediates", "attention", weights)
    return jnp.einsum("br,brf->bf", weights, x.astype(jnp.float32))


class MusiteDeepCNN(MusiteDeepFields):
  """The multi-layer CNN with two attention branches: ``[batch, 33, 21]`` -> logits
  ``[batch, num_outputs]``."""

  @nn.compact
  def __call__(self, sequence, *, train: bool = False):
    drop = lambda rate, x: nn.Dropout(rate, deterministic=not train)(x)  # noqa: E731
    x = sequence.astype(self.dtype)
    for i, (features, width) in enumerate(zip(self.cnn_filters, self.cnn_widths)):
      x = _conv(features, width, "SAME", self.dtype, f"conv{i + 1}")(x)
      if i < 2:  # No dropout after the last convolution.
        x = drop(self.cnn_dropouts[i], x)
      x = nn.relu(x)
    batch, length, channels = x.shape
    rows = x.reshape(batch, channels, length)  # Keras Reshape, as released (see above).
    positions = RowAttention(self.attention_hidden[0], self.dtype, name="position_attention")(
        drop(self.cnn_dropouts[2], x))
    filters = RowAttention(self.attention_hidden[1], self.dtype, name="filter_attention")(
        drop(self.cnn_dropouts[3], rows))
    x = jnp.concatenate([positions, filters], axis=-1).astype(self.dtype)
    x = nn.relu(_dense(self.dense_features[0], self.dtype, "dense1")(x))
    x = drop(self.dense_dropout, x)
    x = nn.relu(_dense(self.dense_features[1], self.dtype, "dense2")(x))
    # Two softmax units per type, as released; softmax(z)[1] = sigmoid(z1 - z0).
    z = _dense(2 * self.num_outputs, self.dtype, "output", axes=("mlp", "tracks"))(x)
    z = z.astype(jnp.float32).reshape(batch, self.num_outputs, 2)
    return z[..., 1] - z[..., 0]


class MusiteDeepCapsNet(MusiteDeepFields):
  """The capsule network: ``[batch, 33, 21]`` -> class capsule lengths
  ``[batch, num_outputs, 2]`` (negative, positive capsule of each type)."""

  @nn.compact
  def __call__(self, sequence, *, train: bool = False):
    x = sequence.astype(self.dtype)
    for i, (features, width) in enumerate(zip(self.caps_filters, self.caps_widths)):
      x = nn.relu(_conv(features, width, "VALID", self.dtype, f"conv{i + 1}")(x))
      x = nn.Dropout(self.caps_dropouts[i], deterministic=not train)(x)
    u = capsules.PrimaryCapsules(self.primary_capsules, self.primary_dim, self.primary_width,
                                 dropout_rate=self.primary_dropout, dtype=self.dtype,
                                 name="primary_capsules")(x, train=train)
    v = capsules.ClassCapsules(2 * self.num_outputs, self.class_capsule_dim,
                               self.routing_iterations, self.routing_stop_gradient,
                               name="class_capsules")(u)
    lengths = capsules.capsule_length(v)
    lengths = lengths.reshape(lengths.shape[0], self.num_outputs, 2)
    if not self.reconstruction:
      return lengths
    keep = jax.nn.one_hot(jnp.argmax(lengths, axis=-1), 2).reshape(lengths.shape[0], -1)
    redrawn = capsules.ReconstructionDecoder(sequence.shape[1:], name="decoder")(v, keep)
    return {"capsule": lengths, "reconstruction": redrawn}


class MusiteDeepEnsemble(MusiteDeepFields):
  """Both members side by side: ``{"cnn": logits, "capsule": lengths}``; the task
  trains each with its own loss and averages their probabilities."""

  @nn.compact
  def __call__(self, sequence, *, train: bool = False):
    fields = self.field_values()
    capsule = MusiteDeepCapsNet(**fields, name="capsule")(sequence, train=train)
    if not isinstance(capsule, dict):
      capsule = {"capsule": capsule}
    return {"cnn": MusiteDeepCNN(**fields, name="cnn")(sequence, train=train), **capsule}


Model = MusiteDeepEnsemble
