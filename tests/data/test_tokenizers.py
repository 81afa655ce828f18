"""DNABERT k-mers, the ESM alphabet and A3M rows, checked against the released orders."""

import json

import numpy as np
import pytest

from conftest import load_fixture
from genereg_jax.data import tokenizers
from genereg_jax.files import InputFormatError


def test_dnabert_vocab_is_the_released_order():
  vocab = tokenizers.dnabert_vocab(6)
  assert len(vocab) == 4101
  # First and last lines of DNABERT's bert-config-6/vocab.txt.
  assert vocab[:9] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAAAAA",
                       "AAAAAT", "AAAAAC", "AAAAAG"]
  assert vocab[-1] == "GGGGGG" and vocab[5 + 4**5] == "TAAAAA"
  assert tokenizers.dnabert_vocab(3) == list(load_fixture("hf_bert_mlm.npz")["vocab"])
  with pytest.raises(ValueError, match="one of"):
    tokenizers.dnabert_vocab(7)


def test_kmer_tokens_reproduce_the_fixture_inputs():
  d = load_fixture("hf_bert_mlm.npz")
  tok = tokenizers.KmerTokenizer(3)
  batch = tok.batch_encode(json.loads(str(d["dna_json"])), max_length=20)
  ids = batch["input_ids"]
  is_mask = d["input_ids"] == tok.mask_id
  np.testing.assert_array_equal(np.where(is_mask, tok.mask_id, ids), d["input_ids"])
  np.testing.assert_array_equal(batch["attention_mask"], d["attention_mask"])


@pytest.mark.parametrize("k", tokenizers.KMER_SIZES)
def test_vectorised_ids_equal_the_vocab_lookup(k):
  tok = tokenizers.KmerTokenizer(k)
  seq = "".join(np.random.RandomState(k).choice(list("ACGTacgtN"), 300))
  expected = [tok.vocab.index(m) if m in tok.vocab else tok.unk_id
              for m in (x.upper() for x in tok.kmers(seq))]
  np.testing.assert_array_equal(tok.kmer_ids(seq), expected)
  assert tok.unk_id in expected  # the N k-mers
  encoded = tok.encode(seq.replace("T", "U"))
  assert encoded[0] == tok.cls_id and encoded[-1] == tok.sep_id
  np.testing.assert_array_equal(encoded[1:-1], expected)
  assert tok.decode(encoded[:2]) == ["[CLS]", tok.kmers(seq.upper())[0]
                                     if "N" not in seq[:k].upper() else "[UNK]"]
  assert len(tok.kmer_ids("ACG"[:k - 1])) == 0


def test_esm_alphabet_and_encoding():
  d = load_fixture("hf_esm_mlm.npz")
  assert tokenizers.ESM_ALPHABET == tuple(d["vocab"])
  tok = tokenizers.ProteinTokenizer()
  assert (tok.mask_id, tok.pad_id, tok.vocab_size) == (32, 1, 33)
  np.testing.assert_array_equal(tok.encode("mK<mask>J"), [0, 20, 15, 32, 3, 2])
  assert tok.decode(tok.encode("LAG")) == "<cls>LAG<eos>"
  # The fixture's inputs, rebuilt from their residues.
  rows = [tok.decode(r[1:][r[1:] != 1]).replace("<eos>", "") for r in d["input_ids"]]
  batch = tok.batch_encode(rows, max_length=18)
  np.testing.assert_array_equal(batch["input_ids"], d["input_ids"])
  np.testing.assert_array_equal(batch["attention_mask"], d["attention_mask"])
  with pytest.raises(ValueError, match="unknown special token '<sep>'"):
    tok.encode("A<sep>")


def test_a3m_rows_drop_insertions(tmp_path):
  path = tmp_path / "x.a3m"
  path.write_text("#A3M#\n>query desc\nMKV-LA\n>hit1\nMKaaV-L.A\n>hit2\nM\nKVwLLA\n")
  rows = tokenizers.read_a3m(path)
  assert rows == [("query", "MKV-LA"), ("hit1", "MKV-LA"), ("hit2", "MKVLLA")]
  assert tokenizers.read_a3m(path, max_sequences=2)[-1][0] == "hit1"
  msa = tokenizers.ProteinTokenizer().encode_msa([r for _, r in rows])
  assert msa.shape == (3, 7)
  np.testing.assert_array_equal(msa[:, 0], 0)  # <cls> per row, no <eos>
  assert tokenizers.ESM_ALPHABET[msa[0, 4]] == "-"
  path.write_text(">q\nMKV\n>bad\nMKVL\n")
  with pytest.raises(InputFormatError, match=r"x.a3m:3: row 'bad' has 4 match"):
    tokenizers.read_a3m(path)
  path.write_text("MKV\n")
  with pytest.raises(InputFormatError, match=r"x.a3m:1: sequence line before"):
    tokenizers.read_a3m(path)
