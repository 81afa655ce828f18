"""genereg-jax: deep-learning models of gene regulation in JAX/Flax.

Layers (see DESIGN.md): ``data`` (grain pipelines over TFDS array_record),
``models`` (one file per published architecture), ``nn`` (shared blocks),
``tasks`` (loss + streaming metrics), ``train`` (the one sharded trainer).
"""

__version__ = "0.1.0"
