"""``synthetic_singlecell``: simulated scATAC (cell-type motifs) and gene-pair
expression with a known truth, as AnnData (DESIGN.md, decision 8). The builders
``scatac_peaks``, ``pseudobulk`` and ``cnnc_pairs`` turn them into datasets."""

from data_builders.synthetic_singlecell.synthetic_singlecell import (
    CONSTITUTIVE_MOTIF,
    CONTIG,
    TYPE_MOTIFS,
    motifs,
    simulate_atac,
    simulate_expression,
)

__all__ = ["CONSTITUTIVE_MOTIF", "CONTIG", "TYPE_MOTIFS", "motifs", "simulate_atac",
           "simulate_expression"]
