"""GraphReg (Karbalayghareh et al., "Chromatin interaction-aware gene regulatory
modeling with graph attention networks", Genome Research 2022) and its CNN baselines.

One example is a genomic region (paper: 6 Mb) cut into nodes of 5 kb (1,200 nodes);
edges join nodes in 3D contact (Hi-C/HiChIP/Micro-C). Layer sizes, dropout and the
optimizer follow the authors' Keras scripts (github.com/karbalayghareh/GraphReg,
``train/Epi-GraphReg.py``, ``Epi-CNN.py``, ``Seq-CNN_base.py``, ``Seq-GraphReg.py``):

  Epi stem      epigenomic tracks at 100 bp [B, N*50, 3] (log1p here)
                -> conv 128 x 25, ReLU, BN, max-pool 2 -> dropout -> conv 128 x 3, ReLU,
                BN, pool 5 -> dropout -> conv 128 x 3, ReLU, BN, pool 5  => [B, N, 128]
  Seq trunk     DNA [B, N*5000, 4] -> conv 256 x 21 (pool 2), 128 x 3 (pool 2), 128 x 3
  (Seq-CNN_base) (pool 5), 128 x 3 (pool 5), 64 x 3 (each ReLU + BN, dropout between)
                => 100-bp features h [B, N*50, 64]; pretraining: 6 dilated residual
                convs (64 x 3, dilation 2, 4 ... 64) and one exp conv (k 5) per epi track
                predict the tracks (Poisson) — then the stem above (first kernel 3)
                takes h to the nodes
  graph head    2 x [GAT 32 features x 4 heads, concat -> ELU -> BN] -> dropout
  (GraphReg)    -> 1x1 conv 64, ReLU, BN -> 1x1 conv 1, exp  => CAGE [B, N]
  CNN head      dropout -> conv 64 x 3, ReLU, BN -> 8 x [dropout -> x + conv 64 x 3
  (Epi/Seq-CNN) (dilation 2, 4 ... 256), ReLU -> BN] -> 1x1 conv 1, exp  => CAGE [B, N]

All dropouts 0.5; Adam, learning rate 2e-4, batch 1 region; Poisson loss on the middle
2 Mb (400 nodes) of each 6-Mb region (regions overlap by 4 Mb, so every node is scored
once), evaluated by Pearson R of log2(CAGE + 1) on the TSS nodes (``graph_nodes`` task).

Differences from the published code, on purpose:

* The graph layer is the standard GAT of Veličković et al. (``genereg_jax.nn.graph``,
  PyG-exact), as the paper describes it. The authors' ``gat_layer.py`` is a variant:
  separate self/neighbour kernels, sigmoid attention normalised by ``1 + Σ`` with the
  remainder as the node's own weight, no bias. Their feature dropout inside the layer
  is a dropout on the GAT input here.
* ``gat_residual`` (off in the presets) adds a skip around each GAT block: softmax
  attention averages, so without it a node with many contacts loses its own promoter
  signal (the authors' layer keeps a separate self term for that reason).
* Seq-CNN_base runs on 100-kb chunks (60 per region); here the trunk runs over the
  whole region at once, which equals the chunked trunk away from the chunk borders.

``input="epi"`` or ``"sequence"`` and ``head="graph"`` or ``"cnn"`` select Epi-GraphReg,
Epi-CNN, Seq-GraphReg and Seq-CNN (presets ``epi_graphreg``, ``epi_cnn``,
``seq_graphreg``, ``seq_cnn``; ``tiny_*`` versions for tests). ``output="epi"`` returns
the Seq trunk's epigenomic-track predictions ``[B, N*50, tracks]`` (stage 1 of
Seq-GraphReg, scored by the ``coverage`` task); ``freeze_trunk`` runs the pretrained
trunk in inference mode without gradients (the paper's ``trainable = False``; stage 2),
and `init_from_pretrained_trunk` copies a stage-1 workdir's trunk into a stage-2 model.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax import nn as gnn
from genereg_jax.nn import graph

INPUTS = ("epi", "sequence")
HEADS = ("graph", "cnn")
OUTPUTS = ("cage", "epi")

_TINY = dict(stem_features=(16, 16, 16), gat_features=8, gat_heads=2, gat_layers=2,
             graph_hidden=16, cnn_features=16, cnn_dilated_layers=3, trunk_features=(16, 16, 16,
                                                                                      16, 16),
             trunk_dilated_layers=2, dropout_rate=0.1)
PRESETS: dict[str, dict[str, Any]] = {
    "epi_graphreg": {},
    "epi_cnn": dict(head="cnn"),
    "seq_graphreg": dict(input="sequence"),
    "seq_cnn": dict(input="sequence", head="cnn"),
    # Seconds on a CPU.
    "tiny_epi_graphreg": dict(_TINY),
    "tiny_epi_cnn": dict(_TINY, head="cnn"),
    "tiny_seq_graphreg": dict(_TINY, input="sequence"),
    "tiny_seq_cnn": dict(_TINY, input="sequence", head="cnn"),
}
PRESETS["paper"] = PRESETS["epi_graphreg"]
PRESETS["tiny"] = PRESETS["tiny_epi_graphreg"]


class ConvBNBlock(nn.Module):
  """GraphReg's Keras block: (dropout) -> conv (ReLU) [+ x] -> batch norm -> (max-pool)."""
  features: int
  kernel_size: int
  dilation: int = 1
  pool_size: int = 1
  dropout_rate: float = 0.0
  residual: bool = False
  activation: str = "relu"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    y = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    y = gnn.layers.activation(self.activation)(
        gnn.conv(self.features, self.kernel_size, dilation=self.dilation, dtype=self.dtype)(y))
    y = y + x if self.residual else y
    # Keras BatchNormalization defaults: momentum 0.99, epsilon 1e-3.
    y = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-3,
                     dtype=self.dtype)(y)
    if self.pool_size > 1:
      y = nn.max_pool(y, (self.pool_size,), strides=(self.pool_size,))
    return y


class GraphReg(nn.Module):
  """Epi/Seq-GraphReg and Epi/Seq-CNN: a region's inputs -> CAGE rate per 5-kb node.

  Call ``model(epi=[B, N*50, tracks])`` or ``model(sequence=[B, N*5000, 4])``, plus
  ``edges [B, E, 2]`` and ``edge_mask [B, E]`` for the graph head; returns ``[B, N]``
  (or the trunk's ``[B, N*50, tracks]`` with ``output="epi"``). With
  ``return_attention=True`` the graph head also returns each GAT layer's attention
  ``[B, E + N, heads]`` (edges then self loops).

  Attributes:
    input: ``"epi"`` (Epi-*) or ``"sequence"`` (Seq-*).
    head: ``"graph"`` (GraphReg) or ``"cnn"`` (the dilated-CNN baseline).
    output: ``"cage"`` or ``"epi"`` (the Seq trunk's pretraining targets).
    log_epi: take ``log1p`` of the raw epigenomic tracks first.
    stem_features: the three node-stem convolutions (pools 2, 5, 5: 100 bp -> 5 kb).
    stem_kernel: first stem kernel (25 on epi tracks, 3 on Seq trunk features).
    gat_layers, gat_features, gat_heads: the GAT stack (heads concatenated).
    gat_mode: ``"edges"`` or ``"dense"`` (`genereg_jax.nn.graph.GraphAttention`).
    gat_residual: add each GAT block's output to its input (not in the paper; keeps
      the node's own features undiluted by the attention average).
    graph_hidden: width of the 1x1 conv before the output.
    cnn_features, cnn_dilated_layers: the CNN head (dilations 2, 4, ...).
    trunk_features, trunk_kernels, trunk_pools: Seq-CNN_base's convolutions.
    trunk_dilated_layers: its dilated residual convs (pretraining path only).
    epi_tracks: epigenomic tracks the Seq trunk predicts.
    freeze_trunk: run the Seq trunk in inference mode without gradients.
    dropout_rate: every dropout (0.5 in the paper).
    dtype: compute dtype.
  """
  input: str = "epi"
  head: str = "graph"
  output: str = "cage"
  log_epi: bool = True
  stem_features: Sequence[int] = (128, 128, 128)
  stem_kernel: int | None = None
  gat_layers: int = 2
  gat_features: int = 32
  gat_heads: int = 4
  gat_mode: str = "edges"
  gat_residual: bool = False
  graph_hidden: int = 64
  cnn_features: int = 64
  cnn_dilated_layers: int = 8
  trunk_features: Sequence[int] = (256, 128, 128, 128, 64)
  trunk_kernels: Sequence[int] = (21, 3, 3, 3, 3)
  trunk_pools: Sequence[int] = (2, 2, 5, 5, 1)
  trunk_dilated_layers: int = 6
  epi_tracks: int = 3
  freeze_trunk: bool = False
  dropout_rate: float = 0.5
  dtype: Any = jnp.float32

  def _check(self):
    for field, value, valid in (("input", self.input, INPUTS), ("head", self.head, HEADS),
                                ("output", self.output, OUTPUTS)):
      if value not in valid:
        raise ValueError(f"GraphReg {field} {value!r}; valid: {list(valid)}")
    if self.output == "epi" and self.input != "sequence":
      raise ValueError("output='epi' is the Seq trunk's pretraining output; set input='sequence'")

  def block(self, features, kernel, **kwargs):
    return ConvBNBlock(features, kernel, dtype=self.dtype, **kwargs)

  @nn.compact
  def __call__(self, epi=None, sequence=None, edges=None, edge_mask=None, *,
               train: bool = False, return_attention: bool = False):
    self._check()
    if self.input == "epi":
      if epi is None:
        raise ValueError("Epi-GraphReg/Epi-CNN need the 'epi' input [B, N*50, tracks]")
      x = epi.astype(self.dtype)
      x = jnp.log1p(jnp.maximum(x, 0.0)) if self.log_epi else x
    else:
      if sequence is None:
        raise ValueError("Seq-GraphReg/Seq-CNN need the 'sequence' input [B, N*5000, 4]")
      x, epi_rates = SeqTrunk(self.trunk_features, self.trunk_kernels, self.trunk_pools,
                              self.trunk_dilated_layers, self.epi_tracks, self.dropout_rate,
                              with_epi=self.output == "epi", dtype=self.dtype,
                              name="trunk")(sequence, train=train and not self.freeze_trunk)
      if self.output == "epi":
        return epi_rates
      if self.freeze_trunk:
        x = jax.lax.stop_gradient(x)
    first_kernel = self.stem_kernel or (25 if self.input == "epi" else 3)
    for index, (features, pool) in enumerate(zip(self.stem_features, (2, 5, 5))):
      x = self.block(features, first_kernel if index == 0 else 3, pool_size=pool,
                     dropout_rate=0.0 if index == 0 else self.dropout_rate,
                     name=f"stem_{index}")(x, train=train)
    attention = []
    if self.head == "graph":
      if edges is None or edge_mask is None:
        raise ValueError("the graph head needs 'edges' [B, E, 2] and 'edge_mask' [B, E]")
      if self.gat_residual and x.shape[-1] != self.gat_features * self.gat_heads:
        raise ValueError(f"gat_residual needs gat_features x gat_heads = {x.shape[-1]} (the "
                         f"stem's width), got {self.gat_features} x {self.gat_heads}")
      for index in range(self.gat_layers):
        y = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
        y, alpha = graph.GraphAttention(self.gat_features, heads=self.gat_heads, concat=True,
                                        mode=self.gat_mode, dtype=self.dtype,
                                        name=f"gat_{index}")(
            y, edges, edge_mask, train=train, return_attention=True)
        y = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-3,
                         dtype=self.dtype, name=f"gat_norm_{index}")(nn.elu(y))
        x = x + y if self.gat_residual else y
        attention.append(alpha)
      x = self.block(self.graph_hidden, 1, dropout_rate=self.dropout_rate,
                     name="hidden")(x, train=train)
    else:
      x = self.block(self.cnn_features, 3, dropout_rate=self.dropout_rate,
                     name="cnn_in")(x, train=train)
      for index in range(self.cnn_dilated_layers):
        x = self.block(self.cnn_features, 3, dilation=2 ** (index + 1),
                       dropout_rate=self.dropout_rate, residual=True,
                       name=f"cnn_dilated_{index}")(x, train=train)
    log_rate = gnn.conv(1, 1, dtype=self.dtype, axes=("conv_width", "conv_in", "tracks"),
                        name="cage")(x)[..., 0]
    # The paper's exponential output; clipped so an untrained model cannot overflow.
    cage = jnp.exp(jnp.minimum(log_rate.astype(jnp.float32), 30.0))
    return (cage, attention) if return_attention else cage


class SeqTrunk(nn.Module):
  """Seq-CNN_base: DNA ``[B, L, 4]`` -> 100-bp features ``[B, L/100, 64]`` (and, with
  ``with_epi``, the predicted epigenomic tracks ``[B, L/100, tracks]``)."""
  features: Sequence[int]
  kernels: Sequence[int]
  pools: Sequence[int]
  dilated_layers: int
  epi_tracks: int
  dropout_rate: float
  with_epi: bool = False
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence, *, train: bool):
    x = sequence.astype(self.dtype)
    for index, (features, kernel, pool) in enumerate(zip(self.features, self.kernels,
                                                         self.pools)):
      x = ConvBNBlock(features, kernel, pool_size=pool, dtype=self.dtype,
                      dropout_rate=0.0 if index == 0 else self.dropout_rate,
                      name=f"conv_{index}")(x, train=train)
    if not self.with_epi:
      return x, None
    h = x
    for index in range(self.dilated_layers):
      h = ConvBNBlock(self.features[-1], 3, dilation=2 ** (index + 1), residual=True,
                      dropout_rate=self.dropout_rate, dtype=self.dtype,
                      name=f"dilated_{index}")(h, train=train)
    log_rates = [gnn.conv(1, 5, dtype=self.dtype, name=f"epi_{t}")(h)
                 for t in range(self.epi_tracks)]
    rates = jnp.exp(jnp.minimum(jnp.concatenate(log_rates, -1).astype(jnp.float32), 30.0))
    return x, rates


Model = GraphReg


def init_from_pretrained_trunk(workdir: str, preset: str, model: dict | None = None,
                               which: str = "best", seed: int = 0) -> dict[str, Any]:
  """Stage 2 of Seq-GraphReg: a ``preset`` model's variables with the Seq trunk of the
  stage-1 run in ``workdir`` (trained with ``output="epi"``), for ``config.init_from``.

  The rest starts from a fresh init (seed ``seed``); parameter shapes do not depend on
  the region size, so a one-node region is enough to build them.
  """
  from genereg_jax import models
  from genereg_jax.train import trainer, workdir as workdir_lib  # Lazy: only when fine-tuning.
  stage1_config = workdir_lib.load_saved_config(workdir)
  _, state, _ = trainer.restore_for_eval(stage1_config, workdir, which=which)
  stage2 = models.get_model("graphreg", preset, dict(model or {}))
  # Jitted: an eager init compiles every initialiser op on its own.
  variables = jax.jit(stage2.init)(
      {"params": jax.random.key(seed), "dropout": jax.random.key(seed)},
      sequence=jnp.zeros((1, 5000, 4)), edges=jnp.zeros((1, 1, 2), jnp.int32),
      edge_mask=jnp.zeros((1, 1), bool))
  variables = jax.tree.map(np.asarray, nn.meta.unbox(variables))
  variables = {k: dict(v) for k, v in variables.items()}
  trunk_params = jax.tree.map(np.asarray, state.params["trunk"])
  variables["params"]["trunk"] = _matching(variables["params"]["trunk"], trunk_params)
  if "trunk" in variables.get("batch_stats", {}):
    variables["batch_stats"]["trunk"] = _matching(
        variables["batch_stats"]["trunk"], jax.tree.map(np.asarray, state.batch_stats["trunk"]))
  return variables


def _matching(current, pretrained):
  """The entries of ``pretrained`` that ``current`` has (stage 2 drops the epi heads)."""
  return {k: _matching(v, pretrained[k]) if isinstance(v, dict) else pretrained[k]
          for k, v in current.items()}
