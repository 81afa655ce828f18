"""``fantom_tss``: DeeReCT-TSS windows from FANTOM5 CAGE TSS BED files + one RNA-seq
bigWig per cell type + a genome FASTA. Importing this package registers the
``FantomTSS`` TFDS builder."""

from data_builders.fantom_tss.fantom_tss import (
    CellType,
    FantomFormatError,
    FantomTSS,
    FantomTSSConfig,
    Tss,
    read_manifest,
    read_tss_bed,
    tss_windows,
)

__all__ = ["CellType", "FantomFormatError", "FantomTSS", "FantomTSSConfig", "Tss",
           "read_manifest", "read_tss_bed", "tss_windows"]
