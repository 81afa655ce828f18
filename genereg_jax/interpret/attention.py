r"""Attention maps of Enformer's transformer blocks (Avsec et al., Nat. Methods 2021, Fig. 3).

Every ``RelativeMultiHeadAttention`` sows its softmax weights ``[batch, heads, query,
key]`` (after the relative-position logits, before attention dropout) in the
``"attention_weights"`` collection; ``attention_maps`` runs the model once with that
collection mutable and stacks them per transformer block, in block order. Enformer's
transformer attends between bins of ``model.output_stride`` bp (128 in the paper), so
the maps are already per bin; ``pool`` averages them further over groups of ``pool``
query bins and sums over groups of ``pool`` key bins, so each row still sums to 1 (the
attention a query region pays to each key region). The paper's Fig. 3 averages the
weights over heads and blocks: ``maps.mean(axis=(1, 2))``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


def _blocks(sown_weights: Any) -> list[Array]:
  """Sown attention weights in transformer-block order (``transformer_0``, ...)."""
  found = []
  for name in sorted(sown_weights, key=lambda n: (len(n), n)):
    if not name.startswith("transformer_"):
      continue
    sown = sown_weights[name].get("attention", {}).get("weights")
    if sown is not None:
      found.append(sown[0])
  return found


def _sown_weights(model: nn.Module, variables: Any, x: Array) -> Any:
  # Jitted per call: a model with a dict field (output_heads) is not hashable.
  @jax.jit
  def run(variables, x):
    _, state = model.apply(variables, x, mutable=["attention_weights"])
    return state.get("attention_weights", {})
  return run(variables, x)


def attention_maps(model: nn.Module, variables: Any, x: Array, pool: int = 1) -> Array:
  """Per block and head attention weights of an Enformer on ``x``.

  Args:
    model: a ``genereg_jax.models.enformer.Enformer``.
    variables: its variables (``{"params": ..., "batch_stats": ...}``).
    x: ``float[B, L, 4]`` one-hot inputs.
    pool: bins per output bin (must divide the number of bins).

  Returns:
    ``float32[B, blocks, heads, bins / pool, bins / pool]``; ``[b, i, h, q, k]`` is the
    weight query bin ``q`` of block ``i``, head ``h`` gives key bin ``k``; each row sums
    to 1.
  """
  variables = {k: v for k, v in variables.items() if k != "attention_weights"}
  maps = _blocks(_sown_weights(model, variables, jnp.asarray(x)))
  if not maps:
    raise ValueError(f"{type(model).__name__} sowed no attention weights; attention_maps "
                     "reads the transformer blocks of genereg_jax.models.enformer")
  return pool_attention(jnp.stack(maps, axis=1).astype(jnp.float32), pool)


def pool_attention(maps: Array, pool: int) -> Array:
  """``[..., bins, bins] -> [..., bins / pool, bins / pool]``: the mean over ``pool``
  query bins of the weight summed over ``pool`` key bins (rows still sum to 1)."""
  if pool == 1:
    return maps
  *lead, bins, _ = maps.shape
  if pool < 1 or bins % pool:
    raise ValueError(f"pool {pool} does not divide {bins} bins")
  maps = maps.reshape(*lead, bins // pool, pool, bins // pool, pool)
  return maps.mean(axis=-3).sum(axis=-1)
