"""genereg_jax.plots: files are valid PNG/SVG, logos plot the attributions given."""

import numpy as np
import pytest

from genereg_jax import plots
from genereg_jax.interpret.filter_motifs import Motif

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_figure(path):
  data = path.read_bytes()
  if path.suffix == ".png":
    assert data.startswith(PNG_MAGIC)
  else:
    assert b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_attribution_logo_heights_are_the_attributions(tmp_path, suffix):
  rng = np.random.default_rng(0)
  attributions = rng.normal(size=(30, 4)) * (rng.random((30, 4)) < 0.3)
  path = tmp_path / f"logo{suffix}"
  frame = plots.attribution_logo(path, attributions, start=100, title="t")
  _check_figure(path)
  np.testing.assert_allclose(frame.to_numpy(), attributions)
  assert list(frame.columns) == list("ACGT") and frame.index[0] == 100
  assert [p.name for p in tmp_path.iterdir()] == [path.name]  # No temporary left.


def test_ism_heatmap_and_tracks(tmp_path):
  scores = np.arange(40, dtype=float).reshape(10, 4) - 20
  drawn = plots.ism_heatmap(tmp_path / "ism.png", scores)
  np.testing.assert_allclose(drawn, scores.T)
  _check_figure(tmp_path / "ism.png")
  predicted = np.abs(np.sin(np.arange(64)))[:, None] * [1, 2]
  drawn = plots.tracks(tmp_path / "tracks.svg", predicted, predicted + 1,
                       names=["a", "b"], bin_size=32)
  np.testing.assert_allclose(drawn, predicted)
  _check_figure(tmp_path / "tracks.svg")
  with pytest.raises(ValueError, match="observed"):
    plots.tracks(tmp_path / "bad.png", predicted, predicted[:, :1])
  with pytest.raises(ValueError, match="format"):
    plots.ism_heatmap(tmp_path / "ism.jpg", scores)


def test_motif_logos(tmp_path):
  ppm = np.full((6, 4), 0.1)
  ppm[np.arange(6), [0, 1, 2, 3, 0, 1]] = 0.7
  plots.motif_logos(tmp_path / "motifs.png", [Motif("pos_0", ppm, 12)])
  _check_figure(tmp_path / "motifs.png")
