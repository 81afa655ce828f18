"""Synthetic NucleicNet grid points whose labels follow a known rule of their environment.

The embedded default for NucleicNet (DESIGN.md, decision 8). Synthetic, and says so:
no structure is simulated, only the shell environment of one point, in exactly the
layout of ``grids.shell_environment`` (``grids.PROPERTIES`` summed per shell).

Background: shell s (1.25 A thick, 1.25-8.75 A) holds Poisson(``ATOM_DENSITY`` x
half the shell's volume) protein atoms (a surface point sees about a half-space of
protein), each a random heavy atom of a uniformly drawn amino acid, with the per-atom
properties of the real featuriser (``grids.atom_properties``).

The rule (``rule_label``) reads the two inner shells (1.25-3.75 A) only, first match wins:

1. >= 3 aromatic ring atoms and >= 2 atoms of a "partner" residue -> a base, named by
   the partner with most atoms (ASN -> A, GLU -> C, ASP -> G, GLN -> U; ties to the
   earlier base): stacking plus a hydrogen-bonding partner, an invented code;
2. >= 3 atoms of LYS or ARG -> phosphate;
3. >= 3 atoms of SER or THR -> ribose;
4. else non-binding.

To make every class common, each point first draws an intended class (``PRIORS``) and
gets atoms that fire its rule planted in the inner shells (ring atoms of PHE/TYR/TRP
plus partner atoms; LYS/ARG atoms; SER/THR atoms; nothing for non-binding). The label
is the rule applied to the final environment, so background atoms can change it and
the rule is the whole truth: a perfect model reaches accuracy 1.
Point ``i`` of split ``s`` uses ``np.random.default_rng([seed, SPLITS.index(s), i])``.
"""

from __future__ import annotations

import numpy as np

from data_builders.nucleicnet_grids import grids

SPLITS = ("train", "valid", "test")
CLASSES = grids.CLASSES
ATOM_DENSITY = 0.05  # Heavy atoms per A^3 in a protein.
PRIORS = dict(A=0.07, C=0.07, G=0.07, U=0.07, ribose=0.12, phosphate=0.2, nonsite=0.4)
PARTNERS = dict(A="ASN", C="GLU", G="ASP", U="GLN")
RING_RESIDUES = ("PHE", "TYR", "TRP")
INNER_SHELLS = 2
MIN_ATOMS = (3, 2, 3, 3)  # ring, partner, LYS+ARG, SER+THR (rule steps 1-3).

#: Heavy atoms of the 20 amino acids (PDB names).
RESIDUE_ATOMS = {
    "ALA": "CB", "ARG": "CB CG CD NE CZ NH1 NH2", "ASN": "CB CG OD1 ND2",
    "ASP": "CB CG OD1 OD2", "CYS": "CB SG", "GLN": "CB CG CD OE1 NE2",
    "GLU": "CB CG CD OE1 OE2", "GLY": "", "HIS": "CB CG ND1 CD2 CE1 NE2",
    "ILE": "CB CG1 CG2 CD1", "LEU": "CB CG CD1 CD2", "LYS": "CB CG CD CE NZ",
    "MET": "CB CG SD CE", "PHE": "CB CG CD1 CD2 CE1 CE2 CZ", "PRO": "CB CG CD",
    "SER": "CB OG", "THR": "CB OG1 CG2", "TRP": "CB CG CD1 CD2 NE1 CE2 CE3 CZ2 CZ3 CH2",
    "TYR": "CB CG CD1 CD2 CE1 CE2 CZ OH", "VAL": "CB CG1 CG2"}
_ATOMS = [(r, a) for r in grids.AMINO_ACIDS for a in ("N CA C O " + RESIDUE_ATOMS[r]).split()]
_PROPERTIES = np.stack([grids.atom_properties(r, a, a[0]) for r, a in _ATOMS])
_BY_RESIDUE = {r: [i for i, (res, _) in enumerate(_ATOMS) if res == r] for r in grids.AMINO_ACIDS}
_FIRST_ATOM = np.array([_BY_RESIDUE[r][0] for r in grids.AMINO_ACIDS])
_NUM_ATOMS = np.array([len(_BY_RESIDUE[r]) for r in grids.AMINO_ACIDS])
_RING_ATOMS = [i for i, (r, a) in enumerate(_ATOMS) if r in RING_RESIDUES
               and _PROPERTIES[i, grids.PROPERTIES.index("aromatic")]]


def _shell_means() -> np.ndarray:
  radii = grids.SHELL_WIDTH * np.arange(grids.FIRST_SHELL, grids.FIRST_SHELL + grids.NUM_SHELLS + 1)
  return ATOM_DENSITY * 0.5 * 4 / 3 * np.pi * np.diff(radii ** 3)


_SHELL_MEANS = _shell_means()


def _residue_atoms(environment: np.ndarray, *residues: str) -> float:
  return sum(environment[grids.PROPERTIES.index(f"residue_{r}")] for r in residues)


def rule_label(environment: np.ndarray) -> int:
  """Class index of ``environment`` ``[6, len(PROPERTIES)]`` by the module's rule."""
  inner = np.asarray(environment)[:INNER_SHELLS].sum(0)
  partners = [_residue_atoms(inner, PARTNERS[b]) for b in grids.RNA_BASES]
  if (inner[grids.PROPERTIES.index("aromatic")] >= MIN_ATOMS[0]
      and max(partners) >= MIN_ATOMS[1]):
    return int(np.argmax(partners))  # First maximum: ties go to the earlier base.
  if _residue_atoms(inner, "LYS", "ARG") >= MIN_ATOMS[2]:
    return CLASSES.index("phosphate")
  if _residue_atoms(inner, "SER", "THR") >= MIN_ATOMS[3]:
    return CLASSES.index("ribose")
  return CLASSES.index("nonsite")


def _planted_atoms(rng: np.random.Generator, intended: str) -> list[int]:
  """Atom indices (into ``_ATOMS``) that fire the rule for ``intended``."""
  def some(pool, low, high):
    return list(rng.choice(pool, size=int(rng.integers(low, high + 1))))
  if intended in PARTNERS:
    return some(_RING_ATOMS, 3, 5) + some(_BY_RESIDUE[PARTNERS[intended]], 2, 4)
  if intended == "phosphate":
    return some(_BY_RESIDUE["LYS"] + _BY_RESIDUE["ARG"], 3, 5)
  if intended == "ribose":
    return some(_BY_RESIDUE["SER"] + _BY_RESIDUE["THR"], 3, 5)
  return []


def sample_point(rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
  """``(environment float32[6, F], label, intended class)`` of one synthetic point."""
  intended = rng.choice(len(CLASSES), p=[PRIORS[c] for c in CLASSES])
  counts = rng.poisson(_SHELL_MEANS)
  residues = rng.integers(len(grids.AMINO_ACIDS), size=counts.sum())
  atoms = _FIRST_ATOM[residues] + (rng.random(len(residues)) * _NUM_ATOMS[residues]).astype(int)
  shells = np.repeat(np.arange(grids.NUM_SHELLS), counts)
  planted = _planted_atoms(rng, CLASSES[intended])
  atoms = np.concatenate([atoms, np.asarray(planted, np.int64)])
  shells = np.concatenate([shells, rng.integers(INNER_SHELLS, size=len(planted))])
  environment = np.zeros((grids.NUM_SHELLS, len(grids.PROPERTIES)), np.float32)
  np.add.at(environment, shells, _PROPERTIES[atoms])
  return environment, rule_label(environment), int(intended)


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
  return np.random.default_rng([seed, SPLITS.index(split), index])
