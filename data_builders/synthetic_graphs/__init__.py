"""``synthetic_graphs``: GraphReg regions whose CAGE needs far enhancers in contact.

Importing this package registers the ``SyntheticGraphs`` TFDS builder; the
generative model (``sample_example``, ``gene_inputs`` ...) works without building.
"""

from data_builders.synthetic_graphs.synthetic_graphs import (
    BUILDER_CONFIGS,
    EPI_TRACKS,
    SPLITS,
    Region,
    SyntheticGraphs,
    SyntheticGraphsConfig,
    contact_dependent,
    example_rng,
    expected_cage,
    expected_contacts,
    expected_epi,
    gene_inputs,
    oracle_correlations,
    sample_example,
    sample_region,
)

__all__ = [
    "BUILDER_CONFIGS", "EPI_TRACKS", "SPLITS", "Region", "SyntheticGraphs",
    "SyntheticGraphsConfig", "contact_dependent", "example_rng", "expected_cage",
    "expected_contacts", "expected_epi", "gene_inputs", "oracle_correlations",
    "sample_example", "sample_region",
]
