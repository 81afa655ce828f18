"""``uniprot_localization``: DeepLoc's 10 locations + membrane flag from Swiss-Prot
SUBCELLULAR LOCATION comments or DeepLoc's FASTA.

Importing this package registers the ``UniprotLocalization`` TFDS builder; the readers
and the record layout (``records``, shared with ``synthetic_proteins``) work without
building.
"""

from data_builders.uniprot_localization.records import (
    DEEPLOC_LOCATIONS,
    MEMBRANE_UNKNOWN,
    localization_features,
    localization_record,
)
from data_builders.uniprot_localization.uniprot_localization import (
    LOCATION_PREFIXES,
    LocalizationFormatError,
    LocalizedProtein,
    UniprotLocalization,
    UniprotLocalizationConfig,
    deeploc_class,
    read_deeploc_fasta,
    read_manual_dir,
    read_swissprot,
    subcellular_statements,
    swissprot_location,
)

__all__ = [
    "DEEPLOC_LOCATIONS", "LOCATION_PREFIXES", "MEMBRANE_UNKNOWN", "LocalizationFormatError",
    "LocalizedProtein", "UniprotLocalization", "UniprotLocalizationConfig", "deeploc_class",
    "localization_features", "localization_record", "read_deeploc_fasta", "read_manual_dir",
    "read_swissprot", "subcellular_statements", "swissprot_location",
]
