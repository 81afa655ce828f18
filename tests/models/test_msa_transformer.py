"""MSA Transformer: shapes, padding, paper size."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.data import tokenizers
from genereg_jax.models import get_model
from genereg_jax.models import msa_transformer


def test_paper_parameter_count():
  model = get_model("msa_transformer", "paper")
  shapes = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0),
                                             jnp.zeros((1, 2, 8), jnp.int32)))
  count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(nn.unbox(shapes)))
  # Embeddings 815,872 + 12 axial layers x 9,451,776 + final LayerNorm 1,536 + MLM
  # head 592,161 (fair-esm names the model "100M"; its contact head is not ported).
  assert count == 114_830_881


def test_tiny_forward_and_padded_columns():
  model = msa_transformer.MsaTransformer(**msa_transformer.PRESETS["tiny"])
  tok = tokenizers.ProteinTokenizer()
  msa = tok.encode_msa(["MKV-LAG", "MKILLAG", "MR--LSG"])[None]  # [1, 3, 8]
  padded = np.concatenate([msa, np.full((1, 3, 3), tok.pad_id)], axis=-1)
  variables = model.init(jax.random.PRNGKey(0), padded)
  out = model.apply(variables, padded)
  assert out["logits"].shape == (1, 3, 11, 33)
  assert len(out["hidden_states"]) == 3
  # Padded columns are masked keys in row attention: real tokens do not see them.
  out2 = model.apply(variables, msa)
  np.testing.assert_allclose(out2["logits"], out["logits"][:, :, :8], atol=1e-5)
  # Every row influences the others through the tied row attention and the columns.
  other = msa.copy()
  other[0, 2, 3] = tok.residue_ids("W")[0]
  changed = model.apply(variables, other)["logits"]
  assert np.abs(changed[0, 0] - out2["logits"][0, 0]).max() > 1e-4
