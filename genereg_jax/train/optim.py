"""Optimizers and learning-rate schedules from a config (optax)."""

from __future__ import annotations

import functools
import re
from typing import Any, Sequence

import jax
import ml_collections
import optax

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "nadam", "adamw", "radam")
SCHEDULES = ("constant", "cosine", "linear", "cosine_restarts")


def cosine_restarts_schedule(peak: float, first_period: int, period_multiplier: float,
                             total_steps: int, end: float = 0.0) -> optax.Schedule:
  """Cosine annealing with warm restarts (SGDR; Loshchilov & Hutter, ICLR 2017).

  The rate decays from ``peak`` to ``end`` over ``first_period`` steps, jumps back to
  ``peak``, and decays again over a period ``period_multiplier`` times longer, until
  ``total_steps``: PyTorch's ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)`` stepped
  every batch, as Pangolin was trained (Zeng & Li 2022).
  """
  if first_period < 1 or period_multiplier < 1:
    raise ValueError(f"need restart_steps >= 1 and restart_multiplier >= 1, got "
                     f"{first_period} and {period_multiplier}")
  schedules, boundaries, start, period = [], [], 0, float(first_period)
  while True:
    steps = max(int(round(period)), 1)
    alpha = end / peak if peak else 0.0
    schedules.append(optax.cosine_decay_schedule(peak, steps, alpha=alpha))
    start += steps
    if start >= total_steps:
      break
    boundaries.append(start)
    period *= period_multiplier
  return optax.join_schedules(schedules, boundaries) if boundaries else schedules[0]


def learning_rate_schedule(config: ml_collections.ConfigDict,
                           num_train_steps: int) -> optax.Schedule:
  """Linear warm-up from 0 over ``warmup_steps``, then constant / cosine / linear decay,
  or cosine with warm restarts every ``restart_steps`` x ``restart_multiplier``^i."""
  peak = config.learning_rate
  warmup = int(config.get("warmup_steps", 0))
  decay_steps = max(num_train_steps - warmup, 1)
  name = config.get("schedule", "constant")
  end = peak * config.get("end_learning_rate_factor", 0.0)
  if name == "constant":
    after = optax.constant_schedule(peak)
  elif name == "cosine":
    after = optax.cosine_decay_schedule(peak, decay_steps, alpha=end / peak if peak else 0.0)
  elif name == "linear":
    after = optax.linear_schedule(peak, end, decay_steps)
  elif name == "cosine_restarts":
    after = cosine_restarts_schedule(peak, int(config.restart_steps),
                                     config.get("restart_multiplier", 1.0), decay_steps, end)
  else:
    raise ValueError(f"unknown schedule {name!r}; valid: {list(SCHEDULES)}")
  if warmup <= 0:
    return after
  return optax.join_schedules([optax.linear_schedule(0.0, peak, warmup), after], [warmup])


def make_optimizer(config: ml_collections.ConfigDict, num_train_steps: int,
                   trainable: Sequence[str] = ()
                   ) -> tuple[optax.GradientTransformation, optax.Schedule]:
  """``config.name`` in sgd/adagrad/rmsprop/adam/nadam/adamw/radam with clipping.

  ``config.frozen`` lists parameter path prefixes (e.g. ``("bias",)`` for ChromBPNet's
  bias model) whose updates are zero, for fine-tuning with frozen sub-trees.
  ``config.trainable`` (and ``trainable``) are regular expressions on parameter paths:
  when given, every parameter matching none is frozen (adapters: only the LoRA/IA3
  leaves and the head train). Frozen parameters hold no optimizer state.
  ``config.learning_rate_multipliers`` (``((pattern, factor), ...)``) scales the
  updates of the matching parameters (`scale_by_path`).
  """
  schedule = learning_rate_schedule(config, num_train_steps)
  name = config.name
  kwargs: dict[str, Any] = {}
  if name == "sgd":
    tx = optax.sgd(schedule, momentum=config.get("momentum") or None,
                   nesterov=config.get("nesterov", False))
  elif name == "adagrad":
    tx = optax.adagrad(schedule, eps=config.get("eps", 1e-7))
  elif name == "rmsprop":
    tx = optax.rmsprop(schedule, decay=config.get("decay", 0.9), eps=config.get("eps", 1e-8),
                       momentum=config.get("momentum") or None)
  elif name in ("adam", "nadam", "adamw", "radam"):
    kwargs = dict(b1=config.get("b1", 0.9), b2=config.get("b2", 0.999),
                  eps=config.get("eps", 1e-8))
    if name == "adamw":
      tx = optax.adamw(schedule, weight_decay=config.get("weight_decay", 1e-4), **kwargs)
    else:
      tx = {"adam": optax.adam, "nadam": optax.nadam, "radam": optax.radam}[name](
          schedule, **kwargs)
  else:
    raise ValueError(f"unknown optimizer {name!r}; valid: {list(OPTIMIZERS)}")
  chain = []
  frozen = tuple(config.get("frozen", ()))
  trainable = tuple(config.get("trainable", ())) + tuple(trainable)
  if config.get("clip_norm"):
    chain.append(optax.clip_by_global_norm(config.clip_norm))
  if config.get("weight_decay") and name != "adamw":
    chain.append(optax.add_decayed_weights(config.weight_decay))
  tx = optax.chain(*chain, tx)
  multipliers = tuple(config.get("learning_rate_multipliers", ()))
  if multipliers:
    tx = optax.chain(tx, scale_by_path(multipliers))
  if frozen or trainable:
    tx = optax.multi_transform({"train": tx, "frozen": optax.set_to_zero()},
                               functools.partial(freeze_labels, frozen, trainable))
  return tx, schedule


def scale_by_path(multipliers: Sequence[tuple[str, float]]) -> optax.GradientTransformation:
  """Multiplies the updates of parameters whose path matches a regular expression (the
  first that matches): per-group learning rates, e.g. ``(("^classifier/", 10.0),)`` to
  train a new head faster than its pretrained body, as BERT fine-tuning recipes do."""
  def factor(path) -> float:
    name = "/".join(str(getattr(p, "key", p)) for p in path)
    return next((float(f) for pattern, f in multipliers if re.search(pattern, name)), 1.0)

  def scale(updates, params=None):
    del params
    return jax.tree_util.tree_map_with_path(lambda path, u: u * factor(path), updates)

  return optax.stateless(scale)


def freeze_labels(frozen: Sequence[str], trainable: Sequence[str], params: Any) -> Any:
  """``"frozen"`` for parameters under any of the ``frozen`` path prefixes (e.g. "bias")
  or, when ``trainable`` patterns are given, matching none of them; else ``"train"``."""
  def label(path, _):
    name = "/".join(str(getattr(p, "key", p)) for p in path)
    if any(name == f or name.startswith(f + "/") for f in frozen):
      return "frozen"
    if trainable and not any(re.search(t, name) for t in trainable):
      return "frozen"
    return "train"
  return jax.tree_util.tree_map_with_path(label, params)
