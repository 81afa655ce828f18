"""Beluga, the chromatin model of ExPecto (Zhou et al., Nature Genetics 2018).

The DeepSEA successor that ExPecto scans along ±20 kb of every TSS: a 2,000 bp one-hot
window in, 2,002 chromatin profiles (TF binding, histone marks, DNase) out. Layer order
and shapes follow the ``Beluga`` class of FunctionLab/ExPecto ``chromatin.py`` (weights
``deepsea.beluga.pth``) exactly:

  tower   3 blocks of conv(8) → ReLU → conv(8) → ReLU → dropout → max-pool:
          (320, 320) dropout 0.2 pool 4 · (480, 480) dropout 0.2 pool 4 ·
          (640, 640) dropout 0.5, no pool; 'valid' convolutions, so 2,000 bp →
          1,993 → 1,986 → 496 → 489 → 482 → 120 → 113 → 106 positions
  trunk   flatten (106 × 640 = 67,840) → dense 2,003 → ReLU
  head    dense 2,002 (logits; the reference ends in a sigmoid, which the
          ``multilabel_binary`` task and `genereg_jax.expecto` apply)

There is no dropout between the two dense layers. `convert_state_dict` maps the
reference's PyTorch state dict (``model.0.{0,2,6,8,12,14}`` convolutions,
``model.1.2.1`` and ``model.1.4.1`` linear layers) onto these parameters, including the
two layout differences: the reference one-hot order is A, G, C, T (ours A, C, G, T) and
it flattens channels-first (ours positions-first).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from genereg_jax import nn as gnn

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Seconds on a CPU: 200 bp inputs (200 → 193 → 186 → 93 → 86 → 79 → 39 → 32 → 25).
    "tiny": dict(block_features=((16, 16), (16, 16), (16, 16)), pool_sizes=(2, 2, 1),
                 dense_features=32, num_outputs=12),
}

# Reference one-hot rows are A, G, C, T: our channel c reads reference row _AGCT[c].
_AGCT = np.array([0, 2, 1, 3])


class Beluga(nn.Module):
  """Beluga: ``[batch, 2000, 4]`` one-hot → ``[batch, 2002]`` chromatin logits."""
  block_features: Sequence[Sequence[int]] = ((320, 320), (480, 480), (640, 640))
  kernel_size: int = 8
  pool_sizes: Sequence[int] = (4, 4, 1)
  dropout_rates: Sequence[float] = (0.2, 0.2, 0.5)
  dense_features: int = 2003
  num_outputs: int = 2002
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = sequence.astype(self.dtype)
    index = 0
    for features, pool, rate in zip(self.block_features, self.pool_sizes, self.dropout_rates):
      for width in features:
        x = nn.relu(gnn.conv(width, self.kernel_size, padding="VALID", dtype=self.dtype,
                             name=f"conv_{index}")(x))
        index += 1
      # Dropout before pooling, as in the reference Sequential.
      x = nn.Dropout(rate, deterministic=not train)(x)
      if pool > 1:
        x = nn.max_pool(x, (pool,), strides=(pool,), padding="VALID")
    x = x.reshape(x.shape[0], -1)
    x = nn.relu(gnn.dense(self.dense_features, dtype=self.dtype, name="hidden")(x))
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = Beluga

# Reference Sequential indices of the six convolutions and the two linear layers.
_CONV_KEYS = ("model.0.0", "model.0.2", "model.0.6", "model.0.8", "model.0.12", "model.0.14")
_DENSE_KEYS = {"hidden": "model.1.2.1", "output": "model.1.4.1"}
_PARAM_KEYS = tuple(f"{layer}.{part}" for layer in (*_CONV_KEYS, *_DENSE_KEYS.values())
                    for part in ("weight", "bias"))


def convert_state_dict(state_dict: Mapping[str, Any]) -> dict[str, Any]:
  """Flax ``params`` for `Beluga` from the reference PyTorch state dict.

  Args:
    state_dict: ``{name: array}`` (NumPy arrays, or CPU tensors via ``np.asarray``) in
      the layout of ExPecto's ``Beluga`` (``Conv2d`` weights ``[out, in, 1, 8]``,
      ``Linear`` weights ``[out, in]``).

  Returns:
    ``{"conv_0".."conv_5", "hidden", "output"}`` parameters, float32; the first
    convolution's input channels reordered from A, G, C, T to A, C, G, T, and the first
    dense kernel's rows from channels-first to positions-first flattening.

  Raises:
    ValueError: a missing or unconverted key, or shapes that do not chain.
  """
  sd = {k: np.asarray(v, np.float32) for k, v in state_dict.items()}
  if missing := [k for k in _PARAM_KEYS if k not in sd]:
    raise ValueError(f"not a Beluga state dict: missing {missing}")
  params = {}
  for index, key in enumerate(_CONV_KEYS):
    weight = sd[f"{key}.weight"]
    if weight.ndim != 4 or weight.shape[2] != 1:
      raise ValueError(f"{key}.weight: expected Conv2d [out, in, 1, width], got {weight.shape}")
    kernel = weight[:, :, 0, :].transpose(2, 1, 0)  # [width, in, out]
    if index == 0:
      kernel = kernel[:, _AGCT, :]
    params[f"conv_{index}"] = {"kernel": kernel, "bias": sd[f"{key}.bias"]}
  channels = params["conv_5"]["kernel"].shape[-1]
  hidden = sd[f"{_DENSE_KEYS['hidden']}.weight"]
  if hidden.shape[1] % channels:
    raise ValueError(f"{_DENSE_KEYS['hidden']}.weight has {hidden.shape[1]} inputs, not a "
                     f"multiple of the last convolution's {channels} channels")
  positions = hidden.shape[1] // channels
  # Reference flattens [channels, positions]; ours [positions, channels].
  hidden = hidden.reshape(-1, channels, positions).transpose(2, 1, 0).reshape(
      positions * channels, -1)
  params["hidden"] = {"kernel": hidden, "bias": sd[f"{_DENSE_KEYS['hidden']}.bias"]}
  params["output"] = {"kernel": sd[f"{_DENSE_KEYS['output']}.weight"].T,
                      "bias": sd[f"{_DENSE_KEYS['output']}.bias"]}
  if leftover := sorted(set(sd) - set(_PARAM_KEYS)):
    raise ValueError(f"unconverted Beluga keys: {leftover}")
  return params


def config_from_state_dict(state_dict: Mapping[str, Any], input_length: int = 2000
                           ) -> dict[str, Any]:
  """`Beluga` fields fixed by the reference state dict's shapes and ``input_length``.

  Widths come from the weights; the pool size of the first two blocks is the one of
  4 (published), 3, 2, 1 whose flattened trunk matches the first linear layer's inputs.
  """
  widths = [int(np.shape(state_dict[f"{k}.weight"])[0]) for k in _CONV_KEYS]
  kernel = int(np.shape(state_dict[f"{_CONV_KEYS[0]}.weight"])[-1])
  flat = int(np.shape(state_dict[f"{_DENSE_KEYS['hidden']}.weight"])[1])
  for pool in (4, 3, 2, 1):
    positions = input_length
    for block_pool in (pool, pool, 1):
      positions = (positions - 2 * (kernel - 1)) // block_pool
    if positions > 0 and positions * widths[-1] == flat:
      break
  else:
    raise ValueError(f"no pool size fits {input_length} bp inputs to the first linear "
                     f"layer's {flat} inputs")
  return dict(block_features=tuple(tuple(widths[i:i + 2]) for i in range(0, 6, 2)),
              kernel_size=kernel, pool_sizes=(pool, pool, 1),
              dense_features=int(np.shape(state_dict[f"{_DENSE_KEYS['hidden']}.weight"])[0]),
              num_outputs=int(np.shape(state_dict[f"{_DENSE_KEYS['output']}.weight"])[0]))


def load_state_dict(path: str, input_length: int = 2000) -> tuple[Beluga, dict[str, Any]]:
  """``(model, params)`` from an ``.npz`` of the reference state dict's arrays.

  (Save one from PyTorch with ``np.savez(path, **{k: v.numpy() for k, v in
  torch.load("deepsea.beluga.pth").items()})``; the package itself never imports torch.)
  """
  with np.load(path) as data:
    sd = {k: data[k] for k in data.files}
  return Beluga(**config_from_state_dict(sd, input_length)), convert_state_dict(sd)
