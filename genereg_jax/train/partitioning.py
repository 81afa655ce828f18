"""Device mesh and parameter placement by logical axis names (t5x/maxtext style).

The mesh has axes ``("data", "model")``; batches are sharded on ``data``; a parameter
axis named e.g. ``"mlp"`` goes to whatever mesh axis the config's
``logical_axis_rules`` maps it to, and is replicated when no rule names it.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import numpy as np
from jax.experimental import mesh_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

MESH_AXES = ("data", "model")


def make_mesh(shape: Sequence[int] = (-1, 1), devices=None) -> Mesh:
  """A ``("data", "model")`` mesh; one -1 entry takes the remaining devices."""
  devices = jax.devices() if devices is None else devices
  shape = list(shape)
  if len(shape) != 2:
    raise ValueError(f"mesh_shape must have 2 entries (data, model), got {shape}")
  if shape.count(-1) > 1:
    raise ValueError(f"mesh_shape may have at most one -1, got {shape}")
  if -1 in shape:
    known = int(np.prod([s for s in shape if s != -1]))
    shape[shape.index(-1)] = len(devices) // known
  if int(np.prod(shape)) != len(devices):
    raise ValueError(f"mesh_shape {tuple(shape)} needs {int(np.prod(shape))} devices, "
                     f"{len(devices)} available")
  return Mesh(mesh_utils.create_device_mesh(shape, devices=devices), MESH_AXES)


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (batch) dimension split over ``data``, the rest replicated."""
  return NamedSharding(mesh, PartitionSpec("data"))


def logical_shardings(boxed_tree: Any, mesh: Mesh, rules: Sequence[tuple[str, Any]]) -> Any:
  """Shardings for a tree whose leaves may be ``nn.LogicallyPartitioned`` boxes."""
  specs = nn.get_partition_spec(boxed_tree)
  return nn.logical_to_mesh_sharding(specs, mesh, [tuple(r) for r in rules])


def process_rows(mesh: Mesh, global_batch_size: int) -> tuple[int, int]:
  """``(first, stop)``: the rows of each global batch this process's devices hold.

  On a mesh whose ``data`` axis spans the processes each reads its own block; where
  processes share a ``data`` index (parameters sharded across hosts) they read the same
  rows. `global_batch` expects one contiguous block per process.
  """
  indices = batch_sharding(mesh).addressable_devices_indices_map((global_batch_size,))
  blocks = sorted({index[0].indices(global_batch_size)[:2] for index in indices.values()})
  first, stop = blocks[0][0], blocks[-1][1]
  if sum(b - a for a, b in blocks) != stop - first:
    raise ValueError(f"this process's devices hold rows {blocks} of the batch, not one "
                     "block: order the mesh's devices by process")
  return first, stop


def global_batch(local_batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
  """Assembles each process's rows into one global array sharded on ``data``."""
  sharding = batch_sharding(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
          for k, v in local_batch.items()}


def to_host(tree: Any) -> Any:
  """Fetches (globally sharded) arrays to numpy on every host, gathering across hosts."""
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils
    return multihost_utils.process_allgather(tree, tiled=True)
  return jax.tree.map(np.asarray, tree)
