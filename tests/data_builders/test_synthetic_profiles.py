"""Tests for ``synthetic_profiles``: footprints, strands, planted truth, determinism."""

import numpy as np
import pytest

from data_builders import synthetic_profiles as sp
from data_builders.synthetic_profiles import synthetic_profiles as sp_module
from genereg_jax.data import encoding
from genereg_jax.tasks import profile as profile_task

SMALL = sp.SyntheticProfilesConfig(
    name="small", input_length=300, output_length=160, num_train=120,
    num_valid=8, num_test=8, seed=3)


def _build(config, data_dir):
  builder = sp.SyntheticProfiles(config=config, data_dir=str(data_dir),
                                 file_format="array_record")
  builder.download_and_prepare()
  return builder


def _read_all(builder):
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in sp.SPLITS}


@pytest.fixture(scope="module")
def motifs():
  return sp.load_motifs()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
  return _build(SMALL, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def records(small):
  return _read_all(small)


def test_motif_vocabulary_is_jaspar_core(motifs):
  assert [m.matrix_id.split(".")[0] for m in motifs.values()] == list(
      sp.MOTIF_IDS.values())
  assert motifs["OCT4_SOX2"].width == 15


def test_footprint_shape_peaks_at_edges_and_spares_the_motif():
  start, width = 100, 10
  left, right = sp.footprint_edges(start, width, 1, sp.FOOTPRINTS["Oct4"])
  assert (left, right) == (96, 115)  # d5 = 4 upstream, d3 = 6 downstream.
  positions = np.arange(0, 220)
  shapes = sp.strand_shapes(left, right, positions)
  assert positions[shapes[:, 0].argmax()] == left
  assert positions[shapes[:, 1].argmax()] == right
  np.testing.assert_allclose(shapes.sum(axis=0), 1.0, atol=1e-3)
  # The footprint: under the motif both strands are < 1% of their peak.
  inside = slice(start + 3, start + width - 3)
  assert shapes[inside].max() < 0.01 * shapes.max()
  # A reverse-strand motif swaps d5 and d3.
  assert sp.footprint_edges(start, width, -1, sp.FOOTPRINTS["Oct4"]) == (94, 113)


def test_expected_signal_is_reverse_complement_consistent(motifs):
  widths = {n: m.width for n, m in motifs.items()}
  length, offset, out = 300, 70, 160
  names, starts, strands = ["OCT4_SOX2", "KLF4"], [120, 180], [1, -1]
  signal = sp.expected_signal(names, starts, strands, [1.0, 0.7], widths,
                              offset, out)
  # The same motifs on the reverse-complemented sequence.
  rc_starts = [length - s - widths[n] for n, s in zip(names, starts)]
  rc_signal = sp.expected_signal(names, rc_starts, [-s for s in strands],
                                 [1.0, 0.7], widths, offset, out)
  np.testing.assert_allclose(
      profile_task.reverse_complement_tracks(signal, list(sp.STRAND_PAIR)),
      rc_signal, atol=1e-12)
  # Indirect binding: Nanog/Klf4 get 0.3 of the composite's reads.
  per_task = signal.reshape(out, 4, 2).sum(axis=0)
  np.testing.assert_allclose(per_task[0], sp_module.SIGNAL_READS, rtol=0.02)  # Oct4
  np.testing.assert_allclose(per_task[2], 0.3 * sp_module.SIGNAL_READS, rtol=0.02)
  np.testing.assert_allclose(per_task[3], (0.3 + 0.7) * sp_module.SIGNAL_READS,
                             rtol=0.02)


def test_build_is_deterministic_and_matches_the_sampler(tmp_path, records,
                                                        motifs):
  again = _read_all(_build(SMALL, tmp_path / "again"))
  for split in sp.SPLITS:
    assert len(records[split]) == SMALL.num_examples(split)
    for index, (a, b) in enumerate(zip(records[split], again[split])):
      for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    expected = sp.sample_example(sp.example_rng(SMALL.seed, split, 0), motifs,
                                 SMALL.input_length, SMALL.output_length,
                                 SMALL.gc_range)
    for key in ("sequence", "profile", "control", "motif_start"):
      np.testing.assert_array_equal(records[split][0][key], expected[key])
  record = records["train"][0]
  assert record["sequence"].shape == (300, 4)
  assert record["profile"].shape == (160, 8)
  assert record["control"].shape == (300, 2)


def test_planted_motifs_are_where_the_records_say(records, motifs):
  scores, random_scores = [], []
  rng = np.random.default_rng(0)
  for record in records["train"]:
    for name, start, strand in zip(record["motif_name"], record["motif_start"],
                                   record["motif_strand"]):
      motif = motifs[name.decode()]
      window = record["sequence"][start:start + motif.width]
      scores.append(motif.score(window, int(strand)) / motif.width)
      other = int(rng.integers(0, 300 - motif.width))
      random_scores.append(motif.score(
          record["sequence"][other:other + motif.width], int(strand))
          / motif.width)
  assert len(scores) > 150
  assert np.mean(scores) > 1.0 > 0.0 > np.mean(random_scores)


def test_reads_pile_at_footprint_edges(records, motifs):
  """Plus reads at the upstream edge, minus reads downstream, none inside."""
  widths = {n: m.width for n, m in motifs.items()}
  offset = (SMALL.input_length - SMALL.output_length) // 2
  edge_plus, edge_minus, inside, background = [], [], [], []
  for record in records["train"]:
    profile = record["profile"]
    names = [n.decode() for n in record["motif_name"]]
    if not names:
      background.append(profile[:, 0].mean())
    for name, start, strand in zip(names, record["motif_start"],
                                   record["motif_strand"]):
      # The composite holds an Oct half-site that Oct4 also binds, inside
      # its footprint; single POU5F1 sites have a clean one.
      if name != "POU5F1":
        continue
      left, right = sp.footprint_edges(int(start), widths[name], int(strand),
                                       sp.FOOTPRINTS["Oct4"])
      edge_plus.append(profile[left - 1 - offset:left + 2 - offset, 0].mean())
      edge_minus.append(profile[right - 1 - offset:right + 2 - offset, 1].mean())
      core = slice(int(start) + 1 - offset, int(start) + widths[name] - 1 - offset)
      inside.append(profile[core, :2].mean())
  assert len(edge_plus) > 15
  # 40 reads x 65% in a sigma-1.5 Gaussian: ~5 reads/bp at the edge.
  assert np.mean(edge_plus) > 3 and np.mean(edge_minus) > 3
  # Under the motif: background plus the peaks' flanks, < 5% of the edges.
  assert np.mean(inside) < 0.05 * min(np.mean(edge_plus), np.mean(edge_minus))
  assert np.mean(background) < 0.15


def test_control_reports_background_depth(records):
  control = np.array([r["control"].sum() for r in records["train"]])
  bg_scale = np.array([r["bg_scale"] for r in records["train"]])
  assert np.corrcoef(control, bg_scale)[0, 1] > 0.9
  expected = sp_module.CONTROL_RATE * SMALL.input_length * 2
  np.testing.assert_allclose(np.mean(control / bg_scale), expected, rtol=0.05)


def test_one_hot_and_metadata(small, records):
  sequence = records["train"][1]["sequence"]
  assert set(encoding.decode_dna(sequence)) <= set("ACGT")
  metadata = small.info.metadata
  assert metadata["track_names"][:2] == ["Oct4/plus", "Oct4/minus"]
  assert metadata["strand_pair"] == [1, 0, 3, 2, 5, 4, 7, 6]
  assert metadata["output_offset"] == 70


def test_bad_geometry_is_rejected():
  with pytest.raises(ValueError, match="must be even"):
    sp.SyntheticProfilesConfig(name="x", input_length=301, output_length=160)


def test_occupancy_is_a_function_of_sequence(records, motifs):
  rng = np.random.default_rng(1)
  bases = rng.integers(0, 4, 50).astype(np.uint8)
  one_hot = np.eye(4, dtype=np.uint8)[bases]
  for motif in motifs.values():
    scores = sp.motif_scores(bases, motif)
    for start in (0, 13, 50 - motif.width):
      window = one_hot[start:start + motif.width]
      assert abs(scores[start, 0] - motif.score(window, 1)) < 1e-9
      assert abs(scores[start, 1] - motif.score(window, -1)) < 1e-9
    best = motif.log_odds().max(axis=1).sum()
    np.testing.assert_allclose(sp.occupancy(best - 3.5, motif), 0.5)
  planted = 0
  for record in records["train"]:
    bases = record["sequence"].argmax(axis=1).astype(np.uint8)
    sites = {(n, s, d): o for n, s, d, o in sp.bound_sites(bases, motifs)}
    for name, start, strand, occupancy in zip(
        record["motif_name"], record["motif_start"], record["motif_strand"],
        record["motif_occupancy"]):
      key = (name.decode(), int(start), int(strand))
      assert occupancy > 0.6 and abs(sites[key] - occupancy) < 1e-6
      planted += 1
  assert planted > 150
