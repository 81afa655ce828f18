"""Parameter-efficient adapters for any model: LoRA (Hu et al. 2021), DoRA (Liu et al. 2024)
and IA3 (Liu et al. 2022).

``Adapted(base, kind=..., targets=...)`` wraps any Flax module of the registry (a
language model, Basset, Enformer ...) without touching its code: while the base runs,
a method interceptor (``flax.linen.intercept_methods``) catches every ``nn.Dense``,
``nn.DenseGeneral`` and ``nn.Conv`` call whose module path ("encoder/layer_0/
attention/query", "conv_tower/0/conv" ...) matches one of ``targets`` (regular
expressions, ``re.search``) and adds the adapter there. The wrapper shares the base's
scope (``nn.share_scope``), so the base's parameters keep their paths and a pretrained
tree loads unchanged; the adapter's own parameters are new leaves beside the kernel
they adapt:

* **LoRA** (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022,
  Sec. 4.1): ``h = W0 x + (alpha / r) B A x`` with ``A`` ``[fan_in, r]`` drawn from a
  Gaussian (std ``fan_in**-0.5``) and ``B`` ``[r, fan_out]`` zero, so the adapted model
  starts equal to the base; dropout on the adapter's input (as loralib's
  ``lora_dropout``). Leaves ``lora_a``, ``lora_b``. A Dense layer computes the factored
  product (``2 r`` multiply-adds per input-output pair); a convolution applies the
  delta kernel ``(alpha / r) (A B)`` reshaped to the kernel's shape with the layer's own
  strides, padding and dilation (one extra convolution).
* **DoRA** (Liu et al., "DoRA: Weight-Decomposed Low-Rank Adaptation", ICML 2024,
  Sec. 4): the adapted kernel ``W0 + (alpha / r) A B`` is split into a direction, each
  output unit's column divided by its norm over the inputs, and a learned magnitude
  per output unit, ``W = m * (W0 + (alpha / r) A B) / ||W0 + (alpha / r) A B||``. The
  norm is treated as a constant in the backward pass (the paper's Sec. 4.3, as PEFT's
  ``use_dora``); dropout acts on the low-rank branch only, as PEFT's. The magnitude is
  stored relative to the base's column norms, ``m = g * ||W0||`` with ``g``
  (``dora_magnitude``) starting at ones, so the adapted model starts equal to whatever
  base is loaded after initialisation (the paper starts ``m`` at ``||W0||``: the same
  start). Leaves ``lora_a``, ``lora_b``, ``dora_magnitude``.
* **IA3** (Liu et al., "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper
  than In-Context Learning", NeurIPS 2022, Sec. 3.3): learned vectors that rescale the
  keys and values (``targets``: the layer's output times ``ia3_scale``, one per output
  feature) and the feed-forward's inner activation (``input_targets``: the input of the
  FFN's second layer times ``ia3_input_scale``), all initialised to ones.

``merge`` folds the adapters into the kernels (LoRA: ``W0 + (alpha / r) A B``; IA3:
columns or rows scaled) and returns variables for the bare base: the same outputs with
no adapter cost at inference. ``TRAINABLE`` matches the adapter leaves for the
optimizer's mask (``genereg_jax.train.optim``), so only they (and a new head) are
trained and hold optimizer state.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp

KINDS = ("lora", "dora", "ia3")
#: Regular expression matching every adapter parameter's path (for optimizer masks).
TRAINABLE = r"(^|/)(lora_a|lora_b|dora_magnitude|ia3_scale|ia3_input_scale)$"
_ADAPTER_LEAVES = ("lora_a", "lora_b", "dora_magnitude", "ia3_scale", "ia3_input_scale")
_ADAPTABLE = (nn.Dense, nn.DenseGeneral, nn.Conv)


def _input_axes(module: nn.Module, kernel: jax.Array) -> int:
  """How many leading kernel axes are contracted with the input."""
  if isinstance(module, nn.Dense):
    return 1
  if isinstance(module, nn.DenseGeneral):
    if module.batch_dims:
      raise ValueError(f"adapters do not support DenseGeneral batch_dims ({module.path})")
    axis = module.axis if isinstance(module.axis, Sequence) else (module.axis,)
    return len(axis)
  return kernel.ndim - 1  # Convolutions: window..., in / groups -> out.


def _trailing_axes(module: nn.Module, x: jax.Array, n_in: int) -> bool:
  """True for Dense layers that contract the last ``n_in`` axes of ``x`` (the factored
  LoRA path applies)."""
  if isinstance(module, nn.Dense):
    return True
  if not isinstance(module, nn.DenseGeneral):
    return False
  axis = module.axis if isinstance(module.axis, Sequence) else (module.axis,)
  return sorted(a % x.ndim for a in axis) == list(range(x.ndim - n_in, x.ndim))


class Adapted(nn.Module):
  """``base`` with LoRA or IA3 adapters on the layers whose path matches ``targets``.

  Attributes:
    base: any Flax module; called with the wrapper's arguments.
    kind: ``"lora"``, ``"dora"`` or ``"ia3"``.
    targets: regular expressions on ``"/"``-joined module paths. LoRA / DoRA: layers
      that get a low-rank update (Hu et al.: the attention query and value). IA3: layers
      whose output is rescaled (Liu et al.: keys and values).
    input_targets: IA3 only: layers whose input is rescaled (the FFN's second layer, so
      its inner activation is).
    rank: LoRA / DoRA rank ``r``.
    alpha: LoRA / DoRA scale numerator; updates are scaled by ``alpha / rank``.
    dropout_rate: dropout on the low-rank branch's input when training.
  """
  base: nn.Module
  kind: str = "lora"
  targets: tuple[str, ...] = ()
  input_targets: tuple[str, ...] = ()
  rank: int = 8
  alpha: float = 16.0
  dropout_rate: float = 0.0

  def setup(self):
    if self.kind not in KINDS:
      raise ValueError(f"unknown adapter kind {self.kind!r}; valid: {list(KINDS)}")
    if not self.targets and not self.input_targets:
      raise ValueError("adapters need at least one target pattern")
    if self.kind != "ia3" and self.input_targets:
      raise ValueError("input_targets are IA3's; LoRA and DoRA adapt the layers in targets")
    nn.share_scope(self, self.base)

  def __call__(self, *args, **kwargs):
    train = bool(kwargs.get("train", False))
    matched: list[str] = []

    def interceptor(next_fun, call_args, call_kwargs, context):
      module = context.module
      path = "/".join(str(p) for p in module.path)
      # Unbound clones (the conv delta below) have an empty path: never adapted.
      if (context.method_name != "__call__" or not isinstance(module, _ADAPTABLE)
          or not path):
        return next_fun(*call_args, **call_kwargs)
      as_output = any(re.search(t, path) for t in self.targets)
      as_input = any(re.search(t, path) for t in self.input_targets)
      if not (as_output or as_input):
        return next_fun(*call_args, **call_kwargs)
      matched.append(path)
      x = call_args[0]
      if self.kind == "ia3":
        return self._ia3(module, next_fun, x, call_args, call_kwargs, as_output, as_input)
      y = next_fun(*call_args, **call_kwargs)
      delta = self._lora(module, x, train).astype(y.dtype)
      if self.kind == "dora":
        return self._dora(module, y, delta)
      return y + delta

    with nn.intercept_methods(interceptor):
      outputs = self.base(*args, **kwargs)
    if not matched and self.is_initializing():
      raise ValueError(f"no Dense/Conv layer of {type(self.base).__name__} matches the "
                       f"adapter targets {list(self.targets) + list(self.input_targets)}")
    return outputs

  def _lora(self, module: nn.Module, x: jax.Array, train: bool) -> jax.Array:
    kernel = nn.meta.unbox(module.get_variable("params", "kernel"))
    n_in = _input_axes(module, kernel)
    fan_in = math.prod(kernel.shape[:n_in])
    fan_out = math.prod(kernel.shape[n_in:])
    a = module.param("lora_a", nn.initializers.normal(fan_in**-0.5), (fan_in, self.rank),
                     kernel.dtype)
    b = module.param("lora_b", nn.initializers.zeros_init(), (self.rank, fan_out),
                     kernel.dtype)
    if train and self.dropout_rate:
      keep = 1.0 - self.dropout_rate
      mask = jax.random.bernoulli(module.make_rng("dropout"), keep, x.shape)
      x = jnp.where(mask, x / keep, 0.0).astype(x.dtype)
    scale = self.alpha / self.rank
    if _trailing_axes(module, x, n_in):
      flat = x.reshape(*x.shape[:x.ndim - n_in], fan_in)
      delta = (flat @ a.astype(x.dtype)) @ (b * scale).astype(x.dtype)
      return delta.reshape(*flat.shape[:-1], *kernel.shape[n_in:])
    # A convolution: the same layer, without bias, on the delta kernel.
    delta_kernel = ((a @ b) * scale).reshape(kernel.shape)
    return module.clone(parent=None, use_bias=False).apply(
        {"params": {"kernel": delta_kernel}}, x)

  def _dora(self, module: nn.Module, y: jax.Array, delta: jax.Array) -> jax.Array:
    """DoRA's output from the base's ``y`` (bias included) and the low-rank ``delta``:
    ``(m / ||W0 + s A B||) * (x W0 + delta) + bias``."""
    kernel = nn.meta.unbox(module.get_variable("params", "kernel"))
    n_in = _input_axes(module, kernel)
    out_shape = kernel.shape[n_in:]
    gain = module.param("dora_magnitude", nn.initializers.ones_init(), out_shape,
                        jnp.float32)
    a = module.get_variable("params", "lora_a")
    b = module.get_variable("params", "lora_b")
    base_norm, norm = _column_norms(kernel, a, b, self.alpha / self.rank, n_in)
    scale = (gain * base_norm / jax.lax.stop_gradient(norm)).astype(y.dtype)
    bias = module.get_variable("params", "bias") if getattr(module, "use_bias", False) else None
    bias = 0.0 if bias is None else nn.meta.unbox(bias).astype(y.dtype)
    return scale * (y - bias + delta) + bias

  def _ia3(self, module, next_fun, x, call_args, call_kwargs, as_output, as_input):
    if as_input:
      if isinstance(module, nn.DenseGeneral) and not isinstance(module.features, int):
        raise ValueError(f"IA3 input scaling needs one output axis ({module.path})")
      scale = module.param("ia3_input_scale", nn.initializers.ones_init(), (x.shape[-1],),
                           jnp.float32)
      call_args = (x * scale.astype(x.dtype), *call_args[1:])
    y = next_fun(*call_args, **call_kwargs)
    if as_output:
      kernel = nn.meta.unbox(module.get_variable("params", "kernel"))
      scale = module.param("ia3_scale", nn.initializers.ones_init(),
                           kernel.shape[_input_axes(module, kernel):], jnp.float32)
      y = y * scale.astype(y.dtype)
    return y

  def merge(self, variables: Any) -> Any:
    """Variables for ``self.base`` with the adapters folded into the kernels."""
    return merge(variables, alpha=self.alpha if self.kind in ("lora", "dora") else None)


def _column_norms(kernel: jax.Array, a: jax.Array, b: jax.Array, scale: float,
                  n_in: int) -> tuple[jax.Array, jax.Array]:
  """Per-output-unit norms over the inputs of ``W0`` and of ``W0 + scale A B``, shaped
  as the kernel's output axes (DoRA's ``||.||_c``)."""
  fan_in = math.prod(kernel.shape[:n_in])
  w0 = kernel.reshape(fan_in, -1).astype(jnp.float32)
  adapted = w0 + (a.astype(jnp.float32) @ b.astype(jnp.float32)) * scale
  out_shape = kernel.shape[n_in:]
  return (jnp.linalg.norm(w0, axis=0).reshape(out_shape),
          jnp.linalg.norm(adapted, axis=0).reshape(out_shape))


def merge(variables: Any, alpha: float | None = None) -> Any:
  """Folds LoRA / DoRA (``alpha`` required) and IA3 leaves into their layer's kernel
  and bias.

  LoRA: ``kernel + (alpha / r) (A B)`` reshaped to the kernel; DoRA: that kernel's
  columns rescaled to ``dora_magnitude * ||W0||`` (the bias unchanged); IA3 output
  scales multiply the kernel's output columns and the bias; input scales multiply the
  kernel's input rows (the axis before the output axis).
  """
  flat = flax.traverse_util.flatten_dict(nn.meta.unbox(flax.core.unfreeze(variables)))
  modules = {k[:-1] for k in flat if k[-1] in _ADAPTER_LEAVES}
  for prefix in modules:
    get = lambda name: flat.pop(prefix + (name,), None)
    kernel = flat[prefix + ("kernel",)]
    bias = flat.get(prefix + ("bias",))
    a, b, gain = get("lora_a"), get("lora_b"), get("dora_magnitude")
    if a is not None:
      if alpha is None:
        raise ValueError("merging LoRA needs its alpha")
      scale = alpha / a.shape[-1]
      adapted = kernel + ((a @ b) * scale).reshape(kernel.shape).astype(kernel.dtype)
      if gain is not None:
        n_in = kernel.ndim - gain.ndim
        base_norm, norm = _column_norms(kernel, a, b, scale, n_in)
        adapted = adapted * (gain * base_norm / norm).astype(kernel.dtype)
      kernel = adapted
    scale = get("ia3_input_scale")
    if scale is not None:
      kernel = kernel * scale[:, None].astype(kernel.dtype)
    scale = get("ia3_scale")
    if scale is not None:
      kernel = kernel * scale.astype(kernel.dtype)
      if bias is not None:
        flat[prefix + ("bias",)] = bias * scale.astype(bias.dtype)
    flat[prefix + ("kernel",)] = kernel
  return flax.traverse_util.unflatten_dict(flat)


def is_adapter_path(path: str) -> bool:
  """Whether a ``"/"``-joined parameter path is an adapter leaf."""
  return re.search(TRAINABLE, path) is not None
