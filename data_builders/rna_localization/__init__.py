"""``rna_localization``: CeFra-seq / APEX-RIP fractions + cDNA for RNATracker.

Importing this package registers the ``RnaLocalization`` TFDS builder; the readers,
the truncation rule and the RNAplfold structure channels work without building.
"""

from data_builders.rna_localization.rna_localization import (
    APEX_RIP_COMPARTMENTS,
    CEFRA_SEQ_COMPARTMENTS,
    STRUCTURE_CHANNELS,
    LocalizationFormatError,
    RnaLocalization,
    RnaLocalizationConfig,
    keep_last,
    localization_features,
    localization_record,
    plfold_channels,
    read_fraction_table,
    read_manual_dir,
    read_screened_fasta,
    split_of,
    structure_track,
)

__all__ = [
    "APEX_RIP_COMPARTMENTS", "CEFRA_SEQ_COMPARTMENTS", "STRUCTURE_CHANNELS",
    "LocalizationFormatError", "RnaLocalization", "RnaLocalizationConfig", "keep_last",
    "localization_features", "localization_record", "plfold_channels",
    "read_fraction_table", "read_manual_dir", "read_screened_fasta", "split_of",
    "structure_track",
]
