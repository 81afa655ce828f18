"""DeepPhos (Luo et al., Bioinformatics 2019): phosphorylation sites from densely
connected CNN blocks over three windows.

The figure in words, with the released code's numbers (``methods/phosnet.py`` and
``methods/model_n.py``, USTC-HIlab/DeepPhos): a candidate S/T/Y residue is read in
three windows centred on it, 51, 33 and 15 residues, one-hot over 20 amino acids + the
gap ``*`` (``[batch, W, 21]``) -> per window, a stem convolution of 32 width-1 kernels
-> a densely connected block of 5 convolutions, each ``ReLU(conv(x))`` with 32 kernels
(the growth rate) of width 13 (51-window), 7 (33) or 3 (15), no bias, dropout 0.2,
whose output is concatenated to its input before the next one (the paper's
*intra-block concatenation*; 32 + 5 x 32 = 192 channels) -> the three blocks'
outputs joined along the position axis (*inter-block concatenation*; 51 + 33 + 15 = 99
positions x 192) -> flatten -> dense 32, ReLU, dropout 0.3 -> one logit per output
(the code's two-class softmax; a sigmoid on one logit is the same model). Adam, lr
0.001, batches of 512, 60 epochs; L2 1e-4 on every kernel.

Windows: the model takes one ``[batch, 51, C]`` window and cuts the 33- and 15-residue
windows out of its centre. The released data code pads every window with ``*`` beyond
the protein's ends, so the centre crop of the 51 window *is* the 33 window; the dataset
stays one window per example (``ptm_sites`` layout).

The paper's models differ in data, not architecture: *general* (all S/T or all Y
sites), *residue-specific* (S/T, Y) and *kinase-specific* ones (group / family /
subfamily / kinase), the latter trained from the general model's weights (the code's
``train_for_deepphos(..., background_weight=...)``: all layers start from the general
model and are fine-tuned). Here that is the trainer's ``init_from`` (`load_from_workdir`
below) and, optionally, ``frozen`` sub-trees: ``branch_51`` / ``branch_33`` /
``branch_15`` (each window's stem + dense block) and ``head``.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    # The released model, used for the general, S/T, Y and kinase-specific models alike.
    "paper": {},
    # Seconds on a CPU.
    "tiny": dict(stem_filters=8, growth_rate=8, num_layers=2, dense_units=8),
}

#: Frozen-able sub-trees: one per window, and the dense head.
SUBTREES = ("branch_51", "branch_33", "branch_15", "head")


class DenseConvBlock(nn.Module):
  """DeepPhos' densely connected convolution block (intra-block concatenation).

  ``[batch, L, C] -> [batch, L, C + num_layers * growth_rate]``: each layer's
  ``dropout(ReLU(conv(x)))`` is concatenated to ``x`` (DenseNet, Huang et al. 2017,
  without batch norm, as the released ``denseblock``).
  """
  num_layers: int
  growth_rate: int
  kernel_size: int
  dropout_rate: float
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    for layer in range(self.num_layers):
      y = gnn.conv(self.growth_rate, self.kernel_size, use_bias=False, dtype=self.dtype,
                   name=f"conv{layer + 1}")(x)
      y = nn.Dropout(self.dropout_rate, deterministic=not train)(nn.relu(y))
      x = jnp.concatenate([x, y], axis=-1)
    return x


def centre_crop(x: jnp.ndarray, width: int) -> jnp.ndarray:
  """The ``width`` central positions of ``[batch, W, C]`` windows (``W - width`` even)."""
  extra = x.shape[-2] - width
  if extra < 0 or extra % 2:
    raise ValueError(f"cannot cut a centred {width}-residue window out of {x.shape[-2]}")
  return x[..., extra // 2: extra // 2 + width, :]


class DeepPhos(nn.Module):
  """DeepPhos: ``[batch, max(windows), C]`` windows -> ``[batch, num_outputs]`` logits.

  Attributes:
    windows: window widths, one branch each (paper: 51, 33, 15); the input is the
      widest, the others are its centre crops.
    kernel_sizes: dense-block kernel width per window (13, 7, 3).
    stem_filters: width-1 stem kernels per branch (``nb_filter`` 32).
    growth_rate: kernels of each dense-block convolution (32).
    num_layers: convolutions per dense block (5).
    conv_dropout_rate: dropout after each of them (0.2).
    dense_units: hidden units of the head (32).
    dense_dropout_rate: dropout after it (0.3).
    num_outputs: one logit per site type or kinase (1).
    dtype: compute dtype.
  """
  windows: Sequence[int] = (51, 33, 15)
  kernel_sizes: Sequence[int] = (13, 7, 3)
  stem_filters: int = 32
  growth_rate: int = 32
  num_layers: int = 5
  conv_dropout_rate: float = 0.2
  dense_units: int = 32
  dense_dropout_rate: float = 0.3
  num_outputs: int = 1
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    if len(self.windows) != len(self.kernel_sizes):
      raise ValueError(f"one kernel size per window: {self.windows} vs {self.kernel_sizes}")
    if sequence.shape[-2] != max(self.windows):
      raise ValueError(f"DeepPhos reads {max(self.windows)}-residue windows, got "
                       f"{sequence.shape[-2]}")
    x = sequence.astype(self.dtype)
    branches = []
    for window, kernel_size in zip(self.windows, self.kernel_sizes):
      branch = _Branch(self.stem_filters, self.growth_rate, self.num_layers, kernel_size,
                       self.conv_dropout_rate, self.dtype, name=f"branch_{window}")
      branches.append(branch(centre_crop(x, window), train=train))
    # Inter-block concatenation: along positions, as the released code
    # (``merge(..., concat_axis=-2)``); every branch has the same channel count.
    x = jnp.concatenate(branches, axis=-2)
    x = x.reshape(x.shape[0], -1)
    return _Head(self.dense_units, self.dense_dropout_rate, self.num_outputs, self.dtype,
                 name="head")(x, train=train)


class _Branch(nn.Module):
  """One window's stem (width-1 convolution, ReLU, no bias) and dense block."""
  stem_filters: int
  growth_rate: int
  num_layers: int
  kernel_size: int
  dropout_rate: float
  dtype: Any

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = nn.relu(gnn.conv(self.stem_filters, 1, use_bias=False, dtype=self.dtype,
                         name="stem")(x))
    return DenseConvBlock(self.num_layers, self.growth_rate, self.kernel_size,
                          self.dropout_rate, self.dtype, name="dense_block")(x, train=train)


class _Head(nn.Module):
  """Dense ReLU layer, dropout, output logits."""
  dense_units: int
  dropout_rate: float
  num_outputs: int
  dtype: Any

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    x = nn.relu(gnn.dense(self.dense_units, dtype=self.dtype, name="hidden")(x))
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


def load_from_workdir(workdir: str, which: str = "best") -> dict[str, Any]:
  """Variables of a trained model (the general DeepPhos) from its workdir, for
  ``config.init_from = "genereg_jax.models.deepphos:load_from_workdir"`` with
  ``init_from_kwargs.workdir`` (the kinase-specific models' transfer learning).

  The workdir's own saved config rebuilds the model and restores its ``which``
  (``"best"`` or ``"latest"``) checkpoint.
  """
  from genereg_jax.train import trainer  # The trainer imports the models package.
  from genereg_jax.train import workdir as workdir_lib

  config = workdir_lib.load_saved_config(workdir)
  _, state, _ = trainer.restore_for_eval(config, workdir, which)
  return {"params": state.params,
          **({"batch_stats": state.batch_stats} if state.batch_stats else {})}


Model = DeepPhos
