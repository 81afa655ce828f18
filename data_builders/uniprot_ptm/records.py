"""The PTM-site record layout shared by ``uniprot_ptm`` and ``synthetic_proteins``.

One example is one window centred on a candidate residue, the way MusiteDeep (Wang et
al. 2017, 33 residues), DeepUbi (Fu et al. 2019, 31) and DeepPhos (Luo et al. 2019,
15/33/51) cut proteins: every residue of a protein whose letter can carry one of the
config's PTM types is a candidate; annotated sites are positives, the other candidates
of the same protein negatives (MusiteDeep's training FASTA: "residues followed by '#'
are positive, other residues of the given types negative").

Features:
  sequence     [window, C]  `encode_protein` of the window (uint8 for "onehot", else float32)
  label        float32 [T]  1 where the centre residue carries PTM type t
  label_mask   float32 [T]  1 where type t is defined for this residue (e.g. phospho_ST on S/T)
  kinase       float32 [K]  1 where kinase k is annotated for this site (DeepPhos kinase models)
  residue      text         the centre letter
  protein_id   text
  position     int32        1-based residue number, as UniProt and the PTM databases count
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding

# MusiteDeep's 13 PTM types (the 2020 web server's models, github.com/duolinwang/
# MusiteDeep_web MusiteDeep/models/<name>, whose model_parameters give the residues):
# our name -> (residues, MusiteDeep model name).
PTM_TYPES = {
    "phospho_ST": ("ST", "Phosphoserine_Phosphothreonine"),
    "phospho_Y": ("Y", "Phosphotyrosine"),
    "glyco_N": ("N", "N-linked_glycosylation"),
    "glyco_O": ("ST", "O-linked_glycosylation"),
    "ubiquitin_K": ("K", "Ubiquitination"),
    "sumo_K": ("K", "SUMOylation"),
    "acetyl_K": ("K", "N6-acetyllysine"),
    "methyl_R": ("R", "Methylarginine"),
    "methyl_K": ("K", "Methyllysine"),
    "pyrrolidone_Q": ("Q", "Pyrrolidone_carboxylic_acid"),
    "palmitoyl_C": ("C", "S-palmitoyl_cysteine"),
    "hydroxy_P": ("P", "Hydroxyproline"),
    "hydroxy_K": ("K", "Hydroxylysine"),
}


def sequence_dtype(encoding_name: str):
  return np.uint8 if encoding_name == "onehot" else np.float32


def ptm_features(window: int, encoding_name: str, num_types: int, num_kinases: int,
                 extra: Mapping[str, tfds.features.FeatureConnector] | None = None
                 ) -> tfds.features.FeaturesDict:
  """The record layout above (``extra``: builder-specific features such as the truth)."""
  return tfds.features.FeaturesDict({
      "sequence": tfds.features.Tensor(
          shape=(window, encoding.protein_channels(encoding_name)),
          dtype=sequence_dtype(encoding_name)),
      "label": tfds.features.Tensor(shape=(num_types,), dtype=np.float32),
      "label_mask": tfds.features.Tensor(shape=(num_types,), dtype=np.float32),
      "kinase": tfds.features.Tensor(shape=(num_kinases,), dtype=np.float32),
      "residue": tfds.features.Text(),
      "protein_id": tfds.features.Text(),
      "position": tfds.features.Scalar(dtype=np.int32),
      **(extra or {}),
  })


def candidate_mask(residue: str, ptm_types: Sequence[str]) -> np.ndarray:
  """``float32 [T]``: which of ``ptm_types`` a residue of this letter can carry."""
  return np.array([residue in PTM_TYPES[t][0] for t in ptm_types], np.float32)


def site_windows(protein_id: str, sequence: str, sites: Mapping[int, set[str]],
                 ptm_types: Sequence[str], window: int, encoding_name: str,
                 kinases: Sequence[str] = (), site_kinases: Mapping[int, set[str]] | None = None,
                 keep_negative=None) -> Iterator[tuple[int, dict]]:
  """``(position, record)`` for every candidate residue of ``sequence``.

  ``sites`` maps 1-based positions to the PTM types annotated there (types outside
  ``ptm_types`` and types the residue cannot carry are ignored); ``site_kinases`` maps
  positions to kinase names. ``keep_negative(position) -> bool`` subsamples windows with
  no positive label (None keeps all).
  """
  dtype = sequence_dtype(encoding_name)
  site_kinases = site_kinases or {}
  for index, residue in enumerate(sequence):
    mask = candidate_mask(residue, ptm_types)
    if not mask.any():
      continue
    position = index + 1
    label = np.array([t in sites.get(position, ()) for t in ptm_types], np.float32) * mask
    if not label.any() and keep_negative is not None and not keep_negative(position):
      continue
    text = encoding.protein_window(sequence, index, window)
    yield position, {
        "sequence": encoding.encode_protein(text, encoding_name, dtype),
        "label": label,
        "label_mask": mask,
        "kinase": np.array([k in site_kinases.get(position, ()) for k in kinases], np.float32),
        "residue": residue,
        "protein_id": protein_id,
        "position": np.int32(position),
    }
