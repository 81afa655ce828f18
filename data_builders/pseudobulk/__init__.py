"""``pseudobulk``: scATAC cells aggregated by a label column into per-group peak labels
for Basset. Importing this package registers the ``Pseudobulk`` TFDS builder."""

from data_builders.pseudobulk.pseudobulk import FOLD, Pseudobulk, PseudobulkConfig

__all__ = ["FOLD", "Pseudobulk", "PseudobulkConfig"]
