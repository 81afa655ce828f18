"""``bismark_cpg``: per-cell Bismark coverage files + FASTA -> DeepCpG examples, with an
embedded synthetic set of known truth (DESIGN.md, decision 8).

Importing this package registers the ``BismarkCpg`` TFDS builder.
"""

from data_builders.bismark_cpg.bismark_cpg import (
    CRE_MOTIF,
    SYNTHETIC_SPLIT,
    BismarkCpg,
    BismarkCpgConfig,
    cpg_records,
    methylation_truth,
    split_of,
    write_synthetic,
)

__all__ = ["CRE_MOTIF", "SYNTHETIC_SPLIT", "BismarkCpg", "BismarkCpgConfig", "cpg_records",
           "methylation_truth", "split_of", "write_synthetic"]
