"""Is a window's centre a TSS used in this cell type (DeeReCT-TSS, Zhou et al. 2021):
`genereg_jax.tasks.pairwise.BinaryDecision` on the window's label (1 used), reporting
accuracy, AUROC and AUPRC (the paper's measures of TSS calls)."""

from genereg_jax.tasks.pairwise import BinaryDecision

Task = BinaryDecision
