r"""NucleicNet grid points (Lam et al. 2019): protein-surface points, environments, RNA labels.

One record per grid point: ``environment`` float32 ``[6 shells, len(PROPERTIES)]``
(``grids``: FEATURE-style property sums in 1.25 A shells), ``label`` int32 (index into
``CLASSES``: base A/C/G/U, ribose, phosphate, non-binding), ``position`` float32 [3]
(A; zeros for synthetic points) and ``structure`` (the structure id). Configs with
``voxel_size`` > 0 add ``voxels`` uint8 ``[size, size, size, 5]``: counts of C, N, O, S
and other protein heavy atoms in 1 A cubes centred on the point (``grids.voxel_environment``;
the input of the 3-D-convolution variant of the model; ours, not the paper's).

Configs:

* ``mmcif``: protein-RNA complexes from ``manual_dir``: every ``*.cif``, ``*.mmcif``,
  ``*.pdb``, ``*.ent`` (optionally ``.gz``) file, e.g. downloaded from the PDB
  (``https://files.rcsb.org/download/<ID>.cif.gz``), read and featurised as ``grids``
  describes. Splits: 10 folds by a hash of the structure id, so every point of a
  structure is in one split (fold 0 ``test``, fold 1 ``valid``, the rest ``train``).
  The paper split by BLASTClust clusters of the protein chains at 90% identity; put
  one representative per cluster in ``manual_dir`` (or several clustered structures
  under one id prefix) to keep homologues apart. ``nonsite_keep`` keeps that fraction
  of non-binding points (fixed by the structure id), as they dominate.
* ``mmcif_voxels``: as ``mmcif`` plus 8 A voxel cubes.
* ``synthetic`` (27,000 points) and ``tiny`` (4,500): the embedded points of
  ``synthetic``, labels by its rule; build on first use.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator

import numpy as np
import tensorflow_datasets as tfds

from data_builders.nucleicnet_grids import grids
from data_builders.nucleicnet_grids import synthetic
from data_builders.rna_localization import split_of

SPLITS = ("train", "valid", "test")
STRUCTURE_SUFFIXES = (".cif", ".mmcif", ".pdb", ".ent")


def structure_files(manual_dir: str) -> list[str]:
  """Sorted PDB/mmCIF paths in ``manual_dir`` (plain or gzipped)."""
  files = sorted(os.path.join(manual_dir, name) for name in os.listdir(manual_dir)
                 if name.lower().removesuffix(".gz").endswith(STRUCTURE_SUFFIXES))
  if not files:
    raise FileNotFoundError(f"{manual_dir} holds no {'/'.join(STRUCTURE_SUFFIXES)}[.gz] files")
  return files


#: ``voxels`` channels: the element entries of ``grids.PROPERTIES``.
VOXEL_CHANNELS = tuple(p for p in grids.PROPERTIES if p.startswith("element_"))
_VOXEL_COLUMNS = [grids.PROPERTIES.index(p) for p in VOXEL_CHANNELS]


def grid_features(voxel_size: int = 0) -> tfds.features.FeaturesDict:
  voxels = {"voxels": tfds.features.Tensor(shape=(voxel_size,) * 3 + (len(VOXEL_CHANNELS),),
                                           dtype=np.uint8)} if voxel_size else {}
  return tfds.features.FeaturesDict({**voxels,
      "environment": tfds.features.Tensor(shape=(grids.NUM_SHELLS, len(grids.PROPERTIES)),
                                          dtype=np.float32),
      "label": tfds.features.Scalar(dtype=np.int32),
      "position": tfds.features.Tensor(shape=(3,), dtype=np.float32),
      "structure": tfds.features.Text(),
  })


@dataclasses.dataclass(eq=False)
class NucleicnetGridsConfig(tfds.core.BuilderConfig):
  """Attributes:
    kind: ``"structures"`` (``manual_dir``) or ``"synthetic"``.
    spacing, inner, outer: lattice spacing and halo bounds, A (``grids.halo_points``).
    label_cutoff: nearest-RNA-atom distance that labels a point, A.
    nonsite_keep: fraction of non-binding points kept (structures).
    voxel_size: side of the ``voxels`` cube in 1 A cells; 0 = no voxels (structures).
    num_train, num_valid, num_test: synthetic points per split.
    seed: first entry of every synthetic point's RNG seed.
  """
  kind: str = "structures"
  spacing: float = 1.0
  inner: float = 2.0
  outer: float = 4.0
  label_cutoff: float = 5.0
  nonsite_keep: float = 1.0
  voxel_size: int = 0
  num_train: int = 20000
  num_valid: int = 2000
  num_test: int = 5000
  seed: int = 0


class NucleicnetGrids(tfds.core.GeneratorBasedBuilder):
  """Grid points of protein surfaces labelled by the RNA part bound there (module doc)."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "First release."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Put protein-RNA complexes as PDB or mmCIF files (e.g. <ID>.cif.gz from "
      "https://files.rcsb.org/download/) in manual_dir.")
  BUILDER_CONFIGS = [
      NucleicnetGridsConfig(name="mmcif", description="Protein-RNA complexes from manual_dir."),
      NucleicnetGridsConfig(name="mmcif_voxels", voxel_size=8,
                            description="As mmcif, plus 8 A voxel cubes of atom counts."),
      NucleicnetGridsConfig(name="synthetic", kind="synthetic",
                            description="27,000 synthetic points, labels by a known rule."),
      NucleicnetGridsConfig(name="tiny", kind="synthetic", num_train=3000, num_valid=500,
                            num_test=1000, description="4,500 synthetic points, for tests."),
  ]
  DEFAULT_BUILDER_CONFIG_NAME = "synthetic"

  def _info(self) -> tfds.core.DatasetInfo:
    config = self.builder_config
    metadata = dict(classes=list(grids.CLASSES), properties=list(grids.PROPERTIES),
                    num_shells=grids.NUM_SHELLS, shell_width=grids.SHELL_WIDTH,
                    kind=config.kind)
    if config.kind == "structures":
      metadata.update(spacing=config.spacing, inner=config.inner, outer=config.outer,
                      label_cutoff=config.label_cutoff, nonsite_keep=config.nonsite_keep,
                      voxel_size=config.voxel_size, voxel_channels=list(VOXEL_CHANNELS))
    return tfds.core.DatasetInfo(builder=self, description=__doc__, features=grid_features(config.voxel_size),
                                 disable_shuffling=True,
                                 metadata=tfds.core.MetadataDict(**metadata))

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    if self.builder_config.kind == "synthetic":
      return {split: self._synthetic_examples(split) for split in SPLITS}
    by_split = {}
    for path in structure_files(str(dl_manager.manual_dir)):
      by_split.setdefault(split_of(grids.structure_name(path)), []).append(path)
    # A split no structure hashes to is left out (TFDS refuses empty splits).
    return {split: self._generate_examples(files) for split, files in by_split.items()}

  def _synthetic_examples(self, split: str) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for index in range(getattr(config, f"num_{split}")):
      environment, label, _ = synthetic.sample_point(
          synthetic.example_rng(config.seed, split, index))
      yield f"{split}_{index}", dict(environment=environment, label=np.int32(label),
                                     position=np.zeros(3, np.float32), structure="synthetic")

  def _generate_examples(self, files: list[str]) -> Iterator[tuple[str, dict]]:
    config = self.builder_config
    for path in files:
      complex_ = grids.read_complex(path)
      points, environments, labels = grids.complex_grid(
          complex_, spacing=config.spacing, inner=config.inner, outer=config.outer,
          label_cutoff=config.label_cutoff)
      seed = int(hashlib.sha1(complex_.name.encode()).hexdigest(), 16) % 2**32
      keep = ((labels != grids.CLASSES.index("nonsite"))
              | (np.random.default_rng(seed).random(len(labels)) < config.nonsite_keep))
      for start in range(0, len(labels), 4096):  # Voxels of a few thousand points at once.
        chunk = np.flatnonzero(keep[start:start + 4096]) + start
        voxels = (grids.voxel_environment(points[chunk], complex_.protein_xyz,
                                          complex_.protein_properties[:, _VOXEL_COLUMNS],
                                          config.voxel_size).astype(np.uint8)
                  if config.voxel_size else None)
        for j, i in enumerate(chunk):
          record = dict(environment=environments[i], label=labels[i], position=points[i],
                        structure=complex_.name)
          if voxels is not None:
            record["voxels"] = voxels[j]
          yield f"{complex_.name}_{i}", record
