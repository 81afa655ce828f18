"""PromID's every-base scan: `promid.scan_logits` equals the model on each window, and
`hard_negatives.window_track` equals scoring `hard_negatives.windows` on both strands
(chromosome ends, several chunks), so the fast scan calls the same TSSs as the slow one."""

import types

import jax
import numpy as np

from genereg_jax.models import get_model
from genereg_jax.models import promid
from genereg_jax.train import hard_negatives as hn


def _one_hot(rng, length):
  return np.eye(4, dtype=np.uint8)[rng.integers(0, 4, length)]


def _window_logits(model, params, windows):
  return np.asarray(model.apply({"params": params}, windows.astype(np.float32)))[:, 0]


def test_scan_logits_equal_the_model_on_every_window():
  # 591 conv positions = 73 pools of 8 + 7 left over (tiny's 592 pool evenly: checked by
  # the track test below); two outputs.
  model = get_model("promid", "tiny", dict(pooled_filters=3, pooled_width=10, plain_filters=2,
                                          plain_width=7, hidden_features=5, num_outputs=2))
  rng = np.random.default_rng(0)
  sequence = _one_hot(rng, 700)
  sequence[650:] = 0  # N columns.
  params = model.init(jax.random.key(1), sequence[None, :600].astype(np.float32))["params"]
  scanned = np.asarray(jax.jit(lambda x: promid.scan_logits(model, params, x))(
      sequence[None].astype(np.float32)))
  assert scanned.shape == (1, 101, model.num_outputs)
  windows = np.stack([sequence[s:s + 600] for s in range(101)])
  expected = np.asarray(model.apply({"params": params}, windows.astype(np.float32)))
  np.testing.assert_allclose(scanned[0], expected, atol=1e-4, rtol=1e-4)


def test_window_track_scores_the_scan_windows_on_both_strands():
  model = get_model("promid", "tiny")
  rng = np.random.default_rng(3)
  chromosome = _one_hot(rng, 300)  # Shorter than a window: N padding on both sides.
  params = model.init(jax.random.key(2), np.zeros((1, 600, 4), np.float32))["params"]
  scan = jax.jit(lambda x: promid.scan_logits(model, params, x))
  track = hn.window_track(scan, 600, 200, chunk=128)  # Three chunks.
  positions = np.arange(len(chromosome))
  for strand in ("+", "-"):
    logits = _window_logits(model, params, hn.windows(chromosome, positions, strand, 600, 200))
    np.testing.assert_allclose(track(chromosome, strand), 1 / (1 + np.exp(-logits)),
                               atol=1e-5)


def test_scan_chromosome_uses_the_track_and_calls_the_same_tsss():
  rng = np.random.default_rng(4)
  chromosome = _one_hot(rng, 3000)
  settings = types.SimpleNamespace(window=600, tss_index=200, scan_step=1, scan_batch_size=512,
                                   scan_threshold=0.1, threshold=0.5, min_distance=500)
  weights = rng.normal(size=(600, 4))

  def predict(x):
    return 1 / (1 + np.exp(-(x * weights).sum(axis=(1, 2)) / 3))

  def track(one_hot, strand):
    return predict(hn.windows(one_hot, np.arange(len(one_hot)), strand, 600, 200))

  def fast(x):
    return predict(x)

  fast.track = track
  for strand in ("+", "-"):
    slow_calls = hn.scan_chromosome(predict, chromosome, strand, settings)
    assert slow_calls and hn.scan_chromosome(fast, chromosome, strand, settings) == slow_calls
  # A track that disagrees changes the calls: the scan really reads it.
  fast.track = lambda one_hot, strand: np.zeros(len(one_hot))
  assert hn.scan_chromosome(fast, chromosome, "+", settings) == []
