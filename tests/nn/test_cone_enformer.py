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


def test_enformer_predictor_scores_snvs_through_the_cone(tiny):
  """`predict.Predictor` (what score_variants uses) takes the cone path for an Enformer
  and its ALTs equal the model on whole mutant windows."""
  import types
  from genereg_jax import predict
  from genereg_jax.tasks.coverage import Coverage
  from genereg_jax.train import partitioning
  model, variables, x = tiny
  experiment = types.SimpleNamespace(
      model=model, tasks={"human": Coverage(head="human")}, heads=["human"],
      inputs=("sequence",), mesh=partitioning.make_mesh((-1, 1), jax.devices()[:1]))
  state = types.SimpleNamespace(params=variables["params"],
                                batch_stats=variables["batch_stats"])
  example = {"sequence": np.zeros((256, 4), np.uint8)}
  predictor = predict.Predictor(experiment, state, example)
  assert predictor.predict_snvs is not None and predictor.predict_snv_region is None
  assert predict.Predictor(experiment, state, example,
                           reverse_complement_average=True).predict_snvs is None
  windows = np.asarray(x, np.uint8)
  value = np.eye(4, dtype=np.uint8)[[2, 3]][:, None]
  ref, alt = predictor.predict_snvs(windows, 130, value)
  mutants = windows.copy()
  mutants[:, 130] = value[:, 0]
  for got, batch in ((ref, windows), (alt, mutants)):
    want = predictor(batch)
    assert got.keys() == want.keys()
    for name in want:
      np.testing.assert_allclose(got[name], want[name], atol=1e-4, rtol=1e-4,
                                 err_msg=name)
