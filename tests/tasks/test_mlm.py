"""Masked-LM task: loss and metrics on masked positions only; BERT and DNABERT masking."""

import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.tasks import mlm


def _logits(labels, vocab, right=5.0):
  """Logits that put ``right`` on the original token (or token 0 where unmasked)."""
  targets = np.where(labels == mlm.IGNORE_INDEX, 0, labels)
  return jnp.asarray(np.eye(vocab)[targets] * right)


def test_loss_counts_masked_positions_only():
  labels = np.array([[-100, 3, -100, 2], [1, -100, -100, -100]])
  logits = np.zeros((2, 4, 5), np.float32)
  logits[0, 0] = 100.0  # huge logits at an unmasked position must not matter
  task = mlm.Task()
  loss, weight = task.loss({"logits": jnp.asarray(logits)}, {"labels": jnp.asarray(labels)})
  assert float(weight) == 3
  np.testing.assert_allclose(float(loss), np.log(5), rtol=1e-6)
  # An example_mask of 0 (padding rows of an eval batch) drops the second row.
  _, weight = task.loss({"logits": jnp.asarray(logits)},
                        {"labels": jnp.asarray(labels), "example_mask": jnp.array([1, 0])})
  assert float(weight) == 2


def test_metrics_accuracy_and_perplexity():
  labels = np.array([[-100, 3, 4, 2]])
  logits = np.array(_logits(labels, 6))
  logits[0, 3] = 0.0  # the last masked token: uniform, so wrong (argmax 0) and nll log 6
  task = mlm.Task()
  batch = {"labels": jnp.asarray(labels)}
  predictions = task.eval_predictions({"logits": jnp.asarray(logits)}, batch)
  metrics = task.new_metrics()
  metrics.update(predictions, {"labels": labels})
  result = metrics.merge(mlm.MaskedTokenMetrics()).compute()
  right = -np.log(np.exp(5) / (np.exp(5) + 5))
  expected = (2 * right + np.log(6)) / 3
  np.testing.assert_allclose(result["masked_nll"], expected, rtol=1e-5)
  np.testing.assert_allclose(result["perplexity"], np.exp(expected), rtol=1e-5)
  assert result["accuracy"] == pytest.approx(2 / 3)
  loss, _ = task.loss({"logits": jnp.asarray(logits)}, batch)
  np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_bert_masking_rates_and_specials():
  rng = np.random.default_rng(0)
  ids = rng.integers(4, 24, size=20_000).astype(np.int32)
  maskable = np.ones_like(ids, bool)
  maskable[::10] = False  # special tokens are never chosen
  inputs, labels = mlm.mask_tokens(ids, rng, maskable=maskable, mask_id=32,
                                   random_ids=(4, 24))
  chosen = labels != mlm.IGNORE_INDEX
  assert not chosen[~maskable].any()
  assert chosen[maskable].mean() == pytest.approx(0.15, abs=0.01)
  np.testing.assert_array_equal(labels[chosen], ids[chosen])
  np.testing.assert_array_equal(inputs[~chosen], ids[~chosen])
  assert (inputs[chosen] == 32).mean() == pytest.approx(0.8, abs=0.02)
  kept = (inputs[chosen] == ids[chosen]).mean()  # 10% unchanged + 10% * 1/20 random hits
  assert kept == pytest.approx(0.1 + 0.1 / 20, abs=0.02)
  # The same seed gives the same masks (resumable runs depend on it).
  first, second = (mlm.mask_tokens(ids[:100], np.random.default_rng(7), maskable=maskable[:100],
                                   mask_id=32, random_ids=(4, 24)) for _ in range(2))
  np.testing.assert_array_equal(first[0], second[0])
  np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_dnabert_spans_follow_mask_list(k):
  length = 40
  maskable = np.ones(length, bool)
  maskable[[0, length - 1]] = False  # [CLS], [SEP]
  centres = np.zeros(length, bool)
  centres[20] = True
  masked = mlm.span_positions(centres, maskable, k)
  # DNABERT's MASK_LIST: k consecutive k-mers starting (k - 1) // 2 before the centre.
  start = 20 - (k - 1) // 2
  np.testing.assert_array_equal(np.flatnonzero(masked), np.arange(start, start + k))
  # Near the end, offsets past the last maskable token are dropped.
  centres[:] = False
  centres[length - 2] = True
  assert np.flatnonzero(mlm.span_positions(centres, maskable, k)).max() == length - 2


def test_kmer_span_masking_rate_and_context_bound():
  rng = np.random.default_rng(1)
  ids = rng.integers(5, 4101, size=(50, 512)).astype(np.int32)
  maskable = np.ones((512,), bool)
  maskable[[0, -1]] = False
  rows = [mlm.mask_kmer_spans(row, rng, k=6, maskable=maskable, mask_id=4,
                              random_ids=(0, 4101)) for row in ids]
  labels = np.stack([r[1] for r in rows])
  # DNABERT's 0.025 centre rate gives about 15% masked 6-mers.
  assert (labels != mlm.IGNORE_INDEX).mean() == pytest.approx(0.13, abs=0.02)
  # An isolated span of k 6-mers hides one nucleotide per masked token.
  single = np.full((1, 30), mlm.IGNORE_INDEX)
  single[0, 10:16] = 7
  assert mlm.context_baseline(single, 6, np.log(4)) == pytest.approx(np.log(4))
  # Unigram baseline: uniform counts give log(vocab).
  assert mlm.unigram_baseline(np.arange(10), np.array([3, -100, 4]), 10) == pytest.approx(
      np.log(10))


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_wider_spans_hide_more_nucleotides(k):
  # span = k is DNABERT's MASK_LIST; a wider span keeps its layout and hides
  # span - k + 1 nucleotides, which no unmasked neighbour spells.
  assert mlm.span_offsets(k, k) == mlm.span_offsets(k) == mlm.DNABERT_SPAN_OFFSETS[k]
  length, span = 40, k + 5
  maskable = np.ones(length, bool)
  maskable[[0, length - 1]] = False
  centres = np.zeros(length, bool)
  centres[20] = True
  masked = mlm.span_positions(centres, maskable, k, span)
  start = 20 - (span - 1) // 2
  np.testing.assert_array_equal(np.flatnonzero(masked), np.arange(start, start + span))
  labels = np.where(masked, 7, mlm.IGNORE_INDEX)
  unknown = mlm.unknown_nucleotides(labels, k)
  assert len(unknown) == span
  # Token t spells bases t - 1 .. t + k - 2: the hidden ones are start + k - 2 .. + span - 1.
  hidden = {t - 1 + j for t, u in zip(np.flatnonzero(masked), unknown) for j in np.flatnonzero(u)}
  assert hidden == set(range(start + k - 2, start + span - 1))
  with pytest.raises(ValueError, match="at least 1"):
    mlm.span_offsets(k, 0)


def test_hidden_in_region_groups_masked_tokens():
  # k = 3, 10 tokens ([CLS] + 8 k-mers + [SEP]) over 10 bases; token t spells bases t-1..t+1.
  labels = np.full(10, mlm.IGNORE_INDEX)
  labels[[2, 3, 4]] = 5  # One DNABERT span: hides base 3 only (tokens 1 and 5 spell the rest).
  region = np.zeros(10, bool)
  region[3] = True
  groups = mlm.hidden_in_region(labels, 3, region)
  np.testing.assert_array_equal(np.flatnonzero(groups == 1), [2, 3, 4])
  assert (groups[[0, 1, 5, 9]] == -1).all()
  np.testing.assert_array_equal(mlm.hidden_in_region(labels, 3, ~region)[[2, 3, 4]], 0)
  # A wider span hides bases 3-4; half in the region is neither group.
  labels[5] = 5
  assert (mlm.hidden_in_region(labels, 3, region)[[2, 3, 4, 5]] == [1, -1, -1, 0]).all()
