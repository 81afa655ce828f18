"""``synthetic_polya``: planted PAS hexamers and GU-rich elements with known site
strength, PAS labels, site pairs and per-gene usage (DESIGN.md, decision 8).

Importing this package registers the ``SyntheticPolyA`` TFDS builder.
"""

from data_builders.synthetic_polya.synthetic_polya import (
    DSE_ELEMENTS,
    HEXAMER_STRENGTH,
    HEXAMERS,
    SPLITS,
    Site,
    SyntheticPolyA,
    SyntheticPolyAConfig,
    example_rng,
    gene_record,
    gene_usage,
    hexamer_term,
    pas_window,
    sample_gene,
    sample_site,
)

__all__ = ["DSE_ELEMENTS", "HEXAMER_STRENGTH", "HEXAMERS", "SPLITS", "Site", "SyntheticPolyA",
           "SyntheticPolyAConfig", "example_rng", "gene_record", "gene_usage", "hexamer_term",
           "pas_window", "sample_gene", "sample_site"]
