"""``graphreg``: GraphReg regions from real files (bigWig, .cool/.mcool/.hic or BEDPE, GTF).

Importing this package registers the ``Graphreg`` TFDS builder. It has no predefined
configs: build one with ``python -m data_builders.graphreg.make`` (or
``Graphreg(config=GraphRegConfig(...))``); it then loads by name, ``graphreg/<name>``,
from its ``data_dir``. ``edges`` turns a contact matrix into the graph (FDR,
threshold or top-k), shared with ``synthetic_graphs``.
"""

from data_builders.graphreg import edges
from data_builders.graphreg.graphreg import (
    BIN_STATS,
    SPLITS,
    BedpeFormatError,
    ContactMatrix,
    GraphRegConfig,
    Graphreg,
    Loops,
    Region,
    binned_bigwig,
    open_bigwig,
    read_loops,
    read_regions,
    region_tss,
    tile_regions,
    tss_table,
)

__all__ = [
    "BIN_STATS", "SPLITS", "BedpeFormatError", "ContactMatrix", "GraphRegConfig",
    "Graphreg", "Loops", "Region", "binned_bigwig", "edges", "open_bigwig", "read_loops",
    "read_regions", "region_tss", "tile_regions", "tss_table",
]

#: How to build a dataset of this builder (its configs come from user arguments).
BUILD_HINT = ("python -m data_builders.graphreg.make --name=<config> --epi=dnase.bw "
              "--epi=h3k27ac.bw --epi=h3k4me3.bw --cage=cage.bw --contacts=hic.mcool "
              "--gtf=genes.gtf [--fasta=genome.fa] --data_dir=<data_dir>")
