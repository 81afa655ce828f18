"""``splicing_events``: cassette exons from rMATS ``SE.MATS.JC.txt`` + GTF + FASTA.

Importing this package registers the TFDS builder; `read_rmats_se` and
`cassette_sequences` read the files without building anything.
"""

from data_builders.splicing_events.splicing_events import (
    RMATS_SE_COLUMNS,
    RmatsEvent,
    SplicingEvents,
    cassette_sequences,
    read_rbp_expression,
    read_rmats_se,
)

__all__ = ["RMATS_SE_COLUMNS", "RmatsEvent", "SplicingEvents", "cassette_sequences",
           "read_rbp_expression", "read_rmats_se"]
