"""Tiny motif-recovery benchmark: a CTCF scanner's attributions must find planted CTCF."""

import jax
import jax.numpy as jnp
import numpy as np

from data_builders.synthetic_motifs import synthetic_motifs
from experiments.benchmarks import motif_recovery
from genereg_jax.interpret import filter_motifs


def test_average_precision_matches_definition():
  scores = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
  labels = np.array([1, 0, 1, 0, 1])
  # Ties (0.8) enter together: precision 1 at recall 1/3, 2/3 at 2/3, 3/5 at 1.
  want = 1 / 3 * 1 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 5
  assert abs(motif_recovery.average_precision(scores, labels) - want) < 1e-12


def test_ig_and_deeplift_shap_find_planted_ctcf():
  motifs = synthetic_motifs.load_motifs()
  widths = {name: m.width for name, m in motifs.items()}
  examples, rng = [], np.random.default_rng(0)
  while len(examples) < 160:  # Sequences with at least one planted CTCF.
    example = synthetic_motifs.sample_example(
        rng, motifs, 200, (0.35, 0.6), min_score_fraction=0.7)
    if "CTCF" in example["motif_name"]:
      examples.append(example)
  x = np.stack([e["sequence"] for e in examples]).astype(np.float32)
  sites = motif_recovery.planted_sites(examples, widths)

  # The "model": CTCF's log-odds scanned on both strands, strong matches summed.
  kernel = jnp.asarray(motifs["CTCF"].log_odds(), jnp.float32)
  kernel = jnp.stack([kernel, kernel[::-1, ::-1]], axis=-1)  # [width, 4, 2 strands].
  threshold = 0.6 * motifs["CTCF"].max_score()

  def fn(batch):
    scores = jax.lax.conv_general_dilated(batch, kernel, (1,), "VALID",
                                          dimension_numbers=("NWC", "WIO", "NWC"))
    return jax.nn.relu(scores - threshold).mean(axis=(1, 2))[:, None]

  rows = motif_recovery.evaluate(
      fn, x, 0, sites, "CTCF", {"CTCF": "MA0139"},
      methods=("integrated_gradients", "deeplift_shap"), jaspar=filter_motifs.load_jaspar(),
      attribute_kwargs=dict(n_steps=20, n_shuffles=5, batch_size=40),
      # 5 Leiden runs, not modisco-lite's 50: one planted motif needs no search over
      # partitions, and the runs were ~80% of this test's time.
      modisco_kwargs=dict(min_metacluster_size=30, n_leiden_runs=5))
  by_method = {row["method"]: row for row in rows}
  for method in ("integrated_gradients", "deeplift_shap"):
    assert by_method[method]["auprc"] > 0.6, rows
  assert by_method["deeplift_shap"]["modisco_match"], rows
  assert by_method["deeplift_shap"]["seqlet_recovery"] > 0.5, rows
