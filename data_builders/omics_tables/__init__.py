"""``omics_tables``: tabular multi-omics cohorts (MuData / AnnData / TSV) for the fusion
models, with an embedded synthetic XOR cohort (DESIGN.md, decision 8).

Importing this package registers the ``OmicsTables`` TFDS builder.
"""

from data_builders.omics_tables.omics_tables import (
    BLOCKS,
    OmicsTables,
    OmicsTablesConfig,
    split_of_sample,
    write_xor_cohort,
)

__all__ = ["BLOCKS", "OmicsTables", "OmicsTablesConfig", "split_of_sample", "write_xor_cohort"]
