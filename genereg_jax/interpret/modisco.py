r"""TF-MoDISco motifs from attributions, matched to JASPAR with TomTom.

TF-MoDISco (Shrikumar et al., arXiv:1811.00416, 2018; the ``modisco-lite`` 3.0.0
implementation) reads, for ``N`` sequences of length ``L``, the one-hot sequences and
their *hypothetical* contributions (every base's contribution at every position, as
``deeplift_shap(..., hypothetical=True)`` or ``ism_attributions(..., hypothetical=True)``
give them):

1. Seqlets: windows of ``sliding_window_size`` bp whose summed contribution
   (hypothetical x one-hot, summed over bases) passes a threshold set from a Laplace
   null fitted to the scores at a target FDR, widened by ``flank_size`` each side.
2. Positive and negative seqlets are clustered separately (continuous Jaccard
   similarity of their contribution scores, Leiden clustering), aligned and merged
   into patterns; each pattern's sequence average is its position probability matrix
   (PPM) and its contribution average the contribution weight matrix (CWM).

``run_modisco`` returns the patterns as ``filter_motifs.Motif`` objects (PPM trimmed
to the columns of at least ``trim_bits`` information), so they go through the same
MEME writer, logo code and matchers as filter motifs.

Matching to JASPAR has two matchers, run on the same trimmed PPMs:

* ``"tomtom"`` (default): TomTom (Gupta et al., Genome Biol. 2007) from ``memelite``
  0.5.0 (the complete-score method with per-column score distributions and
  dynamic programming over overlaps; p-values of the best alignment per target), with
  ``E = p x targets`` and Benjamini-Hochberg ``q`` over the targets of one query, as
  MEME's tomtom reports.
* ``"tomtom_like"``: ``filter_motifs.MotifMatcher`` (Pearson columns, shuffled-column
  null). ``compare_matchers`` counts how often its best match and its calls at
  ``q < 0.05`` agree with TomTom's. TomTom stays the default: on 30 noisy, cropped
  copies of the 10 planted ``synthetic_motifs`` matrices (30 sites each), its best
  match was the planted JASPAR matrix for 23 (all 30 at q < 0.05), the TomTom-like
  matcher's for 18 (21 at q < 0.05); they agree on the best target for 47% of queries
  (Jaccard 0.55 of the q < 0.05 calls; TomTom's best is among the other's calls for
  70%). On a planted-CTCF MoDISco pattern both give CTCF MA0139.2 (q 5e-17 vs 1.6e-6).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

import numpy as np

from genereg_jax.interpret import filter_motifs
from genereg_jax.interpret.filter_motifs import Match
from genereg_jax.interpret.filter_motifs import Motif
from genereg_jax.files import atomic_write

MATCHERS = ("tomtom", "tomtom_like")


@dataclasses.dataclass(frozen=True)
class Seqlet:
  """Where a pattern's seqlet lies: sequence ``example``, ``[start, end)``, strand."""

  example: int
  start: int
  end: int
  reverse: bool


@dataclasses.dataclass(frozen=True)
class Pattern:
  """One TF-MoDISco pattern.

  Attributes:
    motif: trimmed PPM (``name`` ``pos_0``/``neg_1``, ``num_sites`` = seqlets).
    contribution: ``[width, 4]`` CWM over the same (trimmed) columns.
    hypothetical: ``[width, 4]`` hypothetical CWM over the same columns.
    seqlets: the seqlets merged into the pattern (modisco's untrimmed coordinates).
    sign: +1 for the positive metacluster, -1 for the negative one.
  """

  motif: Motif
  contribution: np.ndarray
  hypothetical: np.ndarray
  seqlets: tuple[Seqlet, ...]
  sign: int


def run_modisco(x: np.ndarray, hypothetical: np.ndarray, *, trim_bits: float = 0.25,
                max_seqlets: int = 20000, sliding_window_size: int = 21,
                flank_size: int = 10, min_metacluster_size: int = 100,
                final_min_cluster_size: int = 20, **kwargs) -> list[Pattern]:
  """TF-MoDISco patterns of ``x [N, L, 4]`` one-hot with ``hypothetical [N, L, 4]``.

  Keyword arguments not named here go to ``modiscolite.tfmodisco.TFMoDISco``
  (defaults are modisco-lite's; ``min_metacluster_size`` is the fewest seqlets of a
  sign that get clustered).
  """
  from modiscolite import tfmodisco
  x = np.asarray(x, np.float32)
  hypothetical = np.asarray(hypothetical, np.float32)
  if x.shape != hypothetical.shape or x.ndim != 3 or x.shape[-1] != 4:
    raise ValueError(f"x {x.shape} and hypothetical {hypothetical.shape} must be the "
                     "same [N, L, 4]")
  positive, negative = tfmodisco.TFMoDISco(
      one_hot=x, hypothetical_contribs=hypothetical,
      max_seqlets_per_metacluster=max_seqlets, sliding_window_size=sliding_window_size,
      flank_size=flank_size, min_metacluster_size=min_metacluster_size,
      final_min_cluster_size=final_min_cluster_size, **kwargs)
  background = x.reshape(-1, 4).sum(0)
  background = background / max(background.sum(), 1.0)
  patterns = []
  for sign, found in ((1, positive), (-1, negative)):
    for index, pattern in enumerate(found or ()):
      ppm = np.asarray(pattern.sequence, np.float64)
      ppm = ppm / np.maximum(ppm.sum(axis=1, keepdims=True), 1e-12)
      start, end = filter_motifs.trim_edges(ppm, trim_bits, background)
      name = f"{'pos' if sign > 0 else 'neg'}_{index}"
      seqlets = tuple(Seqlet(int(s.example_idx), int(s.start), int(s.end),
                             bool(s.is_revcomp)) for s in pattern.seqlets)
      patterns.append(Pattern(
          motif=Motif(name=name, matrix_id=name, probabilities=ppm[start:end],
                      num_sites=len(seqlets)),
          contribution=np.asarray(pattern.contrib_scores)[start:end],
          hypothetical=np.asarray(pattern.hypothetical_contribs)[start:end],
          seqlets=seqlets, sign=sign))
  return patterns


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
  order = np.argsort(p)
  ranked = p[order] * p.size / np.arange(1, p.size + 1)
  q = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
  out = np.empty_like(p)
  out[order] = q
  return out


def tomtom_matches(queries: Sequence[Motif], targets: Sequence[Motif]
                   ) -> dict[str, list[Match]]:
  """memelite TomTom of every query against ``targets``: ``{query name: matches by
  p-value}`` (``similarity`` holds TomTom's score, ``z`` is NaN)."""
  from memelite.tomtom import tomtom
  if not queries:
    return {}
  as_columns = lambda motifs: [np.ascontiguousarray(m.probabilities.T, np.float64)
                               for m in motifs]
  p, scores, offsets, overlaps, strands = tomtom(as_columns(queries), as_columns(targets),
                                                 n_jobs=1)
  out = {}
  for i, query in enumerate(queries):
    p_row = np.clip(np.nan_to_num(p[i], nan=1.0), np.finfo(float).tiny, 1.0)
    q_row = _benjamini_hochberg(p_row)
    out[query.name] = [
        Match(target=targets[j], similarity=float(scores[i, j]), z=float("nan"),
              p_value=float(p_row[j]), e_value=float(p_row[j] * len(targets)),
              q_value=float(q_row[j]), orientation="-" if strands[i, j] else "+",
              offset=int(offsets[i, j]), overlap=int(overlaps[i, j]))
        for j in np.argsort(p_row, kind="stable")]
  return out


def match_motifs(queries: Sequence[Motif], targets: Sequence[Motif],
                 matcher: str = "tomtom") -> dict[str, list[Match]]:
  """``{query name: matches by p-value}`` with ``matcher`` (``MATCHERS``)."""
  if matcher == "tomtom":
    return tomtom_matches(queries, targets)
  if matcher == "tomtom_like":
    like = filter_motifs.MotifMatcher(targets)
    return {q.name: like.match(q.probabilities) for q in queries}
  raise ValueError(f"unknown matcher {matcher!r}; valid: {list(MATCHERS)}")


def compare_matchers(tomtom: Mapping[str, Sequence[Match]],
                     other: Mapping[str, Sequence[Match]], max_q: float = 0.05
                     ) -> dict[str, float]:
  """Agreement of two matchers on the same queries: ``top1`` (same best target),
  ``calls`` (same set of targets with ``q < max_q``: Jaccard index, averaged over
  queries with at least one call by either) and ``tomtom_top1_in_other_calls``."""
  top1, jaccard, found = [], [], []
  for name, ranked in tomtom.items():
    mine, theirs = ranked, other[name]
    top1.append(mine[0].target.matrix_id == theirs[0].target.matrix_id)
    a = {m.target.matrix_id for m in mine if m.q_value < max_q}
    b = {m.target.matrix_id for m in theirs if m.q_value < max_q}
    if a | b:
      jaccard.append(len(a & b) / len(a | b))
    if mine[0].q_value < max_q:
      found.append(mine[0].target.matrix_id in b)
  mean = lambda v: float(np.mean(v)) if v else float("nan")
  return {"queries": len(top1), "top1": mean(top1), "calls_jaccard": mean(jaccard),
          "tomtom_top1_in_other_calls": mean(found)}


def write_modisco_report(out_dir: str, patterns: Sequence[Pattern],
                         matches: Mapping[str, Mapping[str, Sequence[Match]]], *,
                         default: str = "tomtom", top_k: int = 5,
                         background: Sequence[float] = (0.25,) * 4) -> dict[str, str]:
  """Writes ``modisco.meme`` (the patterns' trimmed PPMs), ``modisco_logos.png``
  (PPM logos), ``modisco_matches.tsv`` (``top_k`` matches per pattern and matcher,
  ``filter_motifs.MATCH_COLUMNS`` plus ``matcher``) and ``modisco.md`` (a table with
  each pattern's seqlets, consensus and best match of every matcher, ``default``
  first, and the logos). Returns ``{kind: path}``."""
  os.makedirs(out_dir, exist_ok=True)
  paths = {kind: os.path.join(out_dir, name) for kind, name in (
      ("meme", "modisco.meme"), ("logos", "modisco_logos.png"),
      ("matches", "modisco_matches.tsv"), ("report", "modisco.md"))}
  motifs = [p.motif for p in patterns]
  filter_motifs.write_meme(paths["meme"], motifs, background)
  order = [default] + sorted(m for m in matches if m != default)
  with atomic_write(paths["matches"]) as f:
    f.write("\t".join(("matcher", "pattern") + filter_motifs.MATCH_COLUMNS[1:]) + "\n")
    for matcher in order:
      for motif in motifs:
        for row in filter_motifs.match_rows(motif, matches[matcher][motif.name], top_k):
          f.write("\t".join([matcher] + row) + "\n")
  if motifs:
    titles = []
    for motif in motifs:
      best = matches.get(default, {}).get(motif.name, [None])[0]
      titles.append(f"{motif.name} n={motif.num_sites}"
                    + (f" {best.target.name} q={best.q_value:.1g}" if best else ""))
    filter_motifs.plot_logos(paths["logos"], motifs, titles, background)
  else:
    paths.pop("logos")
  with atomic_write(paths["report"]) as f:
    f.write(f"# TF-MoDISco patterns\n\n{len(patterns)} patterns (modisco-lite); "
            f"matches to JASPAR by {', '.join(order)} (default {default}).\n\n")
    f.write("| pattern | seqlets | consensus | "
            + " | ".join(f"{m} best (q)" for m in order) + " |\n")
    f.write("|---|---:|---|" + "---|" * len(order) + "\n")
    for motif in motifs:
      cells = []
      for matcher in order:
        ranked = matches[matcher].get(motif.name) or []
        cells.append(f"{ranked[0].target.name} {ranked[0].target.matrix_id} "
                     f"({ranked[0].q_value:.2g})" if ranked else "")
      f.write(f"| {motif.name} | {motif.num_sites} | "
              f"{filter_motifs.consensus(motif.probabilities)} | "
              + " | ".join(cells) + " |\n")
    if "logos" in paths:
      f.write(f"\n![logos]({os.path.basename(paths['logos'])})\n")
  return paths
