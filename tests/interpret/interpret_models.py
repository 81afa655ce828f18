"""Random one-hot inputs and random (not initial) variables for the interpretation tests.

``model.init`` of the bigger models takes seconds to compile on a CPU and leaves some
layers at zero (Enformer's attention output projection starts at zero, so its attention
would explain nothing), so the tests draw every variable at random from the shapes
``jax.eval_shape`` gives: kernels ``N(0, 1 / fan_in)``, biases and positional biases
``N(0, 0.1²)``, normalisation scales and BatchNorm variances around 1.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import numpy as np


def onehot(rng: np.random.Generator, *shape: int) -> np.ndarray:
  return np.eye(4, dtype=np.float32)[rng.integers(0, 4, shape)]


def random_variables(model: nn.Module, x: np.ndarray, seed: int = 0):
  shapes = nn.unbox(jax.eval_shape(model.init, jax.random.key(0), x))
  rng = np.random.default_rng(seed)

  def draw(path, leaf):
    name = str(getattr(path[-1], "key", path[-1]))
    noise = rng.normal(size=leaf.shape).astype(leaf.dtype)
    if name in ("scale", "var"):
      return 1.0 + 0.1 * np.abs(noise)
    if len(leaf.shape) >= 2:
      return noise / np.sqrt(np.prod(leaf.shape[:-1]))
    return 0.1 * noise

  return jax.tree_util.tree_map_with_path(draw, shapes)
