"""PAS / non-PAS classification of a window around a candidate hexamer (DeeReCT-PolyA,
Xia et al., Bioinformatics 2019): `genereg_jax.tasks.pairwise.BinaryDecision` on the
window's label (1 true PAS), reporting accuracy (the paper's Table 2 measure), AUROC and
AUPRC."""

from genereg_jax.tasks.pairwise import BinaryDecision

Task = BinaryDecision
