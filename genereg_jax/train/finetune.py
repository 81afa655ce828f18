"""Fine-tuning modes of the one trainer: adapters, pretrained bases, checkpoints by reference.

A config selects the mode with three fields the trainer reads through this module:

* ``config.init_from`` / ``init_from_kwargs`` — the pretrained base, e.g.
  ``"genereg_jax.train.finetune:load_base"`` with ``path=`` a pretraining workdir (its
  orbax checkpoint) or an ``.npz`` of ``"params/a/b"`` arrays, ``drop=("lm_head",)``
  for what the fine-tuned model lacks; ``init_from_keep`` lists path patterns the base
  does not have (the new head), kept from the fresh initialisation.
* ``config.adapters`` — ``{"kind": "lora" | "ia3" | "none", "targets": [...],
  "input_targets": [...], "rank", "alpha", "dropout_rate", "train": [...]}``: the model
  is wrapped in ``genereg_jax.nn.adapters.Adapted`` and only the adapter leaves plus
  the ``train`` patterns (the head) are trained. Full fine-tuning is ``kind="none"``;
  a frozen trunk is ``optimizer.frozen`` (prefixes) or ``optimizer.trainable``.
* ``config.base_by_reference`` — checkpoints hold only the trained parameters (adapters
  and head, or whatever the optimizer does not freeze), the optimizer state and the
  base's ``init_from`` with a SHA-256 fingerprint of the frozen parameters; restoring
  loads the base again through ``init_from`` and refuses one whose fingerprint differs
  (``BaseMismatchError``). The base is stored once, where it was pretrained.

``export_merged`` folds LoRA/IA3 into the kernels and writes the bare model's variables.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Callable, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import ml_collections
import numpy as np

from genereg_jax import files
from genereg_jax.nn import adapters as adapters_lib
from genereg_jax.train import checkpointing
from genereg_jax.train import optim


class BaseMismatchError(ValueError):
  """A checkpoint stored by reference was fine-tuned from a different base."""


def _adapter_config(config: ml_collections.ConfigDict) -> Mapping[str, Any] | None:
  spec = config.get("adapters")
  if not spec or spec.get("kind", "none") in ("none", None):
    return None
  return spec


def wrap_model(config: ml_collections.ConfigDict, model: nn.Module) -> nn.Module:
  """``model`` wrapped in ``adapters.Adapted`` when ``config.adapters`` asks for one."""
  spec = _adapter_config(config)
  if spec is None:
    return model
  return adapters_lib.Adapted(
      model, kind=spec["kind"], targets=tuple(spec.get("targets", ())),
      input_targets=tuple(spec.get("input_targets", ())), rank=int(spec.get("rank", 8)),
      alpha=float(spec.get("alpha", 16.0)),
      dropout_rate=float(spec.get("dropout_rate", 0.0)))


def trainable_patterns(config: ml_collections.ConfigDict) -> tuple[str, ...]:
  """Parameter-path patterns the optimizer trains because of adapters (else none)."""
  spec = _adapter_config(config)
  if spec is None:
    return ()
  return (adapters_lib.TRAINABLE, *spec.get("train", ()))


def keep_patterns(config: ml_collections.ConfigDict) -> tuple[str, ...]:
  """Parameter-path patterns a pretrained base need not have (head, adapters)."""
  keep = tuple(config.get("init_from_keep", ()))
  return keep + ((adapters_lib.TRAINABLE,) if _adapter_config(config) else ())


def parameter_labels(config: ml_collections.ConfigDict, params: Any) -> Any:
  """``"train"`` / ``"frozen"`` per parameter, as the optimizer labels them."""
  return optim.freeze_labels(tuple(config.optimizer.get("frozen", ())),
                             tuple(config.optimizer.get("trainable", ()))
                             + trainable_patterns(config), params)


# ----------------------------------------------------------------------------------
# Pretrained bases.
# ----------------------------------------------------------------------------------


def load_base(path: str, drop: Sequence[str] = (), which: str = "latest",
              step: int | None = None) -> dict[str, Any]:
  """Flax variables of a pretrained base: a trainer workdir or an ``.npz`` file.

  Args:
    path: a workdir (``checkpoints/<step>/state`` or ``best/<step>/state``, as the
      trainer writes them) or an ``.npz`` whose keys are ``"params/a/b"`` paths
      (``save_variables``).
    drop: top-level parameter names to leave out (``"lm_head"`` of a pretraining run).
    which: ``"latest"`` or ``"best"`` checkpoint of a workdir.
    step: a specific step (default: the newest).
  """
  if os.path.isfile(path):
    with np.load(path) as data:
      variables = flax.traverse_util.unflatten_dict(
          {k: np.asarray(data[k]) for k in data.files}, sep="/")
  else:
    import orbax.checkpoint as ocp
    folder = os.path.join(os.path.abspath(path), "best" if which == "best" else "checkpoints")
    steps = sorted(int(s) for s in os.listdir(folder) if s.isdigit()) if os.path.isdir(
        folder) else []
    if not steps:
      raise FileNotFoundError(f"no checkpoint in {folder}: pretrain the base first")
    step = steps[-1] if step is None else step
    checkpointer = ocp.StandardCheckpointer()
    try:
      state = checkpointer.restore(os.path.join(folder, str(step), "state"))
    finally:
      checkpointer.close()
    variables = {"params": state["params"]}
    if state.get("batch_stats"):
      variables["batch_stats"] = state["batch_stats"]
  variables = jax.tree.map(np.asarray, variables)
  for name in drop:
    variables["params"].pop(name, None)
  return variables


def save_variables(path: str, variables: Mapping[str, Any]) -> None:
  """Writes Flax variables to an ``.npz`` of ``"params/a/b"`` arrays (``load_base``)."""
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(dict(variables)), sep="/")
  with files.atomic_path(path) as tmp:
    with open(tmp, "wb") as f:
      np.savez(f, **{k: np.asarray(v) for k, v in flat.items()})


def fingerprint(flat: Mapping[str, np.ndarray]) -> str:
  """SHA-256 over the sorted paths, dtypes, shapes and bytes of ``flat`` arrays."""
  digest = hashlib.sha256()
  for key in sorted(flat):
    value = np.ascontiguousarray(flat[key])
    digest.update(f"{key}|{value.dtype.str}|{value.shape}|".encode())
    digest.update(value.tobytes())
  return digest.hexdigest()


# ----------------------------------------------------------------------------------
# Checkpoints that store the frozen base by reference.
# ----------------------------------------------------------------------------------


def _flat(tree) -> dict[str, Any]:
  return flax.traverse_util.flatten_dict(flax.core.unfreeze(tree), sep="/")


class ReferenceCheckpointer(checkpointing.Checkpointer):
  """A ``Checkpointer`` whose states hold only the trained parameters.

  ``attach_base(params)`` (the state right after ``init_from``) records the frozen
  parameters in host memory and their fingerprint; saves drop them from the state and
  write the fingerprint and ``init_from`` beside the config; restores check the stored
  fingerprint against the attached base and put the base's parameters back.
  """

  def __init__(self, workdir: str, labels: Callable[[Any], Any],
               reference: Mapping[str, Any], **kwargs):
    super().__init__(workdir, **kwargs)
    self._labels = labels
    self._reference = dict(reference)
    self._base: dict[str, np.ndarray] | None = None
    self.fingerprint: str | None = None

  def attach_base(self, params) -> None:
    labels = _flat(self._labels(params))
    self._base = {k: np.asarray(v) for k, v in _flat(params).items()
                  if labels[k] == "frozen"}
    self.fingerprint = fingerprint(self._base)

  def _strip(self, state):
    labels = _flat(self._labels(state.params))
    kept = {k: v for k, v in _flat(state.params).items() if labels[k] == "train"}
    return state.replace(params=flax.traverse_util.unflatten_dict(kept, sep="/"))

  def _config_json(self, config_json: str) -> str:
    if self.fingerprint is None:
      raise RuntimeError("attach_base() must be called before saving by reference")
    config = json.loads(config_json)
    config["base_reference"] = {**self._reference, "fingerprint": self.fingerprint,
                                "frozen_parameters": len(self._base)}
    return json.dumps(config)

  def save(self, step, state, data_state, config_json):
    super().save(step, self._strip(state), data_state, self._config_json(config_json))

  def save_best(self, step, state, data_state, config_json, metrics):
    super().save_best(step, self._strip(state), data_state, self._config_json(config_json),
                      metrics)

  def restore(self, abstract_state, step=None, which="latest"):
    if self.fingerprint is None:
      raise RuntimeError("attach_base() must be called before restoring by reference")
    state, data, stored = super().restore(self._strip(abstract_state), step, which)
    reference = (stored or {}).get("base_reference", {})
    if reference.get("fingerprint") != self.fingerprint:
      raise BaseMismatchError(
          f"this checkpoint was fine-tuned from the base {reference.get('init_from')} "
          f"{reference.get('init_from_kwargs')} with fingerprint "
          f"{str(reference.get('fingerprint'))[:16]}..., but the config's init_from now gives "
          f"parameters with fingerprint {self.fingerprint[:16]}...: restore the base the run "
          "was fine-tuned from")
    flat = {**self._base, **_flat(state.params)}
    abstract = _flat(abstract_state.params)
    params = flax.traverse_util.unflatten_dict(
        {k: jax.device_put(v, abstract[k].sharding) if hasattr(abstract[k], "sharding")
         else v for k, v in flat.items()}, sep="/")
    return state.replace(params=params), data, stored


def by_reference(config: ml_collections.ConfigDict) -> bool:
  return bool(config.get("base_by_reference") and config.get("init_from"))


def make_checkpointer(config: ml_collections.ConfigDict, workdir: str, **kwargs
                      ) -> checkpointing.Checkpointer:
  """The trainer's checkpointer: by reference when ``config.base_by_reference``."""
  if not by_reference(config):
    return checkpointing.Checkpointer(workdir, **kwargs)
  reference = {"init_from": config.init_from,
               "init_from_kwargs": dict(config.get("init_from_kwargs", {}))}
  return ReferenceCheckpointer(workdir, lambda p: parameter_labels(config, p),
                               json.loads(json.dumps(reference, default=list)), **kwargs)


def attach_base(checkpointer: checkpointing.Checkpointer, params) -> None:
  """Gives a by-reference checkpointer the freshly loaded base (no-op otherwise)."""
  if isinstance(checkpointer, ReferenceCheckpointer):
    checkpointer.attach_base(params)


def export_merged(config: ml_collections.ConfigDict, workdir: str, out: str,
                  which: str = "latest") -> dict[str, Any]:
  """Writes the checkpoint's variables with adapters merged into the kernels (``.npz``
  for ``load_base``), for the bare model of ``config`` without ``adapters``."""
  from genereg_jax.train import trainer  # The trainer imports this module.
  experiment, state, _ = trainer.restore_for_eval(config, workdir, which)
  variables = {"params": jax.device_get(state.params)}
  if state.batch_stats:
    variables["batch_stats"] = jax.device_get(state.batch_stats)
  model = experiment.model
  if isinstance(model, adapters_lib.Adapted):
    variables = model.merge(variables)
  save_variables(out, variables)
  return variables


# ----------------------------------------------------------------------------------
# LP-FT: a linear probe as the new head's starting point.
# ----------------------------------------------------------------------------------


def linear_probe_head(features: np.ndarray, labels: np.ndarray, *, c: float = 0.05
                      ) -> tuple[np.ndarray, np.ndarray]:
  """``(kernel [features, outputs], bias [outputs])`` of a dense head fitted as a
  linear probe on frozen features: LP-FT's first stage (Kumar et al., ICLR 2022: fit the
  head on the pretrained features, then fine-tune everything, so the body is not pulled
  about by a random head's gradients while the head is still wrong).

  One L2-regularised logistic regression per binary label (scikit-learn,
  ``C = c``) on standardised features, folded back into the raw features' scale so
  the head reads the encoder's output unchanged; a label with one class among the
  examples gets a zero kernel and the logit of its (clipped) rate.
  """
  from sklearn.linear_model import LogisticRegression
  x = np.asarray(features, np.float64)
  y = np.asarray(labels).reshape(len(x), -1) > 0.5
  mean, scale = x.mean(0), x.std(0) + 1e-6
  kernel, bias = np.zeros((x.shape[1], y.shape[1])), np.zeros(y.shape[1])
  for j in range(y.shape[1]):
    if y[:, j].all() or not y[:, j].any():
      rate = np.clip(y[:, j].mean(), 1e-3, 1 - 1e-3)
      bias[j] = np.log(rate / (1 - rate))
      continue
    probe = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y[:, j])
    kernel[:, j] = probe.coef_[0] / scale
    bias[j] = probe.intercept_[0] - kernel[:, j] @ mean
  return kernel.astype(np.float32), bias.astype(np.float32)
