"""``nucleicnet_grids``: protein-surface grid points labelled by the RNA part bound there.

Importing this package registers the ``NucleicnetGrids`` TFDS builder; ``grids`` reads
and featurises structures and ``synthetic`` draws the embedded points without building.
"""

from data_builders.nucleicnet_grids import grids
from data_builders.nucleicnet_grids import synthetic
from data_builders.nucleicnet_grids.grids import (
    CLASSES,
    PROPERTIES,
    StructureFormatError,
    complex_grid,
    read_complex,
)
from data_builders.nucleicnet_grids.nucleicnet_grids import (
    NucleicnetGrids,
    NucleicnetGridsConfig,
    structure_files,
)

__all__ = [
    "CLASSES", "PROPERTIES", "NucleicnetGrids", "NucleicnetGridsConfig",
    "StructureFormatError", "complex_grid", "grids", "read_complex", "structure_files",
    "synthetic",
]
