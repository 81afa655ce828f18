"""``scatac_peaks``: scATAC AnnData (+ FASTA) as peak-major (scBasset) or cell-major
(SCALE) records. Importing this package registers the ``ScatacPeaks`` TFDS builder."""

from data_builders.scatac_peaks.scatac_peaks import (
    ScatacPeaks,
    ScatacPeaksConfig,
    cell_records,
    dict_fetcher,
    find_inputs,
    genome_fetcher,
    peak_records,
    peak_split,
    synthetic_anndata,
)

__all__ = ["ScatacPeaks", "ScatacPeaksConfig", "cell_records", "dict_fetcher", "find_inputs",
           "genome_fetcher", "peak_records", "peak_split", "synthetic_anndata"]
