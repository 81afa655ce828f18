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

Array = jax.Array

# Sequences per lax.map step when batch_size is not given: mutants x batch.
DEFAULT_SEQUENCES_PER_STEP = 256


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



def _mutant(x: Array, position: Array, letter: Array) -> Array:
  row = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype)[letter],
                         (x.shape[0], 1, x.shape[-1]))
  return lax.dynamic_update_slice(x, row, (0, position, 0))


@functools.partial(jax.jit, static_argnums=(0, 3))
def _ism_plain(fn, x, positions, batch_size, letters):
  fn = attributions.single_output(fn)
  return lax.map(lambda pl: fn(_mutant(x, *pl)), (positions, letters),
                 batch_size=batch_size)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _ism_fast(spec, x, positions, batch_size, letters):
  h = spec.receptive_field // 2
  head = attributions.single_output(spec.head)
  full = spec.trunk(x)

  def one(position_letter):
    position, letter = position_letter
    window = lax.dynamic_slice(_mutant(x, position, letter), (0, position - 2 * h, 0),
                               (x.shape[0], 4 * h + 1, x.shape[-1]))
    patch = spec.trunk(window)[:, h:3 * h + 1]
    return head(lax.dynamic_update_slice(full, patch, (0, position - h, 0)))

  return lax.map(one, (positions, letters), batch_size=batch_size)


def ism(fn: Callable[[Array], Any], x: Array, start: int | None = None,
        end: int | None = None, fast: ConvTrunk | None = None,
        batch_size: int | None = None) -> Array:
  """Outputs for every single-base substitution of positions ``[start, end)``.

  Args:
    fn: jax-traceable ``float[B, L, A] -> float[B, T]``.
    x: ``float[B, L, A]`` one-hot inputs.
    start, end: the window mutated (default the whole sequence).
    fast: a ``ConvTrunk`` with ``fn == head ∘ trunk`` for fast ISM (fastISM).
    batch_size: mutants per ``lax.map`` step (each a batch of ``B``); default
      ``DEFAULT_SEQUENCES_PER_STEP // B``.

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
  if batch_size is None:
    batch_size = max(1, DEFAULT_SEQUENCES_PER_STEP // batch)
  grid = np.stack(np.meshgrid(np.arange(start, end), np.arange(alphabet),
                              indexing="ij"), -1).reshape(-1, 2).astype(np.int32)
  if fast is None:
    parts = [(np.arange(len(grid)), None)]
  else:
    if fast.receptive_field % 2 != 1:
      raise ValueError(f"receptive_field must be odd, got {fast.receptive_field}")
    h = fast.receptive_field // 2
    interior = (grid[:, 0] >= 2 * h) & (grid[:, 0] <= length - 1 - 2 * h)
    parts = [(np.flatnonzero(~interior), None), (np.flatnonzero(interior), fast)]
  results = []
  for index, spec in parts:
    if not len(index):
      continue
    positions, letters = jnp.asarray(grid[index, 0]), jnp.asarray(grid[index, 1])
    size = min(batch_size, len(index))
    if spec is None:
      results.append((index, _ism_plain(fn if fast is None else fast, x, positions,
                                        size, letters)))
    else:
      results.append((index, _ism_fast(spec, x, positions, size, letters)))
  n_out = results[0][1].shape[-1]
  flat = jnp.zeros((len(grid), batch, n_out), results[0][1].dtype)
  for index, values in results:
    flat = flat.at[jnp.asarray(index)].set(values)
  return flat.reshape(end - start, alphabet, batch, n_out).transpose(2, 0, 1, 3)


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
