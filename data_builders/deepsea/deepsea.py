r"""The published DeepSEA training set (Zhou & Troyanskaya, Nat. Methods 2015).

919 chromatin labels (125 DNase-seq, 690 TF ChIP-seq and 104 histone-mark
profiles from ENCODE and Roadmap Epigenomics) for 1,000 bp windows of hg19; a
label is 1 when more than half of the window's central 200 bp bin lies in a
peak of that profile. Chromosomes 8 and 9 are held out for testing. Each
window appears twice, as itself and as its reverse complement (4.4M = 2 x 2.2M
training rows, 8,000 = 2 x 4,000 validation rows, 455,024 = 2 x 227,512 test
rows), so the bundle already carries reverse-complement augmentation.

Source: ``deepsea_train_bundle.v0.9.tar.gz`` from the DeepSEA site (see
``MANUAL_DOWNLOAD_INSTRUCTIONS``); it is a manual download into ``manual_dir``
and unpacks to ``deepsea_train/{train,valid,test}.mat``.

File formats and axis orders (MATLAB's logical shapes are the same for all
three files: sequences ``N x 4 x 1000``, labels ``N x 919``):

  ``train.mat``  MATLAB v7.3, i.e. HDF5 behind a 512-byte user block. HDF5
                 stores MATLAB's column-major arrays with the axes reversed,
                 so h5py sees ``trainxdata`` as ``(1000, 4, 4400000)``
                 [position, base, example] and ``traindata`` as
                 ``(919, 4400000)`` [label, example]. About 17.6 GB of
                 sequence, read here in chunks of examples, never whole.
  ``valid.mat``  MATLAB v5, read with ``scipy.io.loadmat``, which keeps
  ``test.mat``   MATLAB's order: ``validxdata`` ``(8000, 4, 1000)``
                 [example, base, position], ``validdata`` ``(8000, 919)``;
                 ``testxdata`` ``(455024, 4, 1000)``, ``testdata``
                 ``(455024, 919)``.

These are the orders that Selene's ``MatFileSampler`` configs for these files
declare (``sequence_batch_axis: 2, sequence_alphabet_axis: 1,
targets_batch_axis: 1`` for train.mat; 0, 1, 0 for valid/test.mat) and that
DanQ's and deepsea-keras' loaders undo (``np.transpose(trainxdata, (2, 0,
1))``, ``traindata.T``; ``np.transpose(validxdata, (0, 2, 1))``). The reader
does not assume which file has which format: an HDF5 file is read through
h5py with its axes reversed back to MATLAB's, any other through SciPy.

Channel order: the bundle's base axis is A, G, C, T (DanQ's author in
uci-cbcl/DanQ issue 6: "The DeepSEA authors made the data with the order
A,G,C,T"; the Zhou lab's own encoder, ``encodeSeqs`` in ExPecto/Beluga, maps
A, G, C, T to channels 0-3). This builder writes the framework's A, C, G, T
channels-last: our channel ``c`` is the bundle's channel ``[0, 2, 1, 3][c]``
(the permutation is its own inverse). An all-zero column (N) stays all zeros.

Records are written in file order (``disable_shuffling``), so data-source
position ``i`` of a split is row ``i`` of its ``.mat`` file. Label names come
from an optional ``predictor.names`` beside the ``.mat`` files (one
``cell|assay|treatment`` per line, 919 lines, as shipped with the DeepSEA code
release and kipoi's DeepSEA model); without it they are ``"0"`` ... ``"918"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import h5py
import numpy as np
import tensorflow_datasets as tfds
from genereg_jax.files import InputFormatError

SEQUENCE_LENGTH = 1000
NUM_LABELS = 919
BUNDLE_URL = ("http://deepsea.princeton.edu/media/code/"
              "deepsea_train_bundle.v0.9.tar.gz")
BUNDLE_SUBDIR = "deepsea_train"
LABEL_NAMES_FILE = "predictor.names"
# split -> (file, sequence variable, label variable).
SPLIT_FILES: dict[str, tuple[str, str, str]] = {
    "train": ("train.mat", "trainxdata", "traindata"),
    "valid": ("valid.mat", "validxdata", "validdata"),
    "test": ("test.mat", "testxdata", "testdata"),
}
FILE_CHANNEL_ORDER = "AGCT"
# Index into the file's A,G,C,T axis for each of our A,C,G,T channels.
TO_ACGT = np.array([FILE_CHANNEL_ORDER.index(base) for base in "ACGT"])
# Examples read from a .mat file at once: 8,192 x 4,000 bytes = 33 MB.
READ_CHUNK_EXAMPLES = 8192


class DeepseaFormatError(InputFormatError):
  """A DeepSEA ``.mat`` file is missing, lacks a variable or has a bad shape."""


def find_bundle_file(manual_dir: str | os.PathLike, filename: str) -> str:
  """Path of ``filename`` in ``manual_dir`` or ``manual_dir/deepsea_train``.

  Raises:
    DeepseaFormatError: naming both places looked in, if neither has it.
  """
  candidates = [os.path.join(manual_dir, filename),
                os.path.join(manual_dir, BUNDLE_SUBDIR, filename)]
  for path in candidates:
    if os.path.isfile(path):
      return path
  raise DeepseaFormatError(
      None, None, f"DeepSEA file {filename} not found; looked for {candidates[0]} and "
      f"{candidates[1]}. Download and unpack {BUNDLE_URL} into the "
      "manual_dir.")


class MatVariable:
  """Rows ``[start, stop)`` of one variable of a MATLAB file, MATLAB's axis order.

  MATLAB v7.3 (HDF5) variables are opened with h5py and sliced lazily on their
  last HDF5 axis (MATLAB's first); anything else is loaded with
  ``scipy.io.loadmat`` (MATLAB v5 and earlier hold whole arrays anyway).

  Attributes:
    path: the file.
    name: the variable.
    shape: the shape in MATLAB's order (examples first).
    is_hdf5: whether the file is MATLAB v7.3 / HDF5.
  """

  def __init__(self, path: str, name: str):
    self.path = path
    self.name = name
    self.is_hdf5 = h5py.is_hdf5(path)
    self._file = None
    if self.is_hdf5:
      self._file = h5py.File(path, "r")
      if name not in self._file or not isinstance(self._file[name],
                                                  h5py.Dataset):
        present = sorted(k for k in self._file if not k.startswith("#"))
        self._file.close()
        raise DeepseaFormatError(
            path, None, f"MATLAB v7.3/HDF5 file has no variable {name!r}; it has "
            f"{present}")
      self._data = self._file[name]
      self.shape = tuple(reversed(self._data.shape))
    else:
      # Imported here so that only building from v5 files needs SciPy.
      import scipy.io  # pylint: disable=g-import-not-at-top
      try:
        # whosmat reads the headers only; the data waits for rows().
        listing = {entry[0]: entry[1] for entry in scipy.io.whosmat(path)}
      except Exception as e:  # SciPy raises several types for bad files.
        raise DeepseaFormatError(
            path, None, f"the file is neither HDF5 (MATLAB v7.3) nor a readable MATLAB v5 "
            f"file: {type(e).__name__}: {e}") from e
      if name not in listing:
        raise DeepseaFormatError(
            path, None, f"MATLAB v5 file has no variable {name!r}; it has "
            f"{sorted(listing)}")
      self._data = None
      self.shape = tuple(listing[name])

  def rows(self, start: int, stop: int) -> np.ndarray:
    """Examples ``[start, stop)`` as a numpy array in MATLAB's axis order."""
    if self.is_hdf5:
      block = self._data[..., start:stop]
      return np.transpose(block, tuple(reversed(range(block.ndim))))
    if self._data is None:
      import scipy.io  # pylint: disable=g-import-not-at-top
      self._data = scipy.io.loadmat(self.path, variable_names=[self.name])[
          self.name]
    return np.asarray(self._data[start:stop])

  def close(self) -> None:
    """Closes the HDF5 file, or drops a loaded v5 array."""
    if self._file is not None:
      self._file.close()
      self._file = None
    elif not self.is_hdf5:
      self._data = None


def open_split(manual_dir: str | os.PathLike,
               split: str) -> tuple[MatVariable, MatVariable]:
  """Opens and checks a split's sequence and label variables.

  Args:
    manual_dir: directory holding the bundle (or its ``deepsea_train``).
    split: ``train``, ``valid`` or ``test``.

  Returns:
    ``(sequences, labels)``; MATLAB shapes ``(N, 4, 1000)`` and ``(N, 919)``.

  Raises:
    DeepseaFormatError: naming the file and variable, if either is missing or
      the shapes are not the published ones.
  """
  filename, x_name, y_name = SPLIT_FILES[split]
  path = find_bundle_file(manual_dir, filename)
  sequences = MatVariable(path, x_name)
  try:
    labels = MatVariable(path, y_name)
  except DeepseaFormatError:
    sequences.close()
    raise
  expected_x = (4, SEQUENCE_LENGTH)
  problems = []
  if len(sequences.shape) != 3 or sequences.shape[1:] != expected_x:
    problems.append(f"{x_name} has MATLAB shape {sequences.shape}, expected "
                    f"(N, 4, {SEQUENCE_LENGTH})")
  if len(labels.shape) != 2 or labels.shape[1] != NUM_LABELS:
    problems.append(f"{y_name} has MATLAB shape {labels.shape}, expected "
                    f"(N, {NUM_LABELS})")
  if not problems and sequences.shape[0] != labels.shape[0]:
    problems.append(f"{x_name} has {sequences.shape[0]} examples but "
                    f"{y_name} has {labels.shape[0]}")
  if problems:
    sequences.close()
    labels.close()
    layout = ("h5py shapes are these reversed" if sequences.is_hdf5
              else "as read by scipy.io.loadmat")
    raise DeepseaFormatError(path, None, f"{'; '.join(problems)} ({layout})")
  return sequences, labels


def _check_binary(block: np.ndarray, variable: MatVariable,
                  first_row: int) -> None:
  bad = (block != 0) & (block != 1)
  if bad.any():
    row = first_row + int(np.argwhere(bad)[0][0])
    raise DeepseaFormatError(
        variable.path, None, f"{variable.name} row {row} (0-based) holds values "
        f"other than 0/1, e.g. {block[bad][0]!r}")


def to_acgt_channels_last(block: np.ndarray) -> np.ndarray:
  """``[n, 4, length]`` A,G,C,T (MATLAB order) -> ``[n, length, 4]`` A,C,G,T."""
  return np.ascontiguousarray(
      np.transpose(block, (0, 2, 1))[..., TO_ACGT]).astype(np.uint8)


def iter_split(manual_dir: str | os.PathLike, split: str,
               chunk_examples: int | None = None
               ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
  """``(row, {"sequence": uint8[1000, 4] ACGT, "label": uint8[919]})`` in order.

  Reads ``chunk_examples`` rows at a time (default ``READ_CHUNK_EXAMPLES``),
  so the 17.6 GB training matrix is never held in memory.
  """
  chunk = chunk_examples or READ_CHUNK_EXAMPLES
  sequences, labels = open_split(manual_dir, split)
  try:
    for start in range(0, sequences.shape[0], chunk):
      stop = min(start + chunk, sequences.shape[0])
      x = sequences.rows(start, stop)
      y = labels.rows(start, stop)
      _check_binary(x, sequences, start)
      _check_binary(y, labels, start)
      x = to_acgt_channels_last(x)
      y = y.astype(np.uint8)
      for offset in range(stop - start):
        yield start + offset, {"sequence": x[offset], "label": y[offset]}
  finally:
    sequences.close()
    labels.close()


def read_label_names(path: str) -> list[str]:
  """The 919 label names of a ``predictor.names`` file, one per line."""
  with open(path, encoding="utf-8") as f:
    names = [line.strip() for line in f if line.strip()]
  if len(names) != NUM_LABELS:
    raise DeepseaFormatError(
        path, None, f"{len(names)} non-empty lines; expected {NUM_LABELS} "
        "label names, one per line in output order")
  return names


def _label_names(manual_dir: str | os.PathLike) -> tuple[list[str], str | None]:
  try:
    path = find_bundle_file(manual_dir, LABEL_NAMES_FILE)
  except DeepseaFormatError:
    return [str(i) for i in range(NUM_LABELS)], None
  return read_label_names(path), path


class Deepsea(tfds.core.GeneratorBasedBuilder):
  """DeepSEA's 4.4M/8k/455k windows x 919 chromatin labels, from its .mat files."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "train/valid/test from deepsea_train_bundle.v0.9."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = f"""\
  Download the DeepSEA training bundle (Zhou & Troyanskaya 2015, ~4 GB):
    {BUNDLE_URL}
  and unpack it:  tar -xzf deepsea_train_bundle.v0.9.tar.gz
  which gives deepsea_train/train.mat, valid.mat and test.mat (~22 GB). Pass
  that deepsea_train directory, or the directory holding it, as manual_dir.
  Optionally add the 919 feature names, one per line in output order, as
  {LABEL_NAMES_FILE} beside the .mat files (the file of that name in the
  DeepSEA code release, also in kipoi's DeepSEA model).
  """

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=__doc__,
        features=tfds.features.FeaturesDict({
            "sequence": tfds.features.Tensor(shape=(SEQUENCE_LENGTH, 4),
                                             dtype=np.uint8),
            "label": tfds.features.Tensor(shape=(NUM_LABELS,), dtype=np.uint8),
        }),
        supervised_keys=("sequence", "label"),
        disable_shuffling=True,
        homepage="http://deepsea.princeton.edu/",
        citation=("Zhou J, Troyanskaya OG. Predicting effects of noncoding "
                  "variants with deep learning-based sequence model. Nature "
                  "Methods 12, 931-934 (2015)."),
        metadata=tfds.core.MetadataDict(
            label_names=[str(i) for i in range(NUM_LABELS)],
            label_names_file=None,
            sequence_length=SEQUENCE_LENGTH,
            source_channel_order=FILE_CHANNEL_ORDER,
            channel_order="ACGT",
            source_url=BUNDLE_URL,
        ),
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager
                        ) -> Mapping[str, Any]:
    manual_dir = dl_manager.manual_dir
    # Open every split first so a missing file or variable fails before the
    # hour-long training split is written.
    for split in SPLIT_FILES:
      for variable in open_split(manual_dir, split):
        variable.close()
    names, names_path = _label_names(manual_dir)
    self.info.metadata["label_names"] = names
    self.info.metadata["label_names_file"] = names_path
    return {split: self._generate_examples(manual_dir, split)
            for split in SPLIT_FILES}

  def _generate_examples(self, manual_dir: str, split: str
                         ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    yield from iter_split(manual_dir, split)
