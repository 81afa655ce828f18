"""``graphreg``: GraphReg regions from real files (bigWig, .cool/.hic/BEDPE, GTF).

``edges`` turns a contact matrix into the graph (FDR, threshold or top-k).
"""

from data_builders.graphreg import edges

__all__ = ["edges"]
