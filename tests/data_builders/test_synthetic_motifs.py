"""Tests for the ``synthetic_motifs`` builder: grammar, planted truth, determinism.

The dataset is the project's ground truth for interpretation (DESIGN.md, 8), so the
tests check the truth itself: labels follow ``labels_from_motifs``, the recorded
motifs are where the records say, decoys are negative, rates are balanced.
"""

import numpy as np
import pytest

from data_builders import synthetic_motifs as sm
from data_builders.synthetic_motifs import synthetic_motifs as sm_module

# Every label's positive rate in the tiny train split must lie in this range.
POSITIVE_RATE_BOUNDS = (0.10, 0.40)

SMALL = sm.SyntheticMotifsConfig(
    name="small", sequence_length=200, num_train=48, num_valid=8, num_test=8,
    seed=7)


def _build(config, data_dir):
  builder = sm.SyntheticMotifs(config=config, data_dir=str(data_dir),
                               file_format="array_record")
  builder.download_and_prepare()
  return builder


def _read_all(builder):
  source = builder.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in sm.SPLITS}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  return _build("tiny", tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny_records(tiny):
  return _read_all(tiny)


def _instances(record, widths):
  return [sm.MotifInstance(name.decode(), int(start), int(strand),
                           widths[name.decode()])
          for name, start, strand in zip(record["motif_name"],
                                         record["motif_start"],
                                         record["motif_strand"])]


def test_two_builds_are_identical_and_match_the_sampler(tmp_path, motifs):
  first = _read_all(_build(SMALL, tmp_path / "a"))
  second = _read_all(_build(SMALL, tmp_path / "b"))
  for split in sm.SPLITS:
    assert len(first[split]) == len(second[split]) == SMALL.num_examples(split)
    for index, (a, b) in enumerate(zip(first[split], second[split])):
      assert a.keys() == b.keys()
      for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{split} {key}")
      # Unshuffled writing: position i is example key i.
      expected = sm.sample_example(sm.example_rng(SMALL.seed, split, index),
                                   motifs, SMALL.sequence_length,
                                   SMALL.gc_range)
      np.testing.assert_array_equal(a["sequence"], expected["sequence"])
      assert [n.decode() for n in a["motif_name"]] == expected["motif_name"]
  # Splits draw from different streams.
  assert not np.array_equal(first["valid"][0]["sequence"],
                            first["test"][0]["sequence"])


def test_features_shapes_and_metadata(tiny, tiny_records, widths):
  info = tiny.info
  assert tiny.name == "synthetic_motifs"
  assert str(info.version) == "1.2.0"
  assert {s: info.splits[s].num_examples for s in sm.SPLITS} == {
      "train": 8000, "valid": 512, "test": 512}
  assert info.features["sequence"].shape == (200, 4)
  assert info.features["label"].shape == (sm.NUM_LABELS,)
  assert info.metadata["label_names"] == list(sm.LABEL_NAMES)
  assert len(sm.LABEL_NAMES) == 13
  assert [g["label"] for g in info.metadata["grammar"]] == list(sm.LABEL_NAMES)
  assert info.metadata["jaspar_release"].startswith("JASPAR")
  for name, base_id in sm.MOTIF_IDS.items():
    entry = info.metadata["motifs"][name]
    assert entry["matrix_id"].startswith(base_id + ".")
    assert entry["width"] == widths[name]
    np.testing.assert_allclose(np.sum(entry["probabilities"], axis=1), 1,
                               atol=1e-5)

  for record in tiny_records["valid"]:
    sequence = record["sequence"]
    assert sequence.shape == (200, 4) and sequence.dtype == np.uint8
    np.testing.assert_array_equal(sequence.sum(axis=1), 1)
    assert record["label"].shape == (13,)
    assert record["label"].dtype == np.float32
    assert set(np.unique(record["label"])) <= {0.0, 1.0}
    assert all(s in (1, -1) for s in record["motif_strand"])
    assert 0.35 <= record["gc"] <= 0.6
    instances = _instances(record, widths)
    assert len(instances) <= sm.MAX_MOTIFS
    ends = [i.start + i.width for i in instances]
    starts = [i.start for i in instances]
    assert starts == sorted(starts)
    # Sorted by start, so no overlap means each motif ends before the next.
    assert all(end <= start for end, start in zip(ends, starts[1:]))


def test_labels_are_labels_from_motifs(tiny_records, widths):
  for split, records in tiny_records.items():
    for record in records:
      expected = sm.labels_from_motifs(record["motif_name"],
                                       record["motif_start"],
                                       record["motif_strand"], 200, widths)
      np.testing.assert_array_equal(record["label"], expected, err_msg=split)


def test_planted_motifs_sit_at_recorded_positions(tiny_records, motifs):
  rng = np.random.default_rng(0)
  planted = {name: [] for name in sm.MOTIF_NAMES}
  other_strand = {name: [] for name in sm.MOTIF_NAMES}
  random_windows = {name: [] for name in sm.MOTIF_NAMES}
  for record in tiny_records["train"]:
    sequence = record["sequence"]
    for name, start, strand in zip(record["motif_name"], record["motif_start"],
                                   record["motif_strand"]):
      motif = motifs[name.decode()]
      window = sequence[start:start + motif.width]
      planted[motif.name].append(motif.score(window, strand))
      other_strand[motif.name].append(motif.score(window, -strand))
      for offset in rng.integers(0, 200 - motif.width + 1, size=3):
        random_windows[motif.name].append(
            motif.score(sequence[offset:offset + motif.width],
                        rng.choice([1, -1])))
  for name in sm.MOTIF_NAMES:
    scores = np.array(planted[name])
    background = np.array(random_windows[name])
    assert len(scores) >= 100, name
    assert np.median(scores) > np.percentile(background, 99), name
    assert np.mean(scores > np.percentile(background, 95)) >= 0.9, name
  # CTCF is asymmetric and its orientation carries a label: strand must be right.
  assert np.mean(np.array(planted["CTCF"]) > np.array(other_strand["CTCF"])) > 0.99


def test_planted_sites_are_strong_matches(tiny, tiny_records, motifs):
  fraction = tiny.builder_config.min_score_fraction
  assert fraction == sm_module.STRONG_SITE_FRACTION
  for record in tiny_records["train"][:500]:
    for name, start, strand in zip(record["motif_name"], record["motif_start"],
                                   record["motif_strand"]):
      motif = motifs[name.decode()]
      window = record["sequence"][start:start + motif.width]
      assert motif.score(window, strand) >= fraction * motif.max_score() - 1e-9


def test_min_score_fraction_zero_keeps_every_draw(motifs):
  # Without a threshold the PFM's weak tail (even negative log-odds) is planted too.
  motif = motifs["GATA1"]
  rng = np.random.default_rng(0)
  scores = [motif.score(np.eye(4)[motif.sample(rng, 1)]) for _ in range(400)]
  assert min(scores) < 0.5 * motif.max_score()
  with pytest.raises(ValueError, match="min_score_fraction"):
    sm.SyntheticMotifsConfig(name="bad", min_score_fraction=1.0)


def test_background_gc_follows_recorded_gc(tiny_records, widths):
  recorded, observed = [], []
  for record in tiny_records["train"]:
    background = np.ones(200, dtype=bool)
    for instance in _instances(record, widths):
      background[instance.start:instance.start + instance.width] = False
    bases = record["sequence"][background]
    recorded.append(record["gc"])
    observed.append(bases[:, 1:3].sum() / len(bases))
  recorded, observed = np.array(recorded), np.array(observed)
  assert np.corrcoef(recorded, observed)[0, 1] > 0.8
  assert np.mean(np.abs(recorded - observed)) < 0.05


def test_positive_rates_are_balanced(tiny_records):
  labels = np.stack([r["label"] for r in tiny_records["train"]])
  rates = dict(zip(sm.LABEL_NAMES, labels.mean(axis=0)))
  low, high = POSITIVE_RATE_BOUNDS
  assert all(low <= rate <= high for rate in rates.values()), rates


def test_decoys_exist_and_are_negative(tiny_records, widths):
  column = {name: i for i, name in enumerate(sm.LABEL_NAMES)}
  rules = dict(sm.GRAMMAR)
  records = tiny_records["train"]
  for label in ("oct_sox_composite", "pu1_cebp_pair"):
    rule = rules[label]
    far_pairs = 0
    for record in records:
      instances = _instances(record, widths)
      centres_a = [i.centre for i in instances if i.name == rule.motif_a]
      centres_b = [i.centre for i in instances if i.name == rule.motif_b]
      if centres_a and centres_b:
        distance = min(abs(a - b) for a in centres_a for b in centres_b)
        assert (record["label"][column[label]] == 1) == (
            distance <= rule.max_distance)
        far_pairs += distance >= 2 * rule.max_distance
    assert far_pairs >= 20, label

  non_convergent = sum(
      1 for r in records
      if [n for n in r["motif_name"]].count(b"CTCF") >= 2
      and r["label"][column["ctcf_convergent"]] == 0)
  assert non_convergent >= 20
  gata_with_pu1 = sum(
      1 for r in records
      if {b"GATA1", b"SPI1"} <= set(r["motif_name"])
      and r["label"][column["erythroid_enhancer"]] == 0)
  assert gata_with_pu1 >= 20


def test_grammar_rules_on_hand_made_motifs(widths):
  column = {name: i for i, name in enumerate(sm.LABEL_NAMES)}

  def labels(*motifs):
    names, starts, strands = zip(*motifs) if motifs else ((), (), ())
    return dict(zip(sm.LABEL_NAMES,
                    sm.labels_from_motifs(names, starts, strands, 500, widths)))

  assert not any(labels().values())
  single = labels(("TP53", 10, -1))
  assert single["TP53"] == 1 and sum(single.values()) == 1

  # SOX2 (7 bp) at 10 and POU5F1 (7 bp) at 20: centres 13.5 and 23.5.
  assert labels(("SOX2", 10, 1), ("POU5F1", 20, -1))["oct_sox_composite"] == 1
  assert labels(("SOX2", 10, 1), ("POU5F1", 31, 1))["oct_sox_composite"] == 0
  assert labels(("POU5F1", 10, 1))["oct_sox_composite"] == 0
  assert labels(("SPI1", 0, 1), ("CEBPB", 40, 1))["pu1_cebp_pair"] == 1
  assert labels(("SPI1", 0, 1), ("CEBPB", 300, 1))["pu1_cebp_pair"] == 0

  assert labels(("HNF4A", 0, 1), ("FOXA2", 300, -1))["liver_enhancer"] == 1
  assert labels(("HNF4A", 0, 1), ("NFYA", 300, -1))["liver_enhancer"] == 0
  assert labels(("GATA1", 0, 1))["erythroid_enhancer"] == 1
  assert labels(("GATA1", 0, 1), ("SPI1", 300, 1))["erythroid_enhancer"] == 0

  assert labels(("CTCF", 0, 1), ("CTCF", 200, -1))["ctcf_convergent"] == 1
  assert labels(("CTCF", 0, -1), ("CTCF", 200, 1))["ctcf_convergent"] == 0
  assert labels(("CTCF", 0, 1), ("CTCF", 200, 1))["ctcf_convergent"] == 0
  assert len(column) == sm.NUM_LABELS


def test_labels_from_motifs_rejects_bad_input(widths):
  with pytest.raises(ValueError, match="unknown motifs"):
    sm.labels_from_motifs(["MYC"], [0], [1], 200, widths)
  with pytest.raises(ValueError, match="does not fit"):
    sm.labels_from_motifs(["CTCF"], [190], [1], 200, widths)
  with pytest.raises(ValueError, match="not \\+1/-1"):
    sm.labels_from_motifs(["CTCF"], [0], [0], 200, widths)
  with pytest.raises(ValueError, match="differ in length"):
    sm.labels_from_motifs(["CTCF"], [0, 5], [1], 200, widths)


def test_motifs_come_from_jaspar(motifs, monkeypatch):
  assert tuple(motifs) == sm.MOTIF_NAMES
  for name, motif in motifs.items():
    assert motif.matrix_id.startswith(sm.MOTIF_IDS[name] + ".")
    np.testing.assert_allclose(motif.probabilities.sum(axis=1), 1)
    assert motif.probabilities.min() >= sm.PSEUDOCOUNT / (1 + 4 * sm.PSEUDOCOUNT)
  monkeypatch.setitem(sm_module.MOTIF_IDS, "NOT_A_TF", "MA9999")
  with pytest.warns(Warning), pytest.raises(ValueError, match="MA9999"):
    sm.load_motifs()


def test_config_validation():
  with pytest.raises(ValueError, match="too short"):
    sm.SyntheticMotifsConfig(name="short", sequence_length=100)
  with pytest.raises(ValueError, match="gc_range"):
    sm.SyntheticMotifsConfig(name="gc", gc_range=(0.6, 0.4))


def test_planting_window_keeps_motifs_central():
  motifs = sm.load_motifs()
  widths = {name: m.width for name, m in motifs.items()}
  for index in range(40):
    example = sm.sample_example(sm.example_rng(0, "train", index), motifs, 1000, (0.4, 0.5),
                                planting_window=300)
    for name, start in zip(example["motif_name"], example["motif_start"]):
      assert 350 <= start and start + widths[name] <= 650, (name, start)
    np.testing.assert_array_equal(
        example["label"], sm.labels_from_motifs(example["motif_name"], example["motif_start"],
                                                example["motif_strand"], 1000, widths))
