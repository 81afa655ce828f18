"""Tests for ``synthetic_graphs``: the GraphReg interface, the truth, determinism.

The dataset proves that a graph model uses 3D contacts, so the tests check the
truth it rests on: CAGE is a Poisson draw of the recorded expectation, genes are
contact-dependent exactly when far looped enhancers dominate, loops become edges,
the epigenome marks the elements, the planted motifs are in the sequence, and an
oracle that knows the contacts beats one that does not, and so does a least-squares
learner on the stored features once it may sum over edge neighbours.
"""

import dataclasses

import numpy as np
import pytest

from data_builders import synthetic_graphs as sg
from data_builders.synthetic_coverage import synthetic_coverage as sc
from data_builders.synthetic_graphs import synthetic_graphs as sgm
from data_builders.synthetic_motifs import synthetic_motifs as sm

TINY = next(c for c in sg.BUILDER_CONFIGS if c.name == "tiny")


@pytest.fixture(scope="module")
def motifs():
  return sm.load_motifs(motif_ids=sgm.MOTIF_IDS)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  builder = sg.SyntheticGraphs(config="tiny", data_dir=str(tmp_path_factory.mktemp("tfds")),
                               file_format="array_record")
  builder.download_and_prepare()
  return builder


@pytest.fixture(scope="module")
def records(built):
  source = built.as_data_source()
  return {split: [source[split][i] for i in range(len(source[split]))]
          for split in sg.SPLITS}


def test_features_and_metadata_follow_the_graphreg_interface(built, records):
  meta = built.info.metadata
  n = TINY.n_nodes
  assert (meta["node_size"], meta["epi_bin_size"], meta["n_nodes"]) == (5000, 100, n)
  assert meta["max_edges"] == TINY.max_edges
  assert meta["epi_tracks"] == ["DNase", "H3K27ac", "H3K4me3"]
  assert meta["seq_length"] == n * 5000 and meta["scored_nodes"] == [0, n]
  assert meta["motifs"]["CTCF"]["matrix_id"].startswith("MA0139")
  assert [len(records[s]) for s in sg.SPLITS] == [24, 8, 8]
  ex = records["train"][0]
  expected = {"epi": ((n * 50, 3), np.float32), "sequence": ((n * 5000, 4), np.uint8),
              "cage": ((n,), np.float32), "edges": ((TINY.max_edges, 2), np.int32),
              "edge_mask": ((TINY.max_edges,), np.uint8), "tss": ((n,), np.uint8),
              "contact_dependent": ((n,), np.uint8)}
  for key, (shape, dtype) in expected.items():
    assert ex[key].shape == shape and ex[key].dtype == dtype, key
  assert (ex["sequence"].sum(axis=1) == 1).all()


def test_records_are_the_sampler_and_sequence_is_drawn_last(records, motifs):
  for split in ("train", "test"):
    for index in (0, 5):
      ex = records[split][index]
      again = sg.sample_example(sg.example_rng(TINY.seed, split, index), motifs, TINY)
      for key in again:
        np.testing.assert_array_equal(np.asarray(ex[key]), again[key], err_msg=key)
  no_sequence = dataclasses.replace(TINY, name="tiny_epi", include_sequence=False)
  epi_only = sg.sample_example(sg.example_rng(TINY.seed, "train", 0), motifs, no_sequence)
  assert "sequence" not in epi_only
  for key, value in epi_only.items():
    np.testing.assert_array_equal(np.asarray(records["train"][0][key]), value, err_msg=key)


def test_edges_are_symmetric_padded_and_hold_the_loops(records):
  recovered = []
  for ex in records["train"]:
    mask = ex["edge_mask"].astype(bool)
    edges = ex["edges"][mask]
    assert mask[:mask.sum()].all() and (ex["edges"][~mask] == 0).all()
    assert (edges[:, 0] != edges[:, 1]).all()
    assert (edges >= 0).all() and (edges < TINY.n_nodes).all()
    directed = set(map(tuple, edges.tolist()))
    assert directed == {(j, i) for i, j in directed}
    assert ex["dropped_edges"] == 0
    recovered += [(int(i), int(j)) in directed for i, j in ex["loops"]]
  # Loops are 5-13x enriched over their diagonal: nearly all are called.
  assert np.mean(recovered) > 0.9


def test_cage_is_poisson_of_the_truth_and_dependence_follows_the_rule(records):
  cage = np.concatenate([ex["cage"] for ex in records["train"]])
  mean = np.concatenate([ex["expected_cage"] for ex in records["train"]])
  # Pearson residuals of a Poisson draw have variance 1.
  assert 0.8 < np.var((cage - mean) / np.sqrt(mean)) < 1.25
  for ex in records["train"]:
    tss = ex["tss"].astype(bool)
    assert (ex["expected_cage"][~tss] == TINY.cage_background).all()
    total = sgm.PROMOTER_BASAL + ex["local_input"] + ex["distal_input"]
    np.testing.assert_array_equal(
        ex["contact_dependent"].astype(bool), tss & (ex["distal_input"] >= 0.5 * total))
    # Distal input only comes through loops longer than far_bp.
    looped = set(np.asarray(ex["loops"]).ravel().tolist())
    assert all(i in looped for i in np.flatnonzero(ex["distal_input"] > 0))
    assert (np.abs(np.diff(ex["loops"], axis=1)) * TINY.node_size >= TINY.far_bp).all()
  assert sum(ex["contact_dependent"].sum() for ex in records["train"]) >= 20


def test_epigenome_marks_promoters_and_sequence_holds_their_motifs(records, motifs):
  for index, ex in enumerate(records["train"][:4]):
    per_node = ex["epi"].reshape(TINY.n_nodes, 50, 3).sum(axis=1)
    tss = ex["tss"].astype(bool)
    strong = tss & (ex["promoter_strength"] > 0.5)
    # H3K4me3 only at promoters: strong promoter nodes far above the rest.
    assert per_node[strong, 2].min() > 3 * np.median(per_node[~tss, 2])
    region = sg.sample_region(sg.example_rng(TINY.seed, "train", index), motifs, TINY)
    bases = ex["sequence"].argmax(axis=1)
    for start, planted in region.planted:
      np.testing.assert_array_equal(bases[start:start + planted.size], planted)
    # Promoter strength is the product of the CCAAT-box occupancies read off the sequence.
    for element, node in zip(region.elements, region.element_nodes):
      if element.kind == "promoter":
        occupancy = [sc.motif_occupancy(motifs[m.name],
                                        ex["sequence"][m.start:m.start + m.width],
                                        m.strand) for m in element.motifs]
        assert tss[node]
        np.testing.assert_allclose(ex["promoter_strength"][node], np.prod(occupancy),
                                   rtol=1e-5)


def test_knowing_the_contacts_beats_any_linear_oracle(records):
  mean_distal = np.mean(np.concatenate(
      [ex["distal_input"][ex["tss"].astype(bool)] for ex in records["train"]]))
  r = sg.oracle_correlations(records["train"] + records["valid"] + records["test"],
                             mean_distal)
  assert r["graph_dependent"] > 0.95
  assert r["graph_dependent"] > r["linear_dependent"] + 0.25
  assert r["graph_tss"] > r["linear_tss"] + 0.2


def _linear_and_graph_features(ex, n):
  """Per node: log1p epi of the node, +-2 nodes, the region; + sums over edge neighbours."""
  node = np.log1p(ex["epi"].reshape(n, -1, 3).sum(axis=1))
  cumulative = np.concatenate([np.zeros((1, 3)), np.cumsum(node, axis=0)])
  low, high = np.clip(np.arange(n) - 2, 0, n), np.clip(np.arange(n) + 3, 0, n)
  linear = np.concatenate([node, cumulative[high] - cumulative[low] - node,
                           np.broadcast_to(cumulative[-1], (n, 3))], axis=1)
  edges = ex["edges"][ex["edge_mask"].astype(bool)]
  neighbours = np.zeros((n, 3))
  np.add.at(neighbours, edges[:, 1], node[edges[:, 0]])
  graph = np.concatenate([linear, neighbours], axis=1)
  # Products with H3K4me3: CAGE is promoter strength x inputs.
  return [np.c_[x, x * node[:, 2:3], np.ones(n)] for x in (linear, graph)]


def test_a_learner_on_the_stored_features_needs_the_edges(motifs):
  config = dataclasses.replace(TINY, name="tiny_epi", include_sequence=False)
  data = {}
  for split, count in (("train", 150), ("test", 50)):
    rows = [[], [], [], []]
    for index in range(count):
      ex = sg.sample_example(sg.example_rng(config.seed, split, index), motifs, config)
      tss = ex["tss"].astype(bool)
      linear, graph = _linear_and_graph_features(ex, config.n_nodes)
      for row, value in zip(rows, (linear[tss], graph[tss], np.log1p(ex["cage"][tss]),
                                   ex["contact_dependent"][tss].astype(bool))):
        row.append(value)
    data[split] = [np.concatenate(row) for row in rows]
  train, test = data["train"], data["test"]
  r = {}
  for k, name in ((0, "linear"), (1, "graph")):
    prediction = test[k] @ np.linalg.lstsq(train[k], train[2], rcond=None)[0]
    r[name] = (np.corrcoef(prediction, test[2])[0, 1],
               np.corrcoef(prediction[test[3]], test[2][test[3]])[0, 1])
  # Measured: linear 0.30 (TSS) / 0.33 (contact-dependent), graph 0.77 / 0.61.
  assert r["graph"][0] > r["linear"][0] + 0.3, r
  assert r["graph"][1] > r["linear"][1] + 0.15, r


def test_bad_configs_are_refused():
  with pytest.raises(ValueError, match="far_bp"):
    sg.SyntheticGraphsConfig(name="x", far_bp=10_000, local_window_bp=20_000)
  with pytest.raises(ValueError, match="epi_bin_size"):
    sg.SyntheticGraphsConfig(name="x", epi_bin_size=300)
