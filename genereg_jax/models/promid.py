"""DeeReCT-PromID (Umarov et al., Bioinformatics 2019): TSS / non-TSS from a 600-bp window,
the model behind genome-wide promoter scanning.

The window is -200..+400 around the candidate TSS (600 bp, the TSS at index 200): the
paper's analysis of which region discriminates best put most of the signal downstream of
the TSS. The network has two branches over the same one-hot window, concatenated before
the classifier:

* a *pooled* branch: convolution (``pooled_filters`` of ``pooled_width``, ReLU) and max
  pooling (``pool_size``), which finds motifs wherever they are;
* an *unpooled* branch: a convolution with few filters (``plain_filters`` of
  ``plain_width``, ReLU) and no pooling, which keeps each motif's exact position relative
  to the TSS (TATA at -30, Inr at +1, DPE at +30) -- what locating the TSS to the base
  needs;

then a ReLU layer (``hidden_features``) with dropout and the output logit.

Training is not one pass: the model is trained on TSS windows against random genomic
windows, used to scan a genome, the highest-scoring false positives become negatives, and
it is trained again (`genereg_jax.train.hard_negatives`); TSS calls come from the score
track by the PromID tool's soft non-maximum suppression (threshold 0.5, 500 bp).

Sizes: the window (600 bp, TSS at index 200), the every-base scan and the +-500-bp rule
are the authors' (``umarov90/PromStudy``, ``managers/PromID.java``: ``head = 200``,
``tail = 399``, ``step = 1``; ``TestPromID.java``: ``margin = 500``). The layer sizes
could not be checked (the paper's Methods were not available to us): that code loads the trained TensorFlow models as opaque SavedModels and
the code that built them is not public, the released tool (``PromStudy/PromID``) ships a
later pipeline (1,001-bp windows, a scan model every 100 bp and a position model), and no
checkpoint of this model exists. The defaults are therefore ours: the pooled branch takes
CNNProm's sizes from the authors' training script (``ramzan1990/promstudy``,
``learncnn/tf_learncnn.py``: 200 filters of 21, 128 hidden units; pool 4 as our
``cnnprom:eukaryote``), the position-keeping branch (16 x 5) and dropout 0.5 are our
choice. ``tiny`` is for tests. `scan_logits` scores every window of a long sequence at
once (exactly; what the genome scan uses).
Returns logits ``[batch, num_outputs]``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax import nn as gnn

WINDOW, TSS_INDEX = 600, 200

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(pooled_filters=8, pooled_width=9, pool_size=8, plain_filters=2,
                 plain_width=5, hidden_features=16),
}


class DeeReCTPromID(nn.Module):
  """``[batch, 600, 4]`` one-hot -> ``[batch, num_outputs]`` TSS logits (two branches).

  Attributes:
    pooled_filters, pooled_width, pool_size: the pooled branch (200, 21, 4).
    plain_filters, plain_width: the position-keeping branch, no pooling (16, 5).
    hidden_features: ReLU units after the concatenation (128).
    dropout_rate: dropout on that layer (0.5).
    num_outputs: output logits.
    dtype: compute dtype.
  """
  pooled_filters: int = 200
  pooled_width: int = 21
  pool_size: int = 4
  plain_filters: int = 16
  plain_width: int = 5
  hidden_features: int = 128
  dropout_rate: float = 0.5
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = sequence.astype(self.dtype)
    pooled = gnn.conv(self.pooled_filters, self.pooled_width, padding="VALID",
                      dtype=self.dtype, name="pooled_conv")(x)
    pooled = nn.max_pool(nn.relu(pooled), (self.pool_size,), strides=(self.pool_size,),
                         padding="VALID")
    plain = nn.relu(gnn.conv(self.plain_filters, self.plain_width, padding="VALID",
                             dtype=self.dtype, name="plain_conv")(x))
    x = jnp.concatenate([pooled.reshape(x.shape[0], -1), plain.reshape(x.shape[0], -1)],
                        axis=-1)
    x = gnn.DenseBlock(self.hidden_features, dropout_rate=self.dropout_rate,
                       dtype=self.dtype, name="hidden")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DeeReCTPromID


def scan_logits(model: DeeReCTPromID, params, sequence: jnp.ndarray) -> jnp.ndarray:
  """``[batch, length, 4]`` -> ``[batch, length - 599, num_outputs]``: the model's logits
  for the 600-bp window starting at every base (output ``s`` is ``sequence[:, s:s + 600]``).

  Equal to ``model.apply`` on each window (eval mode), at the cost of one window per
  ~600 bases instead of one per base: the convolutions run once over the whole sequence,
  and the hidden layer over a window's flattened features is itself a convolution over
  window starts -- the pooled branch's weights step ``pool_size`` positions apart over a
  stride-1 max-pool of the conv track, the plain branch's one position apart. This is
  what makes PromID's every-base genome scan affordable (`genereg_jax.train.hard_negatives`).
  """
  params = nn.unbox(params)
  x = sequence.astype(model.dtype)

  def conv(x, kernel, dilation=1):
    return jax.lax.conv_general_dilated(x, kernel.astype(model.dtype), (1,), "VALID",
                                        rhs_dilation=(dilation,),
                                        dimension_numbers=("NWC", "WIO", "NWC"))

  def relu_conv(name):
    return nn.relu(conv(x, params[name]["kernel"]) + params[name]["bias"])

  # A window starting at s pools conv positions s + pool_size * j + [0, pool_size).
  pooled = jax.lax.reduce_window(relu_conv("pooled_conv"), -jnp.inf, jax.lax.max,
                                 (1, model.pool_size, 1), (1, 1, 1), "VALID")
  plain = relu_conv("plain_conv")
  num_pooled = (WINDOW - model.pooled_width + 1) // model.pool_size
  num_plain = WINDOW - model.plain_width + 1
  hidden = params["hidden"]["Dense_0"]
  kernel = hidden["kernel"]  # [num_pooled * pooled_filters + num_plain * plain_filters, H].
  split = num_pooled * model.pooled_filters
  starts = x.shape[1] - WINDOW + 1
  h = (conv(pooled, kernel[:split].reshape(num_pooled, model.pooled_filters, -1),
            dilation=model.pool_size)[:, :starts]
       + conv(plain, kernel[split:].reshape(num_plain, model.plain_filters, -1))
       + hidden["bias"])
  output = params["output"]
  return nn.relu(h) @ output["kernel"].astype(model.dtype) + output["bias"]
