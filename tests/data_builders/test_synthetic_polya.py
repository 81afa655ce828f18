"""``synthetic_polya``: the planted grammar is the whole truth (labels, strengths, usage
and pair labels follow it), builds are deterministic, and the records fit the models."""

import re

import numpy as np
import tensorflow_datasets as tfds

from data_builders import synthetic_polya as sp
from data_builders.synthetic_polya import synthetic_polya as module
from genereg_jax.data import encoding

_HEX = re.compile("(?=(" + "|".join(sp.HEXAMERS) + "))")
_GU = re.compile("(?=(TGTGT|GTGTG))")


def _text(one_hot):
  return encoding.decode_dna(np.asarray(one_hot))


def test_pas_windows_follow_the_grammar():
  for index in range(200):
    record = sp.pas_window(sp.example_rng(0, "train", index), positive=bool(index % 2))
    text = _text(record["sequence"])
    assert len(text) == 206
    # The only hexamer variant is the planted one at 100 (Dragon layout).
    assert [m.start() for m in _HEX.finditer(text)] == [100]
    assert text[100:106] == record["hexamer"]
    gu = [m.start() for m in _GU.finditer(text)]
    start = int(record["dse_start"])
    if record["label"] == 1:
      # A GU-rich element 5-25 nt past a cleavage site 16-28 nt after the hexamer.
      assert 100 + 16 + 5 <= start <= 100 + 28 + 25 and gu and min(gu) >= start
    elif start < 0:
      assert not gu  # No element anywhere.
    else:
      assert start < 100 and max(gu) < 100  # The decoy is upstream.


def test_site_strength_and_usage_are_the_documented_functions():
  config = sp.SyntheticPolyAConfig(name="t", kind="usage", window=120, max_pas=4)
  rng = sp.example_rng(0, "train", 1)
  for _ in range(30):
    sites = sp.sample_gene(rng, config)
    assert 2 <= len(sites) <= 4
    for site in sites:
      text = site.sequence
      hexamers = [m.start() for m in _HEX.finditer(text)]
      if site.hexamer is None:
        assert not hexamers
      else:
        assert hexamers == [60 - site.distance] and text[hexamers[0]:][:6] == site.hexamer
      want = sp.hexamer_term(site.hexamer, site.distance or 0) + 0.6 * (site.dse_start is not None)
      assert abs(site.strength - want) < 1e-9
    usage = sp.gene_usage(np.array([s.strength for s in sites]))
    logits = 3.0 * np.array([s.strength for s in sites]) + 0.4 * np.arange(len(sites))
    np.testing.assert_allclose(usage, np.exp(logits) / np.exp(logits).sum())
  assert sp.hexamer_term("AATAAA", 21) == 1.0
  assert sp.hexamer_term("AATAAA", 33) < 0.02 and sp.hexamer_term("ATTAAA", 21) == 0.8


def test_small_builds_are_deterministic_and_padded(tmp_path):
  def build(name, **fields):
    config = sp.SyntheticPolyAConfig(name=name, num_train=12, num_valid=4, num_test=4,
                                     **fields)
    builder = sp.SyntheticPolyA(config=config, data_dir=str(tmp_path / name))
    builder.download_and_prepare(file_format="array_record")
    return list(builder.as_data_source(split="train"))

  usage = build("u", kind="usage", window=100, max_pas=4)
  again = sp.gene_record(sp.sample_gene(sp.example_rng(0, "train", 3), sp.SyntheticPolyAConfig(
      name="u", kind="usage", window=100, max_pas=4)), 4, 100, "x")
  np.testing.assert_array_equal(usage[3]["sequence"], again["sequence"])
  for record in usage:
    count = int(record["pas_mask"].sum())
    assert record["sequence"].shape == (4, 100, 4)
    assert record["usage"][:count].sum() == np.float32(record["usage"].sum())
    assert abs(record["usage"].sum() - 1) < 1e-5 and not record["sequence"][count:].any()
  pairs = build("p", kind="pairs", window=100, max_pas=4)
  for record in pairs:
    assert record["sequence"].shape == (2, 100, 4)
    assert abs(record["usage"][0] - record["usage"][1]) > 0.05
    assert record["label"] == int(record["usage"][0] > record["usage"][1])
  pas = build("w")
  assert [int(r["label"]) for r in pas] == [i % 2 for i in range(12)]


def test_registered_configs():
  names = {c.name for c in sp.SyntheticPolyA.BUILDER_CONFIGS}
  assert {"pas", "pas_mouse", "tiny_pas", "usage", "tiny_usage", "pairs", "tiny_pairs"} <= names
  assert module.MOUSE_HEXAMER_MIX.sum() == np.float64(module.MOUSE_HEXAMER_MIX.sum())
  assert tfds.builder("synthetic_polya/usage", data_dir="/nonexistent").builder_config.window == 455
