"""Inputs of variant prioritisation (`genereg_jax.variants.prioritise`): synthetic labelled
variants and genotype/phenotype sets with known causal variants, in the real formats."""
