"""``deepsea``: the published DeepSEA training bundle (Zhou & Troyanskaya 2015).

Importing this package registers the ``Deepsea`` TFDS builder, which reads the
manually downloaded ``train.mat`` (MATLAB v7.3/HDF5), ``valid.mat`` and
``test.mat`` (MATLAB v5) and writes A,C,G,T channels-last sequences.
"""

from data_builders.deepsea.deepsea import (
    BUNDLE_URL,
    FILE_CHANNEL_ORDER,
    LABEL_NAMES_FILE,
    NUM_LABELS,
    SEQUENCE_LENGTH,
    SPLIT_FILES,
    TO_ACGT,
    Deepsea,
    DeepseaFormatError,
    MatVariable,
    find_bundle_file,
    iter_split,
    open_split,
    read_label_names,
    to_acgt_channels_last,
)

__all__ = [
    "BUNDLE_URL", "FILE_CHANNEL_ORDER", "LABEL_NAMES_FILE", "NUM_LABELS",
    "SEQUENCE_LENGTH", "SPLIT_FILES", "TO_ACGT", "Deepsea", "DeepseaFormatError",
    "MatVariable", "find_bundle_file", "iter_split", "open_split",
    "read_label_names", "to_acgt_channels_last",
]
