"""Hi-C / Micro-C contact matrices: readers (.cool, .mcool, .hic) and Akita's preprocessing.

Readers. ``open_contact_matrix(path, resolution)`` opens a ``.cool`` or one resolution
of a ``.mcool`` with ``cooler`` (balanced values use its ``weight`` column, as
``cooler.Cooler.matrix(balance=True)``), or a ``.hic`` with ``hictkpy`` (balanced values
use a stored normalisation vector, ``KR`` by default, as Juicer's). ``fetch(chrom, start,
end)`` returns the dense balanced and raw-count matrices of a region; bins filtered by
balancing are NaN in the balanced one.

Preprocessing. ``akita_targets`` turns a region's balanced and raw matrices into Akita's
training target exactly as basenji's ``bin/akita_data_read.py --as_obsexp`` (Fudenberg
et al., Nat. Methods 2020), with cooltools' ``numutils`` functions re-implemented here in
numpy (cooltools and astropy are not dependencies):

  1. the diagonals closer than ``diagonal_offset`` are set to the median of diagonal
     ``diagonal_offset`` and the matrix is clipped to ``[0, that median]``;
  2. ``adaptive_coarsegrain(balanced, raw, cutoff=2, max_levels=8)``: pixels whose 2x2
     block holds fewer than 2 raw reads take the block's mean, recursively (sparse,
     far-from-diagonal pixels become local averages instead of zeros);
  3. ``observed_over_expected``: each pixel divided by the mean of its distance
     class (diagonals grouped in log-spaced bins with edge ratio 1.03);
  4. natural log, clipped to ``[-clip, clip]`` (Akita: 2);
  5. ``interp_nan``: filtered rows/columns linearly interpolated, then the diagonals
     closer than ``diagonal_offset`` set to 0;
  6. a 2D Gaussian of ``kernel_stddev`` bins (astropy ``Gaussian2DKernel``, 8 sd wide,
     zero-filled borders), when ``kernel_stddev > 0`` (the Akita tutorial uses 0);
  7. ``crop_bins`` dropped at each side, upper triangle with ``diagonal_offset``.

Akita stores the interpolated values of filtered bins; with ``mask_filtered_bins`` the
rows and columns of bins that were entirely NaN on input are NaN in the target instead, so
the ``contact_map`` task does not train on made-up values.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import scipy.interpolate
import scipy.ndimage

from genereg_jax.files import InputFormatError

# basenji akita_data.py / tutorial: -d 2 --clip 2 -k 0; adaptive_coarsegrain(cutoff=2).
AKITA_DIAGONAL_OFFSET = 2
AKITA_CLIP = 2.0
COARSEGRAIN_CUTOFF = 2.0
COARSEGRAIN_MAX_LEVELS = 8
# cooltools observed_over_expected(dist_bin_edge_ratio=1.03).
DISTANCE_BIN_RATIO = 1.03


# ---------------------------------------------------------------------------
# cooltools.lib.numutils, in numpy
# ---------------------------------------------------------------------------


def set_diagonal(matrix: np.ndarray, value: Any, offset: int = 0) -> np.ndarray:
  """Writes ``value`` on diagonal ``offset`` (> 0 above) of ``matrix`` in place."""
  n_cols = matrix.shape[1]
  start = max(offset, -n_cols * offset)
  stop = max(0, n_cols - offset) * n_cols
  matrix.flat[start:stop:n_cols + 1] = value
  return matrix


def log_bins(low: int, high: int, ratio: float) -> np.ndarray:
  """Integer edges from ``low`` to ``high`` evenly spaced in log (cooltools logbins)."""
  count = int(np.log(high / low) / np.log(ratio))
  edges = np.unique(np.rint(10**np.linspace(np.log10(low), np.log10(high), count)))
  return edges.astype(np.int64)


def observed_over_expected(matrix: np.ndarray, mask: np.ndarray,
                           ratio: float = DISTANCE_BIN_RATIO) -> np.ndarray:
  """Divides each valid pixel by the mean of the valid pixels in its distance class.

  ``mask`` ``[n, n]`` marks valid pixels; as in cooltools, a pair's class is its
  diagonal's log bin and the lower triangle's mask decides both mirror pixels.
  """
  n = matrix.shape[0]
  data = np.array(matrix, dtype=np.float64)
  edges = np.concatenate([[0], log_bins(1, n, ratio)])
  rows, cols = np.tril_indices(n)
  keep = mask[rows, cols].astype(bool)
  rows, cols = rows[keep], cols[keep]
  distance_class = np.searchsorted(edges, rows - cols, side="right") - 1
  n_classes = edges.size - 1
  sums = np.bincount(distance_class, data[rows, cols], n_classes)
  counts = np.bincount(distance_class, minlength=n_classes)
  with np.errstate(invalid="ignore", divide="ignore"):
    means = sums / counts
  divisor = means[distance_class]
  # cooltools skips classes with no pixels or a zero mean.
  divisor = np.where((counts[distance_class] > 0) & (divisor != 0), divisor, 1.0)
  lower = data[rows, cols] / divisor
  upper = data[cols, rows] / divisor
  data[rows, cols] = lower
  off = rows != cols
  data[cols[off], rows[off]] = upper[off]
  return data


def adaptive_coarsegrain(balanced: np.ndarray, counts: np.ndarray,
                         cutoff: float = COARSEGRAIN_CUTOFF,
                         max_levels: int = COARSEGRAIN_MAX_LEVELS,
                         min_shape: int = 8) -> np.ndarray:
  """cooltools' adaptive coarse-graining of ``balanced`` guided by raw ``counts``.

  The matrix is NaN-padded to a power of two and summed in 2x2 blocks up to
  ``max_levels`` times; going back down, every 2x2 block whose smallest raw count is
  below ``cutoff`` takes the coarser level's mean (as cooltools does, the minimum runs
  over the block's raw counts including invalid pixels, whose count is 0).
  """
  values = np.asarray(balanced, np.float64).copy()
  raw = np.asarray(counts, np.float64).copy()
  n = values.shape[0]
  size = n if np.allclose(np.log2(n), np.rint(np.log2(n))) else int(2**np.ceil(np.log2(n)))
  if size != n:
    padded = np.full((size, size), np.nan)
    padded[:n, :n] = values
    padded_raw = np.zeros((size, size))
    padded_raw[:n, :n] = raw
    values, raw = padded, padded_raw
  valid = np.isfinite(values)
  raw[~valid] = 0
  values[~valid] = 0

  def coarsen(x, reduce=np.sum):
    half = x.shape[0] // 2
    return reduce(reduce(x.reshape(half, 2, half, 2), axis=1), axis=2)

  def expand(x):
    return np.repeat(np.repeat(x, 2, axis=0), 2, axis=1)

  levels_values, levels_raw, levels_valid = [values], [raw], [valid.astype(np.float64)]
  for _ in range(max_levels):
    if levels_raw[-1].shape[0] > min_shape:
      levels_raw.append(coarsen(levels_raw[-1]))
      levels_valid.append(coarsen(levels_valid[-1]))
      levels_values.append(coarsen(levels_values[-1]))
  current, current_valid = levels_values.pop(), levels_valid.pop()
  levels_raw.pop()
  while levels_values:
    finer, finer_raw, finer_valid = (levels_values.pop(), levels_raw.pop(),
                                     levels_valid.pop())
    with np.errstate(invalid="ignore", divide="ignore"):
      substitute = expand(current / current_valid) * finer_valid
    replace = expand(coarsen(finer_raw, np.nanmin)) < cutoff
    finer[replace] = substitute[replace]
    finer[finer_valid == 0] = 0
    current, current_valid = finer, finer_valid
  current[current_valid == 0] = np.nan
  return current[:n, :n]


def interpolate_nan(matrix: np.ndarray) -> np.ndarray:
  """cooltools ``interp_nan``: NaN rows/columns linearly interpolated, zero-padded edges."""
  n_rows, n_cols = matrix.shape
  padded = np.zeros((n_rows + 2, n_cols + 2))
  padded[1:-1, 1:-1] = matrix
  missing = np.isnan(padded)
  if not missing.any():
    return matrix
  nan_rows, nan_cols = missing.sum(axis=1), missing.sum(axis=0)
  rows = np.flatnonzero(nan_rows < nan_rows.max())
  cols = np.flatnonzero(nan_cols < nan_cols.max())
  if missing[np.ix_(rows, cols)].any():
    raise ValueError("NaNs outside whole filtered rows/columns cannot be interpolated")
  where = np.nonzero(missing)
  padded[where] = scipy.interpolate.interpn(
      (rows, cols), padded[np.ix_(rows, cols)], np.stack(where, -1), method="linear",
      bounds_error=False)
  return padded[1:-1, 1:-1]


def gaussian_kernel(stddev: float) -> np.ndarray:
  """astropy ``Gaussian2DKernel(x_stddev=stddev)``: 8 sd (odd) wide, sampled at pixel
  centres, normalised to sum 1."""
  size = int(np.ceil(8 * stddev))
  size += 1 - size % 2
  offsets = np.arange(size) - size // 2
  kernel = np.exp(-(offsets[:, None]**2 + offsets[None, :]**2) / (2 * stddev**2))
  return kernel / kernel.sum()


# ---------------------------------------------------------------------------
# Akita's target
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AkitaPreprocessing:
  """Settings of ``akita_targets`` (defaults: Akita's manuscript data).

  Attributes:
    diagonal_offset: diagonals left out (basenji ``-d``, 2).
    clip: bound of the log observed/expected values (targets.txt ``clip``, 2).
    kernel_stddev: Gaussian smoothing sd in bins (``-k``; 0 = none, the tutorial's).
    crop_bins: bins cropped at each side (``--crop`` / bin size; 32 for Akita).
    mask_filtered_bins: NaN (not interpolated) rows/columns for bins filtered on input.
  """

  diagonal_offset: int = AKITA_DIAGONAL_OFFSET
  clip: float = AKITA_CLIP
  kernel_stddev: float = 0.0
  crop_bins: int = 0
  mask_filtered_bins: bool = True


def akita_map(balanced: np.ndarray, counts: np.ndarray,
              settings: AkitaPreprocessing = AkitaPreprocessing()) -> np.ndarray:
  """The processed ``[n, n]`` log observed/expected map before cropping (steps 1-6)."""
  offset = settings.diagonal_offset
  hic = np.array(balanced, dtype=np.float64)
  missing = np.isnan(hic)
  filtered = missing.all(axis=0)
  clip_value = np.nanmedian(np.diag(hic, offset))
  for i in range(-offset + 1, offset):
    set_diagonal(hic, clip_value, i)
  hic = np.clip(hic, 0, clip_value)
  hic[missing] = np.nan
  smoothed = adaptive_coarsegrain(hic, counts)
  missing = np.isnan(smoothed)
  with np.errstate(divide="ignore", invalid="ignore"):
    obs_exp = np.log(observed_over_expected(smoothed, ~missing))
  obs_exp = np.clip(obs_exp, -settings.clip, settings.clip)
  obs_exp = interpolate_nan(obs_exp)
  for i in range(-offset + 1, offset):
    set_diagonal(obs_exp, 0, i)
  if settings.kernel_stddev > 0:
    obs_exp = scipy.ndimage.convolve(obs_exp, gaussian_kernel(settings.kernel_stddev),
                                     mode="constant", cval=0.0)
  if settings.mask_filtered_bins:
    obs_exp[filtered, :] = np.nan
    obs_exp[:, filtered] = np.nan
  return obs_exp


def akita_targets(balanced: np.ndarray, counts: np.ndarray,
                  settings: AkitaPreprocessing = AkitaPreprocessing()) -> np.ndarray:
  """Akita's target vector of a region: ``[n_pairs]`` float32 (module docstring)."""
  obs_exp = akita_map(balanced, counts, settings)
  crop = settings.crop_bins
  if crop:
    obs_exp = obs_exp[crop:-crop, crop:-crop]
  rows, cols = np.triu_indices(obs_exp.shape[0], settings.diagonal_offset)
  return obs_exp[rows, cols].astype(np.float32)


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------

CONTACT_SUFFIXES = (".cool", ".mcool", ".hic")
# Juicer's default balancing; .hic files from 4DN/ENCODE also hold VC, VC_SQRT, SCALE.
HIC_NORMALIZATION = "KR"


class ContactMatrix:
  """One resolution of a ``.cool`` / ``.mcool`` (cooler) or ``.hic`` (hictkpy) file.

  Args:
    path: the file; ``.mcool`` and ``.hic`` hold several resolutions.
    resolution: bin size in bp; required when the file holds several, checked otherwise.
    normalization: ``.hic`` only: the stored normalisation giving the balanced matrix
      (``KR`` by default; ``NONE`` uses raw counts as balanced). Coolers use their
      ``weight`` column, as ``cooler.Cooler.matrix(balance=True)``.

  Attributes:
    path, bin_size, chromosomes (``{name: length}``), normalization.
  """

  def __init__(self, path: str | os.PathLike, resolution: int | None = None,
               normalization: str = HIC_NORMALIZATION):
    self.path = os.fspath(path)
    if not os.path.isfile(self.path):
      raise InputFormatError(self.path, None, "contact matrix file not found")
    suffix = os.path.splitext(self.path)[1].lower()
    if suffix not in CONTACT_SUFFIXES:
      raise InputFormatError(self.path, None, f"not a contact matrix: the name must end "
                                              f"in one of {CONTACT_SUFFIXES}")
    self.is_hic = suffix == ".hic"
    self.normalization = normalization if self.is_hic else "weight"
    try:
      if self.is_hic:
        self._open_hic(resolution)
      else:
        self._open_cooler(resolution, multires=suffix == ".mcool")
    except InputFormatError:
      raise
    except (OSError, KeyError, RuntimeError, ValueError) as e:
      raise InputFormatError(self.path, None, f"cannot read the contact matrix ({e})") from e

  def _open_cooler(self, resolution: int | None, multires: bool) -> None:
    import cooler  # Imported late: only builders read contact files.
    uri = self.path
    if multires:
      available = sorted(int(name.rsplit("/", 1)[1])
                         for name in cooler.fileops.list_coolers(self.path))
      chosen = _choose_resolution(self.path, resolution, available)
      uri = f"{self.path}::/resolutions/{chosen}"
    elif not cooler.fileops.is_cooler(self.path):
      raise InputFormatError(self.path, None, "not a cooler file (no single-resolution "
                                              "cooler at its root; .mcool for several)")
    self._cooler = cooler.Cooler(uri)
    self.bin_size = int(self._cooler.binsize)
    _choose_resolution(self.path, resolution, [self.bin_size])
    if "weight" not in self._cooler.bins().columns:
      raise InputFormatError(self.path, None, "the cooler is not balanced (no 'weight' "
                                              "column); run `cooler balance` first")
    self.chromosomes = {str(k): int(v) for k, v in self._cooler.chromsizes.items()}

  def _open_hic(self, resolution: int | None) -> None:
    import hictkpy  # Imported late: only builders read contact files.
    if not hictkpy.is_hic(self.path):
      raise InputFormatError(self.path, None, "not a .hic file")
    available = sorted(int(r) for r in hictkpy.MultiResFile(self.path).resolutions())
    self.bin_size = _choose_resolution(self.path, resolution, available)
    self._hic = hictkpy.File(self.path, self.bin_size)
    if self.normalization != "NONE" and \
        self.normalization not in self._hic.avail_normalizations():
      raise InputFormatError(self.path, None, f"no {self.normalization} normalisation at "
                                              f"{self.bin_size} bp; available: "
                                              f"{self._hic.avail_normalizations() + ['NONE']}")
    self.chromosomes = {str(k): int(v) for k, v in self._hic.chromosomes().items()}

  def fetch(self, chrom: str, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """``(balanced, raw counts)`` ``[n, n]`` float64 of ``[start, end)`` (bin-aligned);
    bins dropped by balancing are NaN in ``balanced``."""
    if start % self.bin_size or end % self.bin_size:
      raise ValueError(f"{chrom}:{start}-{end} is not aligned to {self.bin_size}-bp bins")
    region = f"{chrom}:{start}-{end}"
    if self.is_hic:
      counts = self._hic.fetch(region, normalization="NONE").to_numpy().astype(np.float64)
      balanced = (counts.copy() if self.normalization == "NONE" else
                  self._hic.fetch(region, normalization=self.normalization)
                  .to_numpy().astype(np.float64))
    else:
      balanced = np.asarray(self._cooler.matrix(balance=True).fetch(region), np.float64)
      counts = np.asarray(self._cooler.matrix(balance=False).fetch(region), np.float64)
    n = (end - start) // self.bin_size
    if balanced.shape != (n, n):
      raise ValueError(f"{region} of {self.path} gave a {balanced.shape} matrix, not "
                       f"{n} x {n} bins (past the chromosome end?)")
    return balanced, counts


def _choose_resolution(path: str, resolution: int | None, available: list[int]) -> int:
  if resolution is None:
    if len(available) == 1:
      return available[0]
    raise InputFormatError(path, None, f"holds resolutions {available}; choose one")
  if int(resolution) not in available:
    raise InputFormatError(path, None, f"has no {resolution}-bp resolution; available: "
                                       f"{available}")
  return int(resolution)
