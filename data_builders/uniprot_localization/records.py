"""The localisation record layout shared by ``uniprot_localization`` and ``synthetic_proteins``.

DeepLoc (Almagro Armenteros et al. 2017): a protein is read as its first and last
``ends`` (500) residues (`encoding.protein_ends`: shorter proteins keep both termini in
place with padding in the middle), one of 10 locations and a membrane-bound/soluble flag.

Features:
  sequence    [2 * ends, C]  `encode_protein` (uint8 for "onehot", else float32; DeepLoc: BLOSUM62)
  mask        float32 [2 * ends]  1 on residues, 0 on the middle padding
  location    int32  index into ``DEEPLOC_LOCATIONS``
  membrane    int32  1 membrane-bound, 0 soluble, -1 unknown
  length      int32  full protein length
  protein_id  text
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding

# DeepLoc's 10 classes in the order of its paper's tables (Nucleus first, Peroxisome last).
DEEPLOC_LOCATIONS = (
    "Nucleus", "Cytoplasm", "Extracellular", "Mitochondrion", "Cell membrane",
    "Endoplasmic reticulum", "Plastid", "Golgi apparatus", "Lysosome/Vacuole", "Peroxisome")
MEMBRANE_UNKNOWN = -1


def sequence_dtype(encoding_name: str):
  return np.uint8 if encoding_name == "onehot" else np.float32


def localization_features(ends: int, encoding_name: str,
                          extra: Mapping[str, tfds.features.FeatureConnector] | None = None
                          ) -> tfds.features.FeaturesDict:
  """The record layout above (``extra``: builder-specific features such as the truth)."""
  return tfds.features.FeaturesDict({
      "sequence": tfds.features.Tensor(
          shape=(2 * ends, encoding.protein_channels(encoding_name)),
          dtype=sequence_dtype(encoding_name)),
      "mask": tfds.features.Tensor(shape=(2 * ends,), dtype=np.float32),
      "location": tfds.features.Scalar(dtype=np.int32),
      "membrane": tfds.features.Scalar(dtype=np.int32),
      "length": tfds.features.Scalar(dtype=np.int32),
      "protein_id": tfds.features.Text(),
      **(extra or {}),
  })


def localization_record(protein_id: str, sequence: str, location: int, membrane: int,
                        ends: int, encoding_name: str) -> dict:
  text, mask = encoding.protein_ends(sequence, ends)
  return {
      "sequence": encoding.encode_protein(text, encoding_name, sequence_dtype(encoding_name)),
      "mask": mask,
      "location": np.int32(location),
      "membrane": np.int32(membrane),
      "length": np.int32(len(sequence)),
      "protein_id": protein_id,
  }
