"""DNABERT / ESM language models: Hugging Face parity, checkpoint files, presets."""

import json

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import load_fixture
from genereg_jax.models import get_model
from genereg_jax.models import language

TOL = 1e-4


@pytest.fixture(scope="module")
def bert():
  d = load_fixture("hf_bert_mlm.npz")
  config = json.loads(str(d["config_json"]))["bert"]
  state_dict = {k[3:]: v for k, v in d.items() if k.startswith("sd/")}
  return d, config, state_dict


@pytest.fixture(scope="module")
def esm():
  d = load_fixture("hf_esm_mlm.npz")
  configs = json.loads(str(d["config_json"]))["styles"]
  state_dicts = {s: {k[len(f"sd_{s}/"):]: v for k, v in d.items()
                     if k.startswith(f"sd_{s}/")} for s in configs}
  return d, configs, state_dicts


def _max_diffs(model, variables, d, prefix, **inputs):
  out, state = model.apply(variables, **inputs, mutable=["attention_weights"])
  diffs = {"logits": np.abs(out["logits"] - d[f"{prefix}logits"]).max(),
           "hidden_states": np.abs(np.stack(out["hidden_states"])
                                   - d[f"{prefix}hidden_states"]).max()}
  if f"{prefix}attentions" in d:
    weights = [state["attention_weights"]["encoder"][f"layer_{i}"]["attention"]["weights"][0]
               for i in range(model.num_layers)]
    diffs["attentions"] = np.abs(np.stack(weights) - d[f"{prefix}attentions"]).max()
  return diffs


def test_bert_parity_with_transformers(bert):
  d, config, state_dict = bert
  model, variables = language.load_hf_bert(config, state_dict)
  assert (model.pre_norm, model.position_embedding_type, model.mlm_head) == (
      False, "absolute", True)
  diffs = _max_diffs(model, variables, d, "", input_ids=d["input_ids"],
                     attention_mask=d["attention_mask"],
                     token_type_ids=d["token_type_ids"])
  assert max(diffs.values()) < TOL, diffs
  # The tied decoder is read from the word embeddings (safetensors drops tied copies).
  shared = {k: v for k, v in state_dict.items() if not k.startswith("cls.predictions.decoder")}
  model2, variables2 = language.load_hf_bert(config, shared)
  np.testing.assert_array_equal(
      model2.apply(variables2, d["input_ids"], d["attention_mask"])["logits"],
      model.apply(variables, d["input_ids"], d["attention_mask"])["logits"])


@pytest.mark.parametrize("style", ["esm1b", "esm2", "esm2_tokdrop"])
def test_esm_parity_with_transformers(esm, style):
  d, configs, state_dicts = esm
  base = style.split("_")[0]
  # token_dropout as an explicit override wins over the config's False.
  overrides = {"token_dropout": True} if style.endswith("tokdrop") else {}
  model, variables = language.load_hf_esm(configs[base], state_dicts[base], **overrides)
  assert model.position_embedding_type == ("absolute" if base == "esm1b" else "rotary")
  assert model.token_dropout == style.endswith("tokdrop")
  diffs = _max_diffs(model, variables, d, f"{style}_", input_ids=d["input_ids"],
                     attention_mask=d["attention_mask"])
  assert max(diffs.values()) < TOL, diffs
  # hidden_states[-1] is emb_layer_norm_after(last layer): the raw output differs.
  assert np.abs(d[f"{style}_layer_outputs"][-1] - d[f"{style}_hidden_states"][-1]).max() > 0.1


def test_checkpoint_directory_round_trip(bert, esm, tmp_path):
  from safetensors.numpy import save_file
  d, config, state_dict = bert
  (tmp_path / "bert").mkdir()
  # DNABERT's own config.json names no model_type, only the architecture.
  (tmp_path / "bert" / "config.json").write_text(
      json.dumps({**config, "architectures": ["BertForMaskedLM"]}))
  save_file({k: np.ascontiguousarray(v) for k, v in state_dict.items()
             if k != "cls.predictions.decoder.weight"},
            str(tmp_path / "bert" / "model.safetensors"))
  model, variables = language.load_pretrained(tmp_path / "bert")
  out = model.apply(variables, d["input_ids"], d["attention_mask"], d["token_type_ids"])
  assert np.abs(out["logits"] - d["logits"]).max() < TOL

  e, configs, state_dicts = esm
  (tmp_path / "esm").mkdir()
  (tmp_path / "esm" / "config.json").write_text(json.dumps({**configs["esm2"],
                                                            "model_type": "esm"}))
  save_file(state_dicts["esm2"], str(tmp_path / "esm" / "model.safetensors"))
  model, variables = language.load_pretrained(tmp_path / "esm")
  out = model.apply(variables, e["input_ids"], e["attention_mask"])
  assert np.abs(out["logits"] - e["esm2_logits"]).max() < TOL


def test_errors_name_the_key(bert, esm):
  _, config, state_dict = bert
  with pytest.raises(ValueError, match=r"lacks \['num_attention_heads'\]"):
    language.load_hf_bert({k: v for k, v in config.items()
                           if k != "num_attention_heads"}, state_dict)
  with pytest.raises(ValueError, match="'bert.encoder.layer.0.intermediate.dense.weight' "
                     r"has shape \(64, 32\).*params/encoder/layer_0/mlp_in/kernel \(32, 48\)"):
    language.load_hf_bert({**config, "intermediate_size": 48}, state_dict)
  with pytest.raises(KeyError, match="lacks 'bert.encoder.layer.1.output.LayerNorm.bias'"):
    language.load_hf_bert(config, {k: v for k, v in state_dict.items()
                                   if k != "bert.encoder.layer.1.output.LayerNorm.bias"})
  with pytest.raises(ValueError, match=r"not used .*\['bert.encoder.layer.2.x'\]"):
    language.load_hf_bert(config, {**state_dict, "bert.encoder.layer.2.x": np.zeros(1)})
  with pytest.raises(ValueError, match="hidden_act='relu'"):
    language.load_hf_bert({**config, "hidden_act": "relu"}, state_dict)
  _, configs, state_dicts = esm
  with pytest.raises(ValueError, match="lacks 'mask_token_id'"):
    language.load_hf_esm({**{k: v for k, v in configs["esm2"].items() if k != "mask_token_id"},
                          "token_dropout": True}, state_dicts["esm2"])
  # emb_layer_norm_after=False leaves that LayerNorm unread.
  with pytest.raises(ValueError, match="esm.encoder.emb_layer_norm_after.bias"):
    language.load_hf_esm({**configs["esm1b"], "emb_layer_norm_after": False},
                         state_dicts["esm1b"])


def test_bare_encoder_without_head(bert):
  d, config, state_dict = bert
  bare = {k[len("bert."):]: v for k, v in state_dict.items() if k.startswith("bert.")}
  model, variables = language.load_hf_bert(config, bare)
  out = model.apply(variables, d["input_ids"], d["attention_mask"])
  assert "logits" not in out
  np.testing.assert_allclose(np.stack(out["hidden_states"]), d["hidden_states"], atol=TOL)


def _count(model):
  shapes = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0),
                                             jnp.zeros((1, 8), jnp.int32)))
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(nn.unbox(shapes)))


def test_paper_presets():
  # DNABERT-6, BERT-base with 4,101 tokens and no pooler: embeddings 3,545,856 +
  # 12 layers x 7,087,872 + MLM head 596,229 (tied decoder).
  assert _count(language.language_model("dnabert")) == 89_196_549
  # ESM-1b: 1,358,080 embeddings + 33 x 19,677,440 + 2,560 final LayerNorm + 1,642,273
  # head; fair-esm's 650M model also has a 661-parameter contact head.
  assert _count(language.language_model("esm1b")) == 652_358_433
  assert get_model("language", "esm2_8m").position_embedding_type == "rotary"
  with pytest.raises(ValueError, match="presets"):
    language.language_model("bert_huge")


def test_tiny_trains_a_masked_token():
  model = get_model("language", "dnabert_tiny", {"dropout_rate": 0.0,
                                                 "embedding_dropout_rate": 0.0,
                                                 "attention_dropout_rate": 0.0})
  ids = jnp.asarray(np.random.RandomState(0).randint(5, 69, (2, 12)), jnp.int32)
  variables = model.init(jax.random.PRNGKey(0), ids)
  inputs = ids.at[:, 4].set(4)

  def loss(params):
    logits = model.apply({"params": params}, inputs)["logits"][:, 4]
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(2), ids[:, 4]])

  @jax.jit
  def step(params):
    return jax.tree.map(lambda p, g: p - 0.5 * g, params, jax.grad(loss)(params))

  params = nn.unbox(variables)["params"]
  before = loss(params)
  for _ in range(20):
    params = step(params)
  assert loss(params) < 0.5 * before


def test_checkpoint_reader_keeps_bfloat16_and_names_missing_torch(tmp_path):
  import importlib.util
  from safetensors.flax import save_file
  path = tmp_path / "w.safetensors"
  save_file({"a": jnp.asarray([0.5, -2.0, 3.0], jnp.bfloat16)}, str(path))
  read = language.read_checkpoint(path)
  assert read["a"].dtype == np.float32
  np.testing.assert_array_equal(read["a"], [0.5, -2.0, 3.0])
  if importlib.util.find_spec("torch") is None:
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ImportError, match="needs torch"):
      language.read_checkpoint(tmp_path / "pytorch_model.bin")
