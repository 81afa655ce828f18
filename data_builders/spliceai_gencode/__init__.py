"""``spliceai_gencode``: SpliceAI's training blocks from a genome FASTA + GTF or table.

Importing this package registers the ``SpliceaiGencode`` TFDS builder (Jaganathan et
al., Cell 2019; see ``spliceai_gencode.py`` for the recipe), whose ``gencode_usage``
config adds Pangolin's per-tissue splice-site usage (Zeng & Li, Genome Biology 2022).
"""

from data_builders.spliceai_gencode.spliceai_gencode import (
    ACCEPTOR,
    DONOR,
    MANUAL_DOWNLOAD_INSTRUCTIONS,
    NEITHER,
    PADDING,
    PANGOLIN_TISSUES,
    PRIMARY_CHROMOSOMES,
    SPLITS,
    TEST_CHROMOSOMES,
    USAGE_UNKNOWN,
    SpliceaiGencode,
    SpliceaiGencodeConfig,
    UsageTable,
    cut_blocks,
    gene_blocks,
    load_transcripts,
    read_usage_table,
    record_features,
    split_of,
    transcript_labels,
    transcript_usage,
)

__all__ = [
    "ACCEPTOR", "DONOR", "MANUAL_DOWNLOAD_INSTRUCTIONS", "NEITHER", "PADDING",
    "PANGOLIN_TISSUES", "PRIMARY_CHROMOSOMES", "SPLITS", "TEST_CHROMOSOMES",
    "USAGE_UNKNOWN", "SpliceaiGencode", "SpliceaiGencodeConfig", "UsageTable", "cut_blocks",
    "gene_blocks", "load_transcripts", "read_usage_table", "record_features", "split_of",
    "transcript_labels", "transcript_usage",
]
