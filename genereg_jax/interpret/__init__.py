"""Interpretation of trained models (DESIGN.md, tools on trained models).

``filter_motifs`` turns the first convolution layer's filters into position frequency
matrices from the subsequences that activate them (Basset, Kelley et al. 2016; DanQ,
Quang & Xie 2016), writes them in MEME format with sequence logos, and matches them
against JASPAR with a TomTom-like comparison (Gupta et al. 2007).

Attribution and perturbation methods take a jax-traceable ``fn(x: float[B, L, A]) ->
float[B, T]`` (a model's apply with its variables bound and a readout selected), so
they work for any model and alphabet; ``target`` indexes ``fn``'s last axis:

* ``attributions``: ``saliency``, ``input_x_gradient``, ``integrated_gradients``
  (captum's Riemann sums).
* ``deeplift``: ``deeplift_shap`` (DeepLIFT rescale / Shapley rules applied to the
  function's jaxpr, so every model, attention and LSTMs included, averaged over
  dinucleotide-shuffled references), its ``hypothetical`` contributions for
  TF-MoDISco, and ``deeplift_multipliers``.
* ``shuffle``: ``dinucleotide_shuffle`` (Altschul & Erickson 1985).
* ``mutagenesis``: ``ism`` (raw outputs of every single-base substitution, optionally fast
  for convolutional trunks, fastISM: ``ConvTrunk``, ``StridedTrunk``) and
  ``ism_attributions`` (tangermeme's summary).
* ``attention``: ``attention_maps``, Enformer's attention weights per layer and head.
* ``readout``: a trained checkpoint's output as such an ``fn``, targets by name
  (``experiments/interpret.py`` is the command).
"""

from genereg_jax.interpret.attention import attention_maps
from genereg_jax.interpret.attention import pool_attention
from genereg_jax.interpret.attributions import input_x_gradient
from genereg_jax.interpret.attributions import integrated_gradients
from genereg_jax.interpret.attributions import saliency
from genereg_jax.interpret.deeplift import deeplift_multipliers
from genereg_jax.interpret.deeplift import deeplift_shap
from genereg_jax.interpret.deeplift import hypothetical_contributions
from genereg_jax.interpret.mutagenesis import ConvTrunk
from genereg_jax.interpret.mutagenesis import StridedLayer
from genereg_jax.interpret.mutagenesis import StridedTrunk
from genereg_jax.interpret.mutagenesis import ism
from genereg_jax.interpret.mutagenesis import ism_attributions
from genereg_jax.interpret.shuffle import dinucleotide_shuffle

__all__ = [
    "ConvTrunk", "StridedLayer", "StridedTrunk", "attention_maps", "deeplift_multipliers",
    "deeplift_shap", "dinucleotide_shuffle", "hypothetical_contributions", "input_x_gradient",
    "integrated_gradients", "ism", "ism_attributions", "pool_attention", "saliency",
]
