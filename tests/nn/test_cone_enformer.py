"""Receptive cones through a strided tower: `enformer.cone_model` against full ALT
windows (fastISM with attention pooling; `genereg_jax.nn.cone`)."""

import jax
import numpy as np
import pytest

from genereg_jax.models import enformer
from genereg_jax.nn import cone


@pytest.fixture(scope="module")
def tiny():
  """Tiny Enformer (256 bp, 3 halvings) with random running batch statistics, so the
  norms in front of each convolution are not near-identity."""
  model = enformer.enformer("tiny", dropout_rate=0.0)
  rng = np.random.default_rng(0)
  x = jax.nn.one_hot(rng.integers(0, 4, (2, 256)), 4)
  variables = jax.jit(model.init)(jax.random.PRNGKey(0), x)
  stats = jax.tree.map(lambda a: a + rng.uniform(0.1, 0.5, a.shape).astype(a.dtype),
                       variables["batch_stats"])
  return model, {**variables, "batch_stats": stats}, x


def test_strided_cone_equals_full_windows(tiny):
  """The split's REF, and ALTs at both ends, the middle and both parities of every
  pooling level, against the model on whole windows."""
  model, variables, x = tiny
  split = enformer.cone_model(model, variables)
  full = jax.jit(lambda x: model.apply(variables, x))

  @jax.jit
  def ref_alt(x, position, value):
    cache = cone.prepare(split.tower, x)
    return (split.head(cache.unpadded(len(split.tower.layers))),
            split.head(cone.mutant_final(split.tower, cache, position, value)))

  rng = np.random.default_rng(1)
  for position in (0, 1, 2, 3, 6, 7, 8, 127, 128, 131, 248, 253, 254, 255):
    value = jax.nn.one_hot(rng.integers(0, 4, 2), 4)[:, None]
    mutant = x.at[:, position].set(value[:, 0])
    ref, alt = ref_alt(x, position, value)
    want = full(mutant)
    for k in want:
      np.testing.assert_allclose(alt[k], want[k], atol=1e-4, rtol=1e-4,
                                 err_msg=f"position {position}")
  want = full(x)
  for k in want:
    np.testing.assert_allclose(ref[k], want[k], atol=1e-5, rtol=1e-5)


def test_strided_tower_checks():
  layer = cone.Layer(lambda h: h, 1, stride=2)
  with pytest.raises(ValueError, match="radius 0"):
    cone.Tower([layer])
  with pytest.raises(ValueError, match='"same"'):
    cone.Tower([cone.Layer(lambda h: h, 0, stride=2)], "valid")
  tower = cone.Tower([cone.Layer(lambda h: h[:, ::2], 0, stride=2)])
  with pytest.raises(ValueError, match="multiple"):
    cone.prepare(tower, np.zeros((1, 5, 4), np.float32))
