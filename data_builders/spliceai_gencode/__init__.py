"""``spliceai_gencode``: SpliceAI's training blocks from a genome FASTA + GTF or table.

Importing this package registers the ``SpliceaiGencode`` TFDS builder (Jaganathan et
al., Cell 2019; see ``spliceai_gencode.py`` for the recipe).
"""

from data_builders.spliceai_gencode.spliceai_gencode import (
    ACCEPTOR,
    DONOR,
    MANUAL_DOWNLOAD_INSTRUCTIONS,
    NEITHER,
    PADDING,
    PRIMARY_CHROMOSOMES,
    SPLITS,
    TEST_CHROMOSOMES,
    SpliceaiGencode,
    SpliceaiGencodeConfig,
    cut_blocks,
    gene_blocks,
    load_transcripts,
    split_of,
    transcript_labels,
)

__all__ = [
    "ACCEPTOR", "DONOR", "MANUAL_DOWNLOAD_INSTRUCTIONS", "NEITHER", "PADDING",
    "PRIMARY_CHROMOSOMES", "SPLITS", "TEST_CHROMOSOMES", "SpliceaiGencode",
    "SpliceaiGencodeConfig", "cut_blocks", "gene_blocks", "load_transcripts", "split_of",
    "transcript_labels",
]
