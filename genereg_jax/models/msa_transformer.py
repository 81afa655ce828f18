"""MSA Transformer (Rao et al., ICML 2021; fair-esm ``esm_msa1b_t12_100M_UR50S``).

tokens ``[batch, rows, columns]`` (``ProteinTokenizer.encode_msa``: ``<cls>`` then the
aligned row, query first) → embeddings → 12 axial layers → MLM head:

* embeddings: ESM's 33-token table + learned padding-aware positions along each row
  (``pad + 1 + index``, 1,024 + 2 of them) + one learned scalar per row index
  (fair-esm's ``msa_position_embedding``, up to 1,024 rows, N(0, 0.01²) at init),
  LayerNorm, dropout, padded tokens zeroed;
* ``genereg_jax.nn.transformer.AxialTransformerLayer``: pre-LN tied row attention
  (one attention map over columns per MSA, from all rows' logits summed), column
  attention (over the rows of each column), feed-forward; hidden 768, 12 heads,
  feed-forward 3,072, dropout 0.1, attention dropout 0.1, LayerNorm eps 1e-5;
* a final LayerNorm and the ESM MLM head (tied decoder), logits
  ``[batch, rows, columns, 33]``.

Not yet ported: fair-esm's contact head and its memory-saving batched row attention
(``max_tokens_per_msa``); no Hugging Face checkpoint exists for this model.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax.models.language import MaskedLMHead
from genereg_jax.nn import transformer

Array = jax.Array
Dtype = Any

_PAPER = dict(vocab_size=33, hidden_size=768, num_layers=12, num_heads=12,
              intermediate_size=3072, max_position_embeddings=1026, max_rows=1024,
              dropout_rate=0.1, attention_dropout_rate=0.1)

PRESETS: dict[str, dict[str, Any]] = {
    "paper": _PAPER,
    "tiny": dict(_PAPER, hidden_size=32, num_layers=2, num_heads=4,
                 intermediate_size=64, max_position_embeddings=66, max_rows=64),
}


class MsaTransformer(nn.Module):
  """The MSA Transformer (see the module docstring).

  Attributes:
    vocab_size: ESM alphabet size.
    hidden_size: model width.
    num_layers: axial layers.
    num_heads: attention heads (row and column attention alike).
    intermediate_size: feed-forward width.
    max_position_embeddings: rows of the column-position table (max length + 2).
    max_rows: MSA rows the row-index embedding covers.
    pad_token_id: ``<pad>``.
    layer_norm_eps: LayerNorm epsilon.
    dropout_rate: embedding and residual dropout.
    attention_dropout_rate: attention-weight dropout.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  vocab_size: int = 33
  hidden_size: int = 768
  num_layers: int = 12
  num_heads: int = 12
  intermediate_size: int = 3072
  max_position_embeddings: int = 1026
  max_rows: int = 1024
  pad_token_id: int = 1
  layer_norm_eps: float = 1e-5
  dropout_rate: float = 0.1
  attention_dropout_rate: float = 0.1
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, input_ids: Array, *, train: bool = False) -> dict[str, Any]:
    """``int[batch, rows, columns]`` → ``{"logits", "hidden_states"}``.

    ``hidden_states``: the embedding output, then each layer's output, the last
    after the final LayerNorm (as fair-esm's representations).
    """
    batch, rows, columns = input_ids.shape
    if rows > self.max_rows:
      raise ValueError(f"{rows} MSA rows, more than max_rows={self.max_rows}")
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    init = nn.initializers.normal(0.02)
    words = nn.Embed(self.vocab_size, self.hidden_size, name="word_embeddings",
                     embedding_init=nn.with_logical_partitioning(init, ("vocab", "embed")),
                     **kw)
    padding = (input_ids != self.pad_token_id).astype(jnp.int32)
    positions = jnp.cumsum(padding, axis=-1) * padding + self.pad_token_id
    row_embedding = self.param(
        "row_embeddings", nn.with_logical_partitioning(
            nn.initializers.normal(0.01), ("rows",)), (self.max_rows,), self.param_dtype)
    x = (words(input_ids)
         + nn.Embed(self.max_position_embeddings, self.hidden_size,
                    name="position_embeddings",
                    embedding_init=nn.with_logical_partitioning(init, ("positions", "embed")),
                    **kw)(positions)
         + row_embedding[:rows, None, None].astype(self.dtype))
    x = transformer.layer_norm(self.layer_norm_eps, name="embeddings_norm", **kw)(x)
    x = nn.Dropout(self.dropout_rate)(x, deterministic=not train)
    x = x * padding[..., None].astype(x.dtype)
    hidden_states = [x]
    for i in range(self.num_layers):
      x = transformer.AxialTransformerLayer(
          self.num_heads, self.intermediate_size, dropout_rate=self.dropout_rate,
          attention_dropout_rate=self.attention_dropout_rate,
          layer_norm_eps=self.layer_norm_eps, name=f"layer_{i}", **kw)(
              x, padding, train)
      hidden_states.append(x)
    x = transformer.layer_norm(self.layer_norm_eps, name="final_norm", **kw)(x)
    hidden_states[-1] = x
    logits = MaskedLMHead(self.vocab_size, self.layer_norm_eps, name="lm_head",
                          **kw)(x, words.attend)
    return {"logits": logits, "hidden_states": tuple(hidden_states)}


Model = MsaTransformer
