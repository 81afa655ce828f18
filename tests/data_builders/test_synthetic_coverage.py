"""Tests for ``synthetic_coverage``: generative model, records, determinism.

The dataset is the ground truth for long-range coverage models and their
interpretation, so the tests check the truth: targets are Poisson draws of
``expected_coverage`` from the recorded elements, CAGE sits at promoters,
DNase at motif clusters, H3K27ac is broad, distal enhancers drive promoters,
and the two species differ in GC.
"""

import numpy as np
import pytest

from data_builders import synthetic_coverage as sc
from data_builders.synthetic_motifs import synthetic_motifs as sm

SMALL = sc.SyntheticCoverageConfig(
    name="small", species="human", tracks=sc.HUMAN_TRACKS, seq_length=1_024,
    pool_width=32, crop_bins=4, num_train=12, num_valid=4, num_test=4, seed=5,
    mean_promoters=1.0, mean_enhancers=3.0, mean_decoys=1.0,
    mean_insulators=0.5, min_spacing_bp=48, enhancer_window_bp=768,
    half_contact_bp=384.0, dnase_width_bp=16.0, histone_width_bp=96.0,
    histone_offset_bp=64.0)


def _config(name):
  return next(c for c in sc.BUILDER_CONFIGS if c.name == name)


def _build(config, data_dir):
  builder = sc.SyntheticCoverage(config=config, data_dir=str(data_dir),
                                 file_format="array_record")
  builder.download_and_prepare()
  return builder


def _read_all(builder):
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in sc.SPLITS}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  return {species: _build(f"tiny_{species}", data_dir)
          for species in sc.SPECIES}


@pytest.fixture(scope="module")
def records(tiny):
  return {species: _read_all(builder) for species, builder in tiny.items()}


def _tss_bin(element, config):
  return element.anchor // config.pool_width - config.crop_bins


def test_two_builds_are_identical_and_match_the_sampler(tmp_path, motifs):
  first = _read_all(_build(SMALL, tmp_path / "a"))
  second = _read_all(_build(SMALL, tmp_path / "b"))
  for split in sc.SPLITS:
    assert len(first[split]) == len(second[split]) == SMALL.num_examples(split)
    for index, (a, b) in enumerate(zip(first[split], second[split])):
      assert a.keys() == b.keys()
      for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]),
                                      err_msg=f"{split} {key}")
      expected = sc.sample_example(
          sc.example_rng(SMALL.seed, "human", split, index), motifs, SMALL)
      np.testing.assert_array_equal(a["sequence"], expected["sequence"])
      np.testing.assert_array_equal(a["target"], expected["target"])
      assert [k.decode() for k in a["element_kind"]] == expected[
          "element_kind"]
  assert not np.array_equal(first["valid"][0]["sequence"],
                            first["test"][0]["sequence"])
  # The species is part of the seed.
  mouse = sc.sample_example(sc.example_rng(SMALL.seed, "mouse", "train", 0),
                            motifs, SMALL)
  assert not np.array_equal(mouse["sequence"], first["train"][0]["sequence"])


def test_shapes_dtypes_and_metadata(tiny, records):
  for species, tracks in (("human", sc.HUMAN_TRACKS),
                          ("mouse", sc.MOUSE_TRACKS)):
    info = tiny[species].info
    meta = info.metadata
    assert tiny[species].name == "synthetic_coverage"
    assert {s: info.splits[s].num_examples for s in sc.SPLITS} == {
        "train": 512, "valid": 64, "test": 64}
    assert info.features["sequence"].shape == (2048, 4)
    assert info.features["target"].shape == (48, len(tracks))
    assert (meta["seq_length"], meta["pool_width"], meta["target_length"],
            meta["crop_bp"]) == (2048, 32, 48, 256)
    assert meta["species"] == species
    assert meta["num_targets"] == len(tracks) == {"human": 6,
                                                  "mouse": 3}[species]
    assert meta["track_names"] == list(tracks)
    assert meta["strand_pair"] == list(range(len(tracks)))
    assert meta["track_kinds"] == [sc.TRACK_KINDS[t.split(":")[0]]
                                   for t in tracks]
    assert [t["identifier"] for t in meta["targets"]] == list(tracks)
    assert meta["generative_model"]["enhancer_window_bp"] == 1536
    assert meta["jaspar_release"].startswith("JASPAR")
    for record in records[species]["valid"]:
      assert record["sequence"].dtype == np.uint8
      np.testing.assert_array_equal(record["sequence"].sum(axis=1), 1)
      target = record["target"]
      assert target.shape == (48, len(tracks)) and target.dtype == np.float16
      assert np.all(target >= 0)
      np.testing.assert_array_equal(target, np.round(target))  # counts
      kinds = [k.decode() for k in record["element_kind"]]
      assert kinds.count("promoter") >= 1
      assert set(kinds) <= set(sc.ELEMENT_KINDS)
      starts, ends = record["element_start"], record["element_end"]
      assert list(starts) == sorted(starts)
      assert all(e + 48 <= s for e, s in zip(ends, starts[1:]))
      assert len(record["element_activity"]) == len(kinds)


def test_recorded_truth_is_consistent_with_the_sequence(records, motifs,
                                                        widths):
  config = _config("tiny_human")
  for record in records["human"]["valid"]:
    elements = sc.elements_from_record(record, widths)
    for element, activity in zip(elements, record["element_activity"]):
      for motif, occupancy in zip(element.motifs, element.occupancy):
        window = record["sequence"][motif.start:motif.start + motif.width]
        assert sc.motif_occupancy(motifs[motif.name], window,
                                  motif.strand) == pytest.approx(occupancy,
                                                                 rel=1e-5)
      np.testing.assert_allclose(
          activity, [sc.element_activity(element, elements, c, config)
                     for c in sc.CELL_TYPES], rtol=1e-5)
      if element.kind == "promoter":
        assert [m.name for m in element.motifs] == ["NFYA", "NFYA"]
        assert element.motifs[0].strand == element.motifs[1].strand
        end = element.motifs[1].start + element.motifs[1].width
        assert element.anchor == (end + 50 if element.strand > 0
                                  else element.start - 51)


def test_targets_are_poisson_draws_of_expected_coverage(records, widths):
  for species in sc.SPECIES:
    config = _config(f"tiny_{species}")
    observed, expected = [], []
    for record in records[species]["train"]:
      mean = sc.expected_coverage(sc.elements_from_record(record, widths),
                                  config)
      expected.append(mean[config.crop_bins:config.crop_bins + 48])
      observed.append(record["target"].astype(np.float64))
    observed, expected = np.concatenate(observed), np.concatenate(expected)
    np.testing.assert_allclose(observed.sum(0), expected.sum(0), rtol=0.03)
    high = expected > 20
    z = (observed[high] - expected[high]) / np.sqrt(expected[high])
    assert high.sum() > 1000
    assert abs(z.mean()) < 0.1 and 0.9 < z.std() < 1.1


def test_cage_is_sharp_at_promoters(records, widths):
  config = _config("tiny_human")
  at_tss, elsewhere = [], []
  for record in records["human"]["train"]:
    elements = sc.elements_from_record(record, widths)
    tss = {_tss_bin(e, config) for e in elements if e.kind == "promoter"}
    for column in (0, 1):  # CAGE:liver, CAGE:esc
      cage = record["target"][:, column].astype(np.float64)
      for b in tss:
        if 0 <= b < 48:
          at_tss.append(cage[b])
      far = [b for b in range(48) if all(abs(b - t) > 2 for t in tss)]
      elsewhere.extend(cage[far])
  assert np.mean(at_tss) > 15
  assert np.mean(at_tss) > 100 * np.mean(elsewhere)


def test_removing_enhancers_lowers_promoter_output(records, widths):
  config = _config("tiny_human")
  lowered = unchanged = 0
  for record in records["human"]["train"][:200]:
    elements = sc.elements_from_record(record, widths)
    without = [e for e in elements if e.kind != "enhancer"]
    full = sc.expected_coverage(elements, config)
    knocked_out = sc.expected_coverage(without, config)
    for promoter in (e for e in elements if e.kind == "promoter"):
      b = promoter.anchor // config.pool_width
      drive = sum(sc.enhancer_activity(e, "liver") for e in elements
                  if e.kind == "enhancer" and abs(e.centre - promoter.anchor)
                  <= config.enhancer_window_bp)
      basal = sc.promoter_strength(promoter)
      assert sc.promoter_output(promoter, without, "liver",
                                config) == pytest.approx(basal)
      if drive > 0.5:
        assert knocked_out[b, 0] < full[b, 0] - 0.5 * basal
        lowered += 1
      elif drive == 0:
        assert knocked_out[b, 0] == pytest.approx(full[b, 0])
        unchanged += 1
  assert lowered > 50 and unchanged > 5
  # Enhancers also account for the dependence of the targets on them.
  with_drive, without_drive = [], []
  for record in records["human"]["train"]:
    for kind, activity, anchor in zip(record["element_kind"],
                                      record["element_activity"],
                                      record["element_anchor"]):
      b = anchor // config.pool_width - config.crop_bins
      if kind == b"promoter" and 0 <= b < 48:
        strength = activity[0]
        (with_drive if strength > 2 else without_drive).append(
            record["target"][b, 0])
  assert np.mean(with_drive) > 3 * np.mean(without_drive)


def test_distal_enhancers_matter_at_the_paper_scale(motifs, widths):
  config = _config("human")
  assert config.enhancer_window_bp == 20_000 and config.target_length == 160
  drive = {"within 2 kb": 0.0, "2-4 kb": 0.0, "beyond 4 kb": 0.0}
  for index in range(24):
    record = sc.sample_example(sc.example_rng(0, "human", "train", index),
                               motifs, config)
    elements = sc.elements_from_record(record, widths)
    insulators = [e for e in elements if e.kind == "insulator"]
    for promoter in (e for e in elements if e.kind == "promoter"):
      for enhancer in (e for e in elements if e.kind == "enhancer"):
        effect = sum(sc.enhancer_activity(enhancer, c) for c in sc.CELL_TYPES)
        effect *= sc.contact(enhancer, promoter, insulators, config)
        distance = abs(enhancer.centre - promoter.anchor)
        key = ("within 2 kb" if distance <= 2_000 else
               "2-4 kb" if distance <= 4_000 else "beyond 4 kb")
        drive[key] += effect
  total = sum(drive.values())
  # A model seeing +-2 kb (DeepSEA/Basset scale) misses most of the enhancer
  # drive; more than half comes from beyond 4 kb (32 bins).
  assert drive["within 2 kb"] < 0.3 * total
  assert drive["beyond 4 kb"] > 0.5 * total


def test_insulators_block_enhancers(widths):
  config = _config("human")
  ctcf = sm.MotifInstance("CTCF", 5_000, 1, widths["CTCF"])
  nfya = [sm.MotifInstance("NFYA", 8_000, 1, widths["NFYA"]),
          sm.MotifInstance("NFYA", 8_020, 1, widths["NFYA"])]
  promoter = sc.Element("promoter", tuple(nfya), (1.0, 1.0), 1, 8_078)
  enhancer = sc.Element(
      "enhancer", (sm.MotifInstance("HNF4A", 2_000, 1, widths["HNF4A"]),),
      (1.0,), 1, 2_004)
  insulator = sc.Element("insulator", (ctcf,), (0.5,), 1, 5_007)
  distance = 8_078 - enhancer.centre
  open_contact = sc.contact(enhancer, promoter, [], config)
  assert open_contact == pytest.approx(1 / (1 + distance / 10_000))
  assert sc.contact(enhancer, promoter, [insulator], config) == (
      pytest.approx(open_contact * (1 - 0.8 * 0.5)))
  assert sc.promoter_output(promoter, [promoter, enhancer], "liver",
                            config) == pytest.approx(1 + open_contact)
  assert sc.promoter_output(promoter, [promoter, enhancer], "esc",
                            config) == pytest.approx(1)
  # Beyond enhancer_window_bp (20 kb) an enhancer has no effect.
  distant = sc.Element("promoter", tuple(nfya), (1.0, 1.0), 1, 22_100)
  assert sc.contact(enhancer, distant, [], config) == 0.0


def test_track_shapes_sharp_peaks_and_broad_domains(widths):
  config = _config("human")
  nfya = (sm.MotifInstance("NFYA", 12_000, 1, widths["NFYA"]),
          sm.MotifInstance("NFYA", 12_020, 1, widths["NFYA"]))
  promoter = sc.Element("promoter", nfya, (1.0, 1.0), 1, 12_078)
  coverage = sc.expected_coverage([promoter], config)
  background = coverage[0]

  def width_above_half(column):
    signal = coverage[:, column] - background[column]
    return int(np.sum(signal > signal.max() / 2))

  assert width_above_half(0) == 1  # CAGE:liver
  assert width_above_half(2) <= 2  # DNASE:liver
  assert width_above_half(4) >= 10  # H3K27ac:liver spans > 1 kb
  tss_bin = 12_078 // 128
  assert coverage[tss_bin, 0] == pytest.approx(
      20 * 0.998 + 0.4 * 128 / 1000, rel=2e-3)
  np.testing.assert_allclose(coverage.sum(0)[:2], [20 + 0.4 * 24.576] * 2,
                             rtol=1e-6)
  # A decoy cluster and a lone NFYA give nothing above background.
  decoy = sc.Element("decoy", (
      sm.MotifInstance("GATA1", 3_000, 1, widths["GATA1"]),
      sm.MotifInstance("NFYA", 3_020, 1, widths["NFYA"])), (1.0, 1.0), 1,
                     3_014)
  np.testing.assert_allclose(sc.expected_coverage([decoy], config),
                             np.broadcast_to(background, coverage.shape))


def test_dnase_peaks_at_active_motif_clusters(records, widths):
  config = _config("tiny_human")
  active, decoy, background = [], [], []
  for record in records["human"]["train"]:
    elements = sc.elements_from_record(record, widths)
    dnase = record["target"][:, 2].astype(np.float64)  # DNASE:liver
    centres = {}
    for e in elements:
      b = int(e.centre) // config.pool_width - config.crop_bins
      if 0 <= b < 48:
        centres[b] = e
    for b, e in centres.items():
      if e.kind == "enhancer" and sc.cell_type_drive(e, "liver") > 1:
        active.append(dnase[b])
      elif e.kind == "decoy" and all(abs(b - o) > 3 for o in centres
                                     if o != b):
        decoy.append(dnase[b])
    taken = [b for b in range(48) if all(abs(b - o) > 3 for o in centres)]
    background.extend(dnase[taken])
  assert len(active) > 50 and len(decoy) > 20
  assert np.mean(active) > 10 * np.mean(background)
  assert np.mean(decoy) < 1.5 * np.mean(background) + 0.1


def test_species_differ_in_background_gc(records):
  gc = {}
  for species in sc.SPECIES:
    values = []
    for record in records[species]["train"]:
      background = np.ones(2048, dtype=bool)
      for start, end in zip(record["element_start"], record["element_end"]):
        background[start:end] = False
      bases = record["sequence"][background]
      values.append(bases[:, 1:3].sum() / len(bases))
      assert abs(values[-1] - record["gc"]) < 0.05
    gc[species] = np.array(values)
  assert 0.39 < gc["human"].mean() < 0.41
  assert 0.46 < gc["mouse"].mean() < 0.48
  assert np.percentile(gc["human"], 95) < np.percentile(gc["mouse"], 5)


def test_config_validation():
  with pytest.raises(ValueError, match="not ASSAY:CELL_TYPE"):
    sc.SyntheticCoverageConfig(name="x", tracks=("CAGE:brain",))
  with pytest.raises(ValueError, match="not a multiple"):
    sc.SyntheticCoverageConfig(name="x", seq_length=1000, pool_width=128)
  with pytest.raises(ValueError, match="leaves no bins"):
    sc.SyntheticCoverageConfig(name="x", seq_length=1024, pool_width=128,
                               crop_bins=4)
  with pytest.raises(ValueError, match="species"):
    sc.SyntheticCoverageConfig(name="x", species="rat")
  human = _config("human")
  assert (human.num_bins, human.target_length, human.crop_bp) == (192, 160,
                                                                   2048)
