"""``synthetic_rna``: probe intensities follow the planted RBP sites; under the structure
rule active zip codes sit in hairpin loops (RNAplfold: unpaired) and sequestered ones
are paired; builds write ``rnacompete``/``rna_localization`` records."""

import numpy as np

from data_builders import rna_localization
from data_builders import synthetic_rna


def test_probe_intensity_follows_planted_sites():
  affinities, intensities = [], []
  for i in range(300):
    probe, intensity = synthetic_rna.sample_probe(synthetic_rna.example_rng(0, "train", i))
    assert 30 <= len(probe) <= 41 and set(probe) <= set("ACGU")
    scores = [synthetic_rna.affinity(probe, m) for m in synthetic_rna.RBP_MOTIFS.values()]
    affinities.append(scores)
    intensities.append(intensity)
  affinities, intensities = np.array(affinities), np.array(intensities)
  assert synthetic_rna.affinity("AAUGUAAAUAAA", "UGUAAAUA") == 2.0
  assert synthetic_rna.affinity("AAUGUACAUAAA", "UGUAAAUA") == 0.6
  assert 0 < np.isnan(intensities).mean() < 0.06
  for p in range(len(synthetic_rna.RBP_MOTIFS)):
    known = ~np.isnan(intensities[:, p])
    # Noise is N(0, 0.25^2) on the log scale: the log intensity tracks the affinity.
    assert np.corrcoef(affinities[known, p], np.log(intensities[known, p]))[0, 1] > 0.9
    assert (affinities[:, p] >= 2).mean() > 0.08  # Every protein has exact sites.


def test_structure_rule_zip_codes_in_loops_are_unpaired():
  config = synthetic_rna.SyntheticRnaConfig(
      name="t", kind="localization", max_length=300, length_range=(200, 300),
      structure_rule=True)
  active, sequestered = [], []
  for i in range(12):
    transcript = synthetic_rna.sample_transcript(
        synthetic_rna.example_rng(0, "train", i), config)
    np.testing.assert_allclose(transcript.fractions.sum(), 1, rtol=1e-6)
    channels = rna_localization.plfold_channels(transcript.sequence, 80, 60)
    for start, end, compartment, is_active in transcript.planted:
      zip_start = transcript.sequence.find(synthetic_rna.ZIP_CODES[compartment], start, end)
      unpaired = 1 - channels[zip_start:zip_start + 7, 0].mean()
      (active if is_active else sequestered).append(unpaired)
  # Measured: 0.84 and 0.18 on average over 40 transcripts.
  assert len(active) >= 3 and len(sequestered) >= 3
  assert np.mean(active) > 0.6 and np.mean(sequestered) < 0.35, (active, sequestered)


def test_builds_records_of_both_kinds(tmp_path):
  probes = synthetic_rna.SyntheticRnaConfig(name="p", num_train=30, num_valid=10, num_test=10)
  builder = synthetic_rna.SyntheticRna(config=probes, data_dir=str(tmp_path))
  builder.download_and_prepare(file_format="array_record")
  assert [builder.info.splits[s].num_examples for s in ("train", "valid", "test")] == [30, 10, 10]
  record = builder.as_data_source()["test"][0]
  assert record["sequence"].shape == (41, 4) and record["intensity"].shape == (4,)
  assert builder.info.metadata["proteins"] == list(synthetic_rna.RBP_MOTIFS)

  localization = synthetic_rna.SyntheticRnaConfig(
      name="l", kind="localization", num_train=4, num_valid=2, num_test=2, max_length=150,
      length_range=(100, 150), structure_rule=True, structure=True)
  builder = synthetic_rna.SyntheticRna(config=localization, data_dir=str(tmp_path))
  builder.download_and_prepare(file_format="array_record")
  record = builder.as_data_source()["train"][0]
  assert record["structure"].shape == (150, 5) and record["fractions"].shape == (4,)
  length = int(record["length"])
  assert record["sequence"][:150 - length].sum() == 0
  np.testing.assert_allclose(record["structure"][150 - length:].sum(-1), 1, atol=1e-5)
  assert builder.info.metadata["compartments"] == ["cytosol", "insoluble", "membrane", "nuclear"]
