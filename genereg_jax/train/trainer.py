"""One trainer for every model: sharded jit step, orbax checkpoints, streaming evals.

Reads top to bottom like big_vision's ``train.py``: mesh → data → model/task →
abstract state → shardings → jitted init → jitted step → resume → loop {step, log,
eval, checkpoint}. The train step is a pure ``(state, batch) -> (state, metrics)``
function jitted once with explicit shardings and a donated state.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from typing import Any, Callable, Mapping

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging

from genereg_jax import files
from genereg_jax import models
from genereg_jax import tasks
from genereg_jax.data import pipeline
from genereg_jax.data import pretrain_sources
from genereg_jax.train import checkpointing
from genereg_jax.train import finetune
from genereg_jax.train import optim
from genereg_jax.train import partitioning
from genereg_jax.train import reporting
from genereg_jax.train import validate
from genereg_jax.train import workdir as workdir_lib


class NonFiniteLossError(FloatingPointError):
  """The loss, gradient norm or evaluation loss became NaN/Inf; the last good checkpoint
  is kept."""


@flax.struct.dataclass
class TrainState:
  """Everything a step changes: parameters, batch statistics, optimizer state, step, RNG."""
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any
  rng: jax.Array


# ----------------------------------------------------------------------------------
# Building blocks from the config.
# ----------------------------------------------------------------------------------

_DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


def build_model(config: ml_collections.ConfigDict) -> nn.Module:
  kwargs = config.get("model", {})
  kwargs = kwargs.to_dict() if hasattr(kwargs, "to_dict") else dict(kwargs)
  dtype_name = config.get("compute_dtype", "float32")
  if dtype_name not in _DTYPES:
    raise ValueError(f"unknown compute_dtype {dtype_name!r}; valid: {sorted(_DTYPES)}")
  model = models.get_model(config.model_name, config.get("model_preset"), kwargs)
  if "dtype" in type(model).__dataclass_fields__:
    model = model.clone(dtype=_DTYPES[dtype_name])
  return finetune.wrap_model(config, model)  # LoRA / IA3 when config.adapters asks.


def build_task(config: ml_collections.ConfigDict, head: str | None = None) -> tasks.Task:
  """The config's task; for multi-species models, scoped to the output ``head``."""
  kwargs = dict(config.get("task", {}))
  if head is not None:
    kwargs["head"] = head
  return tasks.get_task(config.task_name, kwargs)


def heads(config: ml_collections.ConfigDict) -> tuple[str | None, ...]:
  """Output heads trained in alternation (``config.species``), or ``(None,)``."""
  return tuple(config.get("species", ())) or (None,)


def dataset_name(config: ml_collections.ConfigDict, head: str | None = None) -> str:
  """``config.dataset.name`` with ``{species}`` filled in for multi-species configs."""
  return config.dataset.name.format(species=head) if head else config.dataset.name


def data_keys(config: ml_collections.ConfigDict, task: tasks.Task) -> tuple[str, ...]:
  return tuple(dict.fromkeys(tuple(config.model_inputs) + tuple(task.target_keys)))


def load_split(config: ml_collections.ConfigDict, split: str, head: str | None = None):
  if config.dataset.get("stream"):  # Pretraining: records drawn on the fly, no TFDS build.
    return pretrain_sources.stream_source(config.dataset, split, seed=config.seed)
  if config.dataset.get("source", "tfds") == "genome":  # FASTA + bigWigs, no build step.
    from genereg_jax.data import genome_source
    return genome_source.from_config(config.dataset.genome, split, head)
  name = dataset_name(config, head)
  builder = pipeline.load_builder(
      name, config.dataset.get("data_dir"),
      build_if_missing=config.dataset.get("build_if_missing", False),
      manual_dir=config.dataset.get("manual_dir"))
  # TFDS slices ("train[:500]") select a labelled subset for few-example fine-tuning.
  if split.split("[")[0] not in builder.info.splits:
    raise ValueError(f"dataset {name!r} has no split {split!r}; "
                     f"splits: {sorted(builder.info.splits)}")
  source = builder.as_data_source(split=split)
  source.metadata = dict(builder.info.metadata or {})
  extra = config.dataset.get("extra_examples")
  if extra and split == config.train_split:  # Hard negatives (train/hard_negatives.py).
    from genereg_jax.data import extra_examples
    source = extra_examples.ExtendedSource(source, extra)
  return source


def per_process_batch_size(global_batch_size: int, mesh) -> int:
  data_devices = mesh.shape["data"]
  if global_batch_size % data_devices:
    raise ValueError(f"batch_size {global_batch_size} is not divisible by the {data_devices} "
                     "devices on the mesh's data axis")
  first, stop = partitioning.process_rows(mesh, global_batch_size)
  return stop - first


def process_batch(global_batch_size: int, mesh) -> dict[str, Any]:
  """`pipeline.make_loader`'s ``batch_size`` and ``process_rows`` for this process: its
  rows of each global batch, so any number of processes trains on the same batches."""
  return dict(batch_size=per_process_batch_size(global_batch_size, mesh),
              process_rows=(partitioning.process_rows(mesh, global_batch_size)[0],
                            global_batch_size))


def _variables(params, batch_stats) -> dict[str, Any]:
  return {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}


def _model_inputs(batch: Mapping[str, Any], inputs) -> dict[str, Any]:
  return {k: batch[k] for k in inputs}


# ----------------------------------------------------------------------------------
# Pure step functions (jitted by the caller).
# ----------------------------------------------------------------------------------


def make_train_step(model: nn.Module, task: tasks.Task, tx: optax.GradientTransformation,
                    schedule: optax.Schedule, inputs, grad_accum_steps: int = 1) -> Callable:
  """``(state, batch) -> (state, metrics)``; gradients averaged over micro-batches."""

  def loss_and_grads(params, batch_stats, batch, rng):

    def loss_fn(params):
      outputs, mutated = model.apply(
          _variables(params, batch_stats), **_model_inputs(batch, inputs), train=True,
          rngs={"dropout": rng}, mutable=["batch_stats"] if batch_stats else [])
      loss, weight = task.loss(outputs, batch)
      return loss, (mutated.get("batch_stats", batch_stats), weight)

    (loss, (batch_stats, _)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    return loss, grads, batch_stats

  def train_step(state: TrainState, batch):
    rng = jax.random.fold_in(state.rng, state.step)
    if grad_accum_steps == 1:
      loss, grads, batch_stats = loss_and_grads(state.params, state.batch_stats, batch, rng)
    else:
      micro = jax.tree.map(
          lambda x: x.reshape(grad_accum_steps, -1, *x.shape[1:]), batch)

      def accumulate(carry, inputs):
        loss_sum, grad_sum, batch_stats = carry
        index, micro_batch = inputs
        loss, grads, batch_stats = loss_and_grads(
            state.params, batch_stats, micro_batch, jax.random.fold_in(rng, index))
        return (loss_sum + loss, jax.tree.map(jnp.add, grad_sum, grads), batch_stats), None

      zeros = jax.tree.map(jnp.zeros_like, state.params)
      (loss, grads, batch_stats), _ = jax.lax.scan(
          accumulate, (jnp.zeros((), jnp.float32), zeros, state.batch_stats),
          (jnp.arange(grad_accum_steps), micro))
      loss = loss / grad_accum_steps
      grads = jax.tree.map(lambda g: g / grad_accum_steps, grads)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = {"loss": loss, "grad_norm": optax.tree.norm(grads),
               "learning_rate": schedule(state.step)}
    return state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                         opt_state=opt_state), metrics

  return train_step


def make_eval_step(model: nn.Module, task: tasks.Task, inputs) -> Callable:
  """``(params, batch_stats, batch) -> (predictions, loss, weight)`` in inference mode."""

  def eval_step(params, batch_stats, batch):
    outputs = model.apply(_variables(params, batch_stats), **_model_inputs(batch, inputs),
                          train=False)
    loss, weight = task.loss(outputs, batch)
    return task.eval_predictions(outputs, batch), loss, weight

  return eval_step


# ----------------------------------------------------------------------------------
# The experiment: state, evaluation, loop.
# ----------------------------------------------------------------------------------


class Experiment:
  """Mesh, model, task(s), optimizer and jitted functions for one config.

  Multi-species configs (``config.species = ("human", "mouse")``) have one task and one
  jitted step per output head; everything else has the single head ``None``.
  """

  def __init__(self, config: ml_collections.ConfigDict, mesh=None):
    self.config = config
    self.mesh = mesh or partitioning.make_mesh(config.get("mesh_shape", (-1, 1)))
    self.model = build_model(config)
    self.heads = heads(config)
    self.tasks = {head: build_task(config, head) for head in self.heads}
    self.task = self.tasks[self.heads[0]]
    self.inputs = tuple(config.model_inputs)
    self.keys = {head: data_keys(config, task) for head, task in self.tasks.items()}
    self.rules = [tuple(r) for r in config.get("logical_axis_rules", ())]
    self.tx, self.schedule = optim.make_optimizer(
        config.optimizer, config.num_train_steps, finetune.trainable_patterns(config))
    self.batch_sharding = partitioning.batch_sharding(self.mesh)

  def _example_inputs(self, example: Mapping[str, np.ndarray]) -> dict[str, jax.Array]:
    return {k: jnp.zeros((1, *np.shape(example[k])), jnp.asarray(example[k]).dtype)
            for k in self.inputs}

  def init_fn(self, example: Mapping[str, np.ndarray]) -> Callable[[jax.Array], TrainState]:
    inputs = self._example_inputs(example)

    def init(rng) -> TrainState:
      params_rng, dropout_rng, state_rng = jax.random.split(rng, 3)
      variables = self.model.init({"params": params_rng, "dropout": dropout_rng}, **inputs,
                                  train=False)
      params = variables["params"]
      return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                        batch_stats=variables.get("batch_stats", {}),
                        opt_state=self.tx.init(params), rng=state_rng)

    return init

  def abstract_state(self, example: Mapping[str, np.ndarray]):
    """``(abstract_state, state_shardings)`` from ``jax.eval_shape`` of the init:
    shapes, dtypes and shardings, nothing computed (ahead-of-time compiles use it)."""
    boxed = jax.eval_shape(self.init_fn(example), jax.random.PRNGKey(self.config.seed))
    shardings = partitioning.logical_shardings(boxed, self.mesh, self.rules)
    # Frozen sub-trees (optax.multi_transform) leave empty MaskedNode states whose
    # sharding is a bare prefix: kept as they are.
    abstract = jax.tree.map(
        lambda x, s: x if isinstance(x, optax.MaskedNode)
        else jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
        nn.meta.unbox(boxed), shardings, is_leaf=lambda x: isinstance(x, optax.MaskedNode))
    return abstract, shardings

  def create_state(self, example: Mapping[str, np.ndarray]):
    """Jitted, sharded init. Returns ``(state, state_shardings, abstract_state)``."""
    init = self.init_fn(example)
    abstract, shardings = self.abstract_state(example)
    state = jax.jit(lambda r: nn.meta.unbox(init(r)), out_shardings=shardings)(
        jax.random.PRNGKey(self.config.seed))
    self.check_outputs(example, abstract)
    if self.config.get("init_from"):
      state = self.load_pretrained(state, shardings)
    return state, shardings, abstract

  def load_pretrained(self, state: TrainState, shardings) -> TrainState:
    """Replaces parameters with pretrained ones (``config.init_from``) for fine-tuning.

    ``init_from`` is ``"module:function"`` returning flax variables, e.g.
    ``"genereg_jax.models.spliceai:load_official_weights"`` (``init_from_kwargs`` are
    passed on). Missing or differently shaped entries are an error naming them.
    """
    module_name, _, function = self.config.init_from.partition(":")
    import importlib
    loader = getattr(importlib.import_module(module_name), function)
    variables = loader(**dict(self.config.get("init_from_kwargs", {})))
    variables = nn.meta.unbox(variables)
    params = _replace_matching(state.params, variables["params"], "params",
                               finetune.keep_patterns(self.config))
    batch_stats = _replace_matching(state.batch_stats, variables.get("batch_stats", {}),
                                    "batch_stats") if state.batch_stats else state.batch_stats
    params, batch_stats = jax.device_put((params, batch_stats),
                                         (shardings.params, shardings.batch_stats))
    logging.info("initialised parameters from %s", self.config.init_from)
    return state.replace(params=params, batch_stats=batch_stats,
                         opt_state=jax.jit(self.tx.init, out_shardings=shardings.opt_state)(
                             params))

  def check_outputs(self, example, abstract_state) -> None:
    """Fails at start-up when model outputs and targets disagree in shape."""
    inputs = self._example_inputs(example)
    outputs = jax.eval_shape(
        lambda s: self.model.apply(_variables(s.params, s.batch_stats), **inputs, train=False),
        abstract_state)
    head = self.heads[0]
    if isinstance(outputs, Mapping) and head in outputs:
      outputs = outputs[head]
    if not isinstance(outputs, Mapping) and len(self.task.target_keys) == 1:
      target = self.task.output_shape(np.shape(example[self.task.target_keys[0]]))
      if tuple(outputs.shape[1:]) != tuple(target):
        raise ValueError(
            f"model {self.config.model_name!r} outputs {tuple(outputs.shape[1:])} per example "
            f"but the dataset's {self.task.target_keys[0]!r} is {tuple(target)}; set "
            "the model's output size (e.g. --config.model.num_outputs) to match")

  def jit_train_steps(self, state_shardings) -> dict[str | None, Callable]:
    """One jitted ``(state, batch) -> (state, metrics)`` per head."""
    def jit(task):
      step = make_train_step(self.model, task, self.tx, self.schedule, self.inputs,
                             self.config.optimizer.get("grad_accum_steps", 1))
      return jax.jit(step, in_shardings=(state_shardings, self.batch_sharding),
                     out_shardings=(state_shardings, None), donate_argnums=0)
    return {head: jit(task) for head, task in self.tasks.items()}

  def jit_eval_steps(self, state_shardings) -> dict[str | None, Callable]:
    """One jitted ``(params, batch_stats, batch) -> (predictions, loss, weight)`` per head."""
    def jit(task):
      step = make_eval_step(self.model, task, self.inputs)
      return jax.jit(step, in_shardings=(state_shardings.params, state_shardings.batch_stats,
                                         self.batch_sharding))
    return {head: jit(task) for head, task in self.tasks.items()}

  def evaluate(self, eval_steps, state, split: str, head: str | None = None,
               data_source=None, max_batches: int | None = None) -> dict[str, Any]:
    """Streams one pass over ``split``; the last partial batch is padded and masked."""
    config = self.config
    head = self.heads[0] if head is None else head
    eval_step, task = eval_steps[head], self.tasks[head]
    data_source = data_source or load_split(config, split, head)
    global_size = config.get("eval_batch_size", config.batch_size)
    rows = process_batch(global_size, self.mesh)
    batch_size = rows["batch_size"]
    transforms = pipeline.dataset_transforms(dataset_name(config, head),
                                             getattr(data_source, "metadata", {}), train=False)
    loader = iter(pipeline.make_loader(data_source, keys=self.keys[head], shuffle=False,
                                       num_epochs=1, drop_remainder=False,
                                       transforms=transforms, **rows))
    # Every process steps through the same number of global batches (the eval step is
    # collective); one whose rows of the last batch are empty sends a masked filler.
    batches = -(-len(data_source) // global_size)
    if max_batches is not None:
      batches = min(batches, max_batches)
    accumulator, loss = task.new_metrics(), 0.0
    loss_weight = 0.0
    filler = None
    for _ in range(batches):
      local = next(loader, None)
      if local is None:
        filler = filler or _filler_batch(data_source, self.keys[head], transforms)
        local, count = filler, 0
      else:
        filler, count = local, len(next(iter(local.values())))
      padded = {k: np.concatenate([v[:count], np.repeat(v[-1:], batch_size - count, 0)])
                if count < batch_size else v for k, v in local.items()}
      padded["example_mask"] = (np.arange(batch_size) < count).astype(np.float32)
      batch = partitioning.global_batch(padded, self.mesh)
      predictions, batch_loss, weight = eval_step(state.params, state.batch_stats, batch)
      host = partitioning.to_host({"predictions": predictions,
                                   **{k: batch[k] for k in (*task.target_keys,
                                                            "example_mask")}})
      keep = host.pop("example_mask") > 0
      predictions = jax.tree.map(lambda x: x[keep], host.pop("predictions"))
      accumulator.update(predictions, {k: v[keep] for k, v in host.items()})
      loss += float(batch_loss) * float(weight)
      loss_weight += float(weight)
    results = dict(accumulator.compute())
    results["loss"] = loss / max(loss_weight, 1e-12)
    return results


def _filler_batch(data_source, keys, transforms) -> dict[str, np.ndarray]:
  """A one-row batch shaped like the loader's (record 0), to be fully masked."""
  example = {k: np.asarray(v) for k, v in data_source[0].items() if k in keys}
  for transform in transforms:
    example = transform.map(example)
  return {k: np.asarray(v)[None] for k, v in example.items()}


def _replace_matching(current: Any, pretrained: Mapping[str, Any], what: str,
                      keep: tuple[str, ...] = ()) -> Any:
  """``pretrained`` in the structure of ``current``; errors name every mismatch.

  Entries matching a ``keep`` pattern (a new head, adapters) that the pretrained tree
  lacks keep their current values.
  """
  flat_current = flax.traverse_util.flatten_dict(current, sep="/")
  flat_pretrained = flax.traverse_util.flatten_dict(dict(pretrained), sep="/")
  flat_pretrained.update({k: v for k, v in flat_current.items() if k not in flat_pretrained
                          and any(re.search(p, k) for p in keep)})
  missing = sorted(set(flat_current) - set(flat_pretrained))
  unexpected = sorted(set(flat_pretrained) - set(flat_current))
  shapes = sorted(k for k in set(flat_current) & set(flat_pretrained)
                  if np.shape(flat_current[k]) != np.shape(flat_pretrained[k]))
  if missing or unexpected or shapes:
    raise ValueError(f"pretrained {what} do not match the model: missing {missing[:10]}, "
                     f"unexpected {unexpected[:10]}, different shapes {shapes[:10]}")
  return flax.traverse_util.unflatten_dict(
      {k: jnp.asarray(flat_pretrained[k], np.asarray(v).dtype if hasattr(v, "dtype") else None)
       for k, v in flat_current.items()}, sep="/")


@jax.jit
def _all_finite(tree) -> jax.Array:
  return jnp.all(jnp.stack([jnp.isfinite(x).all() for x in jax.tree.leaves(tree)]))


def _scalars(results: Mapping[str, Any]) -> dict[str, float]:
  return {k: float(v) for k, v in results.items() if np.ndim(v) == 0}


class _Interrupted:
  """Turns SIGTERM (preemption) into a flag checked once per step.

  With several processes the signal may reach them at different steps, or reach one,
  while a save needs all of them: JAX's preemption service (started by
  ``jax.distributed.initialize``) catches SIGTERM instead, and `check` agrees with the
  other processes on the step at which all of them save and stop.
  """

  def __init__(self):
    self.requested = False
    self._previous = None
    self._synced = jax.process_count() > 1

  def check(self, step: int) -> bool:
    if self._synced and not self.requested:
      from jax.experimental import multihost_utils
      try:
        self.requested = multihost_utils.reached_preemption_sync_point(step)
      except RuntimeError:  # jax_enable_preemption_service is off: SIGTERM just ends it.
        self._synced = False
    return self.requested

  def __enter__(self):
    if self._synced:
      return self
    try:
      self._previous = signal.signal(signal.SIGTERM, self._handle)
    except ValueError:  # Not the main thread: no signal handling.
      self._previous = None
    return self

  def _handle(self, signum, frame):
    logging.warning("SIGTERM received: saving a checkpoint and exiting")
    self.requested = True

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)


def _train_sources(config: ml_collections.ConfigDict,
                   experiment: Experiment) -> dict[str | None, Any]:
  """Each head's train split; its dataset metadata (label names, tracks) goes to the task."""
  sources = {head: load_split(config, config.train_split, head) for head in experiment.heads}
  for head, source in sources.items():
    experiment.tasks[head].use_dataset_metadata(source.metadata)
  return sources


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       on_eval: Callable[[int, dict[str, float]], None] | None = None
                       ) -> dict[str, Any]:
  """Trains ``config`` in ``workdir`` (resuming if it has checkpoints); final metrics.

  Multi-species configs alternate heads step by step (Enformer's human/mouse recipe),
  each from its own dataset stream; metrics are reported per head. The config is
  checked before anything is written; the workdir is locked for the whole run and must
  have been trained with the same config (or ``config.allow_config_change``).
  ``on_eval(step, {"<split>/<metric>": value})`` is called after each evaluation and its
  checkpoint (sweeps report to their pruner); an exception it raises stops the run.
  """
  validate.check_config(config)
  # Each process of a multi-process run holds its own lock file in the shared workdir.
  with workdir_lib.WorkdirLock(workdir, jax.process_index()):
    workdir_lib.check_same_config(workdir, config,
                                  allow_change=config.get("allow_config_change", False))
    if config.get("meta"):  # Reptile / prototypical episodes (train/meta.py).
      if on_eval is not None:
        raise ValueError("on_eval is not supported for meta-learning configs")
      from genereg_jax.train import meta
      return meta.train_locked(config, workdir)
    return _train_locked(config, workdir, on_eval)


def _resume(config, checkpointer: checkpointing.Checkpointer, abstract, workdir: str):
  """``(state, data_state)`` of the newest checkpoint, or of ``config.restore_step``.

  Going back to ``restore_step`` deletes the later (e.g. diverged) checkpoints, which the
  replayed steps replace. None when there is nothing to resume.
  """
  steps = checkpointer.all_steps()
  step = config.get("restore_step")
  if step is None:
    if not steps:
      return None
    step = steps[-1]
  elif step not in steps:
    raise FileNotFoundError(f"restore_step={step} is not a checkpoint in "
                            f"{os.path.join(workdir, 'checkpoints')}; kept steps: {steps}")
  state, data_state, _ = checkpointer.restore(abstract, step=step)
  dropped = checkpointer.delete_after(step)
  if dropped:
    logging.warning("restore_step=%d: deleted the later checkpoints %s", step, dropped)
  logging.info("resumed from step %d in %s", step, workdir)
  return state, data_state


def _train_locked(config: ml_collections.ConfigDict, workdir: str,
                  on_eval: Callable[[int, dict[str, float]], None] | None = None
                  ) -> dict[str, Any]:
  config_json = config.to_json_best_effort(indent=2, sort_keys=True)
  experiment = Experiment(config)
  train_sources = _train_sources(config, experiment)
  state, shardings, abstract = experiment.create_state(train_sources[experiment.heads[0]][0])
  train_steps = experiment.jit_train_steps(shardings)
  eval_steps = experiment.jit_eval_steps(shardings)
  best_split = validate.best_metric_split(config)
  if config.get("best_metric") and best_split in config.eval_splits:
    # One batch tells the metric names: a best_metric typo fails now, not at the first
    # evaluation, and before anything is written.
    validate.check_best_metric(config, validate.scalar_names(
        _one_batch_per_head(experiment, eval_steps, state, best_split)))

  def make_iterator(head):
    augmentation = pipeline.Augmentation(
        reverse_complement=config.augment.get("reverse_complement", False),
        max_shift=config.augment.get("max_shift", 0),
        sequence_key=config.model_inputs[0],
        reverse_complement_targets=experiment.tasks[head].reverse_complement_targets)
    return iter(pipeline.make_loader(
        train_sources[head], **process_batch(config.batch_size, experiment.mesh),
        keys=experiment.keys[head], seed=config.seed, shuffle=True, num_epochs=None,
        augmentation=augmentation, worker_count=config.get("data_workers", 0),
        transforms=pipeline.dataset_transforms(dataset_name(config, head),
                                               train_sources[head].metadata, train=True)))

  iterators = {head: make_iterator(head) for head in experiment.heads}
  stream_name = lambda head: head or "default"

  checkpointer = finetune.make_checkpointer(
      config, workdir, keep=config.get("keep_checkpoints", 3),
      best_metric=config.get("best_metric"), best_mode=config.get("best_mode", "max"))
  finetune.attach_base(checkpointer, state.params)  # Before the first step donates it.
  try:
    resumed = _resume(config, checkpointer, abstract, workdir)
  except BaseException:
    checkpointer.close()
    raise
  if resumed is not None:
    state, data_state = resumed
    for head, iterator in iterators.items():
      iterator.set_state(json.dumps(data_state[stream_name(head)]).encode())
  # Only now, with the state restored against it, does the config describe the workdir.
  if jax.process_index() == 0:
    workdir_lib.write_config(workdir, config)

  start_step, total = int(state.step), config.num_train_steps
  writer = reporting.MetricWriter(workdir, resume_step=start_step)
  log_every = config.get("log_every_steps", 50)
  progress = reporting.Progress(total, start_step, config.batch_size, log_every,
                                config.get("log_every_seconds", 30.0))
  eval_every = config.get("eval_every_steps", 0)
  save_every = config.get("checkpoint_every_steps", 0)
  max_eval_batches = config.get("max_eval_batches")
  last_saved = checkpointer.latest_step()
  checkpoint_dir = os.path.join(workdir, "checkpoints")

  def kept_message() -> str:
    if last_saved is None:
      return (f"No checkpoint was saved yet (checkpoint_every_steps={save_every}); nothing "
              "is lost but these steps.")
    earlier = [s for s in checkpointer.all_steps() if s < last_saved]
    return (f"The last good checkpoint (step {last_saved}) is kept in {checkpoint_dir}"
            + (f"; to go back further relaunch with --config.restore_step=<one of {earlier}>"
               if earlier else "") + ".")

  def non_finite(what: str, value: float, step: int) -> NonFiniteLossError:
    return NonFiniteLossError(
        f"{what} is {value} at step {step}; stopping. {kept_message()} Lower the learning "
        "rate (--config.optimizer.learning_rate), enable clipping "
        "(--config.optimizer.clip_norm) or check the data, then relaunch to resume.")

  def save(step, with_best_metrics=None):
    nonlocal last_saved
    if not bool(_all_finite(state.params)):
      raise non_finite("a parameter", "NaN/Inf", step)
    data_state = {stream_name(head): json.loads(it.get_state().decode())
                  for head, it in iterators.items()}
    # Best first: if the run dies between the two saves, it resumes before this step and
    # evaluates it again instead of never considering it for best/.
    if with_best_metrics:
      checkpointer.save_best(step, state, data_state, config_json, with_best_metrics)
    checkpointer.save(step, state, data_state, config_json)
    last_saved = step

  def check_finite(step, metrics) -> dict[str, float]:
    values = {k: float(v) for k, v in jax.device_get(metrics).items()}
    for name in ("loss", "grad_norm"):
      if not np.isfinite(values[name]):
        raise non_finite(f"the training {name}", values[name], step)
    return values

  def evaluate_all(step, splits, max_batches=None) -> dict[str, Any]:
    results_by_name = {}
    for split in splits:
      for head in experiment.heads:
        name = f"{split}/{head}" if head else split
        results = experiment.evaluate(eval_steps, state, split, head,
                                      max_batches=max_batches)
        writer.write(step, name, _scalars(results))
        logging.info("eval %s at step %d: %s", name, step, _format(results))
        if not np.isfinite(results["loss"]):
          raise non_finite(f"the evaluation loss on {name}", results["loss"], step)
        results_by_name[name] = results
    return results_by_name

  def timed(function, *args, **kwargs):
    """``function(...)`` with its time left out of the training rate."""
    begin = time.perf_counter()
    try:
      return function(*args, **kwargs)
    finally:
      progress.exclude(time.perf_counter() - begin)

  final: dict[str, Any] = {}
  pending = None  # (step, metrics) of the previous step, checked one step late.
  train_time = time.perf_counter()
  try:
    # Each head's first step compiles it; the rate counts from after the last of them.
    warmup = set(range(start_step + 1, start_step + 1 + len(experiment.heads)))
    with _Interrupted() as interrupted:
      for step in range(start_step + 1, total + 1):
        head = experiment.heads[(step - 1) % len(experiment.heads)]
        batch = partitioning.global_batch(next(iterators[head]), experiment.mesh)
        if step in warmup:
          logging.info("compiling the train step%s...", f" ({head})" if head else "")
          begin = time.perf_counter()
        state, metrics = train_steps[head](state, batch)
        interrupted.check(step)
        if step in warmup:
          jax.block_until_ready(metrics)
          logging.info("compiled and ran step %d in %s", step,
                       reporting.format_duration(time.perf_counter() - begin))
          if step == max(warmup):
            progress.start_rate(step)
        if pending is not None:
          check_finite(*pending)
        pending = (step, metrics)
        eval_now = eval_every and step % eval_every == 0
        save_now = (save_every and step % save_every == 0) or step == total or eval_now
        log_now = step == start_step + 1 or step == total or progress.due(step)
        if log_now or save_now or interrupted.requested:
          values = check_finite(step, metrics)
          pending = None
          if log_now:
            progress.line(step, values)
          # metrics.jsonl keeps the config's cadence; the extra lines are for the console.
          if step % log_every == 0 or step == total:
            writer.write(step, "train", {**values, **progress.rate(step),
                                         **({f"{head}/loss": values["loss"]} if head else {})})
        best_metrics = None
        if eval_now or step == total:
          evaluated = timed(evaluate_all, step, config.eval_splits, max_eval_batches)
          best_metrics = {f"{name}/{k}": v for name, results in evaluated.items()
                          for k, v in _scalars(results).items()}
          if step == total:
            final.update(evaluated)
        if save_now or interrupted.requested:
          timed(save, step, best_metrics)
        if best_metrics and on_eval is not None:  # After the save: a stop here loses nothing.
          timed(on_eval, step, best_metrics)
        if interrupted.requested:
          logging.info("saved step %d; exiting after SIGTERM", step)
          break
      else:
        final.update(evaluate_all(int(state.step), config.get("final_eval_splits", ())))
      if pending is not None:
        check_finite(*pending)
  finally:
    writer.close()
    checkpointer.close()
  logging.info("trained steps %d-%d in %s", start_step, int(state.step),
               reporting.format_duration(time.perf_counter() - train_time))
  if final and jax.process_index() == 0:
    # Merged: a relaunch of a finished run evaluates only the final splits again.
    workdir_lib.merge_final_metrics(workdir, {s: _scalars(r) for s, r in final.items()})
  return final


def _one_batch_per_head(experiment: Experiment, eval_steps, state, split: str
                        ) -> dict[str, Any]:
  """One batch of ``split`` per head, keyed like the evaluation rows (for metric names)."""
  return {(f"{split}/{head}" if head else split):
          experiment.evaluate(eval_steps, state, split, head, max_batches=1)
          for head in experiment.heads}


def _format(results: Mapping[str, Any]) -> str:
  return " ".join(f"{k} {v:.4f}" for k, v in _scalars(results).items())


def restore_for_eval(config: ml_collections.ConfigDict, workdir: str, which: str = "latest",
                     step: int | None = None, mesh=None):
  """``(experiment, state, eval_steps)`` from a workdir's latest or best checkpoint.

  ``config`` must describe the model the workdir trained (`workdir.MODEL_FIELDS`, unless
  ``config.allow_config_change``); a missing checkpoint is reported before anything is
  built. Nothing is written to the workdir. ``mesh`` (default: every device) places the
  state, e.g. on one process's own devices for independent work per process.
  """
  workdir_lib.check_same_config(workdir, config, what="evaluate",
                                allow_change=config.get("allow_config_change", False),
                                fields=workdir_lib.MODEL_FIELDS)
  checkpointer = finetune.make_checkpointer(config, workdir,
                                           best_metric=config.get("best_metric"),
                                           best_mode=config.get("best_mode", "max"),
                                           read_only=True)
  try:
    checkpointer.check_exists(which, step)
    experiment = Experiment(config, mesh)
    train_sources = _train_sources(config, experiment)
    initial, shardings, abstract = experiment.create_state(
        train_sources[experiment.heads[0]][0])
    finetune.attach_base(checkpointer, initial.params)
    state, _, _ = checkpointer.restore(abstract, step=step, which=which)
  finally:
    checkpointer.close()
  return experiment, state, experiment.jit_eval_steps(shardings)


def evaluate_checkpoint(config: ml_collections.ConfigDict, workdir: str, split: str,
                        which: str = "latest", step: int | None = None
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
  """Metrics of a checkpoint on ``split`` and the record `evaluate` writes (JSON-ready)."""
  experiment, state, eval_steps = restore_for_eval(config, workdir, which, step)
  if len(experiment.heads) == 1:
    results = experiment.evaluate(eval_steps, state, split)
  else:  # One result per species head, keys prefixed "<head>/".
    results = {f"{head}/{k}": v for head in experiment.heads
               for k, v in experiment.evaluate(eval_steps, state, split, head).items()}
  scalars = {"step": int(state.step), "checkpoint": which, **_scalars(results)}
  per_label = {k: np.asarray(v).tolist() for k, v in results.items() if np.ndim(v) == 1}
  label_names = getattr(experiment.task, "label_names", ())
  if per_label and label_names and len(experiment.heads) == 1:
    per_label["label_names"] = list(label_names)
  return results, {**scalars, **per_label}


def evaluate(config: ml_collections.ConfigDict, workdir: str, split: str,
             which: str = "latest", step: int | None = None,
             out: str | None = None) -> dict[str, Any]:
  """Metrics of a checkpoint on ``split``; also written to ``out`` (default
  ``workdir/eval_<split>.json``)."""
  results, record = evaluate_checkpoint(config, workdir, split, which, step)
  if jax.process_index() == 0:
    files.write_json(out or os.path.join(workdir, f"eval_{split}.json"), record)
  return results
