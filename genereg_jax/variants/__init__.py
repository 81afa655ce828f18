"""Variant-effect scoring with trained models (DESIGN.md, tools on trained models).

``effects`` gives predictions before and after substitutions, deletions and insertions
for any jax function (tangermeme 1.6's ``variant_effect`` conventions); ``vcf`` reads
VCF records with line numbers and writes BGZF; ``scoring`` scores a VCF with any
trained model (DeepSEA-style probability differences, Basenji/Enformer SAD and SED,
BPNet/ChromBPNet count and profile scores); ``spliceai_scoring`` computes the official
SpliceAI delta scores (Jaganathan et al., Cell 2019) with the Flax SpliceAI ensemble.
"""
