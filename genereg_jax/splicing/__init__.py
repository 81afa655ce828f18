"""Alternative splicing beyond splice sites: cassette-exon features and DARTS.

``features``: the engineered cis features of a cassette exon and its flanks that the
splicing-code MLPs (Barash et al., Nature 2010; Xiong et al., Science 2015) and the DARTS
DNN (Zhang et al., Nat. Methods 2019) read. ``bht``: DARTS's Bayesian hypothesis test of
differential splicing from rMATS junction counts with a prior from the DNN.
"""
