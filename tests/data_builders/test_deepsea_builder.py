"""Tests for the ``deepsea`` builder on tiny files in the bundle's exact formats.

The files (``tests/real_formats.py``): ``train.mat`` as MATLAB v7.3 writes it
(HDF5 behind a 512-byte user block, axes reversed), ``valid.mat``/``test.mat``
as MATLAB v5, one-hot in the bundle's A,G,C,T order; the builder must hand back
the same strings in A,C,G,T channels-last.
"""

import h5py
import numpy as np
import pytest
import scipy.io
import tensorflow_datasets as tfds

import real_formats
from data_builders import deepsea
from data_builders.deepsea import deepsea as deepsea_module
from genereg_jax.data import encoding
from genereg_jax.data import pipeline
from real_formats import bundle_one_hot
from real_formats import random_sequences
from real_formats import write_deepsea_bundle
from real_formats import write_v73

LENGTH = real_formats.DEEPSEA_LENGTH
NUM_LABELS = real_formats.DEEPSEA_NUM_LABELS
SIZES = real_formats.DEEPSEA_SIZES


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  root = tmp_path_factory.mktemp("deepsea")
  truth = write_deepsea_bundle(root / "manual" / "deepsea_train",
                               np.random.default_rng(0))
  mp = pytest.MonkeyPatch()
  # Train has 11 rows: chunks of 4 cross two chunk boundaries.
  mp.setattr(deepsea_module, "READ_CHUNK_EXAMPLES", 4)
  try:
    builder = pipeline.load_builder("deepsea", str(root / "tfds"),
                                    build_if_missing=True,
                                    manual_dir=str(root / "manual"))
  finally:
    mp.undo()
  return builder, truth


def test_files_have_the_bundles_layout(tmp_path):
  write_deepsea_bundle(tmp_path, np.random.default_rng(1), names=False)
  assert h5py.is_hdf5(tmp_path / "train.mat")
  assert (tmp_path / "train.mat").read_bytes()[:10] == b"MATLAB 7.3"
  with h5py.File(tmp_path / "train.mat", "r") as f:
    assert f["trainxdata"].shape == (LENGTH, 4, SIZES["train"])
    assert f["traindata"].shape == (NUM_LABELS, SIZES["train"])
  assert not h5py.is_hdf5(tmp_path / "valid.mat")
  valid = scipy.io.loadmat(tmp_path / "valid.mat")
  assert valid["validxdata"].shape == (SIZES["valid"], 4, LENGTH)
  assert valid["validdata"].shape == (SIZES["valid"], NUM_LABELS)


def test_build_round_trips_sequences_and_labels(built):
  builder, truth = built
  assert builder.name == "deepsea"
  assert {s: builder.info.splits[s].num_examples for s in SIZES} == SIZES
  source = builder.as_data_source()
  for split, (sequences, labels) in truth.items():
    assert len(source[split]) == SIZES[split]
    for i in range(SIZES[split]):
      record = source[split][i]
      assert record["sequence"].shape == (LENGTH, 4)
      assert record["sequence"].dtype == np.uint8
      assert record["label"].dtype == np.uint8
      # File order is kept: position i is row i of the .mat file.
      assert encoding.decode_dna(record["sequence"]) == sequences[i], (split, i)
      np.testing.assert_array_equal(record["sequence"],
                                    encoding.one_hot_dna(sequences[i]))
      np.testing.assert_array_equal(record["label"], labels[i])


def test_channel_order_is_converted_from_agct_to_acgt():
  # One column per base in the bundle's A,G,C,T order, then an N column.
  bundle = np.zeros((1, 4, 5), dtype=np.uint8)
  for position, channel in enumerate([0, 1, 2, 3]):
    bundle[0, channel, position] = 1
  ours = deepsea.to_acgt_channels_last(bundle)
  assert ours.shape == (1, 5, 4)
  # A, G, C, T in A,C,G,T channels: A=0, G=2, C=1, T=3; N stays zeros.
  np.testing.assert_array_equal(
      ours[0], [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1],
                [0, 0, 0, 0]])
  assert encoding.decode_dna(ours[0]) == "AGCTN"


def test_metadata_holds_label_names_and_orders(built):
  builder, _ = built
  metadata = builder.info.metadata
  assert metadata["label_names"][:2] == ["Cell0|DNase|None", "Cell1|DNase|None"]
  assert len(metadata["label_names"]) == NUM_LABELS
  assert metadata["source_channel_order"] == "AGCT"
  assert metadata["channel_order"] == "ACGT"
  assert builder.info.features["label"].shape == (NUM_LABELS,)
  # Reloading by name from the data_dir keeps the metadata.
  reloaded = pipeline.load_builder("deepsea", builder.data_dir_root)
  assert reloaded.info.metadata["label_names"][918] == "Cell918|DNase|None"


def test_label_names_default_to_indices(tmp_path):
  write_deepsea_bundle(tmp_path / "manual", np.random.default_rng(2), names=False)
  builder = deepsea.Deepsea(data_dir=str(tmp_path / "tfds"),
                            file_format="array_record")
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(tmp_path / "manual")))
  assert builder.info.metadata["label_names"][:3] == ["0", "1", "2"]
  assert builder.info.metadata["label_names_file"] is None


def test_iter_split_chunks_give_the_same_rows(tmp_path):
  truth = write_deepsea_bundle(tmp_path, np.random.default_rng(3), names=False)
  rows = {chunk: list(deepsea.iter_split(tmp_path, "train", chunk))
          for chunk in (1, 5, 100)}
  for chunk, examples in rows.items():
    assert [i for i, _ in examples] == list(range(SIZES["train"])), chunk
    for (i, example) in examples:
      assert encoding.decode_dna(example["sequence"]) == truth["train"][0][i]
      np.testing.assert_array_equal(example["label"], truth["train"][1][i])


def test_missing_file_is_named_before_anything_is_built(tmp_path):
  write_deepsea_bundle(tmp_path / "manual", np.random.default_rng(4), names=False)
  (tmp_path / "manual" / "test.mat").unlink()
  builder = deepsea.Deepsea(data_dir=str(tmp_path / "tfds"),
                            file_format="array_record")
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"test\.mat not found.*deepsea_train_bundle"):
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(tmp_path / "manual")))
  assert not builder.is_prepared()


def test_missing_variables_are_named(tmp_path):
  rng = np.random.default_rng(5)
  sequences = bundle_one_hot(random_sequences(rng, 2))
  labels = np.zeros((2, NUM_LABELS), np.uint8)
  write_v73(tmp_path / "train.mat", {"trainxdata": sequences})
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"train\.mat: MATLAB v7\.3/HDF5 file has no variable "
                           r"'traindata'; it has \['trainxdata'\]"):
    deepsea.open_split(tmp_path, "train")
  scipy.io.savemat(tmp_path / "valid.mat", {"validxdata": sequences,
                                            "labels": labels})
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"valid\.mat: MATLAB v5 file has no variable "
                           r"'validdata'; it has \['labels', 'validxdata'\]"):
    deepsea.open_split(tmp_path, "valid")


def test_wrong_shapes_and_values_are_reported(tmp_path):
  rng = np.random.default_rng(6)
  sequences = bundle_one_hot(random_sequences(rng, 3))
  labels = np.zeros((3, NUM_LABELS), np.uint8)
  # Channels-last instead of MATLAB's (N, 4, 1000).
  scipy.io.savemat(tmp_path / "test.mat", {
      "testxdata": sequences.transpose(0, 2, 1), "testdata": labels})
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"test\.mat: testxdata has MATLAB shape "
                           r"\(3, 1000, 4\), expected \(N, 4, 1000\)"):
    deepsea.open_split(tmp_path, "test")
  # Label count differs from the sequence count.
  scipy.io.savemat(tmp_path / "test.mat", {"testxdata": sequences,
                                           "testdata": labels[:2]})
  with pytest.raises(deepsea.DeepseaFormatError,
                     match="testxdata has 3 examples but testdata has 2"):
    deepsea.open_split(tmp_path, "test")
  # A label that is not 0/1.
  labels[2, 7] = 2
  scipy.io.savemat(tmp_path / "test.mat", {"testxdata": sequences,
                                           "testdata": labels})
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"test\.mat: testdata row 2 \(0-based\) holds "
                           "values other than 0/1"):
    list(deepsea.iter_split(tmp_path, "test"))


def test_bad_label_names_file_and_unbuilt_dataset(tmp_path):
  names = tmp_path / deepsea.LABEL_NAMES_FILE
  names.write_text("a\nb\n")
  with pytest.raises(deepsea.DeepseaFormatError,
                     match=r"predictor\.names: 2 non-empty lines; expected "
                           "919"):
    deepsea.read_label_names(str(names))
  with pytest.raises(pipeline.DatasetNotBuiltError,
                     match="--dataset=deepsea .*--manual_dir"):
    pipeline.load_builder("deepsea", str(tmp_path / "tfds"))
