"""ExPecto inputs (Zhou et al., Nat. Genet. 2018): the paper's TSS and expression tables
(`tables`) and a synthetic set with planted enhancer motifs and known truth (`synthetic`).

Not a TFDS builder: ExPecto's stage 3 trains on a table of genes, not on a stream of
examples; the chromatin model that feeds it trains on any chromatin dataset here.
"""
