"""Recurrent blocks: a bidirectional LSTM (and GRU) over sequence positions.

DanQ (Quang & Xie, NAR 2016, Fig. 1) reads pooled convolution features with a
bidirectional LSTM (Hochreiter & Schmidhuber 1997; Graves & Schmidhuber 2005) and keeps
the whole output sequence; DanQ-like models (DeepMEL, DeepFlyBrain) reuse that trunk.

Built on flax's ``nn.Bidirectional`` + ``nn.RNN`` + ``nn.OptimizedLSTMCell``. Each direction
(``bidirectional/forward_rnn/cell``, ``bidirectional/backward_rnn/cell``) holds, for each
gate ``g`` in (i, f, g, o): ``i{g}/kernel`` ``[in, features]`` (input),
``h{g}/kernel`` ``[features, features]`` (recurrent) and ``h{g}/bias`` ``[features]``, one
bias per gate as in Keras; ``lstm_cell_params`` converts stacked Keras/PyTorch weights.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

Dtype = Any

LSTM_GATES = ("i", "f", "g", "o")


def keras_hard_sigmoid(x: jnp.ndarray) -> jnp.ndarray:
  """``clip(0.2 x + 0.5, 0, 1)``: Theano/Keras' hard sigmoid, the gate of the Keras 0.x LSTM.

  Not ``jax.nn.hard_sigmoid`` (``relu6(x + 3) / 6``, slope 1/6).
  """
  return jnp.clip(0.2 * x + 0.5, 0.0, 1.0)


GATE_ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    "sigmoid": nn.sigmoid,
    "hard_sigmoid": keras_hard_sigmoid,
}


def lstm_cell_params(kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray,
                     gate_order: str = "ifgo") -> dict[str, dict[str, np.ndarray]]:
  """Stacked LSTM weights -> the parameter dict of one ``nn.OptimizedLSTMCell``.

  Args:
    kernel: ``[in, 4 * features]`` input weights, gate blocks side by side.
    recurrent_kernel: ``[features, 4 * features]`` recurrent weights.
    bias: ``[4 * features]``; for PyTorch pass ``bias_ih + bias_hh``.
    gate_order: the order of the gate blocks: ``"ifgo"`` for Keras (i, f, c, o) and
      PyTorch (i, f, g, o); TensorFlow 1's ``LSTMCell`` is ``"igfo"`` (i, j, f, o).

  Returns:
    ``{"ii": {"kernel"}, ..., "hi": {"kernel", "bias"}, ...}`` for every gate.
  """
  if sorted(gate_order) != sorted(LSTM_GATES):
    raise ValueError(f"gate_order must be a permutation of 'ifgo', got {gate_order!r}")
  features = recurrent_kernel.shape[0]
  if kernel.shape[-1] != 4 * features or recurrent_kernel.shape[-1] != 4 * features or (
      bias.shape != (4 * features,)):
    raise ValueError(f"expected 4 x {features} gate columns, got kernel {kernel.shape}, "
                     f"recurrent_kernel {recurrent_kernel.shape}, bias {bias.shape}")
  params = {}
  for index, gate in enumerate(gate_order):
    block = slice(index * features, (index + 1) * features)
    params[f"i{gate}"] = {"kernel": np.asarray(kernel[:, block])}
    params[f"h{gate}"] = {"kernel": np.asarray(recurrent_kernel[:, block]),
                          "bias": np.asarray(bias[block])}
  return params


def _cell_inits() -> dict:
  """Initialisers of a recurrent cell, with logical axes for partitioning."""
  return dict(
      kernel_init=nn.with_logical_partitioning(nn.initializers.lecun_normal(),
                                               ("lstm_in", "lstm")),
      recurrent_kernel_init=nn.with_logical_partitioning(nn.initializers.orthogonal(),
                                                         ("lstm_recurrent", "lstm")),
      bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(), ("lstm",)))


def _bidirectional(make_cell, x, seq_lengths):
  """((forward carry, backward carry), outputs) of a bidirectional RNN over ``x``,
  called inside the owning module's ``@nn.compact`` method."""
  # Unbound (parent=None) cells and RNNs, so that each RNN adopts its cell as ``cell``
  # and Bidirectional adopts the RNNs as ``forward_rnn`` / ``backward_rnn``.
  bidirectional = nn.Bidirectional(nn.RNN(make_cell(), parent=None),
                                   nn.RNN(make_cell(), parent=None),
                                   return_carry=True, name="bidirectional")
  return bidirectional(x, seq_lengths=seq_lengths)


class BiLSTM(nn.Module):
  """Bidirectional LSTM, ``[batch, length, in] -> [batch, length, 2 * features]`` (DanQ).

  Each position holds the forward state then the backward state (the backward pass runs
  from the last position to the first; its outputs are put back in input order). With
  ``return_sequences=False`` the output is ``[batch, 2 * features]``: the forward state
  after the last position and the backward state after the first.

  Attributes:
    features: hidden units per direction (DanQ: 320).
    gate_activation: ``"sigmoid"`` or ``"hard_sigmoid"`` (``keras_hard_sigmoid``, the
      gate DanQ's Keras 0.2 LSTM used).
    return_sequences: the whole sequence (DanQ) or the two final states.
    dtype: compute dtype.
  """
  features: int
  gate_activation: str = "sigmoid"
  return_sequences: bool = True
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, seq_lengths: jnp.ndarray | None = None) -> jnp.ndarray:
    """``seq_lengths`` (``int[batch]``, optional): valid leading steps of each row; the
    backward pass then starts at each row's last valid step (padded sets, DeeReCT-APA)."""
    if self.gate_activation not in GATE_ACTIVATIONS:
      raise ValueError(f"unknown gate activation {self.gate_activation!r}; "
                       f"valid: {sorted(GATE_ACTIVATIONS)}")

    (forward_carry, backward_carry), outputs = _bidirectional(
        lambda: nn.OptimizedLSTMCell(self.features,
                                     gate_fn=GATE_ACTIVATIONS[self.gate_activation],
                                     dtype=self.dtype, **_cell_inits(), parent=None),
        x, seq_lengths)
    if self.return_sequences:
      return outputs
    # A carry is (c, h); the output is h.
    return jnp.concatenate([forward_carry[1], backward_carry[1]], axis=-1)


class BiGRU(nn.Module):
  """Bidirectional GRU (Cho et al. 2014), the same wrapper as `BiLSTM`.

  DeepCpG's CpG module (Angermueller et al., Genome Biol. 2017; ``RnnL1``) runs a Keras
  ``Bidirectional(GRU(256))`` over cells and keeps the two final states. Built on flax's
  ``nn.GRUCell``: per direction ``i{r,z,n}/kernel`` (input), ``h{r,z,n}/kernel``
  (recurrent) with biases on ``ir``, ``iz``, ``in`` and ``hn``.

  Attributes:
    features: hidden units per direction (DeepCpG: 256).
    return_sequences: ``[batch, length, 2 * features]`` or the two final states
      ``[batch, 2 * features]`` (forward after the last step, backward after the first).
    dtype: compute dtype.
  """
  features: int
  return_sequences: bool = True
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, seq_lengths: jnp.ndarray | None = None) -> jnp.ndarray:
    (forward_carry, backward_carry), outputs = _bidirectional(
        lambda: nn.GRUCell(self.features, dtype=self.dtype, **_cell_inits(), parent=None),
        x, seq_lengths)
    if self.return_sequences:
      return outputs
    # A GRU's carry is its output h.
    return jnp.concatenate([forward_carry, backward_carry], axis=-1)
