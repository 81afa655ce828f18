"""Variant-effect scoring with trained models (DESIGN.md, tools on trained models).

``spliceai_scoring`` computes the official SpliceAI delta scores (Jaganathan et al.,
Cell 2019) for VCF records with the Flax SpliceAI ensemble.
"""
