"""Masked language models of DNA and protein: DNABERT, ESM-1b, ESM-2.

tokens → embeddings → transformer encoder → MLM head, as Hugging Face's
``BertForMaskedLM`` and ``EsmForMaskedLM`` compute them:

* **DNABERT** (Ji et al., Bioinformatics 2021): BERT-base (Devlin et al. 2019) on
  overlapping k-mers (``genereg_jax.data.tokenizers.KmerTokenizer``): 12 post-LN
  layers, hidden 768, 12 heads, feed-forward 3,072, 512 positions, vocabulary
  4^k + 5 (4,101 for k = 6), LayerNorm eps 1e-12, dropout 0.1 (the released
  ``bert-config-6/config.json`` of github.com/jerryji1993/DNABERT). Embeddings are
  word + position (0 .. T-1) + token type, LayerNorm, dropout.
* **ESM-1b** (Rives et al., PNAS 2021; fair-esm ``esm1b_t33_650M_UR50S``): 33 pre-LN
  layers, hidden 1,280, 20 heads, feed-forward 5,120, learned positions for 1,024
  residues + 2 (RoBERTa-style padding-aware position ids, ``pad + 1 + index``),
  LayerNorm on the embeddings and after the last layer, token dropout, 33-token
  ESM alphabet (``genereg_jax.data.tokenizers.ESM_ALPHABET``).
* **ESM-2** (Lin et al., Science 2023): ESM-1b's layers with rotary positions and
  no embedding LayerNorm.

The MLM head is dense → GELU → LayerNorm → decoder tied to the word embeddings +
bias. ``LanguageModel.encode`` gives the encoder's output and hidden states, where
classification heads (on [CLS] or a mean pool) and an MLM task plug in.

Token dropout (ESM): ``<mask>`` embeddings are zeroed and every row is scaled by
``(1 - 0.15 * 0.8) / (1 - n_mask / T)``, with T the padded length as transformers
4.56.2 computes it (fair-esm divides by the unpadded length; the two differ only on
padded batches). As in transformers 4.56.2, padded positions' embeddings are not
zeroed (fair-esm zeroes them); being masked keys, they never change real tokens.

``load_hf_bert`` / ``load_hf_esm`` build the model from a Hugging Face
``config.json`` and a state dict of NumPy arrays; ``load_pretrained`` reads a
checkpoint directory (``model.safetensors`` or ``pytorch_model.bin``).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.nn import transformer

Array = jax.Array
Dtype = Any

#: ESM's training mask rate (15%) times the share of masked tokens set to <mask> (80%).
ESM_MASK_RATIO_TRAIN = 0.15 * 0.8

_DNABERT = dict(
    vocab_size=4101, hidden_size=768, num_layers=12, num_heads=12,
    intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2,
    pad_token_id=0, mask_token_id=4, layer_norm_eps=1e-12, dropout_rate=0.1,
    attention_dropout_rate=0.1, embedding_dropout_rate=0.1)
_ESM = dict(
    vocab_size=33, type_vocab_size=0, position_ids="padding_aware", pre_norm=True,
    emb_layer_norm_after=True, token_dropout=True, pad_token_id=1,
    mask_token_id=32, layer_norm_eps=1e-5, dropout_rate=0.0,
    attention_dropout_rate=0.0, embedding_dropout_rate=0.0)
_ESM1B = dict(_ESM, max_position_embeddings=1026, emb_layer_norm_before=True)
_ESM2 = dict(_ESM, max_position_embeddings=1026, position_embedding_type="rotary",
             emb_layer_norm_before=False)

PRESETS: dict[str, dict[str, Any]] = {
    # DNABERT-6 (Ji et al. 2021): BERT-base on 6-mers; ~89M parameters.
    "dnabert": _DNABERT,
    "dnabert_small": dict(_DNABERT, hidden_size=256, num_layers=4, num_heads=4,
                          intermediate_size=1024),
    "dnabert_tiny": dict(_DNABERT, vocab_size=69, hidden_size=32, num_layers=2,
                         num_heads=4, intermediate_size=64,
                         max_position_embeddings=64),
    # The CPU proofs' wider bases (README "Fifth proof", "Sixth proof"): 2 layers of
    # 64 / 128, FFN twice that, rotary positions (dnabert_pretrain:tiny64 / tiny128).
    "dnabert_tiny64": dict(_DNABERT, vocab_size=69, hidden_size=64, num_layers=2,
                           num_heads=4, intermediate_size=128,
                           max_position_embeddings=256, position_embedding_type="rotary"),
    "dnabert_tiny128": dict(_DNABERT, vocab_size=69, hidden_size=128, num_layers=2,
                            num_heads=4, intermediate_size=256,
                            max_position_embeddings=256, position_embedding_type="rotary"),
    # ESM-1b 650M (Rives et al. 2021, fair-esm esm1b_t33_650M_UR50S).
    "esm1b": dict(_ESM1B, hidden_size=1280, num_layers=33, num_heads=20,
                  intermediate_size=5120),
    # ESM-1b layers at the size of ESM-2's smallest model (6 x 320, 20 heads).
    "esm1b_small": dict(_ESM1B, hidden_size=320, num_layers=6, num_heads=20,
                        intermediate_size=1280),
    "esm1b_tiny": dict(_ESM1B, hidden_size=32, num_layers=2, num_heads=4,
                       intermediate_size=64, max_position_embeddings=66),
    # ESM-2 (Lin et al. 2023) esm2_t6_8M_UR50D and esm2_t33_650M_UR50D.
    "esm2_8m": dict(_ESM2, hidden_size=320, num_layers=6, num_heads=20,
                    intermediate_size=1280),
    "esm2_650m": dict(_ESM2, hidden_size=1280, num_layers=33, num_heads=20,
                      intermediate_size=5120),
}


def _named(init: nn.initializers.Initializer, *names: str | None):
  return nn.with_logical_partitioning(init, names)


def _embed(num: int, features: int, axes: tuple[str, str], dtype, param_dtype,
           name: str) -> nn.Embed:
  return nn.Embed(num, features, dtype=dtype, param_dtype=param_dtype, name=name,
                  embedding_init=_named(nn.initializers.normal(0.02), *axes))


class MaskedLMHead(nn.Module):
  """BERT's / ESM's MLM head: dense → GELU → LayerNorm → tied decoder + bias.

  Attributes:
    vocab_size: output tokens.
    layer_norm_eps: LayerNorm epsilon.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  vocab_size: int
  layer_norm_eps: float = 1e-12
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array, decoder: Callable[[Array], Array]) -> Array:
    """``[batch, length, hidden] -> [batch, length, vocab]`` logits.

    ``decoder`` maps hidden vectors to vocabulary scores (the word embedding's
    ``attend`` when tied).
    """
    x = nn.Dense(x.shape[-1], dtype=self.dtype, param_dtype=self.param_dtype,
                 name="dense",
                 kernel_init=_named(nn.initializers.normal(0.02), "embed", "embed_out"),
                 bias_init=_named(nn.initializers.zeros_init(), "embed_out"))(x)
    x = transformer.layer_norm(self.layer_norm_eps, self.dtype, self.param_dtype,
                               "norm")(transformer.gelu(x))
    bias = self.param("bias", _named(nn.initializers.zeros_init(), "vocab"),
                      (self.vocab_size,), self.param_dtype)
    return decoder(x) + bias.astype(self.dtype)


class LanguageModel(nn.Module):
  """A BERT / ESM masked language model (see the module docstring).

  Field names follow Hugging Face's configs where they exist.

  Attributes:
    vocab_size: tokens (DNABERT-6 4,101; ESM 33).
    hidden_size: model width.
    num_layers: encoder layers.
    num_heads: attention heads.
    intermediate_size: feed-forward width.
    max_position_embeddings: rows of the learned position table.
    position_embedding_type: ``"absolute"`` (learned table) or ``"rotary"`` (ESM-2).
    position_ids: ``"sequential"`` (BERT: 0 .. T-1) or ``"padding_aware"``
      (ESM/RoBERTa: ``pad + 1 + index`` over non-pad tokens, ``pad`` on padding).
    type_vocab_size: token-type (segment) embeddings; 0 for none (ESM).
    pre_norm: pre-LN layers (ESM) instead of post-LN (BERT).
    emb_layer_norm_before: LayerNorm on the embeddings (BERT, ESM-1b).
    emb_layer_norm_after: LayerNorm after the last layer (ESM).
    token_dropout: ESM's token-dropout rescaling of the embeddings.
    pad_token_id: padding token.
    mask_token_id: ``<mask>`` / ``[MASK]`` token.
    layer_norm_eps: LayerNorm epsilon.
    dropout_rate: residual dropout in the encoder.
    attention_dropout_rate: attention-weight dropout.
    embedding_dropout_rate: dropout on the embeddings (BERT 0.1; ESM none).
    mlm_head: add the MLM head (``logits`` in the output).
    tie_word_embeddings: the MLM decoder is the word embedding (else its own).
    remat: recompute each layer's activations in the backward pass.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  vocab_size: int = 4101
  hidden_size: int = 768
  num_layers: int = 12
  num_heads: int = 12
  intermediate_size: int = 3072
  max_position_embeddings: int = 512
  position_embedding_type: str = "absolute"
  position_ids: str = "sequential"
  type_vocab_size: int = 2
  pre_norm: bool = False
  emb_layer_norm_before: bool = True
  emb_layer_norm_after: bool = False
  token_dropout: bool = False
  pad_token_id: int = 0
  mask_token_id: int = 4
  layer_norm_eps: float = 1e-12
  dropout_rate: float = 0.1
  attention_dropout_rate: float = 0.1
  embedding_dropout_rate: float = 0.1
  mlm_head: bool = True
  tie_word_embeddings: bool = True
  remat: bool = False
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  def setup(self):
    if self.position_embedding_type not in ("absolute", "rotary"):
      raise ValueError("position_embedding_type must be 'absolute' or 'rotary', "
                       f"got {self.position_embedding_type!r}")
    if self.position_ids not in ("sequential", "padding_aware"):
      raise ValueError("position_ids must be 'sequential' or 'padding_aware', "
                       f"got {self.position_ids!r}")
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    self.word_embeddings = _embed(self.vocab_size, self.hidden_size,
                                  ("vocab", "embed"), name="word_embeddings", **kw)
    if self.position_embedding_type == "absolute":
      self.position_embeddings = _embed(
          self.max_position_embeddings, self.hidden_size, ("positions", "embed"),
          name="position_embeddings", **kw)
    if self.type_vocab_size:
      self.token_type_embeddings = _embed(
          self.type_vocab_size, self.hidden_size, ("token_types", "embed"),
          name="token_type_embeddings", **kw)
    if self.emb_layer_norm_before:
      self.embeddings_norm = transformer.layer_norm(
          self.layer_norm_eps, name="embeddings_norm", **kw)
    self.embedding_dropout = nn.Dropout(self.embedding_dropout_rate)
    self.encoder = transformer.TransformerEncoder(
        num_layers=self.num_layers, num_heads=self.num_heads,
        intermediate_size=self.intermediate_size, pre_norm=self.pre_norm,
        final_norm=self.emb_layer_norm_after,
        rotary=self.position_embedding_type == "rotary",
        dropout_rate=self.dropout_rate,
        attention_dropout_rate=self.attention_dropout_rate,
        layer_norm_eps=self.layer_norm_eps, remat=self.remat, name="encoder", **kw)
    if self.mlm_head:
      self.lm_head = MaskedLMHead(self.vocab_size, self.layer_norm_eps,
                                  name="lm_head", **kw)
      if not self.tie_word_embeddings:
        self.decoder = nn.Dense(
            self.vocab_size, use_bias=False, name="decoder", **kw,
            kernel_init=_named(nn.initializers.normal(0.02), "embed", "vocab"))

  def embed(self, input_ids: Array, token_type_ids: Array | None = None, *,
            train: bool = False) -> Array:
    """``int[batch, length] -> [batch, length, hidden]`` (the encoder's input)."""
    x = self.word_embeddings(input_ids)
    if self.token_dropout:
      is_mask = input_ids == self.mask_token_id
      x = jnp.where(is_mask[..., None], 0.0, x).astype(x.dtype)
      observed = is_mask.sum(-1) / input_ids.shape[1]
      x = x * ((1.0 - ESM_MASK_RATIO_TRAIN) / (1.0 - observed))[:, None, None].astype(x.dtype)
    if self.position_embedding_type == "absolute":
      if self.position_ids == "sequential":
        positions = jnp.arange(input_ids.shape[1])[None, :]
      else:
        real = (input_ids != self.pad_token_id).astype(jnp.int32)
        positions = jnp.cumsum(real, axis=1) * real + self.pad_token_id
      x = x + self.position_embeddings(positions)
    if self.type_vocab_size:
      if token_type_ids is None:
        token_type_ids = jnp.zeros_like(input_ids)
      x = x + self.token_type_embeddings(token_type_ids)
    if self.emb_layer_norm_before:
      x = self.embeddings_norm(x)
    return self.embedding_dropout(x, deterministic=not train)

  def encode(self, input_ids: Array, attention_mask: Array | None = None,
             token_type_ids: Array | None = None, *,
             train: bool = False) -> tuple[Array, tuple[Array, ...]]:
    """``(last_hidden_state, hidden_states)``, as ``TransformerEncoder`` returns."""
    x = self.embed(input_ids, token_type_ids, train=train)
    return self.encoder(x, attention_mask, train=train)

  def __call__(self, input_ids: Array, attention_mask: Array | None = None,
               token_type_ids: Array | None = None, *,
               train: bool = False) -> dict[str, Any]:
    """Runs the model on ``int[batch, length]`` token ids.

    Args:
      input_ids: token ids.
      attention_mask: ``[batch, length]`` 1 for tokens, 0 for padding (default:
        all tokens).
      token_type_ids: segment ids (BERT); zeros by default.
      train: dropout on.

    Returns:
      ``{"logits": [batch, length, vocab], "hidden_states": (...)}``, the hidden
      states ordered as Hugging Face's ``output_hidden_states`` (embedding output
      first, then each layer; with ``emb_layer_norm_after`` the last one is
      normalised). No ``logits`` without the MLM head.
    """
    last, hidden_states = self.encode(input_ids, attention_mask, token_type_ids,
                                      train=train)
    outputs = {"hidden_states": hidden_states}
    if self.mlm_head:
      decoder = (self.word_embeddings.attend if self.tie_word_embeddings
                 else self.decoder)
      outputs["logits"] = self.lm_head(last, decoder)
    return outputs


Model = LanguageModel


def language_model(preset: str = "dnabert", **overrides: Any) -> LanguageModel:
  """A ``LanguageModel`` from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise ValueError(f"unknown preset {preset!r}; presets: {sorted(PRESETS)}")
  return LanguageModel(**{**PRESETS[preset], **overrides})


# ---------------------------------------------------------------------------
# Hugging Face configs and state dicts -> LanguageModel and Flax variables.
# ---------------------------------------------------------------------------

_REQUIRED = ("vocab_size", "hidden_size", "num_hidden_layers",
             "num_attention_heads", "intermediate_size")


def _common_fields(config: Mapping[str, Any], family: str) -> dict[str, Any]:
  missing = [k for k in _REQUIRED if config.get(k) is None]
  if missing:
    raise ValueError(f"{family} config.json lacks {missing}")
  act = config.get("hidden_act", "gelu")
  if act != "gelu":
    raise ValueError(f"hidden_act={act!r} is not supported (only 'gelu', exact erf)")
  return dict(
      vocab_size=int(config["vocab_size"]), hidden_size=int(config["hidden_size"]),
      num_layers=int(config["num_hidden_layers"]),
      num_heads=int(config["num_attention_heads"]),
      intermediate_size=int(config["intermediate_size"]),
      dropout_rate=float(config.get("hidden_dropout_prob", 0.1)),
      attention_dropout_rate=float(config.get("attention_probs_dropout_prob", 0.1)),
      tie_word_embeddings=bool(config.get("tie_word_embeddings", True)))


def bert_fields(config: Mapping[str, Any]) -> dict[str, Any]:
  """``LanguageModel`` fields from a ``BertConfig`` dict (BertConfig's defaults
  for what DNABERT's shorter config.json leaves out)."""
  position_type = config.get("position_embedding_type", "absolute")
  if position_type != "absolute":
    raise ValueError(f"position_embedding_type={position_type!r} is not supported "
                     "for BERT (only 'absolute')")
  fields = _common_fields(config, "BERT")
  return dict(
      fields, max_position_embeddings=int(config.get("max_position_embeddings", 512)),
      type_vocab_size=int(config.get("type_vocab_size", 2)),
      pad_token_id=int(config.get("pad_token_id", 0) or 0),
      layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),
      embedding_dropout_rate=fields["dropout_rate"])


def esm_fields(config: Mapping[str, Any]) -> dict[str, Any]:
  """``LanguageModel`` fields from an ``EsmConfig`` dict (EsmConfig's defaults)."""
  position_type = config.get("position_embedding_type", "absolute")
  if position_type not in ("absolute", "rotary"):
    raise ValueError(f"position_embedding_type={position_type!r} is not supported "
                     "for ESM (only 'absolute' or 'rotary')")
  fields = dict(
      _common_fields(config, "ESM"),
      max_position_embeddings=int(config.get("max_position_embeddings", 1026)),
      position_embedding_type=position_type, position_ids="padding_aware",
      type_vocab_size=0, pre_norm=True,
      emb_layer_norm_before=bool(config.get("emb_layer_norm_before")),
      emb_layer_norm_after=bool(config.get("emb_layer_norm_after", True)),
      token_dropout=bool(config.get("token_dropout", False)),
      layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),
      embedding_dropout_rate=0.0)
  for key in ("pad_token_id", "mask_token_id"):
    needed = key == "mask_token_id" and fields["token_dropout"] or (
        key == "pad_token_id" and position_type == "absolute")
    if config.get(key) is None:
      if needed:
        raise ValueError(f"ESM config.json lacks {key!r}, which "
                         f"{'token_dropout' if key == 'mask_token_id' else 'absolute positions'} need")
      continue
    fields[key] = int(config[key])
  return fields


def _dense(key: str) -> list[tuple[str, tuple[str, ...], Callable]]:
  """A PyTorch Linear ``[out, in]`` + bias -> Flax Dense ``[in, out]`` + bias."""
  return [(f"{key}.weight", ("kernel",), lambda w, shape: w.T),
          (f"{key}.bias", ("bias",), None)]


def _norm(key: str) -> list[tuple[str, tuple[str, ...], Callable]]:
  return [(f"{key}.weight", ("scale",), None), (f"{key}.bias", ("bias",), None)]


def _under(path: tuple[str, ...], entries):
  return [(key, path + sub, fn) for key, sub, fn in entries]


def _attention(key: str, query_key: str) -> list:
  """q/k/v ``[H*D, E]`` -> ``[E, H, D]``; output ``[E, H*D]`` -> ``[H, D, E]``."""
  entries = []
  for name in ("query", "key", "value"):
    entries += [(f"{query_key}.{name}.weight", (name, "kernel"),
                 lambda w, shape: w.T.reshape(shape)),
                (f"{query_key}.{name}.bias", (name, "bias"),
                 lambda b, shape: b.reshape(shape))]
  entries += [(f"{key}.weight", ("output", "kernel"),
               lambda w, shape: w.T.reshape(shape)),
              (f"{key}.bias", ("output", "bias"), None)]
  return entries


def _layer_table(model: LanguageModel, layer_key: str, esm: bool) -> list:
  table = []
  for i in range(model.num_layers):
    hf = f"{layer_key}.{i}"
    ours = ("encoder", f"layer_{i}")
    table += _under(ours + ("attention",), _attention(
        f"{hf}.attention.output.dense", f"{hf}.attention.self"))
    norm_after_attention = "attention.LayerNorm" if esm else "attention.output.LayerNorm"
    norm_before_mlp = "LayerNorm" if esm else "output.LayerNorm"
    table += _under(ours + ("attention_norm",), _norm(f"{hf}.{norm_after_attention}"))
    table += _under(ours + ("mlp_in",), _dense(f"{hf}.intermediate.dense"))
    table += _under(ours + ("mlp_out",), _dense(f"{hf}.output.dense"))
    table += _under(ours + ("mlp_norm",), _norm(f"{hf}.{norm_before_mlp}"))
  return table


def _bert_table(model: LanguageModel) -> list:
  table = [("bert.embeddings.word_embeddings.weight", ("word_embeddings", "embedding"), None),
           ("bert.embeddings.position_embeddings.weight",
            ("position_embeddings", "embedding"), None)]
  if model.type_vocab_size:
    table.append(("bert.embeddings.token_type_embeddings.weight",
                  ("token_type_embeddings", "embedding"), None))
  table += _under(("embeddings_norm",), _norm("bert.embeddings.LayerNorm"))
  table += _layer_table(model, "bert.encoder.layer", esm=False)
  if model.mlm_head:
    table += _under(("lm_head", "dense"), _dense("cls.predictions.transform.dense"))
    table += _under(("lm_head", "norm"), _norm("cls.predictions.transform.LayerNorm"))
    table.append(("cls.predictions.bias", ("lm_head", "bias"), None))
  return table


def _esm_table(model: LanguageModel) -> list:
  table = [("esm.embeddings.word_embeddings.weight", ("word_embeddings", "embedding"), None)]
  if model.position_embedding_type == "absolute":
    table.append(("esm.embeddings.position_embeddings.weight",
                  ("position_embeddings", "embedding"), None))
  if model.emb_layer_norm_before:
    table += _under(("embeddings_norm",), _norm("esm.embeddings.layer_norm"))
  table += _layer_table(model, "esm.encoder.layer", esm=True)
  if model.emb_layer_norm_after:
    table += _under(("encoder", "final_norm"), _norm("esm.encoder.emb_layer_norm_after"))
  if model.mlm_head:
    table += _under(("lm_head", "dense"), _dense("lm_head.dense"))
    table += _under(("lm_head", "norm"), _norm("lm_head.layer_norm"))
    table.append(("lm_head.bias", ("lm_head", "bias"), None))
  return table


def _normalise_keys(state_dict: Mapping[str, Any], prefix: str) -> dict[str, np.ndarray]:
  """Adds the ``bert.`` / ``esm.`` prefix of a bare ``BertModel`` / ``EsmModel``
  and renames old ``LayerNorm.gamma/beta`` keys, as ``from_pretrained`` does."""
  out = {}
  head_prefixes = ("cls.", "lm_head.")
  for key, value in state_dict.items():
    if not key.startswith(prefix) and not key.startswith(head_prefixes):
      key = prefix + key
    if key.endswith(".gamma"):
      key = key[:-len("gamma")] + "weight"
    elif key.endswith(".beta"):
      key = key[:-len("beta")] + "bias"
    out[key] = np.asarray(value)
  return out


def _set(tree: dict, path: tuple[str, ...], value: np.ndarray) -> None:
  for name in path[:-1]:
    tree = tree.setdefault(name, {})
  tree[path[-1]] = value


def _convert(model: LanguageModel, table: list, state_dict: dict[str, np.ndarray]
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
  abstract = jax.eval_shape(
      lambda: model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2), jnp.int32)))
  shapes = nn.unbox(abstract)["params"]
  params: dict[str, Any] = {}
  remaining = dict(state_dict)
  for key, path, fn in table:
    if key not in remaining:
      raise KeyError(f"state dict lacks {key!r} (needed for params/{'/'.join(path)})")
    value = remaining.pop(key)
    want = shapes
    for name in path:
      want = want[name]
    want = tuple(want.shape)
    try:
      value = value if fn is None else fn(value, want)
    except ValueError:
      pass  # reshape failure: reported as a shape mismatch below
    if tuple(value.shape) != want:
      raise ValueError(f"{key!r} has shape {tuple(np.shape(state_dict[key]))}, which does "
                       f"not fit params/{'/'.join(path)} {want} of the model the config "
                       "describes")
    _set(params, path, np.asarray(value, np.float32).astype(model.param_dtype))
  return {"params": params}, remaining


def _check_tied(model: LanguageModel, remaining: dict[str, np.ndarray],
                params: dict[str, Any], decoder_key: str, bias_key: str) -> None:
  """The decoder is the word embedding (and its bias the head's bias), unless untied."""
  if not model.mlm_head:
    return
  weight = remaining.pop(decoder_key, None)
  bias = remaining.pop(bias_key, None)
  embedding = params["word_embeddings"]["embedding"]
  if model.tie_word_embeddings:
    if weight is not None and not np.array_equal(weight, embedding):
      raise ValueError(f"{decoder_key!r} differs from the word embeddings but the config "
                       "ties them (tie_word_embeddings); pass tie_word_embeddings=False")
  else:
    if weight is None:
      raise KeyError(f"state dict lacks {decoder_key!r} (untied decoder)")
    params["decoder"] = {"kernel": np.asarray(weight, np.float32).T}
  if bias is not None and not np.array_equal(bias, params["lm_head"]["bias"]):
    raise ValueError(f"{bias_key!r} differs from the MLM head's bias")


def _build(family: str, fields: dict[str, Any], state_dict: Mapping[str, Any],
           overrides: dict[str, Any]) -> tuple[LanguageModel, dict[str, Any]]:
  prefix = "bert." if family == "bert" else "esm."
  state = _normalise_keys(state_dict, prefix)
  head_keys = ("cls.predictions.bias",) if family == "bert" else ("lm_head.bias",)
  fields = dict(fields, mlm_head=any(k in state for k in head_keys), **overrides)
  model = LanguageModel(**fields)
  table = _bert_table(model) if family == "bert" else _esm_table(model)
  variables, remaining = _convert(model, table, state)
  if family == "bert":
    _check_tied(model, remaining, variables["params"],
                "cls.predictions.decoder.weight", "cls.predictions.decoder.bias")
    unused = ("bert.pooler.", "cls.seq_relationship.", "bert.embeddings.position_ids")
  else:
    _check_tied(model, remaining, variables["params"], "lm_head.decoder.weight",
                "lm_head.decoder.bias")
    unused = ("esm.contact_head.", "esm.embeddings.position_ids")
    head_dim = model.hidden_size // model.num_heads
    expected = 10000.0 ** (-np.arange(0, head_dim, 2) / head_dim)
    for key in [k for k in remaining if k.endswith("rotary_embeddings.inv_freq")]:
      if not np.allclose(remaining.pop(key), expected, rtol=1e-5):
        raise ValueError(f"{key!r} is not 10000^(-2i/{head_dim}); other rotary bases "
                         "are not supported")
  leftover = sorted(k for k in remaining if not k.startswith(unused))
  if leftover:
    raise ValueError(f"state dict keys not used by the {family.upper()} model the "
                     f"config describes: {leftover}")
  return model, variables


def load_hf_bert(config: Mapping[str, Any], state_dict: Mapping[str, Any],
                 **overrides: Any) -> tuple[LanguageModel, dict[str, Any]]:
  """A ``BertForMaskedLM`` (or ``BertModel``) checkpoint as ``(module, variables)``.

  Args:
    config: the Hugging Face ``config.json`` as a dict (DNABERT's released ones
      are ``BertForMaskedLM``).
    state_dict: ``{key: numpy array}`` in PyTorch layouts; ``bert.``-less keys (a
      bare ``BertModel``) are accepted, pooler and NSP weights ignored.
    **overrides: ``LanguageModel`` fields that win over the config (``dtype``,
      ``remat``, dropout rates ...).

  Returns:
    ``(module, variables)``; ``module.apply(variables, input_ids, attention_mask,
    token_type_ids)`` gives ``{"logits", "hidden_states"}`` as Hugging Face does.
  """
  return _build("bert", bert_fields(config), state_dict, overrides)


def load_hf_esm(config: Mapping[str, Any], state_dict: Mapping[str, Any],
                **overrides: Any) -> tuple[LanguageModel, dict[str, Any]]:
  """An ``EsmForMaskedLM`` (or ``EsmModel``) checkpoint as ``(module, variables)``.

  ESM-1b and ESM-2 alike: ``position_embedding_type``, ``emb_layer_norm_before``,
  ``token_dropout`` come from the config (an ``emb_layer_norm_after`` entry, absent
  from Hugging Face's configs, may turn the final LayerNorm off). The contact head
  is ignored; rotary ``inv_freq`` buffers are checked, not loaded.

  Args and returns as ``load_hf_bert``.
  """
  return _build("esm", esm_fields(config), state_dict, overrides)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
  """A Hugging Face weights file as ``{key: float32 numpy array}``.

  ``.safetensors`` needs the ``safetensors`` package (``pip install
  'genereg-jax[hf]'``); a sharded ``*.index.json`` reads every shard it names;
  anything else is read as a ``torch.save`` file (``pytorch_model.bin``), which
  needs PyTorch, imported only here.
  """
  path = os.fspath(path)
  if path.endswith(".index.json"):
    with open(path) as f:
      shards = sorted(set(json.load(f)["weight_map"].values()))
    state: dict[str, np.ndarray] = {}
    for shard in shards:
      state.update(read_checkpoint(os.path.join(os.path.dirname(path), shard)))
    return state
  if path.endswith(".safetensors"):
    try:
      from safetensors import safe_open  # pylint: disable=g-import-not-at-top
    except ImportError:
      raise ImportError(f"reading {path} needs the safetensors package: "
                        "pip install 'genereg-jax[hf]' (or pip install "
                        "safetensors)") from None
    # The flax reader keeps bfloat16 tensors, which NumPy cannot hold.
    with safe_open(path, framework="flax") as f:
      return {k: np.asarray(f.get_tensor(k), np.float32) for k in f.keys()}
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError(f"reading {path} (a PyTorch checkpoint) needs torch: pip "
                      "install torch, or convert it to .safetensors") from None
  state = torch.load(path, map_location="cpu", weights_only=True)
  return {k: v.detach().float().numpy() for k, v in state.items()
          if hasattr(v, "detach")}


def load_pretrained(path: str | os.PathLike[str],
                    **overrides: Any) -> tuple[LanguageModel, dict[str, Any]]:
  """A Hugging Face checkpoint directory (``config.json`` + weights) as
  ``(module, variables)``; ``model_type`` "bert" or "esm" picks the loader.

  Weights: ``model.safetensors``, ``model.safetensors.index.json`` or
  ``pytorch_model.bin``, the first found.
  """
  path = os.fspath(path)
  with open(os.path.join(path, "config.json")) as f:
    config = json.load(f)
  names = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
  found = [n for n in names if os.path.exists(os.path.join(path, n))]
  if not found:
    raise FileNotFoundError(f"no {', '.join(names)} in {path}")
  state_dict = read_checkpoint(os.path.join(path, found[0]))
  loaders = {"bert": load_hf_bert, "esm": load_hf_esm}
  model_type = config.get("model_type")
  if model_type is None:  # DNABERT's config.json names only the architecture.
    architectures = " ".join(config.get("architectures", ()))
    model_type = next((t for t in loaders if t in architectures.lower()), None)
  if model_type not in loaders:
    raise ValueError(f"{path}/config.json: model_type={model_type!r}; supported: "
                     f"{sorted(loaders)}")
  return loaders[model_type](config, state_dict, **overrides)
