"""Filter motifs: activations, sites -> PFMs, MEME output, TomTom-like JASPAR matching."""

import numpy as np
import pytest

from genereg_jax.interpret import filter_motifs as fm


@pytest.fixture(scope="module")
def jaspar():
  return fm.load_jaspar()


@pytest.fixture(scope="module")
def matcher(jaspar):
  return fm.MotifMatcher(jaspar)


@pytest.fixture(scope="module")
def planted():
  from data_builders.synthetic_motifs import synthetic_motifs
  return synthetic_motifs.load_motifs()


def _by_base_id(jaspar, base_id):
  return next(m for m in jaspar if m.matrix_id.split(".")[0] == base_id)


def _noisy(probabilities, rng, concentration=30.0):
  return np.array([rng.dirichlet(concentration * row + 0.1) for row in probabilities])


def parse_meme(path):
  """A minimal MEME-format reader: background and {motif id: (nsites, matrix)}."""
  lines = open(path).read().splitlines()
  assert lines[0] == "MEME version 4"
  assert "ALPHABET= ACGT" in lines and "strands: + -" in lines
  fields = lines[lines.index("Background letter frequencies") + 1].split()
  background = dict(zip(fields[::2], map(float, fields[1::2])))
  motifs, i = {}, 0
  while i < len(lines):
    if lines[i].startswith("MOTIF "):
      name = lines[i].split()[1]
      header = lines[i + 1].split()
      assert header[:2] == ["letter-probability", "matrix:"]
      values = dict(zip(header[2::2], header[3::2]))
      assert values["alength="] == "4"
      width = int(values["w="])
      rows = [list(map(float, lines[i + 2 + r].split())) for r in range(width)]
      motifs[name] = (int(values["nsites="]), np.array(rows))
      i += 2 + width
    else:
      i += 1
  return background, motifs


def test_jaspar_ctcf_with_noise_matches_itself_on_both_strands(jaspar, matcher):
  ctcf = _by_base_id(jaspar, "MA0139")
  assert len(jaspar) > 800 and ctcf.name == "CTCF" and ctcf.width == 15
  rng = np.random.default_rng(0)
  noisy = _noisy(ctcf.probabilities, rng)
  for query, orientation in ((noisy, "+"), (noisy[::-1, ::-1], "-")):
    matches = matcher.match(query)
    top = matches[0]
    assert top.target.matrix_id == ctcf.matrix_id
    assert top.orientation == orientation and top.offset == 0 and top.overlap == 15
    assert top.similarity > 0.9
    assert top.p_value < 1e-6 and top.q_value < 1e-3
    assert top.e_value == pytest.approx(top.p_value * len(jaspar))
    # The other CTCF matrices (extended 31/33 bp sites) follow; unrelated motifs do not.
    assert {m.target.name for m in matches[1:3]} == {"CTCF"}
    assert matches[3].p_value > 100 * top.p_value


def test_null_p_values_are_calibrated_for_random_queries(matcher):
  rng = np.random.default_rng(1)
  p = np.concatenate([[m.p_value for m in matcher.match(rng.dirichlet(np.ones(4), size=8))]
                      for _ in range(10)])
  assert 0.03 < np.mean(p < 0.05) < 0.07
  assert 0.002 < np.mean(p < 0.01) < 0.02
  assert 0.4 < np.median(p) < 0.6


def test_euclidean_metric_also_finds_the_motif(jaspar):
  gata1 = _by_base_id(jaspar, "MA0035")
  small = [gata1] + [m for m in jaspar if m.name in ("CTCF", "SPI1", "SOX2", "FOXA2")]
  matches = fm.MotifMatcher(small, metric="ed", num_shuffles=200).match(
      _noisy(gata1.probabilities, np.random.default_rng(2))[::-1, ::-1])
  assert matches[0].target.matrix_id == gata1.matrix_id
  assert matches[0].orientation == "-" and matches[0].similarity > -0.2
  assert matches[0].p_value < 0.01


def test_meme_output_parses_back(tmp_path, jaspar):
  motifs = [_by_base_id(jaspar, "MA0139"), _by_base_id(jaspar, "MA0035")]
  path = tmp_path / "m.meme"
  fm.write_meme(path, motifs, background=(0.3, 0.2, 0.2, 0.3))
  background, parsed = parse_meme(path)
  assert background == {"A": 0.3, "C": 0.2, "G": 0.2, "T": 0.3}
  assert list(parsed) == ["MA0139.2", "MA0035.5"]
  for motif in motifs:
    nsites, matrix = parsed[motif.matrix_id]
    assert nsites == motif.num_sites > 0
    np.testing.assert_allclose(matrix, motif.probabilities, atol=1e-6)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-5)


def test_responses_equal_a_direct_convolution():
  rng = np.random.default_rng(3)
  x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (2, 30))]
  x[1, 10] = 0  # An N: windows covering it are not sites.
  kernel = rng.normal(size=(5, 4, 3)).astype(np.float32)
  bias = rng.normal(size=3).astype(np.float32)
  responses, valid = fm._responses(x, kernel, bias)
  expected = np.stack([np.einsum("bkc,kcf->bf", x[:, i:i + 5], kernel) + bias
                       for i in range(26)], axis=1)
  np.testing.assert_allclose(responses, expected, rtol=1e-5, atol=1e-5)
  assert valid[0].all() and valid[1].sum() == 26 - 5 and not valid[1, 6:11].any()


def _sequences_with_ctcf(planted, rng, n=400, length=100, rate=0.3):
  ctcf = planted["CTCF"]
  bases = rng.integers(0, 4, (n, length))
  strands = []
  for i in np.flatnonzero(rng.random(n) < rate):
    strand = 1 if rng.random() < 0.5 else -1
    start = int(rng.integers(0, length - ctcf.width))
    bases[i, start:start + ctcf.width] = ctcf.sample(rng, strand)
    strands.append(strand)
  return np.eye(4, dtype=np.uint8)[bases], np.array(strands)


def test_filter_set_to_ctcf_log_odds_recovers_ctcf(planted, matcher):
  rng = np.random.default_rng(4)
  ctcf = planted["CTCF"]
  kernel = rng.normal(0, 0.3, (ctcf.width, 4, 3)).astype(np.float32)
  kernel[:, :, 0] = ctcf.log_odds()
  filters = fm.ConvFilters("by_hand", kernel, np.zeros(3, np.float32))
  x, strands = _sequences_with_ctcf(planted, rng)
  batches = lambda: (x[i:i + 128] for i in range(0, len(x), 128))
  forward = fm.filter_sites(filters, batches)
  both = fm.filter_sites(filters, batches, both_strands=True)
  assert forward.num_sequences == 400 and both.num_sequences == 800
  # Brute force: log-odds of every window, sites above half the maximum.
  windows = np.stack([x[:, i:i + ctcf.width] for i in range(100 - ctcf.width + 1)], 1)
  scores = {"+": np.einsum("nikc,kc->ni", windows, ctcf.log_odds()),
            "-": np.einsum("nikc,kc->ni", windows[:, :, ::-1, ::-1], ctcf.log_odds())}
  top = scores["+"].max()
  assert forward.max_activation[0] == pytest.approx(top, rel=1e-5)
  assert forward.num_sites[0] == np.sum(scores["+"] > top / 2)
  top_both = max(top, scores["-"].max())
  assert both.num_sites[0] == sum(np.sum(v > top_both / 2) for v in scores.values())
  # The sites are the planted instances, on the scanned strand(s): most of them.
  assert 0.75 * np.sum(strands > 0) < forward.num_sites[0] <= np.sum(strands > 0)
  assert 0.75 * len(strands) < both.num_sites[0] <= len(strands)
  # Counts are the aligned bases of exactly those windows.
  fired = scores["+"] > top / 2
  np.testing.assert_allclose(forward.counts[0], windows[fired].sum(axis=0))
  motif = both.motifs()[0]
  assert motif.num_sites == both.num_sites[0]
  # The PFM is the planted distribution up to sampling noise (~120 sites).
  assert np.abs(motif.probabilities - ctcf.probabilities).max() < 0.15
  top = matcher.match(motif.probabilities)[0]
  assert top.target.matrix_id == ctcf.matrix_id and top.orientation == "+"
  assert top.p_value < 1e-6


def test_find_conv_filters_defaults_to_the_first_dna_conv():
  import flax.linen as nn
  import jax
  import jax.numpy as jnp
  from genereg_jax import models
  deepsea = models.get_model("deepsea", "tiny", {})
  boxed = jax.jit(deepsea.init)(jax.random.key(0), jnp.zeros((1, 200, 4)))
  filters = fm.find_conv_filters(boxed)  # Boxed {"params": ...} as init returns it.
  params = nn.meta.unbox(boxed["params"])
  assert filters.path == "tower/ConvBlock_0/Conv_0"
  assert filters.kernel.shape == (8, 4, 64) and filters.bias.shape == (64,)
  np.testing.assert_array_equal(
      filters.kernel, params["tower"]["ConvBlock_0"]["Conv_0"]["kernel"])
  assert fm.find_conv_filters(params, "tower/ConvBlock_0/Conv_0/kernel").path == filters.path
  with pytest.raises(ValueError, match=r"ConvBlock_1/Conv_0/kernel has shape \(8, 64, 64\)"):
    fm.find_conv_filters(params, "tower/ConvBlock_1/Conv_0")
  with pytest.raises(KeyError, match=r"ConvBlock_9.*tower/ConvBlock_0/Conv_0"):
    fm.find_conv_filters(params, "tower/ConvBlock_9/Conv_0")
  deepbind = models.get_model("deepbind", "tiny", {})
  params = jax.jit(deepbind.init)(jax.random.key(0), jnp.zeros((1, 50, 4)))["params"]
  assert fm.find_conv_filters(params).path == "motifs"
  assert fm.find_conv_filters(params).width == 12


def test_analyse_filters_writes_meme_tsv_and_logos(tmp_path, planted, jaspar):
  rng = np.random.default_rng(5)
  ctcf = planted["CTCF"]
  kernel = np.zeros((ctcf.width, 4, 2), np.float32)
  kernel[:, :, 0] = ctcf.log_odds()
  kernel[:, :, 1] = -5.0  # Never fires: no motif.
  filters = fm.ConvFilters("by_hand", kernel, np.zeros(2, np.float32))
  x, _ = _sequences_with_ctcf(planted, rng, n=200)
  targets = [m for m in jaspar if m.name in ("CTCF", "GATA1", "SPI1", "CEBPB", "SOX2",
                                             "HNF4A", "FOXA2", "NFYA", "TP53")]
  report = fm.analyse_filters(filters, lambda: iter([x]), str(tmp_path),
                              matcher=fm.MotifMatcher(targets, num_shuffles=100),
                              both_strands=True, top_k=3)
  assert report.motifs[1] is None and report.sites.num_sites[1] == 0
  background, parsed = parse_meme(report.files["meme"])
  assert list(parsed) == ["filter0"]
  np.testing.assert_allclose(parsed["filter0"][1], report.motifs[0].probabilities, atol=1e-6)
  assert sum(background.values()) == pytest.approx(1.0, abs=1e-3)
  rows = [line.split("\t") for line in open(report.files["filters"]).read().splitlines()]
  assert rows[0] == list(fm.FILTER_COLUMNS)
  assert rows[1][0] == "filter0" and rows[1][7:9] == [ctcf.matrix_id, "CTCF"]
  assert rows[2][:2] == ["filter1", "0"] and rows[2][3] == "inf"
  matches = [line.split("\t") for line in open(report.files["matches"]).read().splitlines()]
  assert matches[0] == list(fm.MATCH_COLUMNS) and len(matches) == 4
  assert [m[1] for m in matches[1:]] == ["1", "2", "3"]
  with open(report.files["logos"], "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  found = fm.recovered(report.matches, {"CTCF": "MA0139", "GATA1": "MA0035"})
  assert found == {"CTCF": ["filter0"], "GATA1": []}


def test_information_trimming_and_consensus():
  p = np.array([[0.25] * 4, [0.97, 0.01, 0.01, 0.01], [0.1, 0.1, 0.7, 0.1],
                [0.3, 0.2, 0.2, 0.3]])
  bits = fm.information_content(p)
  expected = 2 + 0.97 * np.log2(0.97) + 0.03 * np.log2(0.01)
  np.testing.assert_allclose(bits[[0, 1]], [0.0, expected])
  assert fm.trim_edges(p, 0.25) == (1, 3)
  assert fm.consensus(p) == "NAGa"
