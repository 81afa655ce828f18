"""``synthetic_coverage``: coverage tracks from planted motifs (DESIGN.md, 8).

Importing this package registers the ``SyntheticCoverage`` TFDS builder; the
generative model (``sample_example``, ``expected_coverage`` ...) works without
building anything.
"""

from data_builders.synthetic_coverage.synthetic_coverage import (
    ASSAYS,
    BUILDER_CONFIGS,
    CELL_TYPE_MOTIFS,
    CELL_TYPES,
    DECOY_MOTIFS,
    ELEMENT_KINDS,
    HUMAN_TRACKS,
    MOUSE_TRACKS,
    SPECIES,
    SPLITS,
    TRACK_KINDS,
    Element,
    SyntheticCoverage,
    SyntheticCoverageConfig,
    build_elements,
    cell_type_drive,
    contact,
    element_activity,
    elements_from_record,
    enhancer_activity,
    example_rng,
    expected_coverage,
    generative_model,
    motif_occupancy,
    parse_track,
    promoter_output,
    promoter_strength,
    sample_example,
    sample_layout,
    track_table,
)

__all__ = [
    "ASSAYS", "BUILDER_CONFIGS", "CELL_TYPE_MOTIFS", "CELL_TYPES",
    "DECOY_MOTIFS", "ELEMENT_KINDS", "HUMAN_TRACKS", "MOUSE_TRACKS", "SPECIES",
    "SPLITS", "TRACK_KINDS", "Element", "SyntheticCoverage",
    "SyntheticCoverageConfig", "build_elements", "cell_type_drive", "contact",
    "element_activity", "elements_from_record", "enhancer_activity",
    "example_rng", "expected_coverage", "generative_model", "motif_occupancy",
    "parse_track", "promoter_output", "promoter_strength", "sample_example",
    "sample_layout", "track_table",
]
