"""Shared REF passes for SNV scoring (`nn.cone.window_mutants`,
`scoring.ConeSubstitutions.region`, `Scorer.predict_packed_snvs`) give each window's own
outputs, on the BPNet of tests/fixtures/bpnet_lite_small.npz.

bpnet-lite's BPNet trims (2,114 - 1,000) / 2 = 557 bases, its tower's receptive radius
(520) plus the profile kernel's 37, so no output sees a window's zero padding and a
window's REF activations may be cut out of a pass over a longer sequence. Windows at
both ends of a pack and of a chromosome are checked against whole-window predictions,
and a small VCF's TSV and HDF5 outputs against today's whole-window scorer.
"""

import types

import h5py
import jax
import numpy as np
import pytest

from conftest import fixture_path
from genereg_jax.data import genome as genome_lib
from genereg_jax.models import bpnet as bpnet_lib
from genereg_jax.nn import cone
from genereg_jax.variants import scoring

LENGTH = 2114
TOLERANCE = 1e-5


def _outputs(out):
  return {"profile_probs": jax.nn.softmax(out["profile_logits"], axis=1),
          "log_counts": out["log_counts"]}


@pytest.fixture(scope="module")
def bpnet():
  """``(whole-window jitted model, ConeSubstitutions, model, params)`` of the fixture."""
  model, params = bpnet_lib.load_bpnet_lite(fixture_path("bpnet_lite_small.npz"),
                                            prefix="bpnet/sd/")
  # The same profile-head arithmetic as cone_model's head, so the table's argmax
  # columns compare exactly (the convolution differs from it in float rounding).
  fast = model.clone(profile_conv_matmul=True)
  whole = jax.jit(lambda x: _outputs(fast.apply({"params": params}, x.astype(np.float32))))
  snvs = scoring.ConeSubstitutions(bpnet_lib.cone_model(model, params), _outputs,
                                   windows_per_call=4)
  return whole, snvs, model, params


def test_padding_free_needs_the_margin_to_cover_the_receptive_radius(bpnet):
  _, snvs, model, params = bpnet
  assert model.trim == 557 and snvs.padding_free
  tower = cone.Tower([cone.Layer(lambda x: x, 3), cone.Layer(lambda x: x, 2)])
  assert cone.Split(tower, dict, head_margin=5).padding_free
  assert not cone.Split(tower, dict, head_margin=4).padding_free
  assert not cone.Split(tower, dict).padding_free  # Unknown margin.
  assert not cone.Split(cone.Tower(tower.layers, "valid"), dict, head_margin=9).padding_free
  # Fixed control tracks: the head is tied to one batch, so no shared passes.
  control = np.zeros((1, LENGTH, 2), np.float32)
  tied = scoring.ConeSubstitutions(bpnet_lib.cone_model(model, params, control), _outputs)
  assert not tied.padding_free
  with pytest.raises(ValueError, match="padding"):
    tied.region(np.zeros((4096, 4), np.uint8), np.zeros(1, np.int32),
                np.zeros((1, 1, 4), np.uint8), LENGTH)


def test_windows_cut_from_one_pass_equal_whole_windows_at_both_pack_ends(bpnet):
  whole, snvs, _, _ = bpnet
  rng = np.random.default_rng(0)
  sequence = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, 4096)]
  sequence[3000:3100] = 0  # A stretch of N.
  starts = np.array([0, 977, 4096 - LENGTH - 1, 4096 - LENGTH], np.int32)
  values = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (len(starts), 1))]
  ref, alt = snvs.region(sequence, starts, values, LENGTH)
  windows = np.stack([sequence[s:s + LENGTH] for s in starts])
  mutants = windows.copy()
  mutants[:, LENGTH // 2] = values[:, 0]
  for got, x in ((ref, windows), (alt, mutants)):
    want = whole(x)
    for name in want:
      np.testing.assert_allclose(got[name], np.asarray(want[name]), atol=TOLERANCE,
                                 rtol=TOLERANCE, err_msg=name)
  assert np.abs(alt["log_counts"] - ref["log_counts"]).max() > 1e-4  # ALT differs.


def _table(path):
  with open(path) as f:
    header, *rows = [line.rstrip("\n").split("\t") for line in f]
  return header, rows


def test_packed_scores_equal_whole_windows_in_tsv_and_hdf5(bpnet, tmp_path):
  whole, snvs, _, _ = bpnet
  rng = np.random.default_rng(5)
  chroms = {"chr1": "".join(rng.choice(list("ACGTacgt"), 9000)),
            "chr2": "".join(rng.choice(list("ACGT"), LENGTH + 60))}
  chroms["chr1"] = chroms["chr1"][:6000] + "N" * 40 + chroms["chr1"][6040:]
  (tmp_path / "g.fa").write_text("".join(f">{c}\n{s}\n" for c, s in chroms.items()))
  other = lambda b, k=1: "ACGT"[("ACGT".index(b.upper()) + k) % 4]
  half, size = LENGTH // 2, len(chroms["chr1"])
  records = []
  # Unsorted on purpose; the first and last scorable SNVs of each chromosome, a cluster
  # with two records at one position, a multi-ALT record and an indel (whole windows),
  # a window off the end and a REF mismatch (issues).
  for chrom, pos, k in (("chr1", 3001, 1), ("chr1", half + 1, 2), ("chr2", half + 1, 1),
                        ("chr1", 3001, 2), ("chr1", 2950, 1), ("chr1", 3600, 3),
                        ("chr1", size - LENGTH + half + 1, 1), ("chr2", half + 61, 2),
                        ("chr1", 5990, 1), ("chr1", 7000, 2), ("chr1", 4200, 1)):
    ref = chroms[chrom][pos - 1]
    records.append((chrom, pos, ref.upper(), other(ref, k)))
  ref = chroms["chr1"][3499].upper()
  records.append(("chr1", 3500, ref, f"{other(ref)},{other(ref, 2)}"))
  deleted = chroms["chr1"][3699:3702].upper()
  records.append(("chr1", 3700, deleted, deleted[0]))
  ref = chroms["chr1"][size - half + 4].upper()
  records.append(("chr1", size - half + 5, ref, other(ref)))
  records.append(("chr1", 4000, other(chroms["chr1"][3999]), "T"))
  vcf_path = tmp_path / "in.vcf"
  vcf_path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\t"
                      "INFO\n" + "".join(f"{c}\t{p}\tv{i}\t{r}\t{a}\t.\t.\t.\n"
                                         for i, (c, p, r, a) in enumerate(records)))

  class Plain:
    input_length, data_devices = LENGTH, 1

    def __call__(self, one_hot):
      return {k: np.asarray(v) for k, v in whole(one_hot).items()}

  class Packed(Plain):
    regions = 0

    def predict_snvs(self, x, position, value):
      return snvs(x, position, value)

    def predict_snv_region(self, sequence, starts, values):
      Packed.regions += 1
      assert sequence.shape == (4096, 4)  # Each pack fits one power-of-two length.
      return snvs.region(sequence, starts, values, LENGTH)

  scores = ["log_count_diff", "JSD", "SAD"]
  with genome_lib.Genome(tmp_path / "g.fa") as genome:
    packed = scoring.Scorer(Packed(), genome, scores, batch_size=4, pack_length=4096)
    plain = scoring.Scorer(Plain(), genome, scores, batch_size=4)
    for scorer, out in ((packed, "packed"), (plain, "plain")):
      scoring.score_vcf(scorer, str(vcf_path), str(tmp_path / out), chunk_records=100)
      scoring.merge(str(tmp_path / out), dtype="float32")
  assert packed.num_packs == Packed.regions >= 4  # pack_length forced several packs.
  assert packed.num_windows == 11 + 3 + 2  # 11 SNVs packed; multi-ALT 3, indel 2.
  (header, rows), (want_header, want_rows) = (
      _table(tmp_path / d / "scores.tsv") for d in ("packed", "plain"))
  assert header == want_header and len(rows) == len(want_rows) == 14
  assert [r[0] for r in rows] == sorted((r[0] for r in rows), key=int)  # File order.
  numeric = [j for j, name in enumerate(header) if name.endswith("/max")]
  for row, want in zip(rows, want_rows):
    assert [c for j, c in enumerate(row) if j not in numeric] == [
        c for j, c in enumerate(want) if j not in numeric]
    np.testing.assert_allclose([float(row[j]) for j in numeric],
                               [float(want[j]) for j in numeric], atol=TOLERANCE,
                               rtol=TOLERANCE)
  issues = (tmp_path / "plain" / "issues.tsv").read_text()
  assert (tmp_path / "packed" / "issues.tsv").read_text() == issues and issues.count("\n") == 3
  with h5py.File(tmp_path / "packed" / "scores.h5") as got, \
      h5py.File(tmp_path / "plain" / "scores.h5") as want:
    for key in ("log_counts/log_count_diff", "profile_probs/JSD", "profile_probs/SAD"):
      np.testing.assert_allclose(got[key][:], want[key][:], atol=TOLERANCE,
                                 rtol=TOLERANCE, err_msg=key)
    assert np.abs(want["log_counts/log_count_diff"][:]).max() > 1e-4


def test_bpnet_predictor_shares_ref_passes_equal_to_its_own_windows():
  from genereg_jax import predict
  from genereg_jax.tasks.profile import ProfileTask
  from genereg_jax.train import partitioning
  model, length = bpnet_lib.BPNet(**bpnet_lib.PRESETS["tiny"]), 201
  params = model.init(jax.random.PRNGKey(0), np.zeros((1, length, 4), np.float32))["params"]
  experiment = types.SimpleNamespace(
      model=model, tasks={None: ProfileTask()}, heads=[None], inputs=("sequence", "control"),
      mesh=partitioning.make_mesh((-1, 1), jax.devices()[:1]))
  state = types.SimpleNamespace(params=params, batch_stats={})
  example = {"sequence": np.zeros((length, 4), np.uint8),
             "control": np.zeros((length, 2), np.float32)}
  predictor = predict.Predictor(experiment, state, example, zero_missing_inputs=True)
  both = predict.Predictor(experiment, state, example, zero_missing_inputs=True,
                           reverse_complement_average=True)
  assert predictor.predict_snv_region is not None and both.predict_snvs is None
  rng = np.random.default_rng(1)
  sequence = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, 512)]
  starts = np.array([0, 150, 311], np.int32)
  values = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (3, 1))]
  ref, alt = predictor.predict_snv_region(sequence, starts, values)
  windows = np.stack([sequence[s:s + length] for s in starts])
  mutants = windows.copy()
  mutants[:, length // 2] = values[:, 0]
  for got, x in ((ref, windows), (alt, mutants)):
    want = predictor(x)
    assert got.keys() == want.keys()
    for name in want:
      np.testing.assert_allclose(got[name], want[name], atol=TOLERANCE, rtol=TOLERANCE,
                                 err_msg=name)
