"""genereg_jax.interpret.modisco: matcher agreement and the written report."""

import numpy as np

from genereg_jax.interpret import filter_motifs
from genereg_jax.interpret import modisco
from genereg_jax.interpret.filter_motifs import Match
from genereg_jax.interpret.filter_motifs import Motif


def _match(target_id, q):
  return Match(Motif(target_id, np.full((5, 4), 0.25), matrix_id=target_id), 0.0, 0.0,
               q, q, q, "+", 0, 5)


def test_compare_matchers():
  tomtom = {"a": [_match("M1", 0.01), _match("M2", 0.02)],
            "b": [_match("M3", 0.5)]}
  other = {"a": [_match("M2", 0.01), _match("M1", 0.03), _match("M4", 0.04)],
           "b": [_match("M3", 0.9)]}
  agreement = modisco.compare_matchers(tomtom, other)
  assert agreement["queries"] == 2
  assert agreement["top1"] == 0.5  # a: M1 vs M2; b: M3 both.
  assert agreement["calls_jaccard"] == 2 / 3  # a: {M1, M2} vs {M1, M2, M4}; b: none.
  assert agreement["tomtom_top1_in_other_calls"] == 1.0


def test_report_of_a_ctcf_like_pattern(tmp_path):
  jaspar = filter_motifs.load_jaspar()
  ctcf = next(m for m in jaspar if m.matrix_id.startswith("MA0139"))
  rng = np.random.default_rng(0)
  ppm = ctcf.probabilities[::-1, ::-1] + rng.uniform(0, 0.05, ctcf.probabilities.shape)
  ppm /= ppm.sum(1, keepdims=True)
  pattern = modisco.Pattern(
      motif=Motif("pos_0", ppm, num_sites=40, matrix_id="pos_0"),
      contribution=ppm * 0.1, hypothetical=ppm * 0.1,
      seqlets=(modisco.Seqlet(0, 10, 40, False),), sign=1)
  matches = {"tomtom_like": modisco.match_motifs([pattern.motif], jaspar, "tomtom_like")}
  assert matches["tomtom_like"]["pos_0"][0].target.name == "CTCF"
  assert matches["tomtom_like"]["pos_0"][0].orientation == "-"
  paths = modisco.write_modisco_report(str(tmp_path), [pattern], matches,
                                       default="tomtom_like")
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      "modisco.md", "modisco.meme", "modisco_logos.png", "modisco_matches.tsv"]
  meme = open(paths["meme"]).read()
  assert "MOTIF pos_0" in meme and f"w= {ctcf.width} nsites= 40" in meme
  rows = [line.split("\t") for line in open(paths["matches"]).read().splitlines()]
  assert rows[0][:4] == ["matcher", "pattern", "rank", "target_id"]
  assert rows[1][:3] == ["tomtom_like", "pos_0", "1"] and rows[1][4] == "CTCF"
  assert len(rows) == 1 + 5
  assert "| pos_0 | 40 |" in open(paths["report"]).read()
