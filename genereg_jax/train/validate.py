"""Checks of a resolved training config, run once before anything is written.

A value that cannot work (no checkpoint kept, a negative learning rate, an accumulation
that does not divide the batch) fails here with the valid values, not at step 1 with a
reshape error or at the end with nothing saved. ``check_best_metric`` runs once the
task's metric names are known (after one evaluation batch).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from genereg_jax.train import optim


class ConfigError(ValueError):
  """A config field has a value the trainer cannot use."""


def _require(problems: list[str], ok: bool, message: str) -> None:
  if not ok:
    problems.append(message)


def _is_int(value: Any) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def check_config(config) -> None:
  """Raises ``ConfigError`` listing every invalid field of ``config`` at once."""
  problems: list[str] = []
  steps = config.get("num_train_steps")
  _require(problems, _is_int(steps) and steps > 0,
           f"num_train_steps must be an integer > 0, got {steps!r}")
  keep = config.get("keep_checkpoints", 3)
  _require(problems, _is_int(keep) and keep >= 1,
           f"keep_checkpoints must be >= 1 (the latest checkpoint is how a run resumes), "
           f"got {keep!r}")
  for name in ("batch_size", "eval_batch_size", "log_every_steps"):
    value = config.get(name, 1)
    _require(problems, _is_int(value) and value >= 1, f"{name} must be >= 1, got {value!r}")
  for name in ("eval_every_steps", "checkpoint_every_steps"):
    value = config.get(name, 0)
    _require(problems, _is_int(value) and value >= 0,
             f"{name} must be >= 0 (0 = only at the end), got {value!r}")
  optimizer = config.get("optimizer", {})
  rate = optimizer.get("learning_rate")
  _require(problems, isinstance(rate, (int, float)) and not isinstance(rate, bool)
           and rate > 0, f"optimizer.learning_rate (the schedule's peak) must be > 0, got "
           f"{rate!r}")
  _require(problems, optimizer.get("name") in optim.OPTIMIZERS,
           f"optimizer.name {optimizer.get('name')!r} is not one of {list(optim.OPTIMIZERS)}")
  schedule = optimizer.get("schedule", "constant")
  _require(problems, schedule in optim.SCHEDULES,
           f"optimizer.schedule {schedule!r} is not one of {list(optim.SCHEDULES)}")
  warmup = optimizer.get("warmup_steps", 0)
  _require(problems, _is_int(warmup) and warmup >= 0,
           f"optimizer.warmup_steps must be >= 0, got {warmup!r}")
  accumulation = optimizer.get("grad_accum_steps", 1)
  batch = config.get("batch_size")
  if not (_is_int(accumulation) and accumulation >= 1):
    problems.append(f"optimizer.grad_accum_steps must be >= 1, got {accumulation!r}")
  elif _is_int(batch) and batch >= 1 and batch % accumulation:
    divisors = [d for d in range(1, batch + 1) if batch % d == 0]
    problems.append(f"optimizer.grad_accum_steps={accumulation} does not divide batch_size="
                    f"{batch} into equal micro-batches; valid: {divisors}")
  mode = config.get("best_mode", "max")
  _require(problems, mode in ("max", "min"), f"best_mode must be 'max' or 'min', got {mode!r}")
  restore = config.get("restore_step")
  _require(problems, restore is None or (_is_int(restore) and restore >= 0),
           f"restore_step must be a checkpoint step >= 0, got {restore!r}")
  if problems:
    raise ConfigError("invalid config: " + "; ".join(problems))


def best_metric_split(config) -> str | None:
  """The evaluation split ``config.best_metric`` reads (``"valid/auroc"`` -> ``"valid"``)."""
  metric = config.get("best_metric")
  return metric.split("/", 1)[0] if metric else None


def check_best_metric(config, reported: Iterable[str]) -> None:
  """Raises ``ConfigError`` when ``config.best_metric`` is not among the ``reported`` names."""
  metric, reported = config.get("best_metric"), sorted(reported)
  if metric and metric not in reported:
    raise ConfigError(f"best_metric {metric!r} is not a metric this task reports; valid: "
                      f"{', '.join(reported)}")


def scalar_names(results_by_name: Mapping[str, Mapping[str, Any]]) -> list[str]:
  """``"<split>[/<head>]/<metric>"`` of every scalar in evaluation results."""
  import numpy as np
  return [f"{name}/{k}" for name, results in results_by_name.items()
          for k, v in results.items() if np.ndim(v) == 0]
