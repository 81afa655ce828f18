"""``borzoi_data``: Borzoi's human and mouse training TFRecords (Linder et al., Nat.
Genet. 2025), built from a ``manual_dir`` copy of gs://borzoi-paper/data.

Importing this package registers the ``BorzoiData`` TFDS builder.
"""

from data_builders.borzoi_data.borzoi_data import (
    FOLDS,
    SPLIT_FOLDS,
    BorzoiData,
    BorzoiDataConfig,
    decode_record,
)

__all__ = ["FOLDS", "SPLIT_FOLDS", "BorzoiData", "BorzoiDataConfig", "decode_record"]
