"""``synthetic_tss``: the TSS grammar's labels follow the stated rule per cell type, cell
types differ, coverage steps sit at the centre, and motif-pair classes hold their pair."""

import numpy as np

from data_builders.synthetic_tss import synthetic_tss as st


def test_labels_follow_the_cell_type_rule():
  weights = st.cell_type_weights(4, 0)
  assert weights.shape == (4, len(st.REGULATORS))
  assert len({tuple(row) for row in weights}) == 4  # Cell types read motifs differently.
  records = [st.tss_example(np.random.default_rng(i), i % 4, weights, 301) for i in range(120)]
  for r in records:
    used = r["promoter"] == 1 and r["score"] > st.USAGE_THRESHOLD
    assert r["label"] == used
    if r["promoter"]:
      expected = weights[r["cell_type"]] @ r["regulators"]
      assert min(abs(r["score"] - expected - tata) for tata in (0, st.TATA_WEIGHT)) < 1e-5
  labels = np.array([r["label"] for r in records])
  assert 0.15 < labels.mean() < 0.5
  centre = 150
  stepped = [r for r in records if r["label"] == 1
             and r["coverage"][centre:].mean() > 3 * r["coverage"][:centre].mean() + 1]
  assert stepped  # Half of the used TSSs show a step at the centre.
  assert r["sequence"].shape == (301, 4) and r["coverage"].shape == (301,)


def test_motif_pair_classes():
  classes = st.pair_classes()
  assert len(classes) == 45 and len(set(classes)) == 45
  record = st.motif_pair_example(np.random.default_rng(0), 7, 100)
  assert record["label"] == 7 and record["sequence"].shape == (100, 4)
  assert (record["sequence"].sum(1) == 1).all()
