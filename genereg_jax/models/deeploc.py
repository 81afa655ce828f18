"""DeepLoc (Almagro Armenteros et al., Bioinformatics 2017): protein subcellular location
and membrane association from sequence.

The figure in words, with the paper's sizes (and the released Lasagne code,
``model.py`` / ``utils.py`` of JJAlmagro/subcellular_localization, where they differ):
a protein's first and last 500 residues (shorter proteins whole, padded; ``mask`` 1 on
residues), BLOSUM62 rows or profiles ``[batch, 1000, 20]`` -> input dropout 0.2 of
whole positions (``DropoutSeqPosLayer``: a dropped residue is all zero; no rescaling)
-> stem: six parallel convolutions of widths 1, 3, 5, 9, 15 and 21, 20 kernels each
(the code's default is 10), ReLU, "same" padding, concatenated (120 channels) -> a
second convolution of 128 kernels of width 3, ReLU (the code: 64) -> dropout 0.5 ->
trunk: a bidirectional LSTM of 256 units per direction, whole sequence ``[batch,
1000, 512]`` -> attention decoder: an LSTM of 512 units run for 10 steps; at each step
the alignment ``e_j = v . tanh(W s + U h_j)`` (256 wide) between the decoder state
``s`` and every position ``h_j``, a softmax over the residues (padding excluded) and the
attention-weighted sum of ``h`` (the context) fed to the decoder LSTM -> the last
step's context -> dropout 0.5 -> dense 512, ReLU -> dropout 0.5 -> 10 location logits
and a membrane-bound/soluble logit. The attention weights ``[batch, 10 steps, 1000]``
are sown in ``"intermediates"/"attention"`` (the paper's attention figures use the
last step's): `attention_weights` returns them and `plot_attention` draws them.

Differences from the released decoder: its LSTM has peephole connections; here the
decoder is flax's plain ``OptimizedLSTMCell`` (the same gates on ``[s, context]``, no
peepholes). The trunk's LSTM reads middle padding as zero steps (the mask is used by
the attention, as in the code's decoder).

Hierarchical output (the paper's "hierarchical tree" variant): instead of one softmax
over the 10 locations, every internal node of a sorting tree has a softmax over its
children (a sigmoid for two) and a location's probability is the product along its
path (the tree likelihood), so the ``location`` output holds log-probabilities that
sum to one, read by the ``localization`` task's cross-entropy unchanged. `SORTING_TREE`
follows the protein sorting pathway: secretory pathway (signal peptide) vs not; the
secretory branch splits extracellular from retained in the endomembrane system (ER,
Golgi, lysosome/vacuole, cell membrane); the other splits nucleus/cytoplasm from
organelles with targeting peptides (mitochondrion, plastid, peroxisome).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax import nn as gnn

# Location indices in DeepLoc's class order (``tasks.localization.DEEPLOC_LOCATIONS``):
# 0 Nucleus, 1 Cytoplasm, 2 Extracellular, 3 Mitochondrion, 4 Cell membrane,
# 5 Endoplasmic reticulum, 6 Plastid, 7 Golgi apparatus, 8 Lysosome/Vacuole, 9 Peroxisome.
SORTING_TREE = (
    (2, (5, 7, 8, 4)),  # Secretory pathway: extracellular | endomembrane system.
    ((0, 1), (3, 6, 9)),  # Not secreted: nucleus / cytoplasm | targeted organelles.
)

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "hierarchical": dict(hierarchical=True),
    # Seconds on a CPU.
    "tiny": dict(filters_per_width=4, second_conv_filters=8, lstm_units=8,
                 attention_units=8, decoder_units=16, dense_units=16, decode_steps=3),
}


def _leaves(tree) -> list[int]:
  return [tree] if isinstance(tree, int) else [l for child in tree for l in _leaves(child)]


def _internal_nodes(tree) -> list[tuple]:
  """Internal nodes in depth-first order (the root first)."""
  if isinstance(tree, int):
    return []
  return [tree] + [n for child in tree for n in _internal_nodes(child)]


def tree_log_likelihood(node_logits: jnp.ndarray, tree, num_classes: int) -> jnp.ndarray:
  """``[batch, num_classes]`` leaf log-probabilities: the sum along each leaf's path of
  the log-softmax over the children of every node on it.

  Args:
    node_logits: ``[batch, sum of internal nodes' arities]``, the nodes' children in
      `_internal_nodes` order.
    tree: nested tuples whose leaves are class indices, each exactly once.
    num_classes: the number of leaves.
  """
  if sorted(_leaves(tree)) != list(range(num_classes)):
    raise ValueError(f"the tree's leaves must be 0..{num_classes - 1} once each: {tree}")
  out = [None] * num_classes
  offsets, start = {}, 0
  for node in _internal_nodes(tree):
    offsets[id(node)] = start
    start += len(node)

  def visit(node, log_p):
    if isinstance(node, int):
      out[node] = log_p
      return
    begin = offsets[id(node)]
    log_children = jax.nn.log_softmax(node_logits[:, begin:begin + len(node)], axis=-1)
    for index, child in enumerate(node):
      visit(child, log_p + log_children[:, index])

  visit(tree, jnp.zeros(node_logits.shape[:1], node_logits.dtype))
  return jnp.stack(out, axis=-1)


class AttentionDecoder(nn.Module):
  """DeepLoc's LSTM attention decoder (Bahdanau et al. 2015 alignment).

  ``h [batch, L, D], mask [batch, L] -> (context [batch, D], weights [batch, steps, L])``:
  ``steps`` LSTM steps whose input is the attention-weighted sum of ``h``, the weights
  a softmax over positions of ``v . tanh(W s + U h_j)`` for the previous decoder state
  ``s`` (zero at the start).
  """
  units: int
  attention_units: int
  steps: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h: jnp.ndarray, mask: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    # U h_j does not depend on the step: computed once.
    keys = gnn.dense(self.attention_units, use_bias=False, dtype=self.dtype,
                     name="key")(h)
    query = gnn.dense(self.attention_units, use_bias=False, dtype=self.dtype, name="query")
    score = gnn.dense(1, use_bias=False, dtype=self.dtype, axes=("mlp", "embed"),
                      name="score")
    cell = nn.OptimizedLSTMCell(self.units, dtype=self.dtype, name="cell")
    zeros = jnp.zeros((h.shape[0], self.units), self.dtype)
    carry = (zeros, zeros)  # (c, h), as the code's constant-zero initial states.
    weights = []
    for _ in range(self.steps):
      logits = score(jnp.tanh(query(carry[1])[:, None, :] + keys))[..., 0]
      logits = jnp.where(mask > 0, logits.astype(jnp.float32), -1e9)
      alpha = jax.nn.softmax(logits, axis=-1)
      context = jnp.einsum("bl,bld->bd", alpha.astype(h.dtype), h)
      carry, _ = cell(carry, context)
      weights.append(alpha)
    return context, jnp.stack(weights, axis=1)


class DeepLoc(nn.Module):
  """DeepLoc: ``sequence [batch, L, C]``, ``mask [batch, L]`` -> ``{"location": [batch,
  num_locations], "membrane": [batch]}`` logits (log-probabilities for ``location`` when
  hierarchical).

  Attributes:
    filter_widths: widths of the parallel first convolutions (1, 3, 5, 9, 15, 21).
    filters_per_width: kernels of each (paper 20; released code 10).
    second_conv_filters: kernels of the second convolution (paper 128; code 64).
    second_conv_width: its width (3).
    lstm_units: units per direction of the BiLSTM (256).
    attention_units: width of the alignment layer (256).
    decoder_units: units of the decoder LSTM (512).
    decode_steps: attention steps (10).
    dense_units: hidden units before the outputs (512).
    input_dropout_rate: fraction of residue positions zeroed in training (0.2).
    dropout_rate: dropout on the convolution output and around the dense layer (0.5).
    num_locations: location classes (10).
    hierarchical: the tree-likelihood output over `tree` instead of a flat softmax.
    tree: nested tuples of location indices (default `SORTING_TREE`).
    dtype: compute dtype.
  """
  filter_widths: Sequence[int] = (1, 3, 5, 9, 15, 21)
  filters_per_width: int = 20
  second_conv_filters: int = 128
  second_conv_width: int = 3
  lstm_units: int = 256
  attention_units: int = 256
  decoder_units: int = 512
  decode_steps: int = 10
  dense_units: int = 512
  input_dropout_rate: float = 0.2
  dropout_rate: float = 0.5
  num_locations: int = 10
  hierarchical: bool = False
  tree: Any = SORTING_TREE
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, mask: jnp.ndarray | None = None, *,
               train: bool = False) -> dict[str, jnp.ndarray]:
    if mask is None:
      mask = (jnp.abs(sequence).sum(-1) > 0).astype(jnp.float32)
    x = sequence.astype(self.dtype)
    if train and self.input_dropout_rate > 0:
      keep = jax.random.bernoulli(self.make_rng("dropout"), 1 - self.input_dropout_rate,
                                  x.shape[:2])
      x = x * keep[..., None].astype(x.dtype)  # Whole residues, not rescaled (the code's).
    x = jnp.concatenate(
        [nn.relu(gnn.conv(self.filters_per_width, width, dtype=self.dtype,
                          name=f"conv_width{width}")(x)) for width in self.filter_widths],
        axis=-1)
    x = nn.relu(gnn.conv(self.second_conv_filters, self.second_conv_width, dtype=self.dtype,
                         name="conv2")(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    h = gnn.BiLSTM(self.lstm_units, dtype=self.dtype, name="bilstm")(x)
    context, weights = AttentionDecoder(self.decoder_units, self.attention_units,
                                        self.decode_steps, self.dtype, name="decoder")(h, mask)
    self.sow("intermediates", "attention", weights)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(context)
    x = nn.relu(gnn.dense(self.dense_units, dtype=self.dtype, name="dense")(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    membrane = gnn.dense(1, dtype=self.dtype, axes=("mlp", "tracks"), name="membrane")(x)
    if self.hierarchical:
      nodes = sum(len(n) for n in _internal_nodes(self.tree))
      node_logits = gnn.dense(nodes, dtype=self.dtype, axes=("mlp", "tracks"),
                              name="tree_nodes")(x).astype(jnp.float32)
      location = tree_log_likelihood(node_logits, self.tree, self.num_locations)
    else:
      location = gnn.dense(self.num_locations, dtype=self.dtype, axes=("mlp", "tracks"),
                           name="location")(x)
    return {"location": location, "membrane": membrane[..., 0]}


def attention_weights(model: nn.Module, variables: Any, sequence, mask=None) -> np.ndarray:
  """``[batch, decode_steps, L]`` attention of each decoder step over the residues."""
  @jax.jit
  def run(variables, sequence, mask):
    _, state = model.apply(variables, sequence, mask, mutable=["intermediates"])
    return state["intermediates"]["attention"][0]
  return np.asarray(run(variables, sequence, mask))


def plot_attention(path: str | os.PathLike, weights, mask=None, *, title: str = "",
                   labels: Sequence[str] = ()) -> np.ndarray:
  """Draws one protein's attention over its 1,000 positions (the last decoder step, as
  the paper's figures; a ``[steps, L]`` array is reduced to its last row) to ``path``
  (``.png``/``.svg``); the first/last 500 halves are marked. Returns the plotted row."""
  from genereg_jax import plots

  row = np.asarray(weights, np.float64)
  row = row[-1] if row.ndim == 2 else row
  if row.ndim != 1:
    raise ValueError(f"weights must be [L] or [steps, L], got {np.shape(weights)}")
  plt = plots._pyplot()
  figure, ax = plt.subplots(figsize=(8, 2))
  positions = np.arange(len(row))
  ax.fill_between(positions, row, step="mid", color="tab:blue")
  if mask is not None:
    ax.fill_between(positions, 0, row.max() or 1, where=np.asarray(mask) <= 0,
                    color="0.9", step="mid", label="padding")
  ax.axvline(len(row) / 2, color="0.5", lw=0.5, ls="--")
  ax.set_xlabel("position (first 500 | last 500 residues)")
  ax.set_ylabel("attention")
  ax.set_title(title or ", ".join(labels), fontsize=9)
  plots._save(figure, path)
  return row


Model = DeepLoc
