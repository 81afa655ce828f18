"""``mirna_targets``: miRNA–target-site pairs with MiRTDL's 20 features.

Importing this package registers the TFDS builder. Configs: ``synthetic`` / ``tiny``
(embedded pairs with planted seed rules) and ``tarbase`` (a TarBase-style table and
miRBase ``mature.fa`` from ``--manual_dir``).
"""

from data_builders.mirna_targets.features import FEATURE_NAMES, pair_features, seed_type
from data_builders.mirna_targets.mirna_targets import (
    MirnaTargets,
    MirnaTargetsConfig,
    read_mirbase_fasta,
    read_tarbase_table,
    synthetic_pairs,
)

__all__ = ["FEATURE_NAMES", "MirnaTargets", "MirnaTargetsConfig", "pair_features",
           "read_mirbase_fasta", "read_tarbase_table", "seed_type", "synthetic_pairs"]
