"""``cuperus_utr``: the Cuperus et al. 2017 yeast 5' UTR CSV (UTR, growth_rate, t0).
Importing this package registers the ``CuperusUTR`` TFDS builder."""

from data_builders.cuperus_utr.cuperus_utr import CuperusUTR, CuperusUTRConfig, read_utrs

__all__ = ["CuperusUTR", "CuperusUTRConfig", "read_utrs"]
