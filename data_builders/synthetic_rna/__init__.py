"""``synthetic_rna``: RBP-motif probe intensities and zip-code localisation (DESIGN.md, 8).

Importing this package registers the ``SyntheticRna`` TFDS builder; `sample_probe` and
`sample_transcript` draw one example without building anything.
"""

from data_builders.synthetic_rna.synthetic_rna import (
    RBP_MOTIFS,
    SPLITS,
    ZIP_CODES,
    SyntheticRna,
    SyntheticRnaConfig,
    SyntheticTranscript,
    affinity,
    example_rng,
    sample_probe,
    sample_transcript,
)

__all__ = [
    "RBP_MOTIFS", "SPLITS", "ZIP_CODES", "SyntheticRna", "SyntheticRnaConfig",
    "SyntheticTranscript", "affinity", "example_rng", "sample_probe", "sample_transcript",
]
