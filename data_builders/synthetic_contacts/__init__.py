"""``synthetic_contacts``: contact maps from loop extrusion between planted CTCF sites.

Importing this package registers the ``SyntheticContacts`` TFDS builder (DESIGN.md, 8);
the generative model (``sample_example``, ``contact_probability`` ...) works without
building anything.
"""

from data_builders.synthetic_contacts.synthetic_contacts import (
    BUILDER_CONFIGS,
    SPLITS,
    CellType,
    CtcfSite,
    SyntheticContacts,
    SyntheticContactsConfig,
    contact_probability,
    example_rng,
    extrude,
    generative_model,
    observe,
    oracle_map_pearson,
    plant_sites,
    sample_example,
)

__all__ = [
    "BUILDER_CONFIGS", "SPLITS", "CellType", "CtcfSite", "SyntheticContacts",
    "SyntheticContactsConfig", "contact_probability", "example_rng", "extrude",
    "generative_model", "observe", "oracle_map_pearson", "plant_sites", "sample_example",
]
