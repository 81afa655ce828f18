"""``epd_promoters``: promoter / non-promoter windows from EPD (BED or FPS), RegulonDB or
DBTBS promoter files + a genome FASTA, with random, GC/CpG-matched and shuffled
negatives. Importing this package registers the ``EpdPromoters`` TFDS builder."""

from data_builders.epd_promoters.epd_promoters import (
    REFSEQ_CHROMOSOMES,
    EpdPromoters,
    EpdPromotersConfig,
    Promoter,
    promoter_windows,
    read_dbtbs,
    read_epd_bed,
    read_fps,
    read_regulondb,
)

__all__ = ["REFSEQ_CHROMOSOMES", "EpdPromoters", "EpdPromotersConfig", "Promoter",
           "promoter_windows", "read_dbtbs", "read_epd_bed", "read_fps", "read_regulondb"]
