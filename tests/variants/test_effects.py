"""Parity of ``genereg_jax.variants.effects`` with tangermeme 1.6's variant_effect.

The reference is ``tests/fixtures/bpnet_variant_effects.npz`` (tangermeme on a
bpnet-lite BPNet; tests/fixtures/README.md); the same weights are converted to the
Flax BPNet and run through our functions on the same tables.
"""

import json

import jax
import numpy as np
import pytest

from conftest import fixture_path, load_fixture
from genereg_jax.models import bpnet as bpnet_lib
from genereg_jax.variants import effects

FIXTURE = "bpnet_variant_effects.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference():
  return load_fixture(FIXTURE)


@pytest.fixture(scope="module")
def model_fn(reference):
  trimming = json.loads(str(reference["config_json"]))["trimming"]
  model, params = bpnet_lib.load_bpnet_lite(fixture_path(FIXTURE), prefix="sd/",
                                            trimming=trimming)

  @jax.jit
  def fn(x, control):
    out = model.apply({"params": params}, x, control)
    # tangermeme's (profile [n, strands, L], counts) in PyTorch layout.
    return out["profile_logits"].transpose(0, 2, 1), out["log_counts"]
  return fn


def _last(x):
  return np.transpose(x, (0, 2, 1))


def _worst(ours, reference, call):
  diffs = {}
  for when, y in (("before", ours[0]), ("after", ours[1])):
    for part, value in zip(("profile", "counts"), y):
      expected = reference[f"{call}_y_{when}_{part}"]
      assert value.shape == expected.shape, (call, when, part)
      diffs[f"{when}_{part}"] = float(np.max(np.abs(np.asarray(value) - expected)))
  return diffs


@pytest.mark.parametrize("call", ["sub", "del", "del_left", "ins", "ins_left"])
def test_matches_tangermeme(reference, model_fn, call):
  rows = reference[f"{call}_example"]
  control = _last(reference["x_ctl"][rows])
  left = call.endswith("_left")
  if call == "sub":
    ours = effects.substitution_effect(model_fn, _last(reference["x"][rows]),
                                       reference["sub_substitutions"], args=(control,))
  elif call.startswith("del"):
    ours = effects.deletion_effect(model_fn, _last(reference[f"{call}_x_in"]),
                                   reference[f"{call}_deletions"], left=left,
                                   args=(control,))
  else:
    ours = effects.insertion_effect(model_fn, _last(reference["x"][rows]),
                                    reference[f"{call}_insertions"], left=left,
                                    args=(control,))
  diffs = _worst(ours, reference, call)
  assert max(diffs.values()) < TOLERANCE, diffs
  # The variant changes the prediction (so a no-op implementation would fail).
  assert np.abs(np.asarray(ours[1][0]) - np.asarray(ours[0][0])).max() > 1e-3


def _identity(x):
  return {"x": x}


def test_sequences_follow_tangermeme_construction(reference):
  """The mutated inputs equal the fixture's ``x_var`` exactly, for every call."""
  for call, function, table_key in (
      ("sub", effects.substitution_effect, "sub_substitutions"),
      ("del", effects.deletion_effect, "del_deletions"),
      ("del_left", effects.deletion_effect, "del_left_deletions"),
      ("ins", effects.insertion_effect, "ins_insertions"),
      ("ins_left", effects.insertion_effect, "ins_left_insertions")):
    rows = reference[f"{call}_example"]
    x = reference[f"{call}_x_in"] if call.startswith("del") else reference["x"][rows]
    kwargs = {} if call == "sub" else {"left": call.endswith("_left")}
    before, after = function(_identity, _last(x), reference[table_key], **kwargs)
    np.testing.assert_array_equal(np.asarray(after["x"]), _last(reference[f"{call}_x_var"]))
    np.testing.assert_array_equal(np.asarray(before["x"]), _last(reference["x"][rows]))


def test_structures_and_jit():
  """Tuple, dict and array outputs keep their structure, and the call traces in jit."""
  x = np.eye(4, dtype=np.float32)[np.arange(12) % 4][None].repeat(2, 0)
  fn = lambda s: (s.sum(1), {"first": s[:, 0]})
  before, after = jax.jit(lambda s: effects.substitution_effect(fn, s, [[1, 0, 3]]))(x)
  assert isinstance(before, tuple) and set(before[1]) == {"first"}
  np.testing.assert_array_equal(after[1]["first"][1], [0, 0, 0, 1])
  np.testing.assert_array_equal(after[1]["first"][0], [1, 0, 0, 0])
  _, after = effects.insertion_effect(lambda s: s, x, [[0, 2, 1], [0, 2, 3]])
  np.testing.assert_array_equal(np.asarray(after[0, :5]).argmax(-1), [0, 1, 3, 1, 2])


def test_vcf_scorer_on_bpnet_agrees_with_substitution_effect(reference, tmp_path):
  """Profile scores of the VCF path (log-count difference, JSD) for the fixture BPNet
  equal those computed from substitution_effect's y_before / y_after."""
  from genereg_jax.data import encoding
  from genereg_jax.data import genome as genome_lib
  from genereg_jax.variants import scoring
  model, params = bpnet_lib.load_bpnet_lite(fixture_path(FIXTURE), prefix="sd/")
  length = reference["x"].shape[-1]

  @jax.jit
  def fn(x):
    out = model.apply({"params": params}, x)  # Control: zeros (bpnet-lite's default).
    return {"profile_probs": jax.nn.softmax(out["profile_logits"], axis=1),
            "log_counts": out["log_counts"]}

  class Predictor:
    input_length, data_devices = length, 1

    def __call__(self, one_hot):
      return {k: np.asarray(v) for k, v in fn(one_hot.astype(np.float32)).items()}

    def output_names(self, name, size):
      return tuple(str(i) for i in range(size))

  chrom = encoding.decode_dna(_last(reference["x"])[0]) * 2
  (tmp_path / "g.fa").write_text(f">chr1\n{chrom}\n")
  pos, half = 3000, length // 2
  start = pos - 1 - half
  alt = "ACGT"[("ACGT".index(chrom[pos - 1]) + 2) % 4]
  line = f"chr1\t{pos}\t.\t{chrom[pos - 1]}\t{alt}\t.\t.\t.\n"
  with genome_lib.Genome(tmp_path / "g.fa") as genome:
    scorer = scoring.Scorer(Predictor(), genome, ["log_count_diff", "JSD"], batch_size=2)
    (row,), issues = scorer.score_records([(3, line, scoring.vcf.parse_fields(line))])
  assert issues == []
  x = encoding.one_hot_dna(chrom[start:start + length])[None].astype(np.float32)
  before, after = effects.substitution_effect(fn, x, [[0, half, "ACGT".index(alt)]])
  np.testing.assert_allclose(row.scores[("log_counts", "log_count_diff")],
                             np.asarray(after["log_counts"] - before["log_counts"])[0],
                             atol=1e-5)
  p, q = np.asarray(before["profile_probs"][0]), np.asarray(after["profile_probs"][0])
  p, q = p / p.sum(0), q / q.sum(0)
  m = (p + q) / 2
  jsd = (np.sum(p * np.log(p / m), 0) + np.sum(q * np.log(q / m), 0)) / 2
  np.testing.assert_allclose(row.scores[("profile_probs", "JSD")], jsd, rtol=1e-4,
                             atol=1e-7)
  assert row.scores[("profile_probs", "JSD")].max() > 0
