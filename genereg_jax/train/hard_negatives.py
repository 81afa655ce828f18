"""Hard-negative mining between trainings, and TSS calls scored as DeeReCT-PromID does.

DeeReCT-PromID (Umarov et al., Bioinformatics 2019) does not stop at a classifier of
promoter vs random windows: such a model fires on anything promoter-like in a genome. The
loop, for ``rounds`` rounds (each in its own folder ``<workdir>/round_<r>/``):

1. **train** a model on the training split plus every hard negative found so far
   (``config.dataset.extra_examples``; `genereg_jax.data.extra_examples`), with the shared
   trainer in ``round_<r>/model`` (a killed round resumes from its checkpoints);
2. **scan** the mining chromosomes of a genome on both strands (`scan_chromosome`);
3. **mine**: the calls farther than ``match_distance`` (500 bp) from every annotated TSS
   on their strand are false positives; the ``per_round`` highest-scoring ones become
   negative windows (``round_<r>/hard_negatives.npz``) for the next round;
4. **report** precision and recall of TSS calls on held-out chromosomes
   (``round_<r>/report.json``, written last: a round with a report is finished and is
   skipped when the loop is run again; the calls over ``scan_threshold`` it is drawn from
   in ``round_<r>/calls.npz``, ``CALL_FIELDS`` as arrays).

TSS calls follow the PromID tool (``PromStudy/PromID``, ``promid/__main__.py``): score a
window centred (at ``tss_index``) on every ``scan_step``-th base (1, every base, as the
paper; the tool's 100 relies on a second, position-tolerant scan model); keep scores over
``scan_threshold`` (0.1) and thin them with the tool's *soft* non-maximum suppression
(`soft_nms`: in decreasing score order, a candidate's score is scaled by its distance to
the nearest kept one over ``min_distance`` when closer than that, and kept if the scaled
score still reaches the threshold); refine each kept candidate base by base within
``scan_step / 2`` to its best position; thin the refined ones again with the call
``threshold`` (0.5) and ``min_distance`` (500). When the model's module defines
``scan_logits`` (PromID's), `model_predictor` scores every base of a chromosome at once
(`window_track`: the convolutions run once, not once per window; the same scores). A
call is right when an annotated TSS of its strand lies within ``match_distance``;
precision = right calls / calls, recall = TSSs with a right call / TSSs (the paper's
+-500 bp rule).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import ml_collections
import numpy as np
from absl import logging

from genereg_jax import files
from genereg_jax.data import encoding
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import text

Predict = Callable[[np.ndarray], np.ndarray]  # [n, window, 4] uint8 -> [n] probabilities.
CALL_FIELDS = ("chrom", "strand", "position", "score")  # A call's fields (`scan_genome`).


@dataclasses.dataclass(frozen=True)
class Tss:
  """An annotated TSS: 0-based position of its +1 base, strand ``+``/``-``."""
  chrom: str
  position: int
  strand: str


def read_tss_bed(path: str) -> list[Tss]:
  """TSSs from a BED6 file: the +1 base is ``start`` on ``+`` and ``end - 1`` on ``-``
  (a 1-bp entry names it either way)."""
  sites = []
  for number, line in text.numbered_lines(path):
    if not line.strip() or line.startswith(("#", "track", "browser")):
      continue
    fields = line.rstrip("\r\n").split("\t")
    start = text.ascii_int(fields[1]) if len(fields) > 2 else None
    end = text.ascii_int(fields[2]) if len(fields) > 2 else None
    if len(fields) < 6 or fields[5] not in ("+", "-") or start is None or end is None \
        or end <= start:
      raise files.InputFormatError(path, number, "expected BED6 (chrom, start, end, name, "
                                                 "score, strand '+'/'-') with start < end")
    sites.append(Tss(fields[0], start if fields[5] == "+" else end - 1, fields[5]))
  return sites


def windows(one_hot: np.ndarray, positions: Sequence[int], strand: str, window: int,
            tss_index: int) -> np.ndarray:
  """``[n, window, 4]`` windows read 5'->3' on ``strand`` with each position at
  ``tss_index`` (all-zero N columns beyond the chromosome's ends)."""
  positions = np.asarray(positions, np.int64)
  upstream = tss_index if strand == "+" else window - 1 - tss_index
  padded = np.pad(one_hot, ((window, window), (0, 0)))
  index = positions[:, None] - upstream + window + np.arange(window)[None, :]
  out = padded[index]
  return out if strand == "+" else encoding.reverse_complement(out)


def soft_nms(positions: Sequence[int], scores: Sequence[float], threshold: float,
             min_distance: int) -> list[tuple[int, float]]:
  """The PromID tool's ``pick``: ``(position, score)`` kept, in decreasing score order.

  A candidate closer than ``min_distance`` to a kept one has its score scaled by
  ``distance / min_distance`` before the comparison with ``threshold``.
  """
  order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
  kept: list[int] = []  # Sorted positions.
  calls = []
  for i in order:
    position, score = int(positions[i]), float(scores[i])
    scaling = 1.0
    if kept:
      j = np.searchsorted(kept, position)
      nearest = min(abs(position - kept[k]) for k in (j - 1, j) if 0 <= k < len(kept))
      if nearest < min_distance:
        scaling = nearest / min_distance
    if score * scaling >= threshold:
      kept.insert(int(np.searchsorted(kept, position)), position)
      calls.append((position, score))
  return calls


def _scores(predict: Predict, one_hot: np.ndarray, positions: np.ndarray, strand: str,
            settings, batch_size: int) -> np.ndarray:
  out = []
  for begin in range(0, len(positions), batch_size):
    chunk = positions[begin:begin + batch_size]
    out.append(predict(windows(one_hot, chunk, strand, settings.window, settings.tss_index)))
  return np.concatenate(out) if out else np.zeros(0, np.float32)


def scan_chromosome(predict: Predict, one_hot: np.ndarray, strand: str, settings,
                    threshold: float | None = None) -> list[tuple[int, float]]:
  """TSS calls ``(position, score)`` on one strand of a chromosome (module docstring).

  ``threshold`` overrides ``settings.threshold`` for the final thinning (a low one gives
  the calls a precision-recall curve is drawn from).
  """
  step, batch = settings.scan_step, settings.scan_batch_size
  coarse = np.arange(step // 2, len(one_hot), step)
  track = getattr(predict, "track", None)  # Every position at once (`model_predictor`).
  scores = (track(one_hot, strand)[coarse] if track is not None
            else _scores(predict, one_hot, coarse, strand, settings, batch))
  keep = scores > settings.scan_threshold
  candidates = soft_nms(coarse[keep], scores[keep], settings.scan_threshold,
                        settings.min_distance)
  if not candidates:
    return []
  offsets = np.arange(-(step // 2), step // 2 + 1)
  fine = np.clip(np.array([p for p, _ in candidates])[:, None] + offsets[None, :],
                 0, len(one_hot) - 1)
  fine_scores = _scores(predict, one_hot, fine.reshape(-1), strand, settings,
                        batch).reshape(fine.shape)
  best = fine_scores.argmax(axis=1)
  rows = np.arange(len(fine))
  return soft_nms(fine[rows, best], fine_scores[rows, best],
                  settings.threshold if threshold is None else threshold,
                  settings.min_distance)


def _sorted_by_key(items) -> dict[tuple[str, str], np.ndarray]:
  """``(chrom, strand, position)`` triples -> sorted positions per (chrom, strand)."""
  grouped: dict[tuple[str, str], list[int]] = {}
  for chrom, strand, position in items:
    grouped.setdefault((chrom, strand), []).append(position)
  return {k: np.sort(np.asarray(v)) for k, v in grouped.items()}


def _near(position: int, sorted_sites: np.ndarray | None, distance: int) -> bool:
  if sorted_sites is None or not len(sorted_sites):
    return False
  j = np.searchsorted(sorted_sites, position)
  return any(abs(int(sorted_sites[k]) - position) <= distance
             for k in (j - 1, j) if 0 <= k < len(sorted_sites))


def call_outcomes(calls: Sequence[tuple[str, str, int, float]], sites: Sequence[Tss],
                  match_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(call scores, call is right, best call score near each TSS (0 if none))``."""
  by_site = _sorted_by_key((s.chrom, s.strand, s.position) for s in sites)
  scores = np.array([c[3] for c in calls], np.float64)
  right = np.array([_near(p, by_site.get((c, s)), match_distance) for c, s, p, _ in calls],
                   bool)
  best = np.zeros(len(sites))
  by_call: dict[tuple[str, str], list[tuple[int, float]]] = {}
  for c, s, p, score in calls:
    by_call.setdefault((c, s), []).append((p, score))
  by_call = {k: np.array(sorted(v)).reshape(-1, 2) for k, v in by_call.items()}
  for i, site in enumerate(sites):
    rows = by_call.get((site.chrom, site.strand))
    if rows is None:
      continue
    lo = np.searchsorted(rows[:, 0], site.position - match_distance, side="left")
    hi = np.searchsorted(rows[:, 0], site.position + match_distance, side="right")
    best[i] = rows[lo:hi, 1].max(initial=0.0)
  return scores, right, best


def score_calls(calls: Sequence[tuple[str, str, int, float]], sites: Sequence[Tss],
                match_distance: int, threshold: float) -> dict[str, float]:
  """Precision / recall of ``(chrom, strand, position, score)`` calls over ``threshold``
  against ``sites`` (module docstring), with the counts they come from."""
  scores, right, best = call_outcomes(calls, sites, match_distance)
  kept = scores >= threshold
  n_calls, n_right = int(kept.sum()), int((kept & right).sum())
  found = int(((best >= threshold) & (best > 0)).sum())
  precision = n_right / n_calls if n_calls else float("nan")
  recall = found / len(sites) if len(sites) else float("nan")
  return {"precision": precision, "recall": recall, "calls": float(n_calls),
          "right_calls": float(n_right), "tss": float(len(sites)), "tss_found": float(found),
          "f1": 2 * precision * recall / (precision + recall)
                if n_calls and len(sites) and precision + recall else 0.0}


def precision_at_recall(calls, sites, match_distance: int, recall: float) -> float:
  """Best precision over call thresholds whose recall reaches ``recall`` (nan if none):
  compares models at the same recall, as the paper compares PromID with FPROM."""
  scores, right, best = call_outcomes(calls, sites, match_distance)
  precision = float("nan")
  for threshold in np.unique(scores):
    if len(sites) and ((best >= threshold) & (best > 0)).mean() >= recall:
      kept = scores >= threshold
      value = float((kept & right).sum() / kept.sum())
      precision = value if not precision >= value else precision
  return precision


def scan_genome(predict: Predict, genome: genome_lib.Genome, chromosomes: Iterable[str],
                settings, threshold: float | None = None
                ) -> list[tuple[str, str, int, float]]:
  """``(chrom, strand, position, score)`` calls on both strands of ``chromosomes``."""
  calls = []
  for name in chromosomes:
    chrom = genome.chromosome(name)
    if chrom is None:
      raise ValueError(f"chromosome {name!r} is not in {genome.path}; it has "
                       f"{list(genome.sizes)[:10]}...")
    one_hot = encoding.one_hot_dna(genome.sequence(chrom).tobytes())
    for strand in ("+", "-"):
      calls += [(name, strand, p, s)
                for p, s in scan_chromosome(predict, one_hot, strand, settings, threshold)]
  return calls


def mine(predict: Predict, genome: genome_lib.Genome, sites: Sequence[Tss], settings
         ) -> tuple[np.ndarray, list[tuple[str, str, int, float]]]:
  """The ``per_round`` top-scoring false-positive windows of the mining chromosomes.

  Candidates are the scan's refined calls over ``scan_threshold`` (so a round whose
  calls are all right still finds its nearest misses); returns ``([n, window, 4] uint8,
  their calls)``.
  """
  calls = scan_genome(predict, genome, settings.mining_chromosomes, settings,
                      threshold=settings.scan_threshold)
  by_site = _sorted_by_key((s.chrom, s.strand, s.position) for s in sites)
  wrong = [c for c in calls
           if not _near(c[2], by_site.get((c[0], c[1])), settings.match_distance)]
  wrong = sorted(wrong, key=lambda c: -c[3])[:settings.per_round]
  rows = []
  for chrom, strand, position, _ in wrong:
    one_hot = encoding.one_hot_dna(genome.fetch(genome.chromosome(chrom), position - 2000,
                                                position + 2000))
    rows.append(windows(one_hot, [2000], strand, settings.window, settings.tss_index)[0])
  sequences = np.stack(rows) if rows else np.zeros((0, settings.window, 4), np.uint8)
  return sequences.astype(np.uint8), wrong


def model_predictor(config: ml_collections.ConfigDict, model_dir: str,
                    batch_size: int) -> Predict:
  """Promoter probabilities of windows from ``model_dir``'s best checkpoint (one jit)."""
  from genereg_jax.train import trainer  # Imported here: trainer imports this package.
  experiment, state, _ = trainer.restore_for_eval(config, model_dir, which="best")
  variables = {"params": state.params,
               **({"batch_stats": state.batch_stats} if state.batch_stats else {})}
  key = config.model_inputs[0]

  @jax.jit
  def probabilities(x):
    logits = experiment.model.apply(variables, **{key: x.astype(np.float32)}, train=False)
    return jax.nn.sigmoid(logits.reshape(logits.shape[0], -1)[:, 0])

  def predict(x: np.ndarray) -> np.ndarray:
    rows = len(x)
    if rows < batch_size:  # One shape, one compilation.
      x = np.concatenate([x, np.zeros((batch_size - rows, *x.shape[1:]), x.dtype)])
    return np.asarray(probabilities(x))[:rows]

  settings = config.get("hard_negatives")
  model_module = importlib.import_module(type(experiment.model).__module__)
  if settings is not None and hasattr(model_module, "scan_logits"):
    # The model scores every window start of a long sequence at once (PromID: exact).
    scan = jax.jit(lambda params, x: model_module.scan_logits(experiment.model, params, x))
    predict.track = window_track(lambda x: scan(state.params, x), settings.window,
                                 settings.tss_index)
  return predict


def window_track(scan_logits: Callable[[np.ndarray], Any], window: int, tss_index: int,
                 chunk: int = 1 << 16) -> Callable[[np.ndarray, str], np.ndarray]:
  """``track(one_hot [length, 4], strand) -> [length]``: the probability of the window
  with each position at ``tss_index``, read as `windows` reads it (5'->3' on ``strand``,
  N beyond the ends), from ``scan_logits([1, n + window - 1, 4]) -> [1, n, outputs]``
  logits of every window start (first output), ``chunk`` starts per call (one shape)."""

  def track(one_hot: np.ndarray, strand: str) -> np.ndarray:
    x = one_hot if strand == "+" else encoding.reverse_complement(one_hot)
    padded = np.pad(x, ((tss_index, chunk + window - 1 - tss_index), (0, 0)))
    logits = np.concatenate([np.asarray(scan_logits(padded[None, b:b + chunk + window - 1]))
                             [0, :, 0] for b in range(0, len(x), chunk)])[:len(x)]
    probabilities = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return probabilities if strand == "+" else probabilities[::-1]

  return track


def _cumulative_negatives(workdir: str, rounds: int, window: int) -> np.ndarray:
  parts = [np.load(os.path.join(workdir, f"round_{r}", "hard_negatives.npz"))["sequence"]
           for r in range(rounds)]
  return np.concatenate(parts) if parts else np.zeros((0, window, 4), np.uint8)


def run(config: ml_collections.ConfigDict, workdir: str, genome_fasta: str,
        sites: Sequence[Tss], train: Callable[[Any, str], Any] | None = None,
        predictor: Callable[[Any, str, int], Predict] | None = None
        ) -> list[dict[str, Any]]:
  """The rounds of the module docstring; returns every round's report.

  ``config.hard_negatives`` holds the settings (``experiments/configs/promid.py``).
  ``train(config, model_dir)`` defaults to `trainer.train_and_evaluate` and
  ``predictor(config, model_dir, batch_size)`` to `model_predictor`. Rounds with a
  ``report.json`` are read, not rerun.
  """
  from genereg_jax.train import trainer  # Imported here: trainer imports this package.
  train = train or trainer.train_and_evaluate
  predictor = predictor or model_predictor
  settings = config.hard_negatives
  genome = genome_lib.Genome(genome_fasta)
  evaluation = [s for s in sites if s.chrom in settings.evaluation_chromosomes]
  reports = []
  for r in range(settings.rounds):
    round_dir = os.path.join(workdir, f"round_{r}")
    report_path = os.path.join(round_dir, "report.json")
    if os.path.exists(report_path):
      with open(report_path) as f:
        reports.append(json.load(f))
      logging.info("round %d: finished earlier (%s)", r, report_path)
      continue
    os.makedirs(round_dir, exist_ok=True)
    round_config = ml_collections.ConfigDict(config.to_dict())
    negatives = _cumulative_negatives(workdir, r, settings.window)
    if r > 0:
      extra = os.path.join(round_dir, "extra_train.npz")
      if not os.path.exists(extra):
        with files.atomic_path(extra) as tmp:
          with open(tmp, "wb") as f:
            np.savez(f, sequence=negatives,
                     label=np.zeros(len(negatives), np.int32))
      round_config.dataset.extra_examples = extra
    logging.info("round %d: training with %d hard negatives", r, len(negatives))
    model_dir = os.path.join(round_dir, "model")
    final = train(round_config, model_dir)
    predict = predictor(round_config, model_dir, settings.scan_batch_size)
    mined_path = os.path.join(round_dir, "hard_negatives.npz")
    mined_calls = []
    if r + 1 < settings.rounds and not os.path.exists(mined_path):
      mined, mined_calls = mine(predict, genome, sites, settings)
      with files.atomic_path(mined_path) as tmp:
        with open(tmp, "wb") as f:
          np.savez(f, sequence=mined)
      logging.info("round %d: mined %d false positives (top score %.3f)", r, len(mined),
                   mined_calls[0][3] if mined_calls else float("nan"))
    calls = scan_genome(predict, genome, settings.evaluation_chromosomes, settings,
                        threshold=settings.scan_threshold)
    with files.atomic_write(os.path.join(round_dir, "calls.npz"), "wb") as f:
      # Every call over scan_threshold: any threshold's curve.
      np.savez(f, **(dict(zip(CALL_FIELDS, map(np.array, zip(*calls)))) if calls else {}))
    scored = score_calls(calls, evaluation, settings.match_distance, settings.threshold)
    report = {"round": r, "hard_negatives_used": int(len(negatives)),
              "hard_negatives_mined": len(mined_calls),
              "mined_top_scores": [round(c[3], 4) for c in mined_calls[:10]],
              **{f"tss_{k}": v for k, v in scored.items()},
              "precision_at_recall": {
                  str(q): precision_at_recall(calls, evaluation, settings.match_distance, q)
                  for q in (0.5, 0.7, 0.8, 0.9)},
              "valid": {k: float(v) for k, v in (final or {}).get("valid", {}).items()
                        if np.ndim(v) == 0}}
    files.write_json(report_path, report)
    logging.info("round %d: precision %.3f recall %.3f (%d calls, %d TSSs)", r,
                 scored["precision"], scored["recall"], scored["calls"], scored["tss"])
    reports.append(report)
  genome.close()
  return reports
