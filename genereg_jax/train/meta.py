"""Meta-learning modes of the trainer: Reptile (Nichol, Achiam & Schulman, "On
First-Order Meta-Learning Algorithms", arXiv:1803.02999, 2018), and the episodic loop
prototypical networks share (`genereg_jax.train.protonets`).

A config turns the mode on with ``config.meta`` (``experiments/configs/deerect_tss.py``):

  config.meta = dict(algorithm="reptile", task_key="cell_type", heldout_tasks=(8, 9),
                     tasks_per_step=5, inner_steps=5, inner_batch_size=16, inner_lr=0.1,
                     shots=20, adapt_steps=30, adapt_lr=0.1, fewshot_repeats=3)
  config.optimizer.update(name="sgd", learning_rate=1.0, schedule="linear", momentum=0.0,
                          end_learning_rate_factor=0.0, warmup_steps=0, clip_norm=0.0)

Tasks are the groups of the train split by the integer field ``task_key`` (DeeReCT-TSS:
the cell type, Zhou et al. 2021). Each outer step (Algorithm 2, batched) draws
``tasks_per_step`` tasks, runs ``inner_steps`` plain-SGD steps (``inner_lr``) of the
config's task loss on batches of ``inner_batch_size`` examples of each task, starting
from the current parameters ``phi``, and moves ``phi`` towards the adapted ``W_i``:
``phi <- phi + eps (mean_i W_i - phi)``. That update is the config's optimizer applied
to the pseudo-gradient ``phi - mean_i W_i`` (the paper's "treat it as a gradient" view):
``optimizer.name = "sgd"`` with momentum 0, no clipping or weight decay and
``learning_rate = eps`` is the interpolation exactly, ``schedule = "linear"`` to 0 the
paper's annealing (as above); Adam on the same pseudo-gradient is the paper's other
option. Batch statistics (BatchNorm models) are averaged over the tasks' adapted ones.

Few-shot evaluation (the paper's Section 6 protocol, and DeeReCT-TSS's new-cell-type
experiment): for each held-out task and each of ``fewshot_repeats`` draws, take
``shots`` examples of the task from the train split, run ``adapt_steps`` full-batch SGD
steps (``adapt_lr``) from the meta-learned parameters, and score every example of the
task in the evaluation split with the task's metrics; the metrics are averaged over
tasks and draws (``fewshot/<metric>``). The final evaluation also adapts from a fresh
initialisation on the same support sets (``scratch/<metric>``): training from scratch
on the same k examples, the baseline Reptile has to beat.

Everything else is the trainer's: the mesh and logical-axis shardings, the jitted step
(``(state, meta_batch) -> (state, metrics)``, meta-batches ``[tasks, inner steps,
batch, ...]`` sharded on ``data`` along the batch axis, donated state), orbax
checkpoints and ``metrics.jsonl``. Batches are drawn from ``np.random.default_rng([seed,
step])``, so a resumed run replays exactly what an uninterrupted one would (the
checkpoint needs no iterator state). Records are used as stored: the episodic modes
apply no dataset transforms or augmentation.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging
from jax.sharding import NamedSharding, PartitionSpec

from genereg_jax import tasks
from genereg_jax.train import checkpointing
from genereg_jax.train import reporting

ALGORITHMS = ("reptile", "protonet")


@dataclasses.dataclass(frozen=True)
class Settings:
  """``config.meta``, checked (see the module docstring for the meaning of each field).

  Prototypical networks use ``task_key`` (the class label), ``heldout_tasks``,
  ``ways``, ``eval_ways``, ``shots``, ``queries`` and ``eval_episodes``.
  """
  algorithm: str = "reptile"
  task_key: str = "cell_type"
  heldout_tasks: tuple[int, ...] = ()
  tasks_per_step: int = 5
  inner_steps: int = 5
  inner_batch_size: int = 16
  inner_lr: float = 0.05
  shots: int = 10
  adapt_steps: int = 30
  adapt_lr: float | None = None
  fewshot_repeats: int = 2
  ways: int = 5
  queries: int = 5
  eval_ways: int | None = None
  eval_episodes: int = 100


def settings(config: ml_collections.ConfigDict) -> Settings:
  """``config.meta`` as `Settings`; unknown fields and algorithms are errors."""
  fields = dict(config.meta)
  unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(Settings)})
  if unknown:
    raise ValueError(f"config.meta has unknown field(s) {unknown}; valid: "
                     f"{[f.name for f in dataclasses.fields(Settings)]}")
  if "heldout_tasks" in fields:
    fields["heldout_tasks"] = tuple(int(t) for t in fields["heldout_tasks"])
  result = Settings(**fields)
  if result.algorithm not in ALGORITHMS:
    raise ValueError(f"unknown meta algorithm {result.algorithm!r}; valid: {list(ALGORITHMS)}")
  return result


# ----------------------------------------------------------------------------------
# Tasks of a dataset: records grouped by an integer field.
# ----------------------------------------------------------------------------------


class Subset:
  """The records ``indices`` of a random-access data source (also a data source)."""

  def __init__(self, source, indices: Sequence[int]):
    self.source, self.indices = source, np.asarray(indices, np.int64)
    self.metadata = getattr(source, "metadata", {})

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, index: int):
    return self.source[int(self.indices[index])]


def group_indices(source, key: str) -> dict[int, np.ndarray]:
  """``{value of key: record indices}`` over a data source (one pass)."""
  values = np.array([int(source[i][key]) for i in range(len(source))])
  return {int(v): np.flatnonzero(values == v) for v in np.unique(values)}


def gather(source, indices: np.ndarray, keys: Sequence[str]) -> dict[str, np.ndarray]:
  """``{key: [len(indices), ...]}`` stacked from the records ``indices``."""
  records = [source[int(i)] for i in np.ravel(indices)]
  return {k: np.stack([np.asarray(r[k]) for r in records]).reshape(
      *np.shape(indices), *np.shape(records[0][k])) for k in keys}


def draw(rng: np.random.Generator, indices: np.ndarray, count: int) -> np.ndarray:
  """``count`` of ``indices`` without replacement when there are enough."""
  return rng.choice(indices, count, replace=len(indices) < count)


def split_tasks(groups: Mapping[int, np.ndarray], heldout: Sequence[int],
                what: str) -> tuple[list[int], list[int]]:
  """``(meta-training tasks, held-out tasks)``: negative held-out entries count from the
  end of the sorted task values (``-1``: the last); unknown ones are an error."""
  values = sorted(groups)
  resolved = [values[t] if -len(values) <= t < 0 else t for t in heldout]
  missing = sorted(set(resolved) - set(groups))
  if missing:
    raise ValueError(f"meta.heldout_tasks {missing} are not {what} values of the train "
                     f"split; values: {values}")
  train = [t for t in values if t not in set(resolved)]
  if not train:
    raise ValueError("meta.heldout_tasks leaves no task to meta-train on")
  return train, resolved


# ----------------------------------------------------------------------------------
# Pure functions (jitted by the caller).
# ----------------------------------------------------------------------------------


def _variables(params, batch_stats) -> dict[str, Any]:
  return {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}


def make_task_loss(model: nn.Module, task: tasks.Task, inputs: Sequence[str]) -> Callable:
  """``(params, batch_stats, batch, rng) -> (loss, batch_stats)`` in training mode."""

  def task_loss(params, batch_stats, batch, rng):
    outputs, mutated = model.apply(
        _variables(params, batch_stats), **{k: batch[k] for k in inputs}, train=True,
        rngs={"dropout": rng}, mutable=["batch_stats"] if batch_stats else [])
    loss, _ = task.loss(outputs, batch)
    return loss, mutated.get("batch_stats", batch_stats)

  return task_loss


def sgd_steps(task_loss: Callable, params, batch_stats, batches, rng, learning_rate,
              steps: int | None = None):
  """Plain SGD on ``batches`` (leading axis: steps), or ``steps`` times on one batch.

  Returns ``(params, batch_stats, losses)``; ``losses[i]`` is the loss before step i.
  """
  grad = jax.value_and_grad(task_loss, has_aux=True)

  def body(carry, xs):
    params, batch_stats = carry
    index, batch = xs if steps is None else (xs, batches)
    (loss, batch_stats), grads = grad(params, batch_stats, batch,
                                      jax.random.fold_in(rng, index))
    params = jax.tree.map(lambda p, g: p - learning_rate * g, params, grads)
    return (params, batch_stats), loss

  count = jax.tree.leaves(batches)[0].shape[0] if steps is None else steps
  xs = (jnp.arange(count), batches) if steps is None else jnp.arange(count)
  (params, batch_stats), losses = jax.lax.scan(body, (params, batch_stats), xs)
  return params, batch_stats, losses


def make_reptile_step(task_loss: Callable, tx: optax.GradientTransformation,
                      schedule: optax.Schedule, inner_lr: float) -> Callable:
  """``(state, batches) -> (state, metrics)``; ``batches`` are ``[tasks, inner steps,
  batch, ...]``. Tasks are adapted one after another (a scan: memory of one task)."""

  def reptile_step(state, batches):
    rng = jax.random.fold_in(state.rng, state.step)

    def adapt_task(total, xs):
      index, task_batches = xs
      params, batch_stats, losses = sgd_steps(
          task_loss, state.params, state.batch_stats, task_batches,
          jax.random.fold_in(rng, index), inner_lr)
      return jax.tree.map(jnp.add, total, (params, batch_stats)), losses

    count = jax.tree.leaves(batches)[0].shape[0]
    zeros = jax.tree.map(jnp.zeros_like, (state.params, state.batch_stats))
    (params_sum, stats_sum), losses = jax.lax.scan(
        adapt_task, zeros, (jnp.arange(count), batches))
    mean_params = jax.tree.map(lambda x: x / count, params_sum)
    pseudo_grads = jax.tree.map(jnp.subtract, state.params, mean_params)
    updates, opt_state = tx.update(pseudo_grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    batch_stats = jax.tree.map(lambda x: x / count, stats_sum)
    metrics = {"loss": losses[:, 0].mean(), "adapted_loss": losses[:, -1].mean(),
               "grad_norm": optax.tree.norm(pseudo_grads),
               "learning_rate": schedule(state.step)}
    return state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                         opt_state=opt_state), metrics

  return reptile_step


# ----------------------------------------------------------------------------------
# The loop shared by the episodic modes.
# ----------------------------------------------------------------------------------


def episode_sharding(mesh, leading_axes: int) -> NamedSharding:
  """Batch axis after ``leading_axes`` unsharded ones (tasks, steps) split on ``data``."""
  return NamedSharding(mesh, PartitionSpec(*([None] * leading_axes), "data"))


def global_episode(batches: Mapping[str, np.ndarray], mesh, leading_axes: int
                   ) -> dict[str, jax.Array]:
  """Every process draws the same episode; each contributes its share of the batch axis."""
  sharding = episode_sharding(mesh, leading_axes)
  count, index = jax.process_count(), jax.process_index()

  def local(x):
    rows = x.shape[leading_axes] // count
    return np.take(x, np.arange(index * rows, (index + 1) * rows), axis=leading_axes)

  return {k: jax.make_array_from_process_local_data(sharding, local(np.asarray(v)))
          for k, v in batches.items()}


def run_loop(config: ml_collections.ConfigDict, workdir: str, state, abstract,
             step_fn: Callable, sample: Callable[[int], Any],
             evaluate: Callable[[Any, str, bool], dict[str, float]],
             examples_per_step: int) -> dict[str, Any]:
  """Resume, then {step, log, evaluate, checkpoint} to ``num_train_steps``.

  ``sample(step)`` is the (global, sharded) episode of a step; ``evaluate(state, split,
  final)`` the scalar metrics of a split. Returns the final ``{split: metrics}``.
  """
  from genereg_jax.train import trainer  # The trainer dispatches here: import late.
  from genereg_jax.train import workdir as workdir_lib
  config_json = config.to_json_best_effort(indent=2, sort_keys=True)
  checkpointer = checkpointing.Checkpointer(
      workdir, keep=config.get("keep_checkpoints", 3), best_metric=config.get("best_metric"),
      best_mode=config.get("best_mode", "max"))
  try:
    resumed = trainer._resume(config, checkpointer, abstract, workdir)  # pylint: disable=protected-access
  except BaseException:
    checkpointer.close()
    raise
  if resumed is not None:
    state = resumed[0]
  if jax.process_index() == 0:
    workdir_lib.write_config(workdir, config)
  start, total = int(state.step), config.num_train_steps
  writer = reporting.MetricWriter(workdir, resume_step=start)
  progress = reporting.Progress(total, start, examples_per_step,
                                config.get("log_every_steps", 50),
                                config.get("log_every_seconds", 30.0))
  eval_every = config.get("eval_every_steps", 0)
  save_every = config.get("checkpoint_every_steps", 0)
  final: dict[str, Any] = {}
  began = time.perf_counter()
  try:
    for step in range(start + 1, total + 1):
      state, metrics = step_fn(state, sample(step))
      if step == start + 1:
        progress.start_rate(step)
      values = None
      if step == start + 1 or step == total or progress.due(step):
        values = {k: float(v) for k, v in jax.device_get(metrics).items()}
        for name in ("loss", "grad_norm"):
          if not np.isfinite(values[name]):
            raise trainer.NonFiniteLossError(
                f"the meta-training {name} is {values[name]} at step {step}; the last "
                "good checkpoint is kept. Lower meta.inner_lr or the outer rate.")
        progress.line(step, values)
        if step % config.get("log_every_steps", 50) == 0 or step == total:
          writer.write(step, "train", {**values, **progress.rate(step)})
      best = None
      if (eval_every and step % eval_every == 0) or step == total:
        begin = time.perf_counter()
        splits = config.eval_splits + (tuple(config.get("final_eval_splits", ()))
                                       if step == total else ())
        best = {}
        for split in dict.fromkeys(splits):
          results = evaluate(state, split, step == total)
          writer.write(step, split, results)
          logging.info("eval %s at step %d: %s", split, step,
                       " ".join(f"{k} {v:.4f}" for k, v in results.items()))
          best.update({f"{split}/{k}": v for k, v in results.items()})
          if step == total:
            final[split] = results
        progress.exclude(time.perf_counter() - begin)
      if (save_every and step % save_every == 0) or step == total or best:
        if best:
          checkpointer.save_best(step, state, {}, config_json, best)
        checkpointer.save(step, state, {}, config_json)
  finally:
    writer.close()
    checkpointer.close()
  logging.info("meta-trained steps %d-%d in %s", start, int(state.step),
               reporting.format_duration(time.perf_counter() - began))
  if final and jax.process_index() == 0:
    workdir_lib.merge_final_metrics(workdir, final)
  return final


# ----------------------------------------------------------------------------------
# Reptile.
# ----------------------------------------------------------------------------------


class Reptile:
  """Reptile meta-training and few-shot evaluation of one config (`train_locked`)."""

  def __init__(self, config: ml_collections.ConfigDict):
    from genereg_jax.train import trainer
    self.config, self.settings = config, settings(config)
    # The config's optimizer is the outer one (see the module docstring).
    self.experiment = trainer.Experiment(config)
    self.sources = {config.train_split: trainer.load_split(config, config.train_split)}
    self.experiment.task.use_dataset_metadata(self.sources[config.train_split].metadata)
    self.groups = {config.train_split: group_indices(self.sources[config.train_split],
                                                     self.settings.task_key)}
    self.train_tasks, self.heldout_tasks = split_tasks(
        self.groups[config.train_split], self.settings.heldout_tasks, self.settings.task_key)
    self.keys = self.experiment.keys[None]
    self.task_loss = make_task_loss(self.experiment.model, self.experiment.task,
                                    self.experiment.inputs)

  def source(self, split: str):
    from genereg_jax.train import trainer
    if split not in self.sources:
      self.sources[split] = trainer.load_split(self.config, split)
      self.groups[split] = group_indices(self.sources[split], self.settings.task_key)
    return self.sources[split]

  def create_state(self):
    return self.experiment.create_state(self.source(self.config.train_split)[0])

  def sample(self, step: int) -> dict[str, np.ndarray]:
    """The meta-batch of ``step``: ``[tasks_per_step, inner_steps, inner_batch, ...]``."""
    s = self.settings
    rng = np.random.default_rng([self.config.seed, step])
    chosen = rng.choice(self.train_tasks, s.tasks_per_step,
                        replace=len(self.train_tasks) < s.tasks_per_step)
    train = self.config.train_split
    indices = np.stack([draw(rng, self.groups[train][t], s.inner_steps * s.inner_batch_size)
                        .reshape(s.inner_steps, s.inner_batch_size) for t in chosen])
    return gather(self.sources[train], indices, self.keys)

  def jit_step(self, shardings) -> Callable:
    step = make_reptile_step(self.task_loss, self.experiment.tx, self.experiment.schedule,
                             self.settings.inner_lr)
    return jax.jit(step, in_shardings=(shardings, episode_sharding(self.experiment.mesh, 2)),
                   out_shardings=(shardings, None), donate_argnums=0)

  def support_sets(self, split: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``(task, support indices in the train split, query indices in split)`` per
    held-out task and draw; the draws depend only on the seed, task and draw."""
    s, train = self.settings, self.config.train_split
    self.source(split)
    sets = []
    for task_id in self.heldout_tasks:
      for repeat in range(s.fewshot_repeats):
        rng = np.random.default_rng([self.config.seed, 7_919, task_id, repeat])
        support = draw(rng, self.groups[train][task_id], s.shots)
        query = self.groups[split].get(task_id, np.zeros(0, np.int64))
        if split == train:
          query = np.setdiff1d(query, support)
        sets.append((task_id, support, query))
    return sets

  def fewshot(self, state, split: str, eval_steps, adapt: Callable) -> dict[str, float]:
    """Adapts ``state`` to each support set; metrics on the queries, averaged."""
    train = self.config.train_split
    results: list[dict[str, float]] = []
    for task_id, support, query in self.support_sets(split):
      batch = jax.tree.map(jnp.asarray, gather(self.sources[train], support, self.keys))
      params, batch_stats, _ = adapt(state.params, state.batch_stats, batch,
                                     jax.random.fold_in(state.rng, task_id))
      adapted = state.replace(params=params, batch_stats=batch_stats)
      metrics = self.experiment.evaluate(eval_steps, adapted, split,
                                         data_source=Subset(self.sources[split], query))
      results.append({k: float(v) for k, v in metrics.items() if np.ndim(v) == 0})
    return {k: float(np.mean([r[k] for r in results])) for k in results[0]}

  def jit_adapt(self) -> Callable:
    s = self.settings
    learning_rate = s.adapt_lr if s.adapt_lr is not None else s.inner_lr
    return jax.jit(lambda params, batch_stats, batch, rng: sgd_steps(
        self.task_loss, params, batch_stats, batch, rng, learning_rate, s.adapt_steps))


def train_locked(config: ml_collections.ConfigDict, workdir: str) -> dict[str, Any]:
  """Meta-trains ``config`` (``config.meta``) in a locked, checked ``workdir``."""
  if settings(config).algorithm == "protonet":
    from genereg_jax.train import protonets
    return protonets.train_locked(config, workdir)
  reptile = Reptile(config)
  s = reptile.settings
  if s.inner_batch_size % reptile.experiment.mesh.shape["data"]:
    raise ValueError(f"meta.inner_batch_size {s.inner_batch_size} is not divisible by the "
                     f"{reptile.experiment.mesh.shape['data']} devices on the data axis")
  state, shardings, abstract = reptile.create_state()
  step_fn = reptile.jit_step(shardings)
  eval_steps = reptile.experiment.jit_eval_steps(shardings)
  adapt = reptile.jit_adapt()
  # The fresh initialisation outlives the donated first step: keep a copy.
  scratch_state = jax.tree.map(jnp.copy, state)

  def evaluate(state, split: str, final: bool) -> dict[str, float]:
    results = {f"fewshot/{k}": v for k, v in
               reptile.fewshot(state, split, eval_steps, adapt).items()}
    if final:  # The baseline: the same adaptation from a fresh initialisation.
      results.update({f"scratch/{k}": v for k, v in
                      reptile.fewshot(scratch_state, split, eval_steps, adapt).items()})
    return results

  return run_loop(
      config, workdir, state, abstract, step_fn,
      lambda step: global_episode(reptile.sample(step), reptile.experiment.mesh, 2),
      evaluate, s.tasks_per_step * s.inner_steps * s.inner_batch_size)


def evaluate_fewshot(config: ml_collections.ConfigDict, workdir: str, split: str = "test",
                     which: str = "latest") -> dict[str, float]:
  """Few-shot metrics of a meta-trained workdir's checkpoint, and from scratch.

  ``config.meta``'s adaptation fields (``shots``, ``adapt_steps``, ``adapt_lr``,
  ``fewshot_repeats``) may differ from the training run's: this is how the baseline's
  learning rate and step count are swept without retraining (README).
  """
  reptile = Reptile(config)
  state, _, abstract = reptile.create_state()
  checkpointer = checkpointing.Checkpointer(workdir, read_only=True)
  try:
    trained = checkpointer.restore(abstract, which=which)[0]
  finally:
    checkpointer.close()
  eval_steps = reptile.experiment.jit_eval_steps(
      jax.tree.map(lambda x: x.sharding, state))
  adapt = reptile.jit_adapt()
  return {**{f"fewshot/{k}": v for k, v in
             reptile.fewshot(trained, split, eval_steps, adapt).items()},
          **{f"scratch/{k}": v for k, v in
             reptile.fewshot(state, split, eval_steps, adapt).items()}}
