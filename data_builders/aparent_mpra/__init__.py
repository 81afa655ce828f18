"""``aparent_mpra``: APARENT's reporter CSV + cleavage-count matrix (.mat). Importing this
package registers the ``APARENTMPRA`` TFDS builder."""

from data_builders.aparent_mpra.aparent_mpra import APARENTConfig, APARENTMPRA, read_cuts

__all__ = ["APARENTConfig", "APARENTMPRA", "read_cuts"]
