"""``apa_usage``: per-gene polyadenylation site usage (DeeReCT-APA's usage + sequence
tables, or a genomic site table + genome FASTA) as padded PAS sets or site pairs.
Importing this package registers the ``APAUsage`` TFDS builder."""

from data_builders.apa_usage.apa_usage import (
    APAUsage,
    APAUsageConfig,
    centred,
    deerect_genes,
    genomic_genes,
    read_site_sequences,
    read_usage_table,
)

__all__ = ["APAUsage", "APAUsageConfig", "centred", "deerect_genes", "genomic_genes",
           "read_site_sequences", "read_usage_table"]
