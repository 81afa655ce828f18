"""Capsule layers: squash, routing-by-agreement, primary and class capsules, margin loss.

Sabour, Frosst & Hinton, "Dynamic routing between capsules" (NeurIPS 2017). A capsule
is a vector whose length is the probability that an entity is present and whose
orientation describes it.

- ``squash`` (Eq. 1): ``v = |s|^2 / (1 + |s|^2) * s / |s|`` keeps the orientation and
  maps the length into [0, 1).
- Primary capsules: a convolution whose ``num_capsules * capsule_dim`` output channels
  at each position are cut into ``capsule_dim``-vectors and squashed.
- Class capsules: each input capsule ``u_i`` predicts each parent ``j`` through its own
  matrix, ``u_hat_j|i = W_ij u_i``, and the parents come from ``dynamic_routing``.
- ``dynamic_routing`` is Procedure 1: ``b_ij = 0``; for ``r`` iterations
  ``c_i = softmax(b_i)`` over the parent capsules, ``s_j = sum_i c_ij u_hat_j|i``,
  ``v_j = squash(s_j)``, ``b_ij += u_hat_j|i . v_j``. The routing logits ``b`` are
  computed, never trained (they are not parameters).
- ``margin_loss`` (Eq. 4): ``T_k max(0, m+ - |v_k|)^2 + lambda (1 - T_k) max(0, |v_k| -
  m-)^2`` with m+ = 0.9, m- = 0.1, lambda = 0.5; several classes may be present at once.
- ``ReconstructionDecoder`` (Section 4.1): the class capsules, all but the true (or, at
  inference, the longest) one masked to zero, feed a 512 -> 1024 -> sigmoid network that
  redraws the input; its summed squared error, scaled down (0.0005 in the paper), is a
  regulariser added to the margin loss.

Gradients through routing: Procedure 1 says nothing about them. CapsNet-Keras (Guo),
the code most re-implementations start from, stops them for every iteration but the
last (``stop_gradient=True`` here); MusiteDeep's released capsule model
(``CapsuleLayer_nogradient_stop`` in duolinwang/MusiteDeep_web) lets them flow through
every iteration, which is the default here.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.nn import layers

Array = jax.Array

# Keras' backend epsilon: keeps |s| and its gradient finite at s = 0.
EPSILON = 1e-7


def squash(s: Array, axis: int = -1, epsilon: float = EPSILON) -> Array:
  """Sabour et al. Eq. 1 along ``axis``: same direction, length ``|s|^2 / (1 + |s|^2)``."""
  squared_norm = jnp.sum(jnp.square(s), axis=axis, keepdims=True)
  return s * (squared_norm / (1.0 + squared_norm) / jnp.sqrt(squared_norm + epsilon))


def capsule_length(v: Array, axis: int = -1, epsilon: float = EPSILON) -> Array:
  """``|v|`` along ``axis``, with ``epsilon`` under the root so the gradient is finite at 0."""
  return jnp.sqrt(jnp.sum(jnp.square(v), axis=axis) + epsilon)


def dynamic_routing(u_hat: Array, num_iterations: int = 3, *,
                    stop_gradient: bool = False) -> tuple[Array, Array]:
  """Routing-by-agreement (Sabour et al. Procedure 1).

  Args:
    u_hat: prediction vectors ``u_hat_j|i``, ``[..., num_inputs, num_parents, dim]``.
    num_iterations: routing iterations ``r`` (>= 1; 3 in the paper and MusiteDeep).
    stop_gradient: CapsNet-Keras' choice: no gradient flows through the routing
      coefficients (every iteration but the last reads ``stop_gradient(u_hat)``).

  Returns:
    ``(v, c)``: parent capsules ``[..., num_parents, dim]`` and the final coupling
    coefficients ``[..., num_inputs, num_parents]`` (each input's sum to 1).
  """
  if num_iterations < 1:
    raise ValueError(f"num_iterations must be >= 1, got {num_iterations}")
  routed = jax.lax.stop_gradient(u_hat) if stop_gradient else u_hat
  # softmax(b = 0) is uniform; written as such, XLA need not constant-fold a softmax of
  # zeros over the whole batch (seconds of compile time for MusiteDeep's eval step).
  coupling = jnp.full(u_hat.shape[:-1], 1.0 / u_hat.shape[-2], u_hat.dtype)
  logits = None
  for iteration in range(num_iterations):
    if iteration:
      coupling = jax.nn.softmax(logits, axis=-1)  # Over parent capsules j.
    last = iteration == num_iterations - 1
    predictions = u_hat if last else routed
    v = squash(jnp.einsum("...ij,...ijd->...jd", coupling, predictions))
    if not last:  # The last update of b would be unused.
      agreement = jnp.einsum("...ijd,...jd->...ij", routed, v)
      logits = agreement if logits is None else logits + agreement
  return v, coupling


def margin_loss(lengths: Array, targets: Array, *, m_plus: float = 0.9, m_minus: float = 0.1,
                down_weight: float = 0.5) -> Array:
  """Sabour et al. Eq. 4 per capsule (not reduced): targets in {0, 1}, same shape."""
  present = targets * jnp.square(jnp.maximum(0.0, m_plus - lengths))
  absent = down_weight * (1.0 - targets) * jnp.square(jnp.maximum(0.0, lengths - m_minus))
  return present + absent


class PrimaryCapsules(nn.Module):
  """Convolution -> ``[batch, positions * num_capsules, capsule_dim]`` squashed capsules.

  A linear convolution with ``num_capsules * capsule_dim`` filters; the channels of each
  output position are cut into consecutive ``capsule_dim``-vectors (Keras' reshape, as
  the MusiteDeep and CapsNet-Keras ``PrimaryCap``), after dropout, then squashed.

  Attributes:
    num_capsules: capsule types per position (MusiteDeep: 60; Sabour et al.: 32).
    capsule_dim: length of each capsule vector (8 in both).
    kernel_size: convolution width (MusiteDeep: 20 over the residue axis).
    strides: convolution stride.
    padding: ``"VALID"`` (both references) or ``"SAME"``.
    dropout_rate: dropout on the convolution output (MusiteDeep: 0.2).
    dtype: compute dtype.
  """
  num_capsules: int
  capsule_dim: int
  kernel_size: int
  strides: int = 1
  padding: str = "VALID"
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    conv = nn.Conv(self.num_capsules * self.capsule_dim, (self.kernel_size,),
                   strides=(self.strides,), padding=self.padding, dtype=self.dtype,
                   kernel_init=nn.with_logical_partitioning(
                       nn.initializers.he_normal(), ("conv_width", "conv_in", "conv_out")),
                   bias_init=nn.with_logical_partitioning(nn.initializers.zeros_init(),
                                                          ("conv_out",)),
                   name="conv")
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(conv(x))
    x = x.reshape(x.shape[0], -1, self.capsule_dim)
    return squash(x.astype(jnp.float32))


class ClassCapsules(nn.Module):
  """``[batch, num_inputs, in_dim]`` capsules -> ``[batch, num_capsules, capsule_dim]``.

  Each (input, parent) pair has its own ``[capsule_dim, in_dim]`` matrix (no bias,
  Sabour et al.'s DigitCaps); the parents come from `dynamic_routing`. The final
  coupling coefficients are sown as ``intermediates/coupling`` for inspection.

  Attributes:
    num_capsules: parent capsules (one per class; MusiteDeep: 2 per PTM type).
    capsule_dim: parent capsule length (MusiteDeep: 10; Sabour et al.: 16).
    num_iterations: routing iterations.
    stop_gradient: see `dynamic_routing`.
  """
  num_capsules: int
  capsule_dim: int
  num_iterations: int = 3
  stop_gradient: bool = False

  @nn.compact
  def __call__(self, u: Array) -> Array:
    num_inputs, in_dim = u.shape[-2:]
    # Fans as Keras counts them for this 4-D weight (fan_in = capsule_dim * num_inputs *
    # num_capsules), so He-normal starts at MusiteDeep's scale.
    init = nn.initializers.variance_scaling(2.0, "fan_in", "truncated_normal",
                                            in_axis=-2, out_axis=-1)
    weights = self.param(
        "weights", nn.with_logical_partitioning(
            init, ("capsules_in", "capsules_out", "capsule_dim", "capsule_in_dim")),
        (num_inputs, self.num_capsules, self.capsule_dim, in_dim), jnp.float32)
    u_hat = jnp.einsum("bie,ijde->bijd", u.astype(jnp.float32), weights)
    v, coupling = dynamic_routing(u_hat, self.num_iterations, stop_gradient=self.stop_gradient)
    self.sow("intermediates", "coupling", coupling)
    return v


class ReconstructionDecoder(nn.Module):
  """Sabour et al.'s reconstruction regulariser: masked class capsules -> the input.

  Attributes:
    output_shape: shape of one input (e.g. ``(33, 21)`` for a one-hot window).
    hidden_features: ReLU layers (512, 1024 in the paper and MusiteDeep's decoder).
  """
  output_shape: Sequence[int]
  hidden_features: Sequence[int] = (512, 1024)

  @nn.compact
  def __call__(self, capsules: Array, mask: Array | None = None) -> Array:
    """``capsules [batch, n, dim]``; ``mask [batch, n]`` (the true classes; default:
    the longest capsule) -> sigmoid reconstruction ``[batch, *output_shape]``."""
    if mask is None:
      lengths = capsule_length(capsules)
      mask = jax.nn.one_hot(jnp.argmax(lengths, axis=-1), capsules.shape[-2])
    x = (capsules * mask[..., None]).reshape(capsules.shape[0], -1)
    for i, features in enumerate(self.hidden_features):
      x = nn.relu(layers.dense(features, name=f"hidden_{i}")(x))
    size = 1
    for n in self.output_shape:
      size *= n
    x = nn.sigmoid(layers.dense(size, name="output")(x))
    return x.reshape(x.shape[0], *self.output_shape)


def reconstruction_loss(reconstruction: Array, target: Array) -> Array:
  """Summed squared error per example (Sabour et al.), ``[batch]``."""
  error = jnp.square(reconstruction.astype(jnp.float32) - target.astype(jnp.float32))
  return error.reshape(error.shape[0], -1).sum(axis=-1)
