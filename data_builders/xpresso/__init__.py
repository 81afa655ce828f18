"""``xpresso``: Xpresso's gene table (EXPRESSION, eight half-life features, PROMOTER or a
promoter FASTA). Importing this package registers the ``Xpresso`` TFDS builder."""

from data_builders.xpresso.xpresso import Xpresso, XpressoConfig, preprocess, read_genes

__all__ = ["Xpresso", "XpressoConfig", "preprocess", "read_genes"]
