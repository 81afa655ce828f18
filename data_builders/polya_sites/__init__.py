"""``polya_sites``: PAS / non-PAS windows from the DeeReCT-PolyA datasets' files (Dragon,
Omni, mouse) or from PolyASite/PolyA_DB sites + a genome FASTA. Importing this package
registers the ``PolyASites`` TFDS builder."""

from data_builders.polya_sites.polya_sites import (
    HEXAMERS,
    PolyASites,
    PolyASitesConfig,
    Site,
    folder_records,
    read_sites,
    site_windows,
)

__all__ = ["HEXAMERS", "PolyASites", "PolyASitesConfig", "Site", "folder_records",
           "read_sites", "site_windows"]
