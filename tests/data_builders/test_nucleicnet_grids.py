"""``nucleicnet_grids`` on a small complex written in the test as real mmCIF (protein
residues + an RNA dinucleotide + a DNA residue, hydrogens, an alternative location and a
water): atoms and their groups, the halo lattice, shell environments and labels against
brute-force numpy; the TFDS build (plain + gzipped files); gemmi errors as path:line;
the synthetic points follow their rule."""

import gzip

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders.nucleicnet_grids import grids
from data_builders.nucleicnet_grids import nucleicnet_grids
from data_builders.nucleicnet_grids import synthetic

ATOMS = {
    "ARG": "N CA C O CB CG CD NE CZ NH1 NH2", "PHE": "N CA C O CB CG CD1 CD2 CE1 CE2 CZ",
    "LYS": "N CA C O CB CG CD CE NZ", "SER": "N CA C O CB OG",
    "A": "P OP1 OP2 O5' C5' C4' O4' C3' O3' C2' O2' C1' N9 C8 N7 C5 C6 N6 N1 C2 N3 C4",
    "U": "P OP1 OP2 O5' C5' C4' O4' C3' O3' C2' O2' C1' N1 C2 O2 N3 C4 O4 C5 C6",
    "DA": "P OP1 OP2 O5' C5' C4' C1' N9 C8",
}
RESIDUES = [  # chain, residue, seq, centre (A)
    ("A", "ARG", 1, (0, 0, 0)), ("A", "PHE", 2, (4, 0, 0)), ("A", "LYS", 3, (8, 0, 0)),
    ("A", "SER", 4, (12, 0, 0)), ("B", "A", 1, (3, 6, 0)), ("B", "U", 2, (9, 6, 0)),
    ("C", "DA", 1, (6, -7, 0))]
HEADER = """data_{name}
_entry.id {name}
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
"""


def _complex_cif(name="1abc", seed=0):
  """mmCIF text and the heavy atoms a reader must keep: (residue, atom, element, xyz)."""
  rng = np.random.default_rng(seed)
  rows, kept = [], []

  def row(group, element, atom, alt, residue, chain, seq, xyz, occupancy=1.0):
    quoted = f'"{atom}"' if "'" in atom else atom
    x, y, z = xyz
    rows.append(f"{group} {len(rows) + 1} {element} {quoted} {alt} {residue} {chain} "
                f"{'ABC'.index(chain) + 1} {seq} ? {x:.3f} {y:.3f} {z:.3f} {occupancy} 20.0 "
                f"{seq} {chain} 1")

  for chain, residue, seq, centre in RESIDUES:
    for atom in ATOMS[residue].split():
      xyz = np.round(np.asarray(centre) + rng.uniform(-2, 2, 3), 3)
      element = atom[0]
      if atom == "CA" and residue == "PHE":  # Two conformers: only A is kept.
        row("ATOM", element, atom, "A", residue, chain, seq, xyz, 0.6)
        row("ATOM", element, atom, "B", residue, chain, seq, xyz + 1.0, 0.4)
      else:
        row("ATOM", element, atom, ".", residue, chain, seq, xyz)
      kept.append((residue, atom, element, xyz))
    if residue == "LYS":
      row("ATOM", "H", "HZ1", ".", residue, chain, seq, np.asarray(centre) + 0.5)
  row("HETATM", "O", "O", ".", "HOH", "C", 2, (5.0, 3.0, 1.0))
  return HEADER.format(name=name) + "\n".join(rows) + "\n#\n", kept


def _write(path, text):
  if str(path).endswith(".gz"):
    with gzip.open(path, "wt") as f:
      f.write(text)
  else:
    path.write_text(text)
  return str(path)


def test_read_complex_keeps_protein_and_groups_rna(tmp_path):
  text, kept = _complex_cif()
  complex_ = grids.read_complex(_write(tmp_path / "1ABC.cif", text))
  assert complex_.name == "1abc"
  assert grids.structure_name("d/7KI3.mmcif.gz") == grids.structure_name("7ki3.pdb") == "7ki3"
  protein = [k for k in kept if k[0] in grids.HYDROPATHY]
  rna = [k for k in kept if k[0] in ("A", "U")]
  np.testing.assert_allclose(complex_.protein_xyz, [k[3] for k in protein], atol=1e-3)
  np.testing.assert_array_equal(complex_.protein_properties,
                                [grids.atom_properties(*k[:3]) for k in protein])
  np.testing.assert_allclose(complex_.rna_xyz, [k[3] for k in rna], atol=1e-3)
  names = [k[1] for k in rna]
  classes = [grids.CLASSES[c] for c in complex_.rna_class]
  assert classes[names.index("P")] == classes[names.index("O5'")] == "phosphate"
  assert classes[names.index("C1'")] == classes[names.index("O3'")] == "ribose"
  assert classes[names.index("N6")] == "A" and classes[names.index("O4")] == "U"
  assert len(complex_.other_nucleic_xyz) == len(ATOMS["DA"].split())
  # A few properties by hand: Lys NZ +1, Arg NH1 +1/3, Phe CZ aromatic, Ser OG hydroxyl.
  index = grids.PROPERTIES.index
  nz = grids.atom_properties("LYS", "NZ", "N")
  assert nz[index("charge")] == 1 and nz[index("positive")] == 1 and nz[index("element_N")] == 1
  assert grids.atom_properties("ARG", "NH1", "N")[index("charge")] == pytest.approx(1 / 3)
  assert grids.atom_properties("PHE", "CZ", "C")[index("aromatic")] == 1
  assert grids.atom_properties("SER", "OG", "O")[index("hydroxyl")] == 1
  assert grids.atom_properties("SER", "CA", "C")[index("peptide")] == 1


def test_grid_environment_and_labels_match_brute_force(tmp_path):
  text, _ = _complex_cif()
  complex_ = grids.read_complex(_write(tmp_path / "1abc.cif", text))
  points, environments, labels = grids.complex_grid(complex_)
  protein = complex_.protein_xyz.astype(np.float64)
  # Every lattice point (integer A) in range, kept iff its nearest atom is in (2, 4] A.
  axes = [np.arange(np.floor(lo) - 5, np.ceil(hi) + 6) for lo, hi in
          zip(protein.min(0), protein.max(0))]
  lattice = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
  nearest = np.sqrt(((lattice[:, None] - protein[None]) ** 2).sum(-1)).min(1)
  halo = lattice[(nearest > 2) & (nearest <= 4)]
  to_rna = np.sqrt(((halo[:, None] - complex_.rna_xyz[None]) ** 2).sum(-1))
  to_dna = np.sqrt(((halo[:, None] - complex_.other_nucleic_xyz[None]) ** 2).sum(-1)).min(1)
  expected = np.where(to_rna.min(1) <= 5, complex_.rna_class[to_rna.argmin(1)], 6)
  keep = (expected != 6) | (to_dna > 5)
  order = np.lexsort(points.T[::-1])
  np.testing.assert_array_equal(points[order], halo[keep])
  np.testing.assert_array_equal(labels[order], expected[keep])
  assert set(labels) >= {0, 3, 4, 5, 6} and (~keep).any()
  distance = np.sqrt(((halo[keep][:, None] - protein[None]) ** 2).sum(-1))
  shell = np.floor(distance / 1.25).astype(int) - 1
  brute = np.stack([(shell == s).astype(np.float64) @ complex_.protein_properties
                    for s in range(6)], axis=1)
  np.testing.assert_allclose(environments[order], brute, atol=1e-4)


def test_builder_on_mmcif_files(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  # One structure per split: 1abc train, 6mno valid, 2py9 test (hash folds).
  for name, seed in (("1abc.cif", 0), ("6mno.cif.gz", 1), ("2py9.cif", 2)):
    _write(manual / name, _complex_cif(name.split(".")[0], seed)[0])
  (manual / "notes.txt").write_text("not a structure\n")
  config = nucleicnet_grids.NucleicnetGridsConfig(name="small", nonsite_keep=0.5,
                                                  voxel_size=4)
  builder = nucleicnet_grids.NucleicnetGrids(config=config, data_dir=str(tmp_path / "tfds"))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(manual)), file_format="array_record")
  assert builder.info.metadata["classes"] == list(grids.CLASSES)
  records = {}
  for split in ("train", "valid", "test"):
    for record in builder.as_data_source()[split]:
      name = record["structure"].decode()
      assert nucleicnet_grids.split_of(name) == split
      records.setdefault(name, []).append(record)
  assert sorted(records) == ["1abc", "2py9", "6mno"]
  for name in records:
    path = [str(p) for p in manual.iterdir() if p.name.startswith(name)][0]
    points, environments, labels = grids.complex_grid(grids.read_complex(path))
    binding = labels != 6
    got = records[name]
    assert sum(r["label"] != 6 for r in got) == binding.sum()
    assert 0 < sum(r["label"] == 6 for r in got) < (~binding).sum()  # About half kept.
    by_position = {tuple(p): (e, l) for p, e, l in zip(points, environments, labels)}
    for record in got:
      environment, label = by_position[tuple(record["position"])]
      np.testing.assert_array_equal(record["environment"], environment)
      assert record["label"] == label
      assert record["voxels"].shape == (4, 4, 4, 5)
    # Element counts in the cube add up to the atoms at offsets in [-2, 2) A on every axis.
    complex_ = grids.read_complex(path)
    offset = complex_.protein_xyz[None] - np.stack([r["position"] for r in got])[:, None]
    inside = ((offset >= -2) & (offset < 2)).all(-1).sum(1)
    assert [int(r["voxels"].sum()) for r in got] == inside.tolist() and inside.any()


def test_voxels_match_brute_force(tmp_path):
  complex_ = grids.read_complex(_write(tmp_path / "1abc.cif", _complex_cif()[0]))
  points = grids.complex_grid(complex_)[0][::7]
  voxels = grids.voxel_environment(points, complex_.protein_xyz,
                                   complex_.protein_properties, 6, spacing=1.5)
  expected = np.zeros_like(voxels)
  for i, point in enumerate(points):
    cells = np.floor((complex_.protein_xyz - point + 4.5) / 1.5).astype(int)
    for atom in np.flatnonzero(((cells >= 0) & (cells < 6)).all(1)):
      expected[i, cells[atom, 0], cells[atom, 1], cells[atom, 2]] += (
          complex_.protein_properties[atom])
  np.testing.assert_allclose(voxels, expected, atol=1e-5)
  assert voxels[..., 0].sum() > 0


def test_bad_files_name_path_and_line(tmp_path):
  text, _ = _complex_cif()
  lines = text.splitlines()
  lines[25] = lines[25].replace("20.0", '"20.0')  # Line 26: an unterminated string.
  bad = _write(tmp_path / "bad.cif", "\n".join(lines) + "\n")
  with pytest.raises(grids.StructureFormatError) as error:
    grids.read_complex(bad)
  assert str(error.value) == f'{bad}:26: unterminated "string"'
  lines = text.splitlines()
  lines[25] = lines[25].rsplit(" ", 3)[0]  # A row short of three values: gemmi names
  short = _write(tmp_path / "short.cif", "\n".join(lines) + "\n")  # the loop's line.
  with pytest.raises(grids.StructureFormatError, match=r"short.cif:3: Wrong number of values"):
    grids.read_complex(short)
  water = _write(tmp_path / "water.cif", HEADER.format(name="w") +
                 "HETATM 1 O O . HOH A 1 1 ? 0 0 0 1 20 1 A 1\n")
  with pytest.raises(grids.StructureFormatError, match="no amino-acid atoms"):
    grids.read_complex(water)
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(FileNotFoundError, match="no .cif"):
    nucleicnet_grids.structure_files(str(empty))


def test_synthetic_points_follow_the_rule():
  points = [synthetic.sample_point(synthetic.example_rng(0, "train", i)) for i in range(400)]
  labels = np.array([p[1] for p in points])
  for environment, label, _ in points[:50]:
    assert synthetic.rule_label(environment) == label
  assert set(labels) == set(range(7))
  assert np.mean([p[1] == p[2] for p in points]) > 0.9  # Planted signatures mostly decide.
  # The rule by hand: three aromatic atoms and two Asp atoms in the inner shells -> G.
  environment = np.zeros((6, len(grids.PROPERTIES)), np.float32)
  environment[0, grids.PROPERTIES.index("aromatic")] = 3
  environment[1, grids.PROPERTIES.index("residue_ASP")] = 2
  assert grids.CLASSES[synthetic.rule_label(environment)] == "G"
  environment[2:, grids.PROPERTIES.index("residue_ASN")] = 9  # Outer shells do not count.
  assert grids.CLASSES[synthetic.rule_label(environment)] == "G"
  environment[0, grids.PROPERTIES.index("aromatic")] = 2
  environment[0, grids.PROPERTIES.index("residue_LYS")] = 3
  assert grids.CLASSES[synthetic.rule_label(environment)] == "phosphate"
  np.testing.assert_array_equal(synthetic.sample_point(synthetic.example_rng(0, "test", 3))[0],
                                synthetic.sample_point(synthetic.example_rng(0, "test", 3))[0])
