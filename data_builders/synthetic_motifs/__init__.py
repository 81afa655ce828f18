"""``synthetic_motifs``: JASPAR motifs planted under a known grammar (DESIGN.md, 8).

Importing this package registers the ``SyntheticMotifs`` TFDS builder; the grammar
helpers work without building anything.
"""

from data_builders.synthetic_motifs.synthetic_motifs import (
    GRAMMAR,
    LABEL_NAMES,
    MAX_MOTIFS,
    MIN_SEQUENCE_LENGTH,
    MOTIF_IDS,
    MOTIF_NAMES,
    NUM_LABELS,
    PSEUDOCOUNT,
    SCENARIO_WEIGHTS,
    SPLITS,
    AtLeast,
    Convergent,
    MotifInstance,
    PlantedMotif,
    Present,
    PresentWithout,
    SyntheticMotifs,
    SyntheticMotifsConfig,
    WithinDistance,
    example_rng,
    grammar_description,
    labels_from_motifs,
    load_motifs,
    motif_widths,
    sample_example,
)

__all__ = [
    "GRAMMAR", "LABEL_NAMES", "MAX_MOTIFS", "MIN_SEQUENCE_LENGTH", "MOTIF_IDS",
    "MOTIF_NAMES", "NUM_LABELS", "PSEUDOCOUNT", "SCENARIO_WEIGHTS", "SPLITS",
    "AtLeast", "Convergent", "MotifInstance", "PlantedMotif", "Present",
    "PresentWithout", "SyntheticMotifs", "SyntheticMotifsConfig",
    "WithinDistance", "example_rng", "grammar_description", "labels_from_motifs",
    "load_motifs", "motif_widths", "sample_example",
]
