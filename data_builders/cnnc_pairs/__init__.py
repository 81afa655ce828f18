"""``cnnc_pairs``: gene pairs of an expression AnnData as CNNC's 2D histograms.
Importing this package registers the ``CnncPairs`` TFDS builder."""

from data_builders.cnnc_pairs.cnnc_pairs import (
    BINS,
    CLASS_NAMES,
    CnncPairs,
    CnncPairsConfig,
    find_inputs,
    pair_records,
)

__all__ = ["BINS", "CLASS_NAMES", "CnncPairs", "CnncPairsConfig", "find_inputs",
           "pair_records"]
