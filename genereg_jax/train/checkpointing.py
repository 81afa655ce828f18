"""Orbax checkpoints: train state + data-iterator state + resolved config, side by side.

Two managers: ``checkpoints/`` keeps the last k (resume reads it) and ``best/`` keeps
the best by a metric. Saves happen only after the step's loss was checked finite, so a
NaN never reaches disk. The trainer saves the best checkpoint of a step before the
latest one: a run killed in between resumes from an earlier step and reconsiders this
one, and the temporary folder a killed save leaves is removed when the managers open.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import orbax.checkpoint as ocp


class CheckpointMismatchError(ValueError):
  """A checkpoint's parameters do not have the shapes of the config's model."""


def _named_shapes(tree) -> dict[str, tuple[int, ...]]:
  import jax
  return {"/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))))
                   for k in path): tuple(leaf.shape)
          for path, leaf in jax.tree_util.tree_leaves_with_path(tree)}


def check_parameter_shapes(state_directory: str, abstract_params) -> None:
  """Raises ``CheckpointMismatchError`` naming the first differences, before a restore.

  Orbax would fail too, but from inside its reading threads, with a screenful of
  "Event loop is closed" tracebacks before the shape error.
  """
  checkpointer = ocp.StandardCheckpointer()
  try:
    stored = checkpointer.metadata(state_directory).item_metadata["params"]
  finally:
    checkpointer.close()
  stored, expected = _named_shapes(stored), _named_shapes(abstract_params)
  differences = [f"{k}: {stored.get(k, 'absent')} in the checkpoint, "
                 f"{expected.get(k, 'absent')} in the model"
                 for k in sorted(set(stored) | set(expected)) if stored.get(k) != expected.get(k)]
  if differences:
    raise CheckpointMismatchError(
        f"the checkpoint in {os.path.dirname(state_directory)} does not fit the config's "
        f"model ({len(differences)} parameters differ; {'; '.join(differences[:3])}): "
        "use the config the workdir was trained with")


class Checkpointer:
  """Saves/restores ``state``, ``data`` (grain iterator state) and ``config``."""

  ITEMS = ("state", "data", "config")

  def __init__(self, workdir: str, *, keep: int = 3, best_metric: str | None = None,
               best_mode: str = "max", read_only: bool = False):
    """``read_only``: for evaluation; creates and cleans nothing (read-only workdirs work)."""
    workdir = os.path.abspath(workdir)
    writable = dict(create=not read_only, cleanup_tmp_directories=not read_only,
                    read_only=read_only, enable_async_checkpointing=False)
    self.latest = ocp.CheckpointManager(
        os.path.join(workdir, "checkpoints"), item_names=self.ITEMS,
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, **writable))
    self.best_metric = best_metric
    self.best = None
    if best_metric:
      self.best = ocp.CheckpointManager(
          os.path.join(workdir, "best"), item_names=self.ITEMS,
          options=ocp.CheckpointManagerOptions(
              max_to_keep=1, best_fn=lambda m: m[best_metric], best_mode=best_mode,
              keep_checkpoints_without_metrics=False, **writable))

  @staticmethod
  def _args(state, data_state: Mapping[str, Any] | None, config_json: str):
    return ocp.args.Composite(state=ocp.args.StandardSave(state),
                              data=ocp.args.JsonSave(data_state or {}),
                              config=ocp.args.JsonSave(json.loads(config_json)))

  def save(self, step: int, state, data_state, config_json: str) -> None:
    # A resumed run replays steps exactly, so a step already on disk holds this state.
    if step in self.latest.all_steps():
      return
    self.latest.save(step, args=self._args(state, data_state, config_json), force=True)
    self.latest.wait_until_finished()

  def save_best(self, step: int, state, data_state, config_json: str,
                metrics: Mapping[str, float]) -> None:
    if self.best is None or self.best_metric not in metrics or step in self.best.all_steps():
      return
    self.best.save(step, args=self._args(state, data_state, config_json),
                   metrics={self.best_metric: float(metrics[self.best_metric])}, force=True)
    self.best.wait_until_finished()

  def latest_step(self, which: str = "latest") -> int | None:
    """Newest step of ``checkpoints/`` (``"latest"``) or best step of ``best/``."""
    if which == "best":
      return None if self.best is None else self.best.best_step()
    return self.latest.latest_step()

  def all_steps(self) -> list[int]:
    return sorted(self.latest.all_steps())

  def delete_after(self, step: int) -> list[int]:
    """Deletes latest checkpoints after ``step`` (resuming from an earlier one); their steps."""
    later = [s for s in self.all_steps() if s > step]
    for s in later:
      self.latest.delete(s)
    return later

  def check_exists(self, which: str = "latest", step: int | None = None) -> int:
    """The step `restore` would read; ``FileNotFoundError`` saying what exists if none."""
    manager = self.best if which == "best" else self.latest
    if manager is None:
      raise FileNotFoundError("no best checkpoint: the config sets no best_metric; use "
                              "--checkpoint=latest")
    step = self.latest_step(which) if step is None else step
    if step is None and which == "best":
      raise FileNotFoundError(
          f"no best checkpoint in {manager.directory} yet (one is saved at each evaluation "
          f"by {self.best_metric}); --checkpoint=latest restores the newest checkpoint")
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {manager.directory}: has this workdir been "
                              "trained?")
    if step not in manager.all_steps():
      raise FileNotFoundError(f"no {which} checkpoint of step {step} in {manager.directory}; "
                              f"kept steps: {sorted(manager.all_steps())}")
    return step

  def restore(self, abstract_state, step: int | None = None, which: str = "latest"):
    """Returns ``(state, data_state, config_dict)`` of ``step`` (default newest/best)."""
    step = self.check_exists(which, step)
    manager = self.best if which == "best" else self.latest
    check_parameter_shapes(os.path.join(str(manager.directory), str(step), "state"),
                           abstract_state.params)
    restored = manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state), data=ocp.args.JsonRestore(),
        config=ocp.args.JsonRestore()))
    return restored.state, restored.data, restored.config

  def close(self) -> None:
    self.latest.close()
    if self.best is not None:
      self.best.close()
