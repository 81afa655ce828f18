"""``basenji_barnyard``: Basenji2/Enformer human and mouse coverage TFRecords (Kelley,
PLoS Comput. Biol. 2020), built from a ``manual_dir`` copy of gs://basenji_barnyard/data.

Importing this package registers the ``BasenjiBarnyard`` TFDS builder; the readers of
the layout's files (statistics.json, targets.txt, sequences.bed, TFRecords) work alone.
"""

from data_builders.basenji_barnyard.basenji_barnyard import (
    BUCKET,
    ORGANISMS,
    REQUIRED_STATISTICS,
    SPLITS,
    BasenjiBarnyard,
    BasenjiBarnyardConfig,
    BasenjiFormatError,
    coverage_features,
    decode_record,
    read_regions,
    read_statistics,
    read_targets,
    strand_pair_positions,
    tfrecord_files,
)

__all__ = [
    "BUCKET", "ORGANISMS", "REQUIRED_STATISTICS", "SPLITS", "BasenjiBarnyard",
    "BasenjiBarnyardConfig", "BasenjiFormatError", "coverage_features", "decode_record", "read_regions",
    "read_statistics", "read_targets", "strand_pair_positions", "tfrecord_files",
]
