"""DeepCpG (Angermueller et al., Genome Biol. 2017): single-cell CpG methylation from DNA
and the neighbouring CpG states of every cell.

Three modules, as the paper's Fig. 1 and the released Keras models
(``cangermueller/deepcpg``, ``deepcpg/models/{dna,cpg,joint}.py``), with the defaults of
``dcpg_train.py``:

* DNA module ``CnnL2h128``: the 1,001-bp window around the CpG -> conv 128@11, ReLU,
  max-pool 4 -> conv 256@3, ReLU, max-pool 2 -> flatten -> dense 128, ReLU, dropout
  (``conv[128@11]_mp[4]_conv[256@3]_mp[2]_fc[128]_do``, ~4.1 M parameters).
* CpG module ``RnnL1``: per cell, the states and distances of the ``K`` observed CpGs on
  each side (``cpg_wlen`` 50: 25 + 25) are concatenated (``[2K states, 2K distances]``)
  and mapped by one dense 256 + ReLU shared by all cells (``TimeDistributed``); a
  bidirectional GRU with 256 units per direction then reads the *cells* as its sequence
  and keeps its two final states (512), then dropout (``fc[256]_bgru[256]_do``). This is
  what lets one cell's prediction borrow from the others.
* Joint module ``JointL2h512``: both module outputs concatenated -> two dense 512 + ReLU
  + dropout -> one sigmoid output per cell (``add_output_layers``; one ``Dense(1)`` per
  cell is one ``Dense(cells)`` here).

Inputs follow the released preprocessing (``models/utils.py``, ``_prepro_cpg``): states
in {0, 1} with 0.5 for a neighbour that does not exist (chromosome ends), distances
``min(d, 25000) / 25000``. Output: logits ``[batch, cells]``; trained with binary
cross-entropy over observed labels only (the released code gives unobserved cells
(``CPG_NAN``) weight ~0; here `genereg_jax.tasks.multilabel_binary` masks labels < 0).
Training defaults of ``dcpg_train.py``: Adam 1e-4 decayed 0.975 per epoch, batch 128,
dropout 0, L1 = L2 = 1e-4 on the kernels, early stopping (patience 5).
``use_dna=False`` / ``use_cpg=False`` give the paper's CpG-only and DNA-only models.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn
from genereg_jax.nn import recurrent

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(dna_filters=(8, 8), dna_hidden=16, cpg_hidden=16, gru_features=8,
                 joint_hidden=(16,)),
}


class DnaModule(nn.Module):
  """``CnnL2h128``: ``[batch, 1001, 4]`` -> ``[batch, hidden]``."""
  filters: tuple[int, ...] = (128, 256)
  kernel_sizes: tuple[int, ...] = (11, 3)
  pool_sizes: tuple[int, ...] = (4, 2)
  hidden: int = 128
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, dna: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = gnn.ConvTower(self.filters, self.kernel_sizes, self.pool_sizes,
                      (0.0,) * len(self.filters), dtype=self.dtype, name="tower")(
                          dna.astype(self.dtype), train=train)
    x = x.reshape(x.shape[0], -1)
    return gnn.DenseBlock(self.hidden, dropout_rate=self.dropout_rate, dtype=self.dtype,
                          name="hidden")(x, train=train)


class CpgModule(nn.Module):
  """``RnnL1``: states and distances ``[batch, cells, 2K]`` -> ``[batch, 2 * gru]``."""
  hidden: int = 256
  gru_features: int = 256
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, state: jnp.ndarray, dist: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = jnp.concatenate([state, dist], axis=-1).astype(self.dtype)
    # One dense layer shared by every cell (Keras TimeDistributed over the cell axis).
    x = nn.relu(gnn.dense(self.hidden, dtype=self.dtype, name="replicate")(x))
    x = recurrent.BiGRU(self.gru_features, return_sequences=False, dtype=self.dtype,
                        name="bigru")(x)
    return nn.Dropout(self.dropout_rate, deterministic=not train)(x)


class DeepCpG(nn.Module):
  """DNA + neighbouring CpG states -> methylation logits ``[batch, num_cells]``.

  Attributes:
    num_cells: cells (outputs; also the CpG module's sequence length).
    use_dna, use_cpg: which modules feed the joint module (both: DeepCpG; one: the
      paper's DNA-only / CpG-only models).
    dna_filters, dna_kernel_sizes, dna_pool_sizes, dna_hidden: ``CnnL2h128``.
    cpg_hidden, gru_features: ``RnnL1`` (dense 256, bidirectional GRU 256).
    joint_hidden: ``JointL2h512`` layer widths.
    dropout_rate: dropout after every module and joint layer (``dcpg_train``: 0).
    dtype: compute dtype.
  """
  num_cells: int = 1
  use_dna: bool = True
  use_cpg: bool = True
  dna_filters: tuple[int, ...] = (128, 256)
  dna_kernel_sizes: tuple[int, ...] = (11, 3)
  dna_pool_sizes: tuple[int, ...] = (4, 2)
  dna_hidden: int = 128
  cpg_hidden: int = 256
  gru_features: int = 256
  joint_hidden: tuple[int, ...] = (512, 512)
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray | None = None, cpg_state: jnp.ndarray | None = None,
               cpg_dist: jnp.ndarray | None = None, *, train: bool = False) -> jnp.ndarray:
    """``sequence [batch, L, 4]``, ``cpg_state``/``cpg_dist [batch, cells, 2K]``."""
    if not (self.use_dna or self.use_cpg):
      raise ValueError("DeepCpG needs use_dna or use_cpg")
    parts = []
    if self.use_dna:
      parts.append(DnaModule(tuple(self.dna_filters), tuple(self.dna_kernel_sizes),
                             tuple(self.dna_pool_sizes), self.dna_hidden, self.dropout_rate,
                             self.dtype, name="dna")(sequence, train=train))
    if self.use_cpg:
      if cpg_state.shape[1] != self.num_cells:
        raise ValueError(f"cpg_state has {cpg_state.shape[1]} cells; the model "
                         f"num_cells={self.num_cells}")
      parts.append(CpgModule(self.cpg_hidden, self.gru_features, self.dropout_rate,
                             self.dtype, name="cpg")(cpg_state, cpg_dist, train=train))
    x = jnp.concatenate(parts, axis=-1)
    for index, width in enumerate(self.joint_hidden):
      x = gnn.DenseBlock(width, dropout_rate=self.dropout_rate, dtype=self.dtype,
                         name=f"joint_{index}")(x, train=train)
    return gnn.dense(self.num_cells, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DeepCpG


def neighbour_average(cpg_state, cpg_dist, within: float = 1.0):
  """The baseline DeepCpG is compared with: each cell's mean state of its observed
  neighbours closer than ``within`` (scaled distance; 1.0 = ``max_dist``, all of them;
  3 kb is ``3000 / 25000``), 0.5 if it has none.

  ``[..., cells, 2K]`` states and scaled distances -> ``[..., cells]`` probabilities.
  """
  import numpy as np  # Host-side evaluation only.
  state, dist = np.asarray(cpg_state, np.float64), np.asarray(cpg_dist, np.float64)
  present = dist < within
  count = present.sum(-1)
  total = np.where(present, state, 0.0).sum(-1)
  return np.where(count > 0, total / np.maximum(count, 1), 0.5)
