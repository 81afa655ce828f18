"""``synthetic_proteins``: planted PTM motifs and sorting signals (DESIGN.md, 8).

Importing this package registers the ``SyntheticProteins`` TFDS builder;
`sample_ptm_protein` and `sample_localized_protein` draw one protein without building.
"""

from data_builders.synthetic_proteins.synthetic_proteins import (
    BACKGROUND,
    DEEPLOC_LOCATIONS,
    KINASES,
    LOCATION_SIGNALS,
    PTM_RULES,
    SPLITS,
    SyntheticLocalizedProtein,
    SyntheticProteins,
    SyntheticProteinsConfig,
    SyntheticPtmProtein,
    example_rng,
    matched_motifs,
    random_protein,
    sample_localized_protein,
    sample_ptm_protein,
)

__all__ = [
    "BACKGROUND", "DEEPLOC_LOCATIONS", "KINASES", "LOCATION_SIGNALS", "PTM_RULES", "SPLITS",
    "SyntheticLocalizedProtein", "SyntheticProteins", "SyntheticProteinsConfig",
    "SyntheticPtmProtein", "example_rng", "matched_motifs", "random_protein",
    "sample_localized_protein", "sample_ptm_protein",
]
