"""Protein encodings (one-hot, BLOSUM62, DeepUbi's physico-chemical properties), PTM
windows with terminal padding and DeepLoc's first/last-500 view."""

import numpy as np
import pytest
from Bio.Align import substitution_matrices

from genereg_jax.data import encoding


def test_onehot_pads_with_zero_rows_and_maps_unknown_letters_to_x():
  x = encoding.encode_protein("ACWY-B*u")
  assert x.shape == (8, 21) and x.dtype == np.float32
  assert [encoding.PROTEIN_ALPHABET[i] for i in x[:4].argmax(1)] == list("ACWY")
  assert x[4].sum() == 0  # Padding / gap.
  x_index = encoding.PROTEIN_ALPHABET.index("X")
  assert x[5].argmax() == x[6].argmax() == x[7].argmax() == x_index  # B, *, selenocysteine.
  np.testing.assert_array_equal(x.sum(1), [1, 1, 1, 1, 0, 1, 1, 1])
  np.testing.assert_array_equal(encoding.encode_protein("acwy"), x[:4])
  np.testing.assert_array_equal(encoding.one_hot_protein("AC-"), x[[0, 1, 4]])


def test_blosum62_rows_are_biopythons():
  blosum = substitution_matrices.load("BLOSUM62")
  x = encoding.encode_protein("WAX-", "blosum62")
  assert x.shape == (4, 20) and encoding.protein_channels("blosum62") == 20
  columns = encoding.PROTEIN_ALPHABET[:20]
  assert x[0, columns.index("W")] == 11 and x[0, columns.index("A")] == -3
  assert x[1, columns.index("A")] == 4 and x[1, columns.index("R")] == -1
  np.testing.assert_array_equal(x[2], [blosum["X", b] for b in columns])
  assert not x[3].any()
  square = encoding.encode_protein(columns, "blosum62")
  np.testing.assert_array_equal(square, square.T)  # BLOSUM62 is symmetric.


def test_physchem_is_deepubis_min_max_scaled_table():
  x = encoding.encode_protein(encoding.PROTEIN_ALPHABET, "physchem")
  assert x.shape == (21, 31)
  # DeepUbi scales each property over the 21 letters of its table, with X = 0.
  assert np.allclose(x.min(0), 0) and np.allclose(x.max(0), 1)
  alphabet = encoding.PROTEIN_ALPHABET
  # Channel 9, mean volumes of buried residues (HARY940101, all positive): Y is the
  # largest (231.7), X (0) the smallest, G 63.8.
  assert x[alphabet.index("Y"), 8] == 1 and x[alphabet.index("X"), 8] == 0
  assert x[alphabet.index("G"), 8] == pytest.approx(63.8 / 231.7, rel=1e-5)
  # Channel 1 (NADH010102) runs from K (-205) to C (137); X (0) is inside that range.
  assert x[alphabet.index("K"), 0] == 0 and x[alphabet.index("C"), 0] == 1
  assert x[alphabet.index("X"), 0] == pytest.approx(205 / 342, rel=1e-5)
  assert not encoding.encode_protein("-", "physchem").any()
  # Channel 10 is Grantham's polarity (GRAR740102): D 13.0 the most polar, L/I ~4.9-5.2.
  assert encoding.PHYSCHEM_AAINDEX[9] == "GRAR740102" and len(encoding.PHYSCHEM_AAINDEX) == 31
  assert x[alphabet.index("D"), 9] == 1
  assert x[alphabet.index("L"), 9] == pytest.approx(4.9 / 13.0, rel=1e-5)


def test_combined_encodings_concatenate_channels():
  x = encoding.encode_protein("MK-", "onehot+physchem")
  assert x.shape == (3, 52) and encoding.protein_channels("onehot+physchem+blosum62") == 72
  np.testing.assert_array_equal(x[:, :21], encoding.encode_protein("MK-"))
  np.testing.assert_array_equal(x[:, 21:], encoding.encode_protein("MK-", "physchem"))
  with pytest.raises(ValueError, match="unknown protein encoding 'pssm'.*blosum62"):
    encoding.encode_protein("MK", "pssm")


def test_protein_window_pads_past_the_termini():
  sequence = "MKSTPRRASLE"
  assert encoding.protein_window(sequence, 8, 5) == "RASLE"
  assert encoding.protein_window(sequence, 0, 5) == "--MKS"
  assert encoding.protein_window(sequence, 10, 7) == "ASLE---"
  assert encoding.protein_window(sequence, 2, 31, pad="X") == "X" * 13 + sequence + "X" * 7
  for center in range(len(sequence)):
    window = encoding.protein_window(sequence, center, 33)
    assert len(window) == 33 and window[16] == sequence[center]
  with pytest.raises(ValueError, match="odd"):
    encoding.protein_window(sequence, 3, 4)
  with pytest.raises(ValueError, match="outside"):
    encoding.protein_window(sequence, 11, 5)


def test_protein_ends_keeps_both_termini_in_place():
  long = "M" + "A" * 1200 + "KDEL"
  text, mask = encoding.protein_ends(long)
  assert len(text) == 1000 and text[0] == "M" and text.endswith("AKDEL") and mask.all()
  short = "MSTRKDEL"
  text, mask = encoding.protein_ends(short, each=6)
  assert text == "MSTR----KDEL"
  np.testing.assert_array_equal(mask, [1] * 4 + [0] * 4 + [1] * 4)
  text, mask = encoding.protein_ends("MKL", each=3)
  assert text == "MK---L" and mask.sum() == 3
  assert not encoding.encode_protein(text)[mask == 0].any()
