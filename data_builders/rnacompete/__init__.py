"""``rnacompete``: RNAcompete probe intensities (Ray et al. 2013) for DeepBind-RNA.

Importing this package registers the ``Rnacompete`` TFDS builder; the table reader and
DeepBind's target standardisation work without building.
"""

from data_builders.rnacompete.rnacompete import (
    CLIP_PERCENTILE,
    MAX_PROBE_LENGTH,
    ProbeTable,
    Rnacompete,
    RnacompeteConfig,
    RnacompeteFormatError,
    probe_features,
    probe_one_hot,
    probe_records,
    read_table,
    split_of,
    standardize,
)

__all__ = [
    "CLIP_PERCENTILE", "MAX_PROBE_LENGTH", "ProbeTable", "Rnacompete", "RnacompeteConfig",
    "RnacompeteFormatError", "probe_features", "probe_one_hot", "probe_records",
    "read_table", "split_of", "standardize",
]
