r"""Figures of interpretation and predictions (matplotlib + logomaker), PNG or SVG.

* ``attribution_logo``: per-base attributions of a region drawn as a sequence logo whose
  letter heights are the attributions (``[length, 4]``, negative below the axis), as
  DeepLIFT/BPNet figures show contribution scores (Shrikumar et al. 2017; Avsec et al.
  2021).
* ``ism_heatmap``: an ``[length, 4]`` in-silico mutagenesis map (position x base,
  diverging colours centred on 0), as in DeepSEA / Basset figures.
* ``tracks``: predicted vs observed coverage or profile tracks over a region, one panel
  per track (Basenji / Enformer genome-browser style).
* ``motif_logos``: information-content logos of motifs (TF-MoDISco patterns, filter
  motifs) through ``filter_motifs.plot_logos``.

Every function writes one figure to ``path`` (format from its extension: ``.png`` or
``.svg``) under a temporary name renamed when complete (``files.atomic_path``), and
returns what it drew (the logomaker matrix or the plotted array) so callers and tests
can check it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from genereg_jax.files import atomic_path

FORMATS = ("png", "svg")
ALPHABET = "ACGT"


def _pyplot():
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  return plt


def _save(figure, path: str | os.PathLike) -> None:
  fmt = os.path.splitext(os.fspath(path))[1][1:].lower()
  if fmt not in FORMATS:
    raise ValueError(f"{path}: unknown figure format {fmt!r}; use one of {list(FORMATS)}")
  figure.tight_layout()
  with atomic_path(path) as tmp:  # The temporary name has no extension to infer from.
    figure.savefig(tmp, format=fmt, dpi=100)
  _pyplot().close(figure)


def _as_matrix(values, name: str) -> np.ndarray:
  values = np.asarray(values, np.float64)
  if values.ndim != 2 or values.shape[1] != 4:
    raise ValueError(f"{name} must be [length, 4], got {values.shape}")
  return values


def attribution_logo(path: str | os.PathLike, attributions, *, start: int = 0,
                     title: str = "", width_per_base: float = 0.12):
  """Logo of ``attributions [length, 4]`` (A,C,G,T); x ticks are ``start``-based
  positions. Returns the logomaker DataFrame (index = position, columns = bases)."""
  import logomaker
  import pandas as pd
  plt = _pyplot()
  values = _as_matrix(attributions, "attributions")
  frame = pd.DataFrame(values, columns=list(ALPHABET),
                       index=np.arange(start, start + len(values)))
  figure, ax = plt.subplots(figsize=(max(4.0, width_per_base * len(values)), 2.0))
  logo = logomaker.Logo(frame, ax=ax, color_scheme="classic")
  ax.axhline(0, color="black", linewidth=0.5)
  ax.set_ylabel("attribution")
  ax.set_title(title, fontsize=9)
  _save(figure, path)
  return logo.df


def ism_heatmap(path: str | os.PathLike, scores, *, start: int = 0, title: str = "",
                width_per_base: float = 0.08) -> np.ndarray:
  """Heatmap of ``scores [length, 4]`` (effect of each substitution), bases as rows,
  colours symmetric about 0. Returns the plotted ``[4, length]`` array."""
  plt = _pyplot()
  values = _as_matrix(scores, "scores")
  limit = float(np.abs(values).max()) or 1.0
  figure, ax = plt.subplots(figsize=(max(4.0, width_per_base * len(values)), 1.6))
  image = ax.imshow(values.T, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                    extent=(start - 0.5, start + len(values) - 0.5, 3.5, -0.5),
                    interpolation="nearest")
  ax.set_yticks(range(4), list(ALPHABET))
  ax.set_xlabel("position")
  ax.set_title(title, fontsize=9)
  figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
  _save(figure, path)
  return np.asarray(image.get_array())


def tracks(path: str | os.PathLike, predicted, observed=None, *,
           names: Sequence[str] | None = None, start: int = 0, bin_size: int = 1,
           title: str = "") -> np.ndarray:
  """Predicted (and, if given, observed) tracks ``[bins, tracks]`` over a region
  starting at ``start`` with ``bin_size`` bp bins, one panel per track, observed filled
  grey under the predicted line. Returns the plotted predicted array."""
  plt = _pyplot()
  predicted = np.asarray(predicted, np.float64)
  predicted = predicted[:, None] if predicted.ndim == 1 else predicted
  if observed is not None:
    observed = np.asarray(observed, np.float64).reshape(predicted.shape[0], -1)
    if observed.shape != predicted.shape:
      raise ValueError(f"observed {observed.shape} differs from predicted {predicted.shape}")
  num_tracks = predicted.shape[1]
  names = list(names) if names is not None else [f"track {i}" for i in range(num_tracks)]
  if len(names) != num_tracks:
    raise ValueError(f"{len(names)} names for {num_tracks} tracks")
  positions = start + bin_size * (np.arange(predicted.shape[0]) + 0.5)
  figure, axes = plt.subplots(num_tracks, 1, figsize=(8, 1.3 * num_tracks + 0.4),
                              sharex=True, squeeze=False)
  for t, ax in enumerate(axes[:, 0]):
    if observed is not None:
      ax.fill_between(positions, observed[:, t], color="0.7", step="mid",
                      label="observed")
    ax.plot(positions, predicted[:, t], color="C0", linewidth=1, label="predicted")
    ax.set_ylabel(names[t], fontsize=8, rotation=0, ha="right")
  axes[0, 0].legend(fontsize=7, loc="upper right")
  axes[0, 0].set_title(title, fontsize=9)
  axes[-1, 0].set_xlabel("position (bp)")
  _save(figure, path)
  return predicted


def motif_logos(path: str | os.PathLike, motifs, titles: Sequence[str] | None = None,
                background: Sequence[float] = (0.25,) * 4, columns: int = 4) -> None:
  """Information-content logos of ``filter_motifs.Motif`` objects (e.g. TF-MoDISco
  patterns' ``motif``) in a grid."""
  from genereg_jax.interpret import filter_motifs
  _save_format = os.path.splitext(os.fspath(path))[1][1:].lower()
  if _save_format not in FORMATS:
    raise ValueError(f"{path}: unknown figure format {_save_format!r}; use one of "
                     f"{list(FORMATS)}")
  titles = list(titles) if titles is not None else [m.name for m in motifs]
  filter_motifs.plot_logos(path, motifs, titles, background, columns)
