"""``genotypes``: PLINK / VCF genotype dosages + phenotypes for genomic prediction, with an
embedded synthetic population of known genetic architecture (DESIGN.md, decision 8).

Importing this package registers the ``Genotypes`` TFDS builder.
"""

from data_builders.genotypes.genotypes import (
    Genotypes,
    GenotypesConfig,
    simulate_population,
    split_of_individual,
    write_synthetic,
)

__all__ = ["Genotypes", "GenotypesConfig", "simulate_population", "split_of_individual",
           "write_synthetic"]
