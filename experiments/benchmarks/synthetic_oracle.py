r"""Ceiling of the embedded ``synthetic_motifs`` task: a PWM-scan oracle's test AUROC.

  python -m experiments.benchmarks.synthetic_oracle                    # default build
  python -m experiments.benchmarks.synthetic_oracle --min_score_fraction=0 --num_train=8000

The oracle knows the ten JASPAR matrices. For each example it scans the planting window
with every log-odds matrix on both strands and keeps the best score and its position
per strand (40 features); a gradient-boosted classifier per label (scikit-learn, the
``test`` extra) learns the grammar from these on the train split and is scored on the
test split. A CNN that learns the motifs from sequence alone should approach, not beat,
this number; it tells how much of a model's gap is the data's own noise (motif draws
that look like background) rather than the model. Examples are generated in memory with
the builder's own sampler, so nothing has to be built.
"""

from __future__ import annotations

import json

import numpy as np
from absl import app, flags

from data_builders.synthetic_motifs import synthetic_motifs as sm

flags.DEFINE_string("builder_config", "default", "synthetic_motifs builder config to mimic.")
flags.DEFINE_float("min_score_fraction", None,
                   "Override the builder config's planted-site threshold (0: every draw).")
flags.DEFINE_integer("num_train", 8000, "Train examples generated for the oracle.")
flags.DEFINE_integer("num_test", 2000, "Test examples generated.")
flags.DEFINE_string("output", None, "Write the per-label AUROCs here as JSON.")
FLAGS = flags.FLAGS


def scan_features(one_hot: np.ndarray, motifs: dict[str, sm.PlantedMotif],
                  window: tuple[int, int]) -> np.ndarray:
  """Best log-odds score and its offset, per motif and strand, inside ``window``."""
  region = np.asarray(one_hot[window[0]:window[1]], np.float64)
  features = []
  for motif in motifs.values():
    log_odds = motif.log_odds()
    windows = np.lib.stride_tricks.sliding_window_view(region, log_odds.shape)[:, 0]
    for matrix in (log_odds, log_odds[::-1, ::-1]):
      scores = np.einsum("pwc,wc->p", windows, matrix)
      features += [scores.max(), float(np.argmax(scores))]
  return np.array(features)


def main(argv):
  del argv
  from sklearn.ensemble import HistGradientBoostingClassifier  # The `test` extra.
  from sklearn.metrics import roc_auc_score

  config = next(c for c in sm.SyntheticMotifs.BUILDER_CONFIGS
                if c.name == FLAGS.builder_config)
  fraction = (config.min_score_fraction if FLAGS.min_score_fraction is None
              else FLAGS.min_score_fraction)
  motifs = sm.load_motifs()
  length = config.sequence_length
  planting = config.planting_window or length
  window = ((length - planting) // 2, (length - planting) // 2 + planting)

  def generate(split, count):
    features, labels = [], []
    for index in range(count):
      example = sm.sample_example(sm.example_rng(config.seed, split, index), motifs, length,
                                  config.gc_range, planting_window=config.planting_window,
                                  min_score_fraction=fraction)
      features.append(scan_features(example["sequence"], motifs, window))
      labels.append(example["label"])
    return np.stack(features), np.stack(labels)

  train_x, train_y = generate("train", FLAGS.num_train)
  test_x, test_y = generate("test", FLAGS.num_test)
  aurocs = {}
  for i, label in enumerate(sm.LABEL_NAMES):
    classifier = HistGradientBoostingClassifier(max_iter=300, random_state=0)
    classifier.fit(train_x, train_y[:, i])
    aurocs[label] = float(roc_auc_score(test_y[:, i], classifier.predict_proba(test_x)[:, 1]))
    print(f"{label:20s} positive rate {test_y[:, i].mean():.3f}  oracle AUROC {aurocs[label]:.3f}")
  summary = {"builder_config": config.name, "min_score_fraction": fraction,
             "num_train": FLAGS.num_train, "num_test": FLAGS.num_test,
             "mean_auroc": float(np.mean(list(aurocs.values()))), "auroc": aurocs}
  print(f"mean oracle test AUROC {summary['mean_auroc']:.4f}")
  if FLAGS.output:
    with open(FLAGS.output, "w") as f:
      json.dump(summary, f, indent=2)


if __name__ == "__main__":
  app.run(main)
