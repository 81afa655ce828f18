"""``language_heads``: one-hot DNA becomes DNABERT's k-mer ids, and the sequence-level
poolings read only the sequence's tokens ([CLS] and [SEP] excluded), and the classifier
reads ``features``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genereg_jax.data import encoding
from genereg_jax.data import tokenizers
from genereg_jax.models import language_heads


def _model(**overrides):
  return language_heads.Model(**{**language_heads.PRESETS["dnabert_tiny"], "num_layers": 1,
                                 "num_outputs": 3, **overrides})


def test_onehot_input_gives_the_tokenizers_ids():
  sequence = "ACGTTGCANACGGT"
  onehot = jnp.asarray(encoding.one_hot_dna(sequence), jnp.float32)[None]
  model = _model()
  ids, mask = model.apply({}, onehot, method=model.tokens)
  np.testing.assert_array_equal(ids[0], tokenizers.KmerTokenizer(3).encode(sequence))
  assert mask.min() == 1


@pytest.mark.parametrize("pooling", ["mean", "max", "mean_max"])
def test_pooling_skips_the_special_tokens(pooling):
  model = _model(pooling=pooling)
  rng = np.random.default_rng(0)
  hidden = rng.standard_normal((2, 7, 32)).astype(np.float32)
  hidden[:, [0, -1]] = 100.0  # [CLS] and [SEP]: would dominate a mean or a max.
  inner = hidden[:, 1:-1]
  expected = {"mean": inner.mean(1), "max": inner.max(1),
              "mean_max": np.concatenate([inner.mean(1), inner.max(1)], -1)}[pooling]
  pooled = model.apply({}, jnp.asarray(hidden), jnp.ones((2, 7), jnp.int32),
                       method=model.pool)
  np.testing.assert_allclose(pooled, expected, rtol=1e-6)
  onehot = jax.nn.one_hot(rng.integers(0, 4, (2, 12)), 4)
  variables = model.init(jax.random.key(0), onehot)
  assert variables["params"]["classifier"]["kernel"].shape == (expected.shape[-1], 3)
  assert model.apply(variables, onehot).shape == (2, 3)
  # The classifier reads exactly ``features`` (what LP-FT's probe is fitted on).
  head = variables["params"]["classifier"]
  features = model.apply(variables, onehot, method=model.features)
  np.testing.assert_allclose(model.apply(variables, onehot),
                             features @ head["kernel"] + head["bias"], rtol=1e-5, atol=1e-6)
