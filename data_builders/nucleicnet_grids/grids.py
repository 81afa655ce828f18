"""Protein-surface grid points, their atom environments and RNA labels, as NucleicNet builds them.

Follows the released NucleicNet (Lam et al. 2019; github.com/jhmlam/NucleicNet v1.1,
``NucleicNet/DatasetBuilding``), with structures read by gemmi (PDB or mmCIF, plain or
gzipped; the first model; hydrogens, waters and alternative conformations after the
first left out):

1. Grid ("halo", ``commandHalo.py``): the points of a lattice of ``spacing`` (1 A)
   whose nearest protein heavy atom is more than ``inner`` (2 A) and at most ``outer``
   (4 A) away. Our lattice sits at integer multiples of the spacing (the released one
   spans the protein's bounding box).
2. Environment (``commandFeaturisation.py``: FEATURE vectors, Bagley & Altman 1995):
   for each point, sums of per-atom ``PROPERTIES`` over the protein atoms in each of
   ``NUM_SHELLS`` (6) concentric shells 1.25 A thick, from 1.25 to 8.75 A (the
   released code drops the innermost 0-1.25 A shell, empty at >= 2 A from atoms).
   FEATURE has 80 properties per shell; we compute this documented subset of 34:
   atom count; element C, N, O, S, other; residue name (20 standard amino acids);
   peptide backbone (N, CA, C, O, OXT); hydroxyl (Ser OG, Thr OG1, Tyr OH);
   side-chain amide (Asn OD1 ND2, Gln OE1 NE2); aromatic ring atoms (Phe, Tyr, Trp,
   His); positively charged atoms (Lys NZ, Arg NE NH1 NH2); negatively charged atoms
   (Asp OD1 OD2, Glu OE1 OE2); formal charge (Lys NZ +1, Arg +1/3 per guanidinium N,
   -1/2 per carboxylate O; His neutral); Kyte-Doolittle hydrophobicity of the residue.
   Non-standard amino acids count by element only.
3. Labels (``commandLandmark.py``, ``commandTypify.py``): RNA heavy atoms of A, C, G,
   U residues are grouped into phosphate (P, OP1, OP2, OP3, O5'; old names O1P, O2P,
   O3P), ribose (C1'-C5', O2', O3', O4'; the released code puts O3' in both groups)
   and base (the rest, labelled by the residue's letter). A point is labelled by the
   group of its nearest RNA atom if that is within ``label_cutoff`` (5 A, as
   released), else non-binding. Points within ``label_cutoff`` of another nucleic-acid
   atom (DNA, modified nucleotides) are dropped, as the released "not non-site".

Bad files raise ``StructureFormatError`` (an ``InputFormatError``) naming the file
and line: gemmi's parse errors are mapped to it (for a loop row with the wrong number
of values gemmi names the line of the loop's ``loop_``).
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np
from scipy import sparse
from scipy import spatial

from genereg_jax.files import InputFormatError

#: Label classes, in the order of ``genereg_jax.models.nucleicnet.CLASSES``.
CLASSES = ("A", "C", "G", "U", "ribose", "phosphate", "nonsite")
RNA_BASES = ("A", "C", "G", "U")
PHOSPHATE_ATOMS = frozenset({"P", "OP1", "OP2", "OP3", "O5'", "O1P", "O2P", "O3P"})
RIBOSE_ATOMS = frozenset({"C1'", "C2'", "C3'", "C4'", "C5'", "O2'", "O3'", "O4'"})
NUM_SHELLS = 6
SHELL_WIDTH = 1.25  # A; FEATURE's shells.
FIRST_SHELL = 1  # Shells 1..6 of FEATURE, i.e. 1.25-8.75 A.

AMINO_ACIDS = ("ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE",
               "LEU", "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL")
#: Kyte & Doolittle (1982) hydropathy.
HYDROPATHY = dict(zip(AMINO_ACIDS, (1.8, -4.5, -3.5, -3.5, 2.5, -3.5, -3.5, -0.4, -3.2, 4.5,
                                    3.8, -3.9, 1.9, 2.8, -1.6, -0.8, -0.7, -0.9, -1.3, 4.2)))
ELEMENTS = ("C", "N", "O", "S")
PROPERTIES = (("atoms",) + tuple(f"element_{e}" for e in ELEMENTS) + ("element_other",)
              + tuple(f"residue_{r}" for r in AMINO_ACIDS)
              + ("peptide", "hydroxyl", "amide", "aromatic", "positive", "negative", "charge",
                 "hydrophobicity"))
_INDEX = {name: i for i, name in enumerate(PROPERTIES)}
_BACKBONE = {"N", "CA", "C", "O", "OXT"}
_HYDROXYL = {("SER", "OG"), ("THR", "OG1"), ("TYR", "OH")}
_AMIDE = {("ASN", "OD1"), ("ASN", "ND2"), ("GLN", "OE1"), ("GLN", "NE2")}
_RING = {"PHE": "CG CD1 CD2 CE1 CE2 CZ", "TYR": "CG CD1 CD2 CE1 CE2 CZ",
         "TRP": "CG CD1 CD2 NE1 CE2 CE3 CZ2 CZ3 CH2", "HIS": "CG ND1 CD2 CE1 NE2"}
_AROMATIC = {(r, a) for r, names in _RING.items() for a in names.split()}
_CHARGE = {("LYS", "NZ"): 1.0, ("ARG", "NE"): 1 / 3, ("ARG", "NH1"): 1 / 3,
           ("ARG", "NH2"): 1 / 3, ("ASP", "OD1"): -0.5, ("ASP", "OD2"): -0.5,
           ("GLU", "OE1"): -0.5, ("GLU", "OE2"): -0.5}


class StructureFormatError(InputFormatError):
  """A PDB/mmCIF file that gemmi cannot read, or one without what a grid needs."""


def atom_properties(residue: str, atom: str, element: str) -> np.ndarray:
  """``float32[len(PROPERTIES)]`` of one protein heavy atom (module docstring, step 2)."""
  out = np.zeros(len(PROPERTIES), np.float32)
  out[_INDEX["atoms"]] = 1
  out[_INDEX[f"element_{element}" if element in ELEMENTS else "element_other"]] = 1
  if residue in HYDROPATHY:
    out[_INDEX[f"residue_{residue}"]] = 1
    out[_INDEX["hydrophobicity"]] = HYDROPATHY[residue]
    key = (residue, atom)
    out[_INDEX["peptide"]] = atom in _BACKBONE
    out[_INDEX["hydroxyl"]] = key in _HYDROXYL
    out[_INDEX["amide"]] = key in _AMIDE
    out[_INDEX["aromatic"]] = key in _AROMATIC
    charge = _CHARGE.get(key, 0.0)
    out[_INDEX["positive"]] = charge > 0
    out[_INDEX["negative"]] = charge < 0
    out[_INDEX["charge"]] = charge
  return out


@dataclasses.dataclass
class Complex:
  """The atoms of one protein-RNA structure that a grid needs.

  Attributes:
    name: structure id (the file name without extensions).
    protein_xyz: ``float32[n, 3]`` protein heavy atoms.
    protein_properties: ``float32[n, len(PROPERTIES)]``.
    rna_xyz: ``float32[m, 3]`` heavy atoms of A, C, G, U residues.
    rna_class: ``int32[m]`` index into ``CLASSES`` of each RNA atom's group.
    other_nucleic_xyz: ``float32[k, 3]`` other nucleic-acid heavy atoms (DNA, modified).
  """
  name: str
  protein_xyz: np.ndarray
  protein_properties: np.ndarray
  rna_xyz: np.ndarray
  rna_class: np.ndarray
  other_nucleic_xyz: np.ndarray


_GEMMI_ERROR = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?:\d+)?(?:\(\d+\))?:?\s*(?P<msg>.*)$",
                          re.S)


def structure_name(path: str) -> str:
  """``"dir/1ABC.cif.gz"`` -> ``"1abc"``."""
  name = os.path.basename(path).lower().removesuffix(".gz")
  for suffix in (".mmcif", ".cif", ".pdb", ".ent"):
    if name.endswith(suffix):
      return name[:-len(suffix)]
  return name


def _read(path: str):
  import gemmi  # Imported here so the package imports without gemmi.
  try:
    structure = gemmi.read_structure(path)
  except (ValueError, RuntimeError) as e:
    match = _GEMMI_ERROR.match(str(e))
    if match and match["path"].endswith(os.path.basename(path)):
      raise StructureFormatError(path, int(match["line"]), match["msg"]) from None
    raise StructureFormatError(path, None, str(e)) from None
  structure.remove_hydrogens()
  structure.remove_alternative_conformations()
  if len(structure) == 0:
    raise StructureFormatError(path, None, "no models (no atom records)")
  return gemmi, structure[0]


def read_complex(path: str) -> Complex:
  """The protein and RNA heavy atoms of the first model of a PDB/mmCIF file."""
  gemmi, model = _read(path)
  protein_xyz, protein_properties, rna_xyz, rna_class, other_xyz = [], [], [], [], []
  for chain in model:
    for residue in chain:
      info = gemmi.find_tabulated_residue(residue.name)
      is_amino_acid = info is not None and info.found() and info.is_amino_acid()
      is_nucleic = info is not None and info.found() and info.is_nucleic_acid()
      for atom in residue:
        xyz = (atom.pos.x, atom.pos.y, atom.pos.z)
        if is_amino_acid:
          protein_xyz.append(xyz)
          protein_properties.append(atom_properties(residue.name, atom.name,
                                                    atom.element.name.upper()))
        elif is_nucleic and residue.name in RNA_BASES:
          rna_xyz.append(xyz)
          rna_class.append(CLASSES.index(
              "phosphate" if atom.name in PHOSPHATE_ATOMS else
              "ribose" if atom.name in RIBOSE_ATOMS else residue.name))
        elif is_nucleic:
          other_xyz.append(xyz)
  if not protein_xyz:
    raise StructureFormatError(path, None, "no amino-acid atoms in the first model")
  return Complex(
      structure_name(path), np.asarray(protein_xyz, np.float32).reshape(-1, 3),
      np.asarray(protein_properties, np.float32).reshape(-1, len(PROPERTIES)),
      np.asarray(rna_xyz, np.float32).reshape(-1, 3), np.asarray(rna_class, np.int32),
      np.asarray(other_xyz, np.float32).reshape(-1, 3))


def halo_points(protein_xyz: np.ndarray, spacing: float = 1.0, inner: float = 2.0,
                outer: float = 4.0) -> np.ndarray:
  """``float32[p, 3]`` lattice points with nearest protein atom in (inner, outer] A."""
  low = np.floor((protein_xyz.min(0) - outer) / spacing)
  high = np.ceil((protein_xyz.max(0) + outer) / spacing)
  axes = [np.arange(lo, hi + 1) * spacing for lo, hi in zip(low, high)]
  lattice = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
  distance, _ = spatial.cKDTree(protein_xyz).query(lattice, distance_upper_bound=outer + 1e-6)
  return lattice[(distance > inner) & (distance <= outer)].astype(np.float32)


def shell_environment(points: np.ndarray, atom_xyz: np.ndarray,
                      atom_props: np.ndarray) -> np.ndarray:
  """``float32[p, NUM_SHELLS, len(PROPERTIES)]``: property sums per 1.25 A shell."""
  radius = SHELL_WIDTH * (FIRST_SHELL + NUM_SHELLS)
  pairs = spatial.cKDTree(points).sparse_distance_matrix(
      spatial.cKDTree(atom_xyz), radius, output_type="coo_matrix")
  shell = np.floor(pairs.data / SHELL_WIDTH).astype(np.int64) - FIRST_SHELL
  keep = (shell >= 0) & (shell < NUM_SHELLS) & (pairs.data < radius)
  rows = pairs.row[keep] * NUM_SHELLS + shell[keep]
  membership = sparse.csr_matrix((np.ones(keep.sum(), np.float32), (rows, pairs.col[keep])),
                                 shape=(len(points) * NUM_SHELLS, len(atom_xyz)))
  return np.asarray(membership @ atom_props, np.float32).reshape(
      len(points), NUM_SHELLS, atom_props.shape[1])


def voxel_environment(points: np.ndarray, atom_xyz: np.ndarray, atom_props: np.ndarray,
                      size: int, spacing: float = 1.0) -> np.ndarray:
  """``float32[p, size, size, size, len(PROPERTIES)]``: property sums of the atoms in
  each cube of a ``size``^3 grid of ``spacing`` A centred on each point (the input of
  the 3-D variant of ``genereg_jax.models.nucleicnet``; ours, not the paper's)."""
  half = size * spacing / 2
  pairs = spatial.cKDTree(points).sparse_distance_matrix(
      spatial.cKDTree(atom_xyz), half * np.sqrt(3) + 1e-6, output_type="coo_matrix")
  cell = np.floor((atom_xyz[pairs.col] - points[pairs.row] + half) / spacing).astype(np.int64)
  keep = ((cell >= 0) & (cell < size)).all(1)
  flat = ((pairs.row[keep] * size + cell[keep, 0]) * size + cell[keep, 1]) * size + cell[keep, 2]
  membership = sparse.csr_matrix((np.ones(keep.sum(), np.float32), (flat, pairs.col[keep])),
                                 shape=(len(points) * size ** 3, len(atom_xyz)))
  return np.asarray(membership @ atom_props, np.float32).reshape(
      len(points), size, size, size, atom_props.shape[1])


def point_labels(points: np.ndarray, complex_: Complex,
                 label_cutoff: float = 5.0) -> np.ndarray:
  """``int32[p]`` class of each point; -1 for points to drop (module docstring, step 3)."""
  labels = np.full(len(points), CLASSES.index("nonsite"), np.int32)
  if len(complex_.rna_xyz):
    distance, nearest = spatial.cKDTree(complex_.rna_xyz).query(points)
    near = distance <= label_cutoff
    labels[near] = complex_.rna_class[nearest[near]]
  if len(complex_.other_nucleic_xyz):
    distance, _ = spatial.cKDTree(complex_.other_nucleic_xyz).query(points)
    labels[(distance <= label_cutoff) & (labels == CLASSES.index("nonsite"))] = -1
  return labels


def complex_grid(complex_: Complex, *, spacing: float = 1.0, inner: float = 2.0,
                 outer: float = 4.0, label_cutoff: float = 5.0):
  """``(points [p, 3], environments [p, 6, F], labels [p])`` of one complex, dropped
  points removed."""
  points = halo_points(complex_.protein_xyz, spacing, inner, outer)
  labels = point_labels(points, complex_, label_cutoff)
  points = points[labels >= 0]
  return (points, shell_environment(points, complex_.protein_xyz,
                                    complex_.protein_properties), labels[labels >= 0])
