"""Throughput and memory benchmarks (never run by the tests)."""

from genereg_jax.train import partitioning


def trainer_steps(experiment, example, batch_np):
  """``(state, batch, train_step, eval_step)``: the trainer's own jitted steps for the
  first head, a fresh state and ``batch_np`` placed on the mesh."""
  head = experiment.heads[0]
  state, shardings, _ = experiment.create_state(example)
  batch = partitioning.global_batch(batch_np, experiment.mesh)
  return (state, batch, experiment.jit_train_steps(shardings)[head],
          experiment.jit_eval_steps(shardings)[head])
