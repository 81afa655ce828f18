"""``uniprot_ptm``: PTM-site windows (MusiteDeep's 13 types) from Swiss-Prot, Phospho.ELM,
PhosphoSitePlus and PLMD.

Importing this package registers the ``UniprotPtm`` TFDS builder; the readers and the
record layout (``records``, shared with ``synthetic_proteins``) work without building.
"""

from data_builders.uniprot_ptm.records import (
    PTM_TYPES,
    candidate_mask,
    ptm_features,
    site_windows,
)
from data_builders.uniprot_ptm.uniprot_ptm import (
    KINASE_FAMILIES,
    AnnotatedProtein,
    PtmFormatError,
    UniprotPtm,
    UniprotPtmConfig,
    kinase_family,
    read_manual_dir,
    read_musitedeep_fasta,
    read_phospho_elm,
    read_phosphositeplus,
    read_plmd,
    read_swissprot,
    swissprot_types,
)

__all__ = [
    "KINASE_FAMILIES", "PTM_TYPES", "AnnotatedProtein", "PtmFormatError", "UniprotPtm",
    "UniprotPtmConfig", "candidate_mask", "kinase_family", "ptm_features", "read_manual_dir",
    "read_musitedeep_fasta", "read_phospho_elm", "read_phosphositeplus", "read_plmd",
    "read_swissprot", "site_windows", "swissprot_types",
]
