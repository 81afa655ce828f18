"""memory_plan: the trainer's train step compiled from shapes alone, and the per-chip fit."""

import numpy as np

from experiments import configs
from experiments.benchmarks import memory_plan
from genereg_jax.train import trainer


def test_fit_gives_the_largest_batch_per_chip():
  rows = [{"batch_size": b, "peak_bytes": peak}
          for b, peak in ((4, 9e9), (1, 3.5e9), (2, 5e9))]
  # Through the two largest batches: 2 GB per example on 1 GB fixed (batch 1 is off
  # the line, as a small batch's temporaries often are).
  plan = memory_plan.fit(rows, [16, 24, 0.5], usable_fraction=1.0)
  assert plan["per_example_bytes"] == 2e9 and plan["fixed_bytes"] == 1e9
  assert plan["max_batch"] == {"16": 7, "24": 11, "0.5": 0}
  assert memory_plan.fit(rows, [16], usable_fraction=0.5)["max_batch"] == {"16": 3}
  assert memory_plan.fit(rows[:1], [16], 1.0)["max_batch"] == {"16": None}


def test_tiny_enformer_train_step_is_planned_from_shapes():
  config = configs.get_config("enformer_human_mouse:tiny")
  # 256 bp -> 32 bins of 8 bp, 16 kept, one transformer block; the first head's 6 tracks.
  config.model.update(num_downsamples=3, target_length=16, depth=1)
  shapes = memory_plan.example_shapes(trainer.Experiment(config), 256)
  assert shapes == {"sequence": ((256, 4), np.uint8), "target": ((16, 6), np.float32)}
  rows = [memory_plan.plan_train_step(config, shapes, b) for b in (1, 2)]
  for row in rows:
    batch_bytes = row["batch_size"] * (256 * 4 + 16 * 6 * 4)
    assert row["argument_bytes"] == row["state_bytes"] + batch_bytes, row
    # The donated state comes back in place: only the metrics are new outputs.
    assert row["alias_bytes"] == row["state_bytes"], row
    assert row["peak_bytes"] == (row["argument_bytes"] + row["temp_bytes"]
                                 + row["output_bytes"] - row["alias_bytes"])
  assert rows[1]["temp_bytes"] > rows[0]["temp_bytes"] > 0
  plans = [{"compute_dtype": "float32", "remat": False, "rows": rows,
            "fit": memory_plan.fit(rows, [16], 0.9)}]
  table = memory_plan.markdown(plans, [16])
  assert "| float32 | False | 2 |" in table and "| 16 GB |" in table
