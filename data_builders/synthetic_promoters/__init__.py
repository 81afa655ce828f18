"""``synthetic_promoters``: windows with a planted TATA / Inr / CpG (eukaryote) or
sigma70 (prokaryote) grammar, its oracle, and a genome with known TSSs to scan
(DESIGN.md, decision 8). Importing this package registers the ``SyntheticPromoters``
TFDS builder."""

from data_builders.synthetic_promoters.synthetic_promoters import (
    EUKARYOTE_DECOYS,
    PROMOTER_THRESHOLD,
    SPLITS,
    SyntheticPromoters,
    SyntheticPromotersConfig,
    Tss,
    eukaryote_strength,
    prokaryote_strength,
    stranded_window,
    synthetic_genome,
    window,
    write_genome,
)

__all__ = ["EUKARYOTE_DECOYS", "PROMOTER_THRESHOLD", "SPLITS", "SyntheticPromoters",
           "SyntheticPromotersConfig", "Tss", "eukaryote_strength", "prokaryote_strength",
           "stranded_window", "synthetic_genome", "window", "write_genome"]
