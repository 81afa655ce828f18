r"""Receptive-cone reuse for single-base changes: fastISM in its per-layer form.

fastISM (Nair, Shrikumar, Schreiber & Kundaje, Genome Biol. 2022) observes that a
substitution at position ``l`` changes a tower of local layers only inside a cone:
layer ``i`` changes at most on ``[l - Q_i, l + Q_i]``, ``Q_i = r_1 + ... + r_i`` with
``r_j`` the half-width of layer ``j`` (``(w - 1) d / 2`` for a convolution of width ``w``
and dilation ``d``; 0 for pointwise maps). So the REF activations of every layer are
computed once, and for each mutant every layer is recomputed only on its cone, reading
REF outside it. The cone widths depend only on the layer (static shapes); the position
is dynamic (``lax.dynamic_slice`` / ``dynamic_update_slice``), so one compiled program
serves every mutant.

A model exposes its tower as a `Tower` of `Layer`\ s. A layer is a function applied in
"valid" mode: it maps a slice of its input state of ``n + 2 r`` positions to the ``n``
central positions of its output state. A state is any pytree of ``[batch, positions,
...]`` arrays sharing the position axis, so residual adds (``crop(h) + branch(h)``
inside the layer's function), running skip sums (a tuple ``(x, skip)`` state) and 1x1
skip convolutions (``r = 0`` layers) are all layers of one chain. Two padding rules:

* ``"same"`` (BPNet): every state has the input's length and is zero outside it, the
  zero padding of the next convolution. REF states are stored padded with zeros; cone
  positions beyond either sequence end are set to zero after each layer, as the model's
  own padding would be.
* ``"valid"`` (SpliceAI at inference): each layer is ``2 r`` shorter than its input, so
  state ``i`` starts at input position ``Q_i``. The caller keeps mutants far enough from
  the ends that every position read exists (``Q_n + out_radius`` from either end); no
  masking is needed.

With ``out_radius`` only the final positions ``[l - out_radius, l + out_radius]`` are
wanted (a per-position head, e.g. SpliceAI's delta scores within ``d`` of the variant),
so layer ``i`` is computed on ``min(Q_i, out_radius + Q_n - Q_i)`` positions either
side of ``l``: the cone meets the backward cone of the wanted outputs.

Example (BPNet, see `genereg_jax.models.bpnet.cone_model`)::

  split = bpnet.cone_model(model, params, readout=lambda y: y["log_counts"])
  cache = cone.prepare(split.tower, x)                  # REF states, once
  y = split.head(cone.mutant_final(split.tower, cache, position, value))
  # == split(x with value at position), max |diff| ~ 1e-6

where ``value`` is the new input row ``[batch, 1, 4]``.

Strided layers (Enformer's attention pooling by 2): a layer with ``stride`` s > 1 and
radius 0 maps input positions ``[s j, s j + s)`` to output ``j``. A change on ``[c - W,
c + W]`` then changes at most ``[c // s - ceil(W / s), c // s + ceil(W / s)]``; the
pooled cone reads the aligned input ``[s (c // s - W'), s (c // s + W') + s)`` with the
changed part placed at a dynamic offset, so widths stay static. Strided towers are
"same" towers of one-base changes (``span`` 1) whose state lengths divide by the
strides (no ragged last window).

Shared REF passes (`window_mutants`): when the head never reads a final position whose
receptive field reaches past the window (`Split.padding_free`), the REF states of many
windows are slices of one pass over a longer input that holds them all, so the REF
tower runs once per stretch of genome rather than once per window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

Array = jax.Array
State = Any  # A pytree of [batch, positions, ...] arrays.


@dataclasses.dataclass(frozen=True)
class Layer:
  """One local layer: ``fn`` maps ``n + 2 radius`` input positions to ``n`` outputs, or
  with ``stride`` s > 1 (radius 0) ``s n`` input positions to ``n`` outputs."""
  fn: Callable[[State], State]
  radius: int
  stride: int = 1


@dataclasses.dataclass(frozen=True, eq=False)  # Hashed by identity: a jit static.
class Tower:
  """A chain of local layers from the input ``[batch, length, alphabet]``.

  Attributes:
    layers: in order; layer ``i`` reads state ``i`` and writes state ``i + 1``
      (state 0 is the input).
    padding: ``"same"`` or ``"valid"`` (see the module docstring).
  """
  layers: Sequence[Layer]
  padding: str = "same"

  def __post_init__(self):
    if self.padding not in ("same", "valid"):
      raise ValueError(f'padding must be "same" or "valid", got {self.padding!r}')
    for layer in self.layers:
      if layer.radius < 0:
        raise ValueError(f"layer radius must be >= 0, got {layer.radius}")
      if layer.stride < 1 or (layer.stride > 1 and layer.radius):
        raise ValueError(f"a strided layer needs radius 0 and stride >= 1, got radius "
                         f"{layer.radius}, stride {layer.stride}")
    if self.strided and self.padding != "same":
      raise ValueError('strided layers need "same" padding')

  @property
  def strided(self) -> bool:
    return any(layer.stride > 1 for layer in self.layers)

  @property
  def scales(self) -> list[int]:
    """Input positions per position of states ``0 .. n``."""
    scale = [1]
    for layer in self.layers:
      scale.append(scale[-1] * layer.stride)
    return scale

  @property
  def reaches(self) -> list[int]:
    """``Q_i`` for states ``0 .. n``: how far a change spreads by state ``i`` (in state
    ``i``'s positions: a strided layer divides it, rounding up)."""
    reach = [0]
    for layer in self.layers:
      reach.append(-(-reach[-1] // layer.stride) + layer.radius)
    return reach

  def starts(self) -> list[int]:
    """Input position of each state's first position (0 for "same")."""
    return self.reaches if self.padding == "valid" else [0] * (len(self.layers) + 1)

  def widths(self, out_radius: int | None = None) -> list[int]:
    """Half-width of the recomputed part of each state (the module docstring)."""
    reach = self.reaches
    if out_radius is None:
      return reach
    if self.strided:
      raise ValueError("strided towers compute whole cones (out_radius None)")
    return [min(q, out_radius + reach[-1] - q) for q in reach]

  def __call__(self, x: Array) -> State:
    """The final state of ``x`` (the whole tower, each layer once)."""
    return prepare(self, x).unpadded(len(self.layers))


@dataclasses.dataclass(frozen=True, eq=False)
class Split:
  """A model ``head(tower(x))`` split for cone reuse; calling it runs the whole model.

  Attributes:
    tower: the local layers.
    head: reads the tower's final state.
    head_margin: final positions at each end of the input that the head never reads
      (None: unknown, it may read them all).
  """
  tower: Tower
  head: Callable[[State], Any]
  head_margin: int | None = None

  @property
  def padding_free(self) -> bool:
    """Whether the outputs never see the input's padding, so the tower may run on any
    longer input that holds the window (`window_mutants`).

    True for a "same" tower whose head reads only final positions ``p`` with ``Q_n <=
    p < length - Q_n``: their receptive field ``[p - Q_n, p + Q_n]`` lies inside the
    window. bpnet-lite's BPNet is built so (its 557-nt trim minus the profile
    kernel's 37 is the tower's radius 520).
    """
    return (self.tower.padding == "same" and self.head_margin is not None
            and self.head_margin >= self.tower.reaches[-1])

  def __call__(self, x: Array) -> Any:
    return self.head(self.tower(x))


def _positions(state: State) -> int:
  return jax.tree.leaves(state)[0].shape[1]


def _batch(state: State) -> int:
  return jax.tree.leaves(state)[0].shape[0]


def _pad(state: State, before: int, after: int) -> State:
  return jax.tree.map(lambda a: jnp.pad(
      a, [(0, 0), (before, after)] + [(0, 0)] * (a.ndim - 2)), state)


def _slice(state: State, start: Array, size: int) -> State:
  return jax.tree.map(lambda a: lax.dynamic_slice_in_dim(a, start, size, axis=1), state)


def _tile(state: State, copies: int) -> State:
  return state if copies == 1 else jax.tree.map(
      lambda a: jnp.tile(a, (copies,) + (1,) * (a.ndim - 1)), state)


def _update(state: State, patch: State, start) -> State:
  return jax.tree.map(
      lambda a, p: lax.dynamic_update_slice_in_dim(a, p.astype(a.dtype), start, axis=1),
      state, patch)


@dataclasses.dataclass(frozen=True)
class Cache:
  """REF states of one input, each zero-padded by what a mutant's cone reads of it.

  Attributes:
    states: state ``i`` padded by ``pads[i]`` positions on both sides.
    pads: static paddings.
    length: input length.
    out_radius: as given to `prepare`.
  """
  states: tuple[State, ...]
  pads: tuple[int, ...]
  length: int
  out_radius: int | None

  def unpadded(self, i: int) -> State:
    """State ``i`` without its padding."""
    n = _positions(self.states[i]) - 2 * self.pads[i]
    return jax.tree.map(lambda a: a[:, self.pads[i]:self.pads[i] + n], self.states[i])


jax.tree_util.register_dataclass(Cache, data_fields=["states"],
                                 meta_fields=["pads", "length", "out_radius"])


def _final_radius(tower: Tower, out_radius: int | None) -> int:
  """Half-width of what `mutant_cone` returns: out_radius, or the whole cone."""
  return tower.reaches[-1] if out_radius is None else out_radius


def prepare(tower: Tower, x: Array, out_radius: int | None = None) -> Cache:
  """Runs the tower once on ``x`` and keeps every state for `mutant_cone`.

  Args:
    tower: the model's tower.
    x: ``[batch, length, alphabet]``.
    out_radius: final positions wanted either side of a mutant (None: the whole cone).

  Returns:
    The padded REF states.
  """
  widths = tower.widths(out_radius)
  if x.shape[1] % tower.scales[-1]:
    raise ValueError(f"input length {x.shape[1]} is not a multiple of the tower's "
                     f"stride {tower.scales[-1]}")
  # What a cone reads either side of its centre: a strided layer's aligned windows.
  pads = [widths[i + 1] + layer.radius if layer.stride == 1
          else layer.stride * (widths[i + 1] + 1) - 1
          for i, layer in enumerate(tower.layers)]
  pads.append(_final_radius(tower, out_radius))
  state, states = x, []
  for i, layer in enumerate(tower.layers):
    padded = _pad(state, pads[i], pads[i])
    states.append(padded)
    if tower.padding == "same":  # The layer's zero padding, then keep the length.
      state = layer.fn(jax.tree.map(
          lambda a: a[:, pads[i] - layer.radius:a.shape[1] - pads[i] + layer.radius],
          padded))
    else:
      state = layer.fn(state)
  states.append(_pad(state, pads[-1], pads[-1]))
  return Cache(tuple(states), tuple(pads), x.shape[1], out_radius)


def mutant_cone(tower: Tower, cache: Cache, position: Array, value: State) -> State:
  """The final state of the mutant around ``position``, recomputing only the cones.

  Args:
    tower: the tower `prepare` ran.
    cache: REF states.
    position: dynamic scalar input position of the change (of the first of ``span``).
    value: the mutant's input there, ``[batch, span, alphabet]`` for positions
      ``position .. position + span - 1``, or ``[m * batch, span, alphabet]`` for ``m``
      mutants (rows ``j * batch + b`` change input ``b``): they share every slice of the
      REF states. ``span > 1`` runs mutants at nearby positions as one batch (each
      changes one row of its ``span`` and keeps REF in the others): every layer is
      computed on the union of their cones, ``span - 1`` positions wider than one cone,
      from one slice of each REF state instead of one gather per mutant.

  Returns:
    The final state on input positions ``[position - w, position + span - 1 + w]``:
    ``[batch, 2 w + span, ...]`` with ``w = cache.out_radius``, or the whole cone
    ``tower.reaches[-1]`` when ``out_radius`` is None (a strided tower's final
    positions, around ``position // tower.scales[-1]``).
  """
  widths, starts, scales = tower.widths(cache.out_radius), tower.starts(), tower.scales
  copies = _batch(value) // _batch(cache.states[0])
  span = _positions(value)
  if tower.strided and span != 1:
    raise ValueError(f"strided towers take one-base changes, got span {span}")
  cone, centre = value, position  # The cone's centre in the current state's positions.
  for i, layer in enumerate(tower.layers):
    if layer.stride == 1:
      reach = widths[i + 1] + layer.radius  # Input read either side of the position.
      first, size, offset = centre - starts[i] - reach, 2 * reach + span, reach - widths[i]
    else:  # Whole windows around the output cone; the changed part lands inside.
      s = layer.stride
      first = s * (centre // s - widths[i + 1])
      size, offset = s * (2 * widths[i + 1] + 1), centre - widths[i] - first
      centre = centre // s
    # Padded index of state position q: q + pad.
    window = _slice(cache.states[i], first + cache.pads[i], size)
    window = _update(_tile(window, copies), cone, offset)
    cone = layer.fn(window)
    if tower.padding == "same":
      where = centre + jnp.arange(-widths[i + 1], widths[i + 1] + span)
      inside = (where >= 0) & (where < cache.length // scales[i + 1])
      cone = jax.tree.map(lambda a: jnp.where(
          inside.reshape((1, -1) + (1,) * (a.ndim - 2)), a, jnp.zeros((), a.dtype)), cone)
  radius, n = _final_radius(tower, cache.out_radius), len(tower.layers)
  if radius > widths[-1]:  # Wanted outputs beyond the cone are REF's.
    around = _slice(cache.states[-1], position - starts[n] + cache.pads[-1] - radius,
                    2 * radius + span)
    cone = _update(_tile(around, copies), cone, radius - widths[-1])
  return cone


def mutant_final(tower: Tower, cache: Cache, position: Array, value: State) -> State:
  """The mutant's whole final state: REF with the cone spliced in (for a global head)."""
  n = len(tower.layers)
  cone = mutant_cone(tower, cache, position, value)
  w = pad = cache.pads[-1]
  copies = _batch(cone) // _batch(cache.states[-1])
  centre = position // tower.scales[-1]
  full = _update(_tile(cache.states[-1], copies), cone,
                 centre - tower.starts()[n] + pad - w)
  size = _positions(full) - 2 * pad
  return jax.tree.map(lambda a: a[:, pad:pad + size], full)


def window_mutants(tower: Tower, cache: Cache, starts: Array, length: int, offset: int,
                   values: Array) -> tuple[State, State]:
  """REF and mutant final states of windows cut out of one long input's REF states.

  Window ``j`` is input positions ``[starts[j], starts[j] + length)`` of the input that
  `prepare` ran on; its mutant has ``values[j]`` at window indices ``offset .. offset +
  span - 1``. The tower ran once over the long input (e.g. the overlapping windows of
  nearby variants merged, separate ones back to back); each window's REF final state is
  a slice of it and its mutant splices in the cone of `mutant_cone`, computed from
  slices of the long input's states (a gather per window under ``vmap``).

  A final position ``p`` of a window equals the tower run on the window alone when its
  receptive field ``[p - Q_n, p + Q_n]`` lies in the window (``Q_n <= p < length -
  Q_n``); nearer the ends the window alone sees its zero padding where the long input
  has other bases. So the outputs of a head that reads only those positions
  (`Split.padding_free`) are exactly each window's own, mutants included: the cone
  reads REF states only inside the receptive fields of the positions it changes.

  Args:
    tower: a "same" tower.
    cache: `prepare` of a batch of one long input, ``out_radius`` None.
    starts: ``int[n]`` window starts in the long input.
    length: window length (static).
    offset: window index of the first changed position (static); the whole cone
      must lie in the window (``Q_n <= offset``, ``offset + span + Q_n <= length``).
    values: ``[n, span, alphabet]`` the mutants' inputs.

  Returns:
    ``(REF, mutant)`` final states, ``[n, length, ...]`` each.
  """
  if tower.padding != "same" or tower.strided or cache.out_radius is not None:
    raise ValueError('window_mutants needs an unstrided "same" tower and whole cones '
                     "(out_radius None)")
  if _batch(cache.states[0]) != 1:
    raise ValueError(f"window_mutants needs the cache of one input, got a batch of "
                     f"{_batch(cache.states[0])}")
  radius, span = tower.reaches[-1], values.shape[1]
  if not radius <= offset <= length - span - radius:
    raise ValueError(f"the cone of a change at {offset}..{offset + span - 1} (radius "
                     f"{radius}) does not fit in a window of {length}")
  pad = cache.pads[-1]

  def one(start, value):
    ref = _slice(cache.states[-1], start + pad, length)
    cone = mutant_cone(tower, cache, start + offset, value[None])
    return ref, _update(ref, cone, offset - radius)

  return jax.tree.map(lambda a: a[:, 0], jax.vmap(one)(starts, values))
