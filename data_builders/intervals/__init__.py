"""``intervals``: genome windows labelled by BED files (Selene-style user data).

Importing this package registers the ``Intervals`` TFDS builder. It has no
predefined configs: build one with ``python -m data_builders.intervals.make``
(or ``Intervals(config=IntervalsConfig(...))``); the result then loads by
name, ``intervals/<name>``, from its ``data_dir``.
"""

from data_builders.intervals.intervals import (
    MAX_SAMPLING_ROUNDS,
    SPLITS,
    ChromosomeWindows,
    Coverage,
    Intervals,
    IntervalsConfig,
    plan_chromosome,
    sample_background,
    window_composition,
)
# The FASTA and BED readers live in the library; re-exported for the builder's users.
from genereg_jax.data.bed import (MISSING_LABEL, BedFile, BedFormatError, bed_column_names,
                                  read_bed)
from genereg_jax.data.genome import FastaFormatError, Genome

__all__ = [
    "MAX_SAMPLING_ROUNDS", "MISSING_LABEL", "SPLITS", "BedFile",
    "BedFormatError", "ChromosomeWindows", "Coverage", "FastaFormatError",
    "Genome", "Intervals", "IntervalsConfig", "bed_column_names",
    "plan_chromosome", "read_bed", "sample_background", "window_composition",
]

#: How to build a dataset of this builder (its configs come from user arguments).
BUILD_HINT = ("python -m data_builders.intervals.make --name=<config> --fasta=genome.fa --bed=peaks.bed [--bed=...] --window=1000 --valid=chr7 --test=chr8,chr9 --data_dir=<data_dir>")
