"""Predictions before and after substitutions, deletions and insertions (tangermeme 1.6).

The three functions of ``tangermeme.variant_effect`` (Schreiber, tangermeme 1.6) for any
jax-traceable ``fn(x, *args) -> array | tuple | dict``, with its table conventions but
``x`` channels-last, ``[batch, length, 4]``:

* ``substitution_effect(fn, x, substitutions)``: rows ``(example, position, base)``; the
  one-hot column at each row becomes ``base`` (A,C,G,T = 0..3). All rows of one example
  are applied together (a multi-base substitution is several rows). ``y_before = fn(x)``.
* ``deletion_effect(fn, x, deletions, left)``: rows ``(example, position)``; ``x`` is
  ``L + D`` long, ``D`` the largest number of rows of one example. Each example loses its
  listed positions and keeps the first ``L`` remaining bases (``left=False``) or the
  last ``L`` (``left=True``), so an example with fewer than ``D`` deletions also loses
  bases on that side. ``y_before = fn(x[:, :L])`` or ``fn(x[:, -L:])``.
* ``insertion_effect(fn, x, insertions, left)``: rows ``(example, position, base)``;
  ``x`` is ``L`` long. Rows are applied in order, each putting ``base`` in front of the
  base now at ``position``, so bases S = s0 s1 ... at one position are given last base
  first. The ``L + k`` result is cut back to the first ``L`` (``left=False``) or the
  last ``L`` bases. ``y_before = fn(x)``.

Every function returns ``(y_before, y_after)`` in ``fn``'s output structure. The tables
are concrete (NumPy) and only decide which positions are gathered, so the whole
computation traces under ``jax.jit`` in ``x`` and ``fn``'s arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np


def _table(rows: Any, width: int, name: str) -> np.ndarray:
  table = np.asarray(rows, dtype=np.int64).reshape(-1, width)
  if table.size and table.min() < 0:
    raise ValueError(f"{name} has negative entries: {table[table.min(axis=1) < 0][:3]}")
  return table


def _gather(x: Any, index: np.ndarray) -> Any:
  """``x[b, index[b, j]]`` for every example ``b``: ``[batch, len(index[b]), 4]``."""
  return jnp.take_along_axis(jnp.asarray(x), jnp.asarray(index)[:, :, None], axis=1)


def substitution_effect(fn: Callable[..., Any], x: Any, substitutions: Any,
                        args: Sequence[Any] = ()) -> tuple[Any, Any]:
  """``(fn(x, *args), fn(x_substituted, *args))``; see the module docstring.

  Args:
    fn: the model, ``[batch, length, 4] -> array | tuple | dict``.
    x: ``[batch, length, 4]`` one-hot sequences.
    substitutions: ``int[n, 3]`` rows ``(example, position, base index)``.
    args: further arguments of ``fn``, the same before and after (e.g. a control).
  """
  table = _table(substitutions, 3, "substitutions")
  x = jnp.asarray(x)
  examples, positions, bases = (jnp.asarray(c) for c in table.T)
  after = x.at[examples, positions].set(jnp.eye(x.shape[-1], dtype=x.dtype)[bases])
  return fn(x, *args), fn(after, *args)


def deletion_effect(fn: Callable[..., Any], x: Any, deletions: Any, left: bool = False,
                    args: Sequence[Any] = ()) -> tuple[Any, Any]:
  """``(fn(x cut to L), fn(x with deletions, cut to L))``; see the module docstring.

  Args:
    fn: the model.
    x: ``[batch, L + D, 4]``; ``D`` is the most deletions of one example.
    deletions: ``int[n, 2]`` rows ``(example, position in x)``.
    left: keep the last ``L`` bases instead of the first.
    args: further arguments of ``fn``.
  """
  table = _table(deletions, 2, "deletions")
  batch, length = np.shape(x)[:2]
  counts = np.bincount(table[:, 0], minlength=batch) if table.size else np.zeros(batch, int)
  kept_length = length - int(counts.max())
  index = np.empty((batch, kept_length), np.int64)
  for example in range(batch):
    kept = np.delete(np.arange(length), table[table[:, 0] == example, 1])
    index[example] = kept[-kept_length:] if left else kept[:kept_length]
  x = jnp.asarray(x)
  before = x[:, length - kept_length:] if left else x[:, :kept_length]
  return fn(before, *args), fn(_gather(x, index), *args)


def insertion_effect(fn: Callable[..., Any], x: Any, insertions: Any, left: bool = False,
                     args: Sequence[Any] = ()) -> tuple[Any, Any]:
  """``(fn(x), fn(x with insertions, cut to L))``; see the module docstring.

  Args:
    fn: the model.
    x: ``[batch, L, 4]``.
    insertions: ``int[n, 3]`` rows ``(example, position, base index)``.
    left: keep the last ``L`` bases instead of the first.
    args: further arguments of ``fn``.
  """
  table = _table(insertions, 3, "insertions")
  x = jnp.asarray(x)
  batch, length, channels = x.shape
  # Inserted bases are appended after the sequence as extra columns, so that one
  # gather builds every example; index L + k is the k-th base inserted in an example.
  most = int(np.bincount(table[:, 0], minlength=batch).max()) if table.size else 0
  extra = np.zeros((batch, most, channels), np.float32)
  index = np.empty((batch, length), np.int64)
  for example in range(batch):
    order = list(range(length))
    for k, (_, position, base) in enumerate(table[table[:, 0] == example]):
      order.insert(int(position), length + k)
      extra[example, k, base] = 1
    index[example] = order[-length:] if left else order[:length]
  extended = jnp.concatenate([x, jnp.asarray(extra, x.dtype)], axis=1)
  return fn(x, *args), fn(_gather(extended, index), *args)
