r"""In-silico saturation mutagenesis (ISM), plain and fast, and its attribution summary.

ISM (Alipanahi et al., Nat. Biotechnol. 2015 "mutation maps"; Zhou & Troyanskaya,
Nat. Methods 2015) runs the model on every single-base substitution of each input:
``ism`` returns the raw outputs ``y(x with base c at l)`` for every position ``l`` of a
window and every letter ``c`` (the input's own letter included, where the output is
``y(x)``), all mutants batched under jit with ``lax.map``.

``ism_attributions`` is tangermeme's ``saturation_mutagenesis`` summary: ``d[l, c] =
y_t(x with c at l) - y_t(x)``, centred by subtracting its mean over the letters at each
position (so ``y_t(x)`` cancels), times ``x`` unless ``hypothetical``.

**Fast ISM** (Nair, Shrikumar, Schreiber & Kundaje, Genome Biol. 2022, "fastISM"): a
substitution at ``l`` changes a convolutional trunk's output only within its receptive
field around ``l``, so the unchanged activations are reused. Given ``fn = head ∘
trunk`` where ``trunk`` maps ``[B, L, A] -> [B, L, C]`` with stride 1 and zero "same"
padding, and each output position depends on at most ``h = receptive_field // 2``
inputs on either side (``ConvTrunk``): the trunk runs once on ``x``; for a mutant it
runs on the ``4h + 1`` bases around ``l`` only, whose central ``2h + 1`` outputs are
exact (their inputs, and every intermediate activation they read, lie inside the
window), spliced into the full trunk output, and the head runs on that. Mutations
within ``2h`` of either end, where the trunk's own zero padding differs from the
window's, run the whole trunk. The outputs equal plain ISM's; the trunk's cost per
mutant drops by ``L / (4h + 1)``.

**Strided trunks** (DeepSEA, Basset: valid convolutions, ReLU, max-pooling with a
stride; ``StridedTrunk``): fastISM's per-layer form. Layer ``i`` maps ``(n - 1) s_i +
k_i`` positions to ``n`` (kernel ``k_i``, stride ``s_i``), so a change on ``w_i``
positions of its input changes at most ``w_{i+1} = (w_i + k_i - 2) // s_i + 1`` of its
outputs (1 base -> 8 -> 3 -> 10 -> 4 -> 11 of DeepSEA's 993, 248, 241, 60, 53). The REF
activations of every layer are computed once; for a mutant each layer runs only on the
``(w_{i+1} - 1) s_i + k_i`` inputs behind those outputs (static widths, dynamic offsets,
clamped at the ends, where the window still holds every changed output), REF outside
with the changed patch laid over it. A first dense layer on the flattened trunk output
(``dense``) is its REF output plus ``W[rows] · Δh``, one matrix product per chunk of
consecutive mutants over the rows they change. ``conv_tower_layers`` makes each conv ->
pool block one layer (kernel ``k + pool - 1``, stride ``pool``). DeepSEA: ~75 M
multiply-adds per mutant (conv 2 on 16 positions, conv 3 on 11, ~17 rows of the dense
layer for 256 mutants) instead of ~550 M; 100 positions: 0.85 CPU s against
tangermeme 1.6's 4.2 (load 11-15).

**Receptive cones** (BPNet's dilated residual tower; ``genereg_jax.nn.cone.Split``, e.g.
``bpnet.cone_model``): the REF activations of every layer are kept and each layer of a
mutant is recomputed only on its cone ``l ± (r_1 + ... + r_i)``; the letters of one
position run as one batch sharing the REF slices. BPNet 2,114 bp: ~27 M instead of
~219 M stem + tower multiply-adds per mutant.

Where ``x`` is one-hot, the input's own letter is not run: its output is ``y(x)``
(3 mutants per position instead of 4, as tangermeme).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from genereg_jax.interpret import attributions
from genereg_jax.nn import cone

Array = jax.Array

# Sequences per lax.map step when batch_size is not given: mutants x batch.
DEFAULT_SEQUENCES_PER_STEP = 256
# Adjacent positions per step of the cone path (genereg_jax.nn.cone): their mutants
# share one slice of each REF state and run as one batch on the union of their cones.
CONE_POSITIONS_PER_STEP = 8


@dataclasses.dataclass(frozen=True)
class ConvTrunk:
  """``fn = head(trunk(x))`` split for fast ISM (see the module docstring).

  Attributes:
    trunk: ``float[B, L, A] -> float[B, L, C]``, stride 1, zero "same" padding.
    head: ``float[B, L, C] -> float[B, T]``.
    receptive_field: odd; each trunk output reads ``receptive_field // 2`` inputs on
      either side at most.
  """
  trunk: Callable[[Array], Array]
  head: Callable[[Array], Array]
  receptive_field: int

  def __call__(self, x: Array) -> Array:
    return self.head(self.trunk(x))



@dataclasses.dataclass(frozen=True)
class StridedLayer:
  """One "valid" layer of a ``StridedTrunk``: ``fn`` maps ``(n - 1) * stride + kernel``
  positions ``[B, ., C]`` to ``n``; output ``j`` reads inputs ``[j s, j s + kernel)``."""
  fn: Callable[[Array], Array]
  kernel: int
  stride: int = 1


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a jit static
class StridedTrunk:
  """``fn = head(dense(trunk(x)))`` split for per-layer fast ISM (module docstring).

  Attributes:
    layers: the trunk, ``float[B, L, A] -> float[B, L_n, C]``, each ``kernel >= stride``.
    head: what follows the trunk, or what follows ``dense`` when it is given.
    dense: optional ``(kernel float[L_n * C, H], bias float[H])``: the head starts with
      ``trunk(x).reshape(B, -1) @ kernel + bias`` (positions major, as flax flattens).
  """
  layers: tuple[StridedLayer, ...]
  head: Callable[[Array], Array]
  dense: tuple[Array, Array] | None = None

  def states(self, x: Array) -> list[Array]:
    """The input and every layer's output."""
    states = [x]
    for layer in self.layers:
      states.append(layer.fn(states[-1]))
    return states

  def read_in(self, h: Array) -> Array:
    kernel, bias = self.dense
    return h.reshape(h.shape[0], -1) @ kernel + bias

  def __call__(self, x: Array) -> Array:
    h = self.states(x)[-1]
    return self.head(h if self.dense is None else self.read_in(h))


def conv_tower_layers(tower: Any, variables: dict) -> tuple[StridedLayer, ...]:
  """A ``genereg_jax.nn.ConvTower`` with "VALID" padding (DeepSEA, Basset, DanQ's
  stem) at inference: one ``StridedLayer`` per conv -> activation -> max-pool block,
  kernel ``(k - 1) + pool`` and stride the pool's.

  Args:
    tower: the module (its fields; it need not be bound).
    variables: its variables, ``{"params": ..., "batch_stats": ...}``.
  """
  from genereg_jax import nn as gnn  # the interpret package does not need nn otherwise
  if tower.padding.upper() != "VALID":
    raise ValueError(f"conv_tower_layers needs VALID padding, got {tower.padding!r}")
  strides = tower.pool_strides or tower.pool_sizes
  layers = []
  for i, (features, kernel, pool, stride) in enumerate(zip(
      tower.features, tower.kernel_sizes, tower.pool_sizes, strides)):
    block = gnn.ConvBlock(features, kernel, pool_size=pool, pool_stride=stride,
                          batch_norm=tower.batch_norm, dtype=tower.dtype)
    block_variables = {k: v[f"ConvBlock_{i}"] for k, v in variables.items()}
    layers.append(StridedLayer(functools.partial(block.apply, block_variables, train=False),
                               kernel + pool - 1, stride if pool > 1 else 1))
  return tuple(layers)


def _letter_row(x: Array, position: Array, code: Array, relative: bool) -> Array:
  """``[B, 1, A]``: letter ``code``, or with ``relative`` the ``code``-th letter after
  each sequence's own letter at ``position``."""
  alphabet = x.shape[-1]
  if relative:
    own = jnp.argmax(lax.dynamic_index_in_dim(x, position, axis=1, keepdims=False), -1)
    letter = (own + code) % alphabet
  else:
    letter = jnp.broadcast_to(code, x.shape[:1])
  return jax.nn.one_hot(letter, alphabet, dtype=x.dtype)[:, None]


def _mutant(x: Array, position: Array, code: Array, relative: bool) -> Array:
  return lax.dynamic_update_slice(x, _letter_row(x, position, code, relative),
                                  (0, position, 0))


@functools.partial(jax.jit, static_argnums=(0, 3, 5))
def _ism_plain(fn, x, positions, batch_size, codes, relative):
  fn = attributions.single_output(fn)
  return lax.map(lambda pc: fn(_mutant(x, *pc, relative)), (positions, codes),
                 batch_size=batch_size)


@functools.partial(jax.jit, static_argnums=(0, 3, 5))
def _ism_fast(spec, x, positions, batch_size, codes, relative):
  h = spec.receptive_field // 2
  head = attributions.single_output(spec.head)
  full = spec.trunk(x)

  def one(position_code):
    position, code = position_code
    window = lax.dynamic_slice(_mutant(x, position, code, relative),
                               (0, position - 2 * h, 0),
                               (x.shape[0], 4 * h + 1, x.shape[-1]))
    patch = spec.trunk(window)[:, h:3 * h + 1]
    return head(lax.dynamic_update_slice(full, patch, (0, position - h, 0)))

  return lax.map(one, (positions, codes), batch_size=batch_size)


def _strided_geometry(spec: StridedTrunk, x: Any) -> tuple[list[int], list[int]]:
  """Lengths of every state and how many positions of each one base changes."""
  lengths = [s.shape[1] for s in jax.eval_shape(spec.states, x)]
  widths = [1]
  for layer, length in zip(spec.layers, lengths[1:]):
    if layer.kernel < layer.stride:
      raise ValueError(f"StridedLayer needs kernel >= stride, got {layer}")
    widths.append(min(length, (widths[-1] + layer.kernel - 2) // layer.stride + 1))
  return lengths, widths


def _strided_first(layer: StridedLayer, start, length: int, width: int):
  """First recomputed output of ``layer`` for a patch at input ``start`` (numpy or jax):
  the first it changes, ``ceil((start - kernel + 1) / stride)``, kept in range."""
  first = -((layer.kernel - 1 - start) // layer.stride)
  return (jnp if isinstance(start, jax.Array) else np).clip(first, 0, length - width)


def _strided_union(spec: StridedTrunk, x: Array, positions: np.ndarray,
                   chunk: int) -> int:
  """Final-state positions a chunk of consecutive mutants spans, at most: each
  chunk reads this many rows of the dense kernel."""
  lengths, widths = _strided_geometry(spec, x)
  start = positions
  for i, layer in enumerate(spec.layers):
    start = _strided_first(layer, start, lengths[i + 1], widths[i + 1])
  padded = np.concatenate([start, np.repeat(start[-1:], -len(start) % chunk)])
  spans = padded.reshape(-1, chunk)
  return min(lengths[-1], int((spans.max(1) - spans.min(1)).max()) + widths[-1])


@functools.partial(jax.jit, static_argnums=(0, 3, 5, 6))
def _ism_strided(spec, x, positions, chunk, codes, relative, union):
  lengths, widths = _strided_geometry(spec, x)
  states = spec.states(x)
  head = attributions.single_output(spec.head)

  def cone(position, code):
    """The mutant's final state on its changed positions, and where they start."""
    patch, start = _letter_row(x, position, code, relative), position
    for i, layer in enumerate(spec.layers):
      k, s, width, size = layer.kernel, layer.stride, widths[i + 1], widths[i]
      first = _strided_first(layer, start, lengths[i + 1], width)
      span = (width - 1) * s + k
      window = lax.dynamic_slice_in_dim(states[i], first * s, span, axis=1)
      # The patch laid over REF: window position q reads patch[q - start] inside it.
      offset = first * s + jnp.arange(span) - start
      inside = ((offset >= 0) & (offset < size))[None, :, None]
      window = jnp.where(inside, jnp.take(patch, jnp.clip(offset, 0, size - 1), axis=1),
                         window)
      patch, start = layer.fn(window), first
    return patch, start

  def run_chunk(position_code):
    patches, starts = jax.vmap(cone)(*position_code)
    if spec.dense is None:
      splice = lambda p, o: lax.dynamic_update_slice_in_dim(states[-1], p, o, axis=1)
      return jax.vmap(lambda p, o: head(splice(p, o)))(patches, starts)
    # The chunk's mutants are consecutive: their changes lie within `union` positions
    # from the first one's, so one matrix product with those rows of the kernel.
    base = jnp.minimum(starts.min(), lengths[-1] - union)
    ref = lambda o: lax.dynamic_slice_in_dim(states[-1], o, widths[-1], axis=1)
    place = lambda d, o: lax.dynamic_update_slice_in_dim(
        jnp.zeros((x.shape[0], union, d.shape[-1]), d.dtype), d, o - base, axis=1)
    change = jax.vmap(place)(patches - jax.vmap(ref)(starts), starts)
    kernel = spec.dense[0].reshape(lengths[-1], -1, spec.dense[0].shape[-1])
    rows = lax.dynamic_slice_in_dim(kernel, base, union, axis=0)
    return jax.vmap(head)(ref_in + jnp.einsum("mbuc,uch->mbh", change, rows))

  if spec.dense is not None:
    ref_in = spec.read_in(states[-1])
  n = positions.shape[0]
  pad = -n % chunk  # repeat the last mutant to whole chunks
  positions, codes = (jnp.concatenate([a, jnp.repeat(a[-1:], pad)]).reshape(-1, chunk)
                      for a in (positions, codes))
  out = lax.map(run_chunk, (positions, codes))
  return out.reshape(-1, *out.shape[2:])[:n]


@functools.partial(jax.jit, static_argnums=(0, 3, 5))
def _ism_cone(split, x, starts, span, codes, relative):
  # One step per block of `span` positions from `starts`: its span x codes mutants run as
  # one batch over the union of their cones (cone.mutant_cone), sharing one slice of
  # each REF state. Returns [blocks, span, codes, B, T].
  n_codes = len(codes)
  head = attributions.single_output(split.head)
  cache = cone.prepare(split.tower, x)

  def one(start):
    block = lax.dynamic_slice_in_dim(x, start, span, axis=1)
    rows = [block.at[:, k].set(_letter_row(x, start + k, code, relative)[:, 0])
            for k in range(span) for code in codes]
    out = head(cone.mutant_final(split.tower, cache, start, jnp.concatenate(rows)))
    return out.reshape(span, n_codes, x.shape[0], -1)

  return lax.map(one, starts)


def ism(fn: Callable[[Array], Any], x: Array, start: int | None = None,
        end: int | None = None,
        fast: ConvTrunk | StridedTrunk | cone.Split | None = None,
        batch_size: int | None = None) -> Array:
  """Outputs for every single-base substitution of positions ``[start, end)``.

  Args:
    fn: jax-traceable ``float[B, L, A] -> float[B, T]``.
    x: ``float[B, L, A]`` one-hot inputs.
    start, end: the window mutated (default the whole sequence).
    fast: a ``ConvTrunk``, ``StridedTrunk`` or ``genereg_jax.nn.cone.Split`` (per-layer
      receptive cones, e.g. ``bpnet.cone_model``) equal to ``fn``, for fast ISM.
    batch_size: mutants per ``lax.map`` step (each a batch of ``B``); default
      ``DEFAULT_SEQUENCES_PER_STEP // B``. For a ``cone.Split``: adjacent positions per
      step, all their mutants in one batch (default ``CONE_POSITIONS_PER_STEP``).

  Returns:
    ``float[B, end - start, A, T]``: ``out[b, i, c]`` is ``fn`` of ``x[b]`` with letter
    ``c`` at position ``start + i``.
  """
  x = jnp.asarray(x)
  batch, length, alphabet = x.shape
  start = 0 if start is None else int(start)
  end = length if end is None else int(end)
  if not 0 <= start < end <= length:
    raise ValueError(f"need 0 <= start < end <= {length}, got start={start}, end={end}")
  per_step = batch_size or DEFAULT_SEQUENCES_PER_STEP // batch
  if isinstance(fast, cone.Split):  # Positions per step: see CONE_POSITIONS_PER_STEP.
    per_step = batch_size or CONE_POSITIONS_PER_STEP
  batch_size = max(1, per_step)
  window = np.asarray(x[:, start:end])
  # One-hot everywhere: run the A - 1 other letters (codes relative to the own letter).
  relative = bool(np.all(window.sum(-1) == 1) and np.all(window.max(-1) == 1))
  codes = np.arange(1, alphabet) if relative else np.arange(alphabet)
  grid = np.stack(np.meshgrid(np.arange(start, end), codes, indexing="ij"),
                  -1).reshape(-1, 2).astype(np.int32)
  if isinstance(fast, ConvTrunk):
    if fast.receptive_field % 2 != 1:
      raise ValueError(f"receptive_field must be odd, got {fast.receptive_field}")
    h = fast.receptive_field // 2
    interior = (grid[:, 0] >= 2 * h) & (grid[:, 0] <= length - 1 - 2 * h)
    parts = [(np.flatnonzero(~interior), _ism_plain, fast),
             (np.flatnonzero(interior), _ism_fast, fast)]
  elif isinstance(fast, StridedTrunk):
    union = _strided_union(fast, x, grid[:, 0], min(batch_size, len(grid)))
    parts = [(np.arange(len(grid)), functools.partial(_ism_strided, union=union), fast)]
  elif isinstance(fast, cone.Split):
    span = min(per_step, length)
    starts = np.minimum(np.arange(start, end, span), length - span).astype(np.int32)
    blocks = _ism_cone(fast, x, jnp.asarray(starts), span, tuple(int(c) for c in codes),
                       relative)
    where = np.arange(start, end)
    block = (where - start) // span
    flat = blocks[block, where - starts[block]].reshape(len(grid), batch, -1)
    parts = []
  else:
    parts = [(np.arange(len(grid)), _ism_plain, fn)]
  results = []
  for index, run, spec in parts:
    if len(index):
      positions, letters = jnp.asarray(grid[index, 0]), jnp.asarray(grid[index, 1])
      results.append((index, run(spec, x, positions, min(batch_size, len(index)), letters,
                                 relative)))
  if results:
    n_out = results[0][1].shape[-1]
    flat = jnp.zeros((len(grid), batch, n_out), results[0][1].dtype)
    for index, values in results:
      flat = flat.at[jnp.asarray(index)].set(values)
  n_out = flat.shape[-1]
  flat = flat.reshape(end - start, len(codes), batch, n_out).transpose(2, 0, 1, 3)
  if not relative:
    return flat
  # Back to absolute letters; the own letter's output is y(x).
  own = np.argmax(window, -1)[:, :, None]
  letters = (own + codes) % alphabet
  out = jnp.broadcast_to(attributions.single_output(fast or fn)(x)[:, None, None],
                         (batch, end - start, alphabet, n_out))
  b, p = np.meshgrid(np.arange(batch), np.arange(end - start), indexing="ij")
  return out.at[b[..., None], p[..., None], letters].set(flat)


def ism_attributions(fn: Callable[[Array], Any], x: Array, target: int,
                     start: int | None = None, end: int | None = None,
                     hypothetical: bool = False, fast: ConvTrunk | None = None,
                     batch_size: int | None = None) -> Array:
  """tangermeme's ``saturation_mutagenesis`` summary of ISM.

  Returns:
    ``float[B, end - start, A]``: ``y_t(mutant) - y_t(x)`` centred over the letters at
    each position, times ``x[:, start:end]`` unless ``hypothetical``.
  """
  x = jnp.asarray(x)
  raw = ism(fn, x, start, end, fast=fast, batch_size=batch_size)[..., target]
  centred = raw - raw.mean(axis=-1, keepdims=True)
  if hypothetical:
    return centred
  start = 0 if start is None else start
  return centred * x[:, start:start + raw.shape[1]]
