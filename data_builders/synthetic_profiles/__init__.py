"""``synthetic_profiles``: ChIP-nexus-like profiles from planted JASPAR motifs.

Importing this package registers the ``SyntheticProfiles`` TFDS builder; the
footprint and sampling helpers work without building anything.
"""

from data_builders.synthetic_profiles.synthetic_profiles import (
    BINDING,
    CONTROL_NAMES,
    CONTROL_STRAND_PAIR,
    FOOTPRINTS,
    MOTIF_IDS,
    MOTIF_NAMES,
    SPLITS,
    STRAND_PAIR,
    TASKS,
    TRACK_NAMES,
    Footprint,
    SyntheticProfiles,
    SyntheticProfilesConfig,
    bound_sites,
    example_rng,
    expected_signal,
    footprint_edges,
    load_motifs,
    motif_scores,
    occupancy,
    sample_example,
    strand_shapes,
)

__all__ = [
    "BINDING", "CONTROL_NAMES", "CONTROL_STRAND_PAIR", "FOOTPRINTS",
    "MOTIF_IDS", "MOTIF_NAMES", "SPLITS", "STRAND_PAIR", "TASKS",
    "TRACK_NAMES", "Footprint", "SyntheticProfiles", "SyntheticProfilesConfig",
    "bound_sites", "example_rng", "expected_signal", "footprint_edges",
    "load_motifs", "motif_scores", "occupancy", "sample_example",
    "strand_shapes",
]
