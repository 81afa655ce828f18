"""Tests for ``synthetic_contacts``: Akita-form records and the loop-extrusion truth."""

import dataclasses

import numpy as np
import pytest

from data_builders import synthetic_contacts as scn
from data_builders.synthetic_motifs import synthetic_motifs as sm
from genereg_jax.tasks import contact_map

TINY = next(c for c in scn.BUILDER_CONFIGS if c.name == "tiny")
SMALL = dataclasses.replace(TINY, name="small", num_train=6, num_valid=2, num_test=2,
                            seed=3)


@pytest.fixture(scope="module")
def motif():
  return sm.load_motifs(motif_ids={"CTCF": "MA0139"})["CTCF"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  builder = scn.SyntheticContacts(config=SMALL, data_dir=str(tmp_path_factory.mktemp("t")),
                                  file_format="array_record")
  builder.download_and_prepare()
  return builder


def test_records_are_akita_targets_and_match_the_sampler(built, motif):
  info = built.info
  metadata = info.metadata
  assert metadata["bin_size"] == 256 and metadata["n_bins"] == 28
  assert metadata["crop_bins"] == 2 and metadata["diagonal_offset"] == 2
  assert metadata["target_names"] == ["wild_type", "wapl_depleted"]
  assert metadata["motifs"]["CTCF"]["matrix_id"].startswith("MA0139")
  source = built.as_data_source()
  rows, cols = np.triu_indices(28, 2)
  for split in scn.SPLITS:
    assert len(source[split]) == SMALL.num_examples(split)
    for index in range(len(source[split])):
      record = source[split][index]
      assert record["sequence"].dtype == np.uint8
      assert record["sequence"].shape == (8_192, 4)
      assert (record["sequence"].sum(-1) == 1).all()
      assert record["target"].dtype == np.float32
      assert record["target"].shape == (rows.size, 2)
      expected = scn.sample_example(scn.example_rng(SMALL.seed, split, index), motif,
                                    SMALL)
      np.testing.assert_array_equal(record["target"], expected["target"])
      np.testing.assert_array_equal(record["sequence"], expected["sequence"])
      # NaN only on whole rows/columns of filtered bins; finite values clipped to +-2.
      for t in range(2):
        full = contact_map.from_upper_triangle(record["target"][:, t], 28, 2)
        filtered = np.isnan(full).sum(1) == 28
        nan = np.isnan(record["target"][:, t])
        np.testing.assert_array_equal(nan, filtered[rows] | filtered[cols])
        assert np.nanmax(np.abs(full)) <= 2
      for start, strand in zip(record["ctcf_start"], record["ctcf_strand"]):
        window = record["sequence"][start:start + motif.width]
        assert motif.score(window, strand) > 0


def test_loops_join_convergent_ctcf_sites_and_make_a_domain():
  config = dataclasses.replace(TINY, n_cohesins=2_000)
  cell = config.targets[1]  # loops of ~24 bins: most reach both sites
  bin_size = config.bin_size

  def contacts(strands):
    sites = [scn.CtcfSite(int(b * bin_size), 19, s, 1.0)
             for b, s in zip((8, 20), strands)]
    loops = scn.extrude(np.random.default_rng(0), sites, cell, config)
    return scn.contact_probability(loops, cell, config)

  convergent, divergent = contacts((1, -1)), contacts((-1, 1))
  # The anchors' dot, and contacts inside the loop beat those across its anchor.
  assert convergent[8, 20] > 3 * divergent[8, 20]
  distance = 6
  inside = np.mean([convergent[i, i + distance] for i in range(9, 20 - distance)])
  across = np.mean([convergent[i, i + distance] for i in (20 - distance + 1, 20 - 1)])
  assert inside > across
  # Sites that bind nothing leave only the leg-length loops: no dot.
  free = scn.contact_probability(
      scn.extrude(np.random.default_rng(0),
                  [scn.CtcfSite(8 * bin_size, 19, 1, 0.0),
                   scn.CtcfSite(20 * bin_size, 19, -1, 0.0)], cell, config), cell, config)
  assert convergent[8, 20] > 3 * free[8, 20]


def test_oracle_beats_noise_and_targets_differ(motif):
  oracle = scn.oracle_map_pearson(TINY, limit=6, motif=motif)
  assert oracle.shape == (2,) and (oracle > 0.75).all() and (oracle < 1).all()
  example = scn.sample_example(scn.example_rng(0, "test", 0), motif, TINY)
  keep = np.isfinite(example["target"]).all(-1)
  assert np.corrcoef(example["target"][keep].T)[0, 1] < 0.95


def test_dense_sites_are_strong_on_the_default_map_geometry(motif):
  configs = {c.name: c for c in scn.BUILDER_CONFIGS}
  dense, default = configs["dense"], configs["default"]
  # The same 56 x 56 map and loop lengths in bins, from half the DNA.
  assert (dense.n_bins, dense.n_pairs) == (default.n_bins, default.n_pairs)
  for fine, coarse in zip(dense.targets, default.targets):
    assert fine.processivity_bp / dense.bin_size == coarse.processivity_bp / default.bin_size
  # Fewer cohesins: only the sites and the record's shapes are checked here.
  config = dataclasses.replace(dense, n_cohesins=100)
  example = scn.sample_example(scn.example_rng(0, "train", 0), motif, config)
  assert example["target"].shape == (default.n_pairs, 2)
  assert example["ctcf_start"].size >= 2
  for start, strand in zip(example["ctcf_start"], example["ctcf_strand"]):
    window = example["sequence"][start:start + motif.width]
    assert motif.score(window, strand) >= sm.STRONG_SITE_FRACTION * motif.max_score() - 1e-9


def test_config_checks():
  with pytest.raises(ValueError, match="multiple of bin_size"):
    dataclasses.replace(TINY, seq_length=8_000)
  with pytest.raises(ValueError, match="leave no map"):
    dataclasses.replace(TINY, crop_bins=15)
