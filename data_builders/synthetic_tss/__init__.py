"""``synthetic_tss``: planted TSS grammar read differently by each cell type (DeeReCT-TSS,
Reptile) and motif-pair classes (prototypical networks). Importing this package
registers the ``SyntheticTSS`` TFDS builder."""

from data_builders.synthetic_tss.synthetic_tss import (
    REGULATORS,
    SyntheticTSS,
    SyntheticTSSConfig,
    cell_type_weights,
    motif_pair_example,
    pair_classes,
    tss_example,
)

__all__ = ["REGULATORS", "SyntheticTSS", "SyntheticTSSConfig", "cell_type_weights",
           "motif_pair_example", "pair_classes", "tss_example"]
