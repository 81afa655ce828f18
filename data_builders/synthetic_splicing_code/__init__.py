"""``synthetic_splicing_code``: cassette exons with planted regulatory elements (DESIGN.md, 8).

Importing this package registers the TFDS builder; `sample_exon`, `exon_logit` and
`darts_events` generate data without building anything.
"""

from data_builders.synthetic_splicing_code.synthetic_splicing_code import (
    BASE_LOGIT,
    ELEMENTS,
    RBPS,
    SPLITS,
    TISSUES,
    CassetteExon,
    SyntheticSplicingCode,
    SyntheticSplicingCodeConfig,
    darts_events,
    exon_logit,
    lmh_probabilities,
    sample_exon,
)

__all__ = ["BASE_LOGIT", "ELEMENTS", "RBPS", "SPLITS", "TISSUES", "CassetteExon",
           "SyntheticSplicingCode", "SyntheticSplicingCodeConfig", "darts_events",
           "exon_logit", "lmh_probabilities", "sample_exon"]
