"""``synthetic_splicing``: designed genes with consensus splice signals (DESIGN.md, 8).

Importing this package registers the ``SyntheticSplicing`` TFDS builder; `sample_gene`
draws one gene without building anything.
"""

from data_builders.synthetic_splicing.synthetic_splicing import (
    BRANCH_POINT_TO_SITE,
    DONOR_FREQUENCIES,
    SILENCER,
    SPLITS,
    SyntheticGene,
    SyntheticSplicing,
    SyntheticSplicingConfig,
    example_rng,
    gene_records,
    sample_gene,
)

__all__ = [
    "BRANCH_POINT_TO_SITE", "DONOR_FREQUENCIES", "SILENCER", "SPLITS", "SyntheticGene",
    "SyntheticSplicing", "SyntheticSplicingConfig", "example_rng", "gene_records",
    "sample_gene",
]
