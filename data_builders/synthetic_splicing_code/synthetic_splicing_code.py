"""Synthetic cassette exons whose inclusion is set by planted elements and splice sites.

The embedded data of the splicing-code MLP (Barash et al. 2010; Xiong et al. 2015) and
of DARTS (Zhang et al. 2019). SYNTHETIC, and says so: the grammar below is the whole
truth, so a model's accuracy and its use of each element can be checked.

An exon is ``C1 - I1 - A - I2 - C2`` on an i.i.d. uniform background: ``C1``, ``C2``
80-150 nt, introns log-uniform 300-1,500 nt, ``A`` 50-250 nt. Splice sites: ``C1``'s donor
and ``C2``'s acceptor are consensus; ``A``'s acceptor and donor are drawn from the PWM
frequencies of `genereg_jax.splicing.features` sharpened or flattened at random (base
frequencies ``f ** beta``, beta ~ U(0.3, 2)), so their strengths vary. Regulatory
elements (`ELEMENTS`) are planted ``Poisson(0.7)`` times each in their region:

* ``ESE`` GAAGAA (SR-protein exonic enhancer) in ``A``: +0.8 per copy, all tissues;
* ``ESS`` TAGGGA (hnRNP A1 exonic silencer) in ``A``: -0.9 per copy, all tissues;
* ``FOX`` TGCATG (Rbfox, downstream intron) in ``I2``: + in brain and heart;
* ``NOVA`` TCATCA (Nova YCAY cluster, downstream intron) in ``I2``: + in brain;
* ``PTB`` CTCTCT (PTBP1, upstream intron) in ``I1``: - outside brain;
* ``MBNL`` GCTTGC (Mbnl YGCY, downstream intron) in ``I2``: + in heart and testis.

Inclusion in tissue ``t``: ``logit = 0.5 + 0.15 (s_acc + s_don - 18) + sum_e w_e(t)
n_e``, where ``s`` are ``A``'s PWM strengths (bits; 18 is their median over the draws), and ``n_e`` the element's occurrences in its region (planted or by chance:
counted on the final sequence); ``PSI = sigmoid(logit)``. Measured PSI: junction reads
``Poisson(depth)``, inclusion reads binomial with rMATS's effective lengths (2:1), PSI
from the length-normalised counts, unknown (-1) below 10 reads; ``lmh`` is the
posterior mass of PSI (uniform prior) in low/medium/high.

Configs ``darts`` / ``darts_tiny``: each example is an exon in a pair of conditions,
a knockdown experiment like DARTS's ENCODE training pairs: 16 RBPs (`RBPS`: the six
element binders and ten decoys that bind nothing) have a shared baseline expression
(log scale, N(0, 0.3)) plus replicate noise N(0, 0.1) in each condition, and one RBP,
drawn uniformly, is knocked down by U(1.5, 3) in condition 2; an element's weight in a condition
is ``w_e (1 + 0.6 x expression)`` with ``w_e`` its all-tissue weight (ESE, ESS) or its
largest tissue weight. True delta PSI between the conditions follows; junction counts
are simulated deep (depth 200, the labels: DARTS-BHT flat posterior > 0.9 -> 1,
< 0.1 -> 0, else -1, as DARTS labelled its training events) and shallow (depth 15,
where the DNN prior should help the test).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.splicing import bht
from genereg_jax.splicing import features as cis

SPLITS = ("train", "valid", "test")
TISSUES = ("brain", "heart", "kidney", "liver", "testis")  # Leung et al. 2014's five.
# name: (motif, region, {tissue: weight per copy}).
ELEMENTS: dict[str, tuple[str, str, dict[str, float]]] = {
    "ESE": ("GAAGAA", "A", {t: 0.8 for t in TISSUES}),
    "ESS": ("TAGGGA", "A", {t: -0.9 for t in TISSUES}),
    "FOX": ("TGCATG", "I2", {"brain": 1.5, "heart": 1.0}),
    "NOVA": ("TCATCA", "I2", {"brain": 1.2}),
    "PTB": ("CTCTCT", "I1", {"heart": -1.0, "kidney": -1.0, "liver": -1.0, "testis": -1.0}),
    "MBNL": ("GCTTGC", "I2", {"heart": 1.2, "testis": 0.8}),
}
RBPS = tuple(ELEMENTS) + tuple(f"DECOY{i}" for i in range(10))
BASE_LOGIT = 0.5
SPLICE_SITE_WEIGHT = 0.15
MIN_READS = 10
# DARTS pairs (log-scale expression): baseline spread, replicate noise, knockdown depth.
BASELINE_SD, NOISE_SD, KNOCKDOWN = 0.3, 0.1, (1.5, 3.0)
EFFECTIVE_LENGTHS = (2.0, 1.0)  # rMATS inclusion / skipping forms, short reads.


@dataclasses.dataclass
class CassetteExon:
  c1: str
  i1: str
  a: str
  i2: str
  c2: str

  def region(self, name: str) -> str:
    return {"A": self.a, "I1": self.i1[-cis.PROXIMAL_INTRON:],
            "I2": self.i2[:cis.PROXIMAL_INTRON]}[name]

  def element_counts(self) -> np.ndarray:
    """Occurrences (overlapping) of each element in its region."""
    out = []
    for motif, region, _ in ELEMENTS.values():
      s = self.region(region)
      out.append(cis.motif_count(s, motif))
    return np.array(out, np.float32)

  def strengths(self) -> tuple[float, float]:
    return cis.acceptor_strength(self.i1, self.a), cis.donor_strength(self.a, self.i2)

  def features(self) -> np.ndarray:
    return cis.cassette_features(self.c1, self.i1, self.a, self.i2, self.c2)


def _random(rng, n: int) -> str:
  return "".join(np.array(list("ACGT"))[rng.integers(0, 4, n)])


def _from_frequencies(rng, frequencies: np.ndarray, beta: float) -> str:
  p = np.maximum(frequencies, 1e-9) ** beta
  p /= p.sum(1, keepdims=True)
  return "".join("ACGT"[rng.choice(4, p=row)] for row in p)


def _plant(rng, sequence: str, motif: str, copies: int, margin: tuple[int, int]) -> str:
  start, end = margin[0], len(sequence) - margin[1] - len(motif)
  for _ in range(copies):
    if end <= start:
      break
    at = int(rng.integers(start, end))
    sequence = sequence[:at] + motif + sequence[at + len(motif):]
  return sequence


def sample_exon(rng: np.random.Generator, copies: float = 0.7) -> CassetteExon:
  """One cassette exon of the grammar in the module docstring; ``copies``: the mean
  number of planted copies of each element."""
  lengths = dict(c1=rng.integers(80, 151), c2=rng.integers(80, 151), a=rng.integers(50, 251),
                 i1=int(10 ** rng.uniform(np.log10(300), np.log10(1500))),
                 i2=int(10 ** rng.uniform(np.log10(300), np.log10(1500))))
  parts = {k: _random(rng, int(n)) for k, n in lengths.items()}
  d, a = cis.DONOR_FREQUENCIES, cis.ACCEPTOR_FREQUENCIES
  ex, ix = cis.DONOR_EXONIC, cis.ACCEPTOR_INTRONIC
  consensus_donor = _from_frequencies(rng, d, 50.0)
  parts["c1"] = parts["c1"][:-ex] + consensus_donor[:ex]
  parts["i1"] = consensus_donor[ex:] + parts["i1"][len(d) - ex:]
  acceptor = _from_frequencies(rng, a, rng.uniform(0.3, 2.0))
  donor = _from_frequencies(rng, d, rng.uniform(0.3, 2.0))
  parts["i1"] = parts["i1"][:-ix] + acceptor[:ix]
  parts["a"] = acceptor[ix:] + parts["a"][len(a) - ix:-ex] + donor[:ex]
  parts["i2"] = donor[ex:] + parts["i2"][len(d) - ex:]
  consensus_acceptor = _from_frequencies(rng, a, 50.0)
  parts["i2"] = parts["i2"][:-ix] + consensus_acceptor[:ix]
  parts["c2"] = consensus_acceptor[ix:] + parts["c2"][len(a) - ix:]
  mean_copies = copies
  for motif, region, _ in ELEMENTS.values():
    copies = int(rng.poisson(mean_copies))
    if region == "A":
      parts["a"] = _plant(rng, parts["a"], motif, copies, (len(a) - ix, ex))
    elif region == "I1":  # The proximal 300 nt, clear of the acceptor window.
      lo = max(len(parts["i1"]) - cis.PROXIMAL_INTRON, len(d))
      parts["i1"] = parts["i1"][:lo] + _plant(rng, parts["i1"][lo:], motif, copies, (0, ix))
    else:
      hi = min(cis.PROXIMAL_INTRON, len(parts["i2"]) - ix)
      parts["i2"] = _plant(rng, parts["i2"][:hi], motif, copies, (len(d) - ex, 0)) + parts[
          "i2"][hi:]
  return CassetteExon(**parts)


# Median of A's acceptor + donor strengths (bits) over the grammar's draws (5-95%:
# 6-27 bits), so the splice-site term is centred.
SPLICE_SITE_CENTRE = 18.0
_WEIGHTS = np.array([[w.get(t, 0.0) for t in TISSUES] for _, _, w in ELEMENTS.values()],
                    np.float32)  # [elements, tissues].


def exon_logit(exon: CassetteExon, element_weights: np.ndarray | None = None) -> np.ndarray:
  """Inclusion logits ``[columns]`` (tissues, or conditions with ``element_weights``
  ``[elements, columns]``)."""
  weights = _WEIGHTS if element_weights is None else element_weights
  splice = SPLICE_SITE_WEIGHT * (sum(exon.strengths()) - SPLICE_SITE_CENTRE)
  return (BASE_LOGIT + splice + exon.element_counts() @ weights).astype(np.float32)


def _sigmoid(x):
  return 1 / (1 + np.exp(-x))


def lmh_probabilities(inclusion: np.ndarray, skipping: np.ndarray) -> np.ndarray:
  """Posterior mass of PSI in low/medium/high given reads: ``[..., 3]``."""
  return bht.lmh_posterior(inclusion, skipping, *EFFECTIVE_LENGTHS)


def junction_reads(rng, psi: np.ndarray, depth: float) -> tuple[np.ndarray, np.ndarray]:
  inc_len, skip_len = EFFECTIVE_LENGTHS
  reads = rng.poisson(depth, size=psi.shape)
  inclusion = rng.binomial(reads, inc_len * psi / (inc_len * psi + skip_len * (1 - psi)))
  return inclusion, reads - inclusion


def measured_psi(inclusion, skipping) -> np.ndarray:
  return bht.psi_from_counts(inclusion, skipping, *EFFECTIVE_LENGTHS, MIN_READS)


def _condition_weights(expression: np.ndarray) -> np.ndarray:
  """``[elements, conditions]`` weights from RBP expression ``[conditions, RBPS]``."""
  strongest = _WEIGHTS[np.arange(len(ELEMENTS)), np.abs(_WEIGHTS).argmax(1)]
  return strongest[:, None] * (1 + 0.6 * expression[:, :len(ELEMENTS)].T)


def darts_events(rng: np.random.Generator, exon: CassetteExon, shallow_depth: float = 15,
                 deep_depth: float = 200) -> dict[str, Any]:
  """One DARTS example: RBP expression in two conditions, true delta PSI, counts, label."""
  # A knockdown experiment, as DARTS's ENCODE training pairs: shared baseline,
  # replicate noise, one RBP knocked down in condition 2.
  baseline = rng.normal(0, BASELINE_SD, len(RBPS))
  expression = baseline + rng.normal(0, NOISE_SD, (2, len(RBPS)))
  expression[1, rng.integers(len(RBPS))] -= rng.uniform(*KNOCKDOWN)
  expression = expression.astype(np.float32)
  psi = _sigmoid(exon_logit(exon, _condition_weights(expression)))
  deep = np.concatenate([np.stack(junction_reads(rng, psi, deep_depth), 1)]).reshape(-1)
  shallow = np.stack(junction_reads(rng, psi, shallow_depth), 1).reshape(-1)
  flat = bht.bayes_test(*deep, *EFFECTIVE_LENGTHS, 0.5).posterior
  label = 1 if flat > 0.9 else 0 if flat < 0.1 else -1
  return dict(trans=expression, delta_psi=np.float32(psi[1] - psi[0]),
              counts=shallow.astype(np.float32), deep_counts=deep.astype(np.float32),
              lengths=np.array(EFFECTIVE_LENGTHS, np.float32), label=np.int32(label))


@dataclasses.dataclass
class SyntheticSplicingCodeConfig(tfds.core.BuilderConfig):
  """Sizes of a build: exons per split, read depth, and whether it is DARTS's pairs."""
  num_train: int = 4000
  num_valid: int = 500
  num_test: int = 500
  depth: float = 60.0
  darts: bool = False
  seed: int = 0

  def num_exons(self, split: str) -> int:
    return {"train": self.num_train, "valid": self.num_valid, "test": self.num_test}[split]


class SyntheticSplicingCode(tfds.core.GeneratorBasedBuilder):
  """Cassette exons with planted ESE/ESS/tissue elements -> PSI per tissue or delta PSI."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  BUILDER_CONFIGS = [
      SyntheticSplicingCodeConfig(name="default", description="4,000/500/500 exons, 5 tissues."),
      SyntheticSplicingCodeConfig(name="tiny", num_train=800, num_valid=200, num_test=200,
                                  description="800/200/200 exons, for tests."),
      SyntheticSplicingCodeConfig(name="darts", darts=True, num_train=3000, num_valid=500,
                                  num_test=1000, description="DARTS condition pairs."),
      SyntheticSplicingCodeConfig(name="darts_tiny", darts=True, num_train=1000,
                                  num_valid=150, num_test=300,
                                  description="DARTS condition pairs, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "default"

  def _info(self) -> tfds.core.DatasetInfo:
    n = len(cis.feature_names())
    f = {"exon_id": tfds.features.Text(),
         "features": tfds.features.Tensor(shape=(n,), dtype=np.float32),
         "element_counts": tfds.features.Tensor(shape=(len(ELEMENTS),), dtype=np.float32)}
    if self.builder_config.darts:
      f.update(trans=tfds.features.Tensor(shape=(2, len(RBPS)), dtype=np.float32),
               delta_psi=tfds.features.Scalar(dtype=np.float32),
               counts=tfds.features.Tensor(shape=(4,), dtype=np.float32),
               deep_counts=tfds.features.Tensor(shape=(4,), dtype=np.float32),
               lengths=tfds.features.Tensor(shape=(2,), dtype=np.float32),
               label=tfds.features.Scalar(dtype=np.int32))
      metadata = dict(rbps=list(RBPS))
    else:
      t = len(TISSUES)
      f.update(psi=tfds.features.Tensor(shape=(t,), dtype=np.float32),
               psi_true=tfds.features.Tensor(shape=(t,), dtype=np.float32),
               lmh=tfds.features.Tensor(shape=(t, 3), dtype=np.float32))
      metadata = dict(tissues=list(TISSUES))
    return tfds.core.DatasetInfo(
        builder=self, description=__doc__, features=tfds.features.FeaturesDict(f),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(
            feature_names=cis.feature_names(), elements={k: [v[0], v[1], v[2]] for k, v in
                                                         ELEMENTS.items()}, **metadata))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {split: self._generate_examples(split) for split in SPLITS}

  def _generate_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for index in range(config.num_exons(split)):
      rng = np.random.default_rng([config.seed, SPLITS.index(split), index])
      exon = sample_exon(rng)
      record = {"exon_id": f"synthetic_{split}_{index}", "features": exon.features(),
                "element_counts": exon.element_counts()}
      if config.darts:
        record.update(darts_events(rng, exon))
      else:
        psi = _sigmoid(exon_logit(exon))
        inclusion, skipping = junction_reads(rng, psi, config.depth)
        record.update(psi=measured_psi(inclusion, skipping), psi_true=psi.astype(np.float32),
                      lmh=lmh_probabilities(inclusion, skipping))
      yield str(index), record
