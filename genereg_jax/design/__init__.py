"""Sequence design on trained models (issue 18, "Sequence design").

Both methods take a jax-traceable ``fn(x: float[B, L, A]) -> float[B, T]`` (e.g.
``genereg_jax.interpret.readout.predictor_readout(predictor).fn``), an ``Objective`` on
its outputs and ``Constraints``, and return ``Designs`` (one-hot sequences, their
predicted scores and outputs, GC and forbidden-motif checks):

* ``seqprop``: Fast SeqProp (Linder & Seelig 2021), instance-normalised logits, sampled
  one-hot forward pass with the softmax's gradient backward, jitted Adam.
* ``evolve``: greedy in-silico evolution, the best single substitution per round by ISM.
* ``objectives``: ``maximise``, ``target_value``, ``contrast``.
* ``constraints``: fixed positions (exact), GC range (SeqProp: penalty, then projection;
  evolution: hard), forbidden motifs (SeqProp: penalty; evolution: hard; exact check).

``experiments/design.py`` is the command. Oracle demonstration on the embedded
``synthetic_motifs`` data (``experiments/benchmarks/design_oracle.py``; README.md,
"Sequence design", has the table): with ``deepbind:tiny`` (test AUROC 0.91), 100 designs
of 200 bp for ``CTCF``: SeqProp (300 steps) mean logit 20.3, min 16.4, above the best
of the 8,000 training sequences (15.0; top-100 mean 13.0), and 98% carry a CTCF site
under the builder's own rule (>= 70% of the consensus score); evolution (20 rounds)
17.5 and 92%; random sequences -5.9 and 0%. For ``liver_enhancer`` (2 of HNF4A, FOXA2,
CEBPB) both methods beat every training sequence under the model (SeqProp 6.6,
evolution 4.5, training max 3.6) but only 10% / 37% satisfy the oracle: the model is
exploited by near-threshold sites it sums, so designs must be checked by an oracle.
The same benchmark's ``--family=utr`` / ``aparent`` score designs of ``cuperus_utr:tiny``
and ``aparent:tiny`` by the ``synthetic_expression`` oracles: every SeqProp UTR design
reaches the grammar's maximum, and every SeqProp APARENT design beats all training
reporters under the model, 88% also under the oracle (README.md, "Expression, UTRs and
polyadenylation").
"""

from genereg_jax.design.constraints import Constraints
from genereg_jax.design.constraints import Motif
from genereg_jax.design.constraints import fixed_positions
from genereg_jax.design.constraints import gc_fraction
from genereg_jax.design.constraints import motif_hits
from genereg_jax.design.evolution import evolve
from genereg_jax.design.evolution import random_start
from genereg_jax.design.objectives import Objective
from genereg_jax.design.objectives import contrast
from genereg_jax.design.objectives import maximise
from genereg_jax.design.objectives import target_value
from genereg_jax.design.seqprop import Designs
from genereg_jax.design.seqprop import seqprop

__all__ = [
    "Constraints", "Designs", "Motif", "Objective", "contrast", "evolve", "fixed_positions",
    "gc_fraction", "maximise", "motif_hits", "random_start", "seqprop", "target_value",
]
