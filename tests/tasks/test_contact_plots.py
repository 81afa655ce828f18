"""``plots_contacts.maps``: observed and predicted contact maps side by side (PNG)."""

import numpy as np
import pytest

from genereg_jax import plots_contacts

N_BINS, OFFSET = 20, 2


def test_side_by_side_png_is_written(tmp_path):
  rng = np.random.default_rng(0)
  rows, cols = np.triu_indices(N_BINS, OFFSET)
  observed = np.stack([-0.1 * (cols - rows) + rng.normal(0, 0.3, rows.size)
                       for _ in range(2)], -1)
  observed[rows == 4, 1] = np.nan  # a masked bin
  predicted = observed + rng.normal(0, 0.3, observed.shape)
  path = tmp_path / "maps.png"
  drawn = plots_contacts.maps(path, predicted, observed, n_bins=N_BINS,
                              diagonal_offset=OFFSET, names=["HFF", "H1"], bin_size=2048,
                              start=1_000_000, title="chr1:1,000,000")
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  assert drawn["observed"].shape == drawn["predicted"].shape == (2, N_BINS, N_BINS)
  np.testing.assert_array_equal(drawn["observed"][0][rows, cols], observed[:, 0])
  np.testing.assert_array_equal(drawn["observed"][0], drawn["observed"][0].T)
  both = np.isfinite(observed[:, 1])
  np.testing.assert_allclose(drawn["pearsonr"][1],
                             np.corrcoef(predicted[both, 1], observed[both, 1])[0, 1])
  alone = plots_contacts.maps(tmp_path / "pred.svg", predicted[:, 0], n_bins=N_BINS)
  assert (tmp_path / "pred.svg").read_text().lstrip().startswith("<?xml")
  assert np.isnan(alone["pearsonr"]).all() and "observed" not in alone
  with pytest.raises(ValueError, match="differ"):
    plots_contacts.maps(tmp_path / "x.png", predicted, observed[:, :1], n_bins=N_BINS)
