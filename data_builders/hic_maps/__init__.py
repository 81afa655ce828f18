"""``hic_maps``: .cool / .mcool / .hic contact matrices + FASTA -> Akita windows.

Importing this package registers the ``HicMaps`` TFDS builder. A dataset is made from
arguments (``HicMapsConfig``), usually with ``python -m data_builders.hic_maps.make``;
cooler, hictkpy and pyfaidx are needed to build, not to read a built dataset.
"""

from data_builders.hic_maps.hic_maps import (
    SPLITS,
    HicMaps,
    HicMapsConfig,
    Target,
    Window,
    WindowReader,
    parse_target,
    read_targets_table,
    read_windows,
    tile_windows,
)

__all__ = [
    "SPLITS", "HicMaps", "HicMapsConfig", "Target", "Window", "WindowReader",
    "parse_target", "read_targets_table", "read_windows", "tile_windows",
]

#: How to build a dataset of this builder (its configs come from user arguments).
BUILD_HINT = ("python -m data_builders.hic_maps.make --name=<config> --fasta=genome.fa "
              "--targets=targets.txt (or --contacts=NAME:file.mcool) --resolution=2048 "
              "[--windows=sequences.bed] --valid=... --test=... --data_dir=<data_dir>")
