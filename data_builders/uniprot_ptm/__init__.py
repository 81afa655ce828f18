"""``uniprot_ptm``: PTM-site windows (MusiteDeep's 13 types) and their record layout."""

from data_builders.uniprot_ptm.records import (
    PTM_TYPES,
    candidate_mask,
    ptm_features,
    site_windows,
)

__all__ = ["PTM_TYPES", "candidate_mask", "ptm_features", "site_windows"]
