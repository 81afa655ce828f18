"""TFDS dataset builders, one sub-package per dataset (DESIGN.md, layer 1).

Importing ``data_builders.<name>`` registers the builder with TFDS; ``load_builder``
does that by name so nothing else needs a hand-kept import table.
"""
