"""``synthetic_splicing``: designed genes with consensus splice signals (DESIGN.md, 8).

Importing this package registers the ``SyntheticSplicing`` TFDS builder; `sample_gene`
draws one gene without building anything; the ``usage`` configs add synthetic per-tissue
splice-site usage for Pangolin (Zeng & Li, Genome Biology 2022).
"""

from data_builders.synthetic_splicing.synthetic_splicing import (
    BRANCH_POINT_TO_SITE,
    DONOR_FREQUENCIES,
    SILENCER,
    SPLITS,
    TISSUE_USAGE_RULES,
    SyntheticGene,
    SyntheticSplicing,
    SyntheticSplicingConfig,
    example_rng,
    gene_records,
    sample_gene,
    site_strength,
    synthetic_usage,
)

__all__ = [
    "BRANCH_POINT_TO_SITE", "DONOR_FREQUENCIES", "SILENCER", "SPLITS", "TISSUE_USAGE_RULES",
    "SyntheticGene", "SyntheticSplicing", "SyntheticSplicingConfig", "example_rng",
    "gene_records", "sample_gene", "site_strength", "synthetic_usage",
]
