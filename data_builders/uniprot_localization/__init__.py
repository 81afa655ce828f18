"""``uniprot_localization``: DeepLoc's 10 locations + membrane flag and the record layout."""

from data_builders.uniprot_localization.records import (
    DEEPLOC_LOCATIONS,
    MEMBRANE_UNKNOWN,
    localization_features,
    localization_record,
)

__all__ = ["DEEPLOC_LOCATIONS", "MEMBRANE_UNKNOWN", "localization_features",
           "localization_record"]
