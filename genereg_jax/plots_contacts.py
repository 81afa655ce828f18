"""Contact-map figures: observed and predicted maps side by side, as Akita's figures.

``maps`` draws upper-triangle vectors (``np.triu_indices(n_bins, diagonal_offset)``
order, as stored by ``data_builders/hic_maps`` and ``synthetic_contacts`` and predicted
by Akita) as full symmetric ``n_bins x n_bins`` log observed/expected maps: one row per
target, observed on the left and predicted on the right, on one diverging colour scale
centred on 0 (``RdBu_r``, +-``vmax``; Fudenberg et al., Nat. Methods 2020, Fig. 1 uses
the same layout). Unpredicted near-diagonal entries and masked bins (NaN) are grey. Each
predicted panel's title carries its Pearson R with the observed map over the entries
both hold. PNG or SVG, written through ``plots._save`` (atomic rename).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from genereg_jax import plots
from genereg_jax.nn.conv2d import from_upper_triangle


def _columns(values, name: str) -> np.ndarray:
  values = np.asarray(values, np.float64)
  if values.ndim == 1:
    values = values[:, None]
  if values.ndim != 2:
    raise ValueError(f"{name} must be [n_pairs] or [n_pairs, targets], got {values.shape}")
  return values


def maps(path: str | os.PathLike, predicted, observed=None, *, n_bins: int,
         diagonal_offset: int = 2, names: Sequence[str] = (), bin_size: int | None = None,
         start: int = 0, title: str = "", vmax: float = 2.0) -> dict[str, np.ndarray]:
  """Draws ``predicted`` (and ``observed``) ``[n_pairs, targets]`` triangles.

  Args:
    path: the figure (``.png`` or ``.svg``).
    predicted: model output of one example; ``[n_pairs]`` for one target.
    observed: the matching target, or None for predictions only.
    n_bins: bins per side of the map; diagonal_offset: diagonals left out.
    names: target names for the row labels.
    bin_size, start: when given, axes are labelled in kb from ``start``.
    title: figure title; vmax: colour-scale bound.

  Returns:
    ``{"predicted": [targets, n, n], "observed": ...}``, the drawn maps, and
    ``"pearsonr"`` ``[targets]`` (NaN without ``observed``).
  """
  predicted = _columns(predicted, "predicted")
  drawn = {"predicted": np.moveaxis(from_upper_triangle(predicted, n_bins,
                                                        diagonal_offset), -1, 0)}
  if observed is not None:
    observed = _columns(observed, "observed")
    if observed.shape != predicted.shape:
      raise ValueError(f"observed {observed.shape} and predicted {predicted.shape} differ")
    drawn["observed"] = np.moveaxis(from_upper_triangle(observed, n_bins,
                                                        diagonal_offset), -1, 0)
  n_targets = predicted.shape[1]
  pearson = np.full(n_targets, np.nan)
  if observed is not None:
    for t in range(n_targets):
      both = np.isfinite(predicted[:, t]) & np.isfinite(observed[:, t])
      if both.sum() > 1:
        pearson[t] = np.corrcoef(predicted[both, t], observed[both, t])[0, 1]
  panels = ["observed", "predicted"] if observed is not None else ["predicted"]
  plt = plots._pyplot()
  figure, axes = plt.subplots(n_targets, len(panels), squeeze=False,
                              figsize=(3.4 * len(panels) + 0.8, 3.2 * n_targets))
  extent = None
  if bin_size:
    kb = (start + np.array([0, n_bins * bin_size])) / 1e3
    extent = (kb[0], kb[1], kb[1], kb[0])
  colours = plt.get_cmap("RdBu_r").with_extremes(bad="#d9d9d9")
  for t in range(n_targets):
    name = names[t] if t < len(names) else f"target {t}"
    for column, panel in enumerate(panels):
      axis = axes[t, column]
      image = axis.imshow(np.ma.masked_invalid(drawn[panel][t]), cmap=colours,
                          vmin=-vmax, vmax=vmax, extent=extent, interpolation="nearest")
      label = f"{name}: {panel}"
      if panel == "predicted" and np.isfinite(pearson[t]):
        label += f" (R = {pearson[t]:.2f})"
      axis.set_title(label, fontsize=9)
      if bin_size:
        axis.set_xlabel("kb")
    figure.colorbar(image, ax=axes[t, -1], shrink=0.8, label="log(obs / exp)")
  if title:
    figure.suptitle(title)
  plots._save(figure, path)
  drawn["pearsonr"] = pearson
  return drawn
