"""SpliceAI: splice-site prediction from pre-mRNA sequence (Jaganathan et al., Cell 2019).

The deep residual network of the paper's Figure 1B and Figure S1: a 1x1 stem convolution,
groups of four residual units (BN -> ReLU -> dilated conv, twice, plus identity), a 1x1
skip convolution after the stem and after every group summed into a running skip, a crop
of ``context / 2`` nucleotides on each side and a 1x1 convolution to three classes
(neither, acceptor, donor) per position.

`SpliceAITrunk` is the network without its head, which Pangolin (Zeng & Li, Genome
Biology 2022; `genereg_jax.models.pangolin`) reuses with per-tissue heads.

Presets follow the paper's four flanking-context sizes (``80nt``, ``400nt``, ``2k``,
``10k``) plus a ``tiny`` one for tests. The released SpliceAI-10k ensemble (five Keras
models shipped in the PyPI package ``spliceai``) is loaded with `load_official_weights`
and averaged by `SpliceAIEnsemble`, as the official tool does; no TensorFlow is needed.

Example:
  variables = load_official_weights()
  probs = SpliceAIEnsemble().apply(variables, one_hot)  # [batch, length - 10000, 3]
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import h5py
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.nn import cone

CLASSES = ("neither", "acceptor", "donor")
NUM_OFFICIAL_MODELS = 5

# Keras' BatchNormalization default, which the released models were trained with.
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.99
# Keras Conv1D's default initialiser (glorot_uniform), so a fresh model starts as the
# paper's did.
_KERNEL_INIT = nn.initializers.variance_scaling(1.0, "fan_avg", "uniform")

PRESETS: dict[str, dict[str, Any]] = {
    # Paper, STAR Methods "Deep learning model architecture": 4 residual units per group,
    # kernel width W and dilation rate AR per group; context = 2 * sum(AR * (W - 1)).
    "80nt": dict(kernel_sizes=(11,), dilations=(1,), units_per_group=(4,)),
    "400nt": dict(kernel_sizes=(11, 11), dilations=(1, 4), units_per_group=(4, 4)),
    "2k": dict(kernel_sizes=(11, 11, 21), dilations=(1, 4, 10),
               units_per_group=(4, 4, 4)),
    "10k": dict(kernel_sizes=(11, 11, 21, 41), dilations=(1, 4, 10, 25),
                units_per_group=(4, 4, 4, 4)),
    "tiny": dict(channels=8, kernel_sizes=(5, 5), dilations=(1, 2),
                 units_per_group=(1, 1)),
}


def spliceai_context(kernel_sizes: Sequence[int], dilations: Sequence[int],
                     units_per_group: Sequence[int]) -> int:
  """Flanking context SpliceAI crops: the receptive field minus one, in nucleotides.

  Each residual unit holds two 'same' convolutions of kernel ``W`` and dilation ``AR``,
  each widening the receptive field by ``AR * (W - 1)`` (Jaganathan et al. 2019).

  Args:
    kernel_sizes: kernel width per residual group.
    dilations: dilation rate per residual group.
    units_per_group: number of residual units per group.

  Returns:
    The total context; the model's output is that many positions shorter than its input.
  """
  if not len(kernel_sizes) == len(dilations) == len(units_per_group):
    raise ValueError(
        "kernel_sizes, dilations and units_per_group need one entry per residual group, "
        f"got {len(kernel_sizes)}, {len(dilations)} and {len(units_per_group)}.")
  return sum(2 * units * dilation * (kernel - 1) for kernel, dilation, units
             in zip(kernel_sizes, dilations, units_per_group))


def _conv(features: int, kernel_size: int, dilation: int, dtype, param_dtype,
          name: str, padding: str = "SAME") -> nn.Conv:
  return nn.Conv(
      features, (kernel_size,), kernel_dilation=(dilation,), padding=padding,
      dtype=dtype, param_dtype=param_dtype,
      kernel_init=nn.with_logical_partitioning(
          _KERNEL_INIT, ("conv_width", "conv_in", "conv_out")),
      bias_init=nn.with_logical_partitioning(nn.initializers.zeros, ("conv_out",)),
      name=name)


class ResidualUnit(nn.Module):
  """SpliceAI residual unit (Jaganathan et al. 2019, Figure 1B).

  ``x + conv(relu(bn(conv(relu(bn(x))))))`` with 'same'-padded dilated convolutions.
  With ``valid=True`` the convolutions are unpadded and ``x`` is cropped to match, so
  the output is ``2 * dilation * (kernel_size - 1)`` positions shorter; at inference
  these are exactly the central positions of the 'same' output, computed without the
  edge positions that `SpliceAITrunk` would crop anyway.

  Attributes:
    channels: width of both convolutions (and of the input).
    kernel_size: convolution kernel width ``W``.
    dilation: convolution dilation rate ``AR``.
    dtype: compute dtype.
    param_dtype: parameter dtype.
    bn_epsilon: BatchNorm epsilon (Keras' 1e-3 for SpliceAI; PyTorch's 1e-5 for the
      PyTorch-trained Pangolin).
    bn_momentum: BatchNorm running-average decay (Keras' 0.99; PyTorch's momentum 0.1
      is a decay of 0.9).
  """
  channels: int
  kernel_size: int
  dilation: int
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32
  bn_epsilon: float = _BN_EPSILON
  bn_momentum: float = _BN_MOMENTUM

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool = False, valid: bool = False
               ) -> jax.Array:
    """Applies the unit.

    Args:
      x: ``[batch, length, channels]``.
      train: use batch statistics and update the running ones.
      valid: unpadded convolutions (see the class docstring).

    Returns:
      ``[batch, length, channels]``, or ``2 * dilation * (kernel_size - 1)`` shorter
      with ``valid``.
    """
    h = x
    for i in range(2):
      h = nn.BatchNorm(
          use_running_average=not train, momentum=self.bn_momentum,
          epsilon=self.bn_epsilon, dtype=self.dtype, param_dtype=self.param_dtype,
          scale_init=nn.with_logical_partitioning(nn.initializers.ones, ("conv_out",)),
          bias_init=nn.with_logical_partitioning(nn.initializers.zeros, ("conv_out",)),
          name=f"bn_{i}")(h)
      h = nn.relu(h)
      h = _conv(self.channels, self.kernel_size, self.dilation, self.dtype,
                self.param_dtype, name=f"conv_{i}", padding="VALID" if valid else "SAME")(h)
    return _crop_to(x, h.shape[-2]) + h


def _crop_to(x: jax.Array, length: int) -> jax.Array:
  """The central ``length`` positions of ``[..., positions, channels]``."""
  start = (x.shape[-2] - length) // 2
  return x[..., start:start + length, :]


class SpliceAITrunk(nn.Module):
  """The residual network of SpliceAI (Jaganathan et al., Cell 2019, Figure 1B), headless.

  Stem, groups of `ResidualUnit` and the running sum of 1x1 skip convolutions, cropped
  to the positions with full context. `SpliceAI` and Pangolin (Zeng & Li, Genome Biology
  2022), which keeps this trunk and changes only the heads, subclass it; their
  ``__call__`` calls `trunk` and adds heads, so the trunk's layers sit at the top of
  their parameter trees (``stem``, ``skip_0``, ``group_<g>_unit_<u>``, ``skip_<g+1>``).

  Attributes:
    channels: width of every hidden convolution (the paper's ``L`` = 32).
    kernel_sizes: kernel width ``W`` per residual group.
    dilations: dilation rate ``AR`` per residual group.
    units_per_group: residual units per group (4 in the paper).
    dtype: compute dtype (the models' outputs are float32).
    param_dtype: parameter dtype.
  """
  channels: int = 32
  kernel_sizes: Sequence[int] = (11, 11, 21, 41)
  dilations: Sequence[int] = (1, 4, 10, 25)
  units_per_group: Sequence[int] = (4, 4, 4, 4)
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @property
  def context(self) -> int:
    """Nucleotides of flanking context consumed: output length = input length - this."""
    return spliceai_context(self.kernel_sizes, self.dilations, self.units_per_group)

  @property
  def receptive_field(self) -> int:
    """Input positions that influence one output position (``context + 1``)."""
    return self.context + 1

  def output_length(self, input_length: int) -> int:
    """Output positions for an input of ``input_length`` nucleotides."""
    return input_length - self.context

  def pointwise(self, features: int, name: str) -> nn.Conv:
    """A 1x1 convolution initialised as the trunk's (for heads)."""
    return _conv(features, 1, 1, self.dtype, self.param_dtype, name)

  def trunk(self, sequence: jax.Array, *, train: bool, bn_epsilon: float = _BN_EPSILON,
            bn_momentum: float = _BN_MOMENTUM) -> jax.Array:
    """The summed skip features of the central positions; call from a compact method.

    Args:
      sequence: one-hot ``[batch, length, 4]`` in A,C,G,T order, N all zeros;
        ``length >= context``.
      train: use batch statistics in BatchNorm and update the running ones.
      bn_epsilon: BatchNorm epsilon of every residual unit.
      bn_momentum: BatchNorm running-average decay of every residual unit.

    Returns:
      ``[batch, length - context, channels]``; position ``j`` is input position
      ``j + context // 2``.

    At inference (``train=False``) the residual convolutions are unpadded, so each
    layer computes only the positions the output still needs: the same numbers as
    the paper's 'same' padding and final crop, with less work. Training keeps 'same'
    padding, whose BatchNorm batch statistics span the whole input.
    """
    context = self.context
    length = sequence.shape[-2]
    if length < context:
      raise ValueError(
          f"{type(self).__name__} with {context} nt of context needs inputs of at least "
          f"{context} nt (output length = input length - {context}); got length "
          f"{length}. Pad the sequence with N (all-zero rows), {context // 2} on each side.")

    # Stem.
    x = _conv(self.channels, 1, 1, self.dtype, self.param_dtype, "stem")(sequence)
    skip = _conv(self.channels, 1, 1, self.dtype, self.param_dtype, "skip_0")(x)
    # Tower: each group's output also feeds the running skip sum.
    for g, (kernel, dilation, units) in enumerate(
        zip(self.kernel_sizes, self.dilations, self.units_per_group)):
      for u in range(units):
        x = ResidualUnit(self.channels, kernel, dilation, self.dtype, self.param_dtype,
                         bn_epsilon, bn_momentum, name=f"group_{g}_unit_{u}")(
                             x, train=train, valid=not train)
      skip = _crop_to(skip, x.shape[-2]) + _conv(
          self.channels, 1, 1, self.dtype, self.param_dtype, f"skip_{g + 1}")(x)
    # Only positions with full context on both sides are predicted.
    return _crop_to(skip, length - context)


class SpliceAI(SpliceAITrunk):
  """SpliceAI (Jaganathan et al., Cell 2019, Figure 1B and Figure S1).

  Defaults are SpliceAI-10k; see `PRESETS` for the other context sizes.

  Attributes:
    channels, kernel_sizes, dilations, units_per_group, dtype, param_dtype: the trunk's
      (see `SpliceAITrunk`).
    num_classes: output classes per position: neither, acceptor, donor.
    output: ``"probs"`` for the softmax the paper reports, ``"logits"`` for the
      pre-softmax scores a cross-entropy loss wants.
    bn_epsilon: BatchNorm epsilon of every residual unit (Keras' default 1e-3,
      which the released models use; `convert_keras_h5` reads it from the file).
  """
  num_classes: int = 3
  output: str = "probs"
  bn_epsilon: float = _BN_EPSILON

  @nn.compact
  def __call__(self, sequence: jax.Array, *, train: bool = False) -> jax.Array:
    """Predicts splice-site classes for the central positions of ``sequence``.

    Args:
      sequence: one-hot ``[batch, length, 4]`` in A,C,G,T order, N all zeros;
        ``length >= context``.
      train: use batch statistics in BatchNorm and update the running ones
        (call with ``mutable=["batch_stats"]``).

    Returns:
      float32 ``[batch, length - context, num_classes]``: softmax probabilities over
      (neither, acceptor, donor), or logits if ``output == "logits"``. Output position
      ``j`` is input position ``j + context // 2``.
    """
    if self.output not in ("probs", "logits"):
      raise ValueError(f'output must be "probs" or "logits", got {self.output!r}.')
    skip = self.trunk(sequence, train=train, bn_epsilon=self.bn_epsilon)
    logits = self.pointwise(self.num_classes, "head")(skip).astype(jnp.float32)
    return logits if self.output == "logits" else jax.nn.softmax(logits, axis=-1)


def cone_split(model: SpliceAI, variables: Mapping[str, Any]) -> cone.Split:
  """SpliceAI at inference as a "valid" `cone.Tower` and its head, for cone reuse.

  States are ``(trunk, skip)``: the stem (half-width 0) starts the running skip sum,
  each `ResidualUnit` (half-width ``dilation * (kernel_size - 1)``) crops the skip sum
  to its output, and each group's 1x1 skip convolution (half-width 0) adds to it; the
  head classifies the skip sum (`genereg_jax.nn.cone`). Every layer applies the
  model's own modules with its variables, so the numbers are the model's.

  Returns:
    A `cone.Split` equal to ``model.apply(variables, x)`` at inference.
  """
  params, stats = variables["params"], variables.get("batch_stats", {})
  pointwise = lambda name, features=model.channels: functools.partial(
      _conv(features, 1, 1, model.dtype, model.param_dtype, None).apply,
      {"params": params[name]})
  stem, skip_0 = pointwise("stem"), pointwise("skip_0")
  layers = [cone.Layer(lambda x: (stem(x), skip_0(stem(x))), 0)]
  for g, (kernel, dilation, units) in enumerate(
      zip(model.kernel_sizes, model.dilations, model.units_per_group)):
    unit = ResidualUnit(model.channels, kernel, dilation, model.dtype, model.param_dtype,
                        model.bn_epsilon)
    for u in range(units):
      name = f"group_{g}_unit_{u}"
      apply = functools.partial(unit.apply, {"params": params[name],
                                             "batch_stats": stats[name]}, valid=True)

      def residual(state, apply=apply):
        x = apply(state[0])
        return x, _crop_to(state[1], x.shape[-2])

      layers.append(cone.Layer(residual, dilation * (kernel - 1)))
    skip = pointwise(f"skip_{g + 1}")
    layers.append(cone.Layer(lambda state, skip=skip: (state[0], state[1] + skip(state[0])),
                             0))
  head_conv = pointwise("head", model.num_classes)

  def head(state):
    logits = head_conv(state[1]).astype(jnp.float32)
    return logits if model.output == "logits" else jax.nn.softmax(logits, axis=-1)

  return cone.Split(cone.Tower(layers, "valid"), head)


def spliceai_model(preset: str = "10k", **overrides: Any) -> SpliceAI:
  """A `SpliceAI` (Jaganathan et al. 2019) from a named preset with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"Unknown SpliceAI preset {preset!r}; have {sorted(PRESETS)}.")
  return SpliceAI(**{**PRESETS[preset], **overrides})


class SpliceAIEnsemble(nn.Module):
  """Mean probabilities of several SpliceAI models, as the official SpliceAI tool reports.

  The released SpliceAI-10k is five models trained from different seeds (Jaganathan et
  al. 2019, STAR Methods); their parameters are stacked on a leading axis of size
  ``num_models`` under ``members`` (see `load_official_weights` with ``index=None``),
  whose logical axis name is ``ensemble``.

  Attributes:
    num_models: ensemble size.
    channels, kernel_sizes, dilations, units_per_group, dtype: as in `SpliceAI`.
  """
  num_models: int = NUM_OFFICIAL_MODELS
  channels: int = 32
  kernel_sizes: Sequence[int] = (11, 11, 21, 41)
  dilations: Sequence[int] = (1, 4, 10, 25)
  units_per_group: Sequence[int] = (4, 4, 4, 4)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, sequence: jax.Array) -> jax.Array:
    """Averages the members' probabilities (inference only; BatchNorm running statistics).

    Args:
      sequence: one-hot ``[batch, length, 4]``, ``length >= context``.

    Returns:
      float32 ``[batch, length - context, 3]`` mean softmax over (neither, acceptor,
      donor).
    """
    members = nn.vmap(
        SpliceAI, variable_axes={"params": 0, "batch_stats": 0},
        split_rngs={"params": True}, in_axes=None, out_axes=0,
        axis_size=self.num_models, metadata_params={nn.PARTITION_NAME: "ensemble"})(
            channels=self.channels, kernel_sizes=self.kernel_sizes,
            dilations=self.dilations, units_per_group=self.units_per_group,
            output="probs", dtype=self.dtype, name="members")
    return jnp.mean(members(sequence), axis=0)


# ---------------------------------------------------------------------------------------
# Keras .h5 weights.


def _inbound(layer: Mapping[str, Any]) -> list[str]:
  nodes = layer["inbound_nodes"]
  if len(nodes) > 1:
    raise ValueError(
        f"Layer {layer['name']} is called more than once; not a SpliceAI graph.")
  return [node[0] for node in nodes[0]] if nodes else []


class _KerasGraph:
  """The layer graph in a Keras 2 ``model_config``, by name."""

  def __init__(self, model_config: Mapping[str, Any]):
    self.layers = {layer["name"]: layer for layer in model_config["config"]["layers"]}
    self.inputs = {name: _inbound(layer) for name, layer in self.layers.items()}
    self.consumers = {name: [] for name in self.layers}
    for name, inbound in self.inputs.items():
      for source in inbound:
        self.consumers[source].append(name)

  def kind(self, name: str) -> str:
    return self.layers[name]["class_name"]

  def config(self, name: str) -> Mapping[str, Any]:
    return self.layers[name]["config"]

  def only_input(self, name: str, kind: str) -> str:
    (source,) = self.inputs[name]
    if self.kind(source) != kind:
      raise ValueError(f"Expected a {kind} before {name}, found {self.kind(source)} "
                       f"{source}; not a SpliceAI graph.")
    return source

  def consumers_of(self, name: str, kind: str) -> list[str]:
    return [c for c in self.consumers[name] if self.kind(c) == kind]


def _relu_before(graph: _KerasGraph, conv: str) -> str:
  """The BatchNormalization feeding ``conv`` through a ReLU Activation."""
  activation = graph.only_input(conv, "Activation")
  function = graph.config(activation).get("activation")
  if function != "relu":
    raise ValueError(f"Activation {activation} is {function!r}; SpliceAI's residual "
                     "units use 'relu'.")
  return graph.only_input(activation, "BatchNormalization")


def _residual_unit_at(graph: _KerasGraph, x: str) -> tuple[str, list[str]] | None:
  """Finds the residual unit taking trunk node ``x``: (its Add, [bn, conv, bn, conv])."""
  for add in graph.consumers_of(x, "Add"):
    branch = [name for name in graph.inputs[add] if name != x]
    if len(branch) != 1 or graph.kind(branch[0]) != "Conv1D":
      continue
    conv_b = branch[0]
    bn_b = _relu_before(graph, conv_b)
    conv_a = graph.only_input(bn_b, "Conv1D")
    bn_a = _relu_before(graph, conv_a)
    if graph.inputs[bn_a] == [x]:
      return add, [bn_a, conv_a, bn_b, conv_b]
  return None


def _skip_conv_at(graph: _KerasGraph, x: str) -> str | None:
  convs = [c for c in graph.consumers_of(x, "Conv1D")
           if graph.config(c)["kernel_size"] in ([1], (1,), 1)]
  if len(convs) > 1:
    raise ValueError(f"{x} feeds several 1x1 convolutions {convs}; not a SpliceAI graph.")
  return convs[0] if convs else None


def _check_conv(graph: _KerasGraph, name: str, activation: str = "linear") -> None:
  config = graph.config(name)
  if (config.get("activation") != activation
      or list(config.get("strides", [1])) != [1]):
    raise ValueError(f"Conv1D {name} must have stride 1 and activation "
                     f"{activation!r}; got {config}.")


def _parse_spliceai_graph(model_config: Mapping[str, Any]):
  """Maps a Keras SpliceAI graph onto `SpliceAI` fields and Flax parameter paths.

  Returns:
    ``(fields, mapping)``: `SpliceAI` keyword arguments, and a list of
    ``(keras_layer, flax_path)`` with ``flax_path`` a tuple of module names.
  """
  graph = _KerasGraph(model_config)
  (input_name,) = [n for n in graph.layers if graph.kind(n) == "InputLayer"]
  (stem,) = graph.consumers_of(input_name, "Conv1D")
  _check_conv(graph, stem)
  mapping = [(stem, ("stem",))]

  # Walk the trunk; a 1x1 skip convolution on a trunk node closes a residual group.
  skip = _skip_conv_at(graph, stem)
  if skip is None:
    raise ValueError(f"No 1x1 skip convolution after the stem {stem}.")
  mapping.append((skip, ("skip_0",)))
  skips = [skip]
  groups: list[list[tuple[int, int]]] = [[]]
  epsilons = set()
  node = stem
  while (unit := _residual_unit_at(graph, node)) is not None:
    node, (bn_a, conv_a, bn_b, conv_b) = unit
    for conv in (conv_a, conv_b):
      _check_conv(graph, conv)
      if graph.config(conv)["padding"] != "same":
        raise ValueError(f"Residual convolution {conv} must use 'same' padding.")
    epsilons |= {float(graph.config(bn).get("epsilon", _BN_EPSILON))
                 for bn in (bn_a, bn_b)}
    geometry = [(graph.config(c)["kernel_size"][0], graph.config(c)["dilation_rate"][0])
                for c in (conv_a, conv_b)]
    if geometry[0] != geometry[1]:
      raise ValueError(f"Residual convolutions {conv_a}, {conv_b} differ: {geometry}.")
    g, u = len(groups) - 1, len(groups[-1])
    if u and groups[-1][0] != geometry[0]:
      raise ValueError(
          f"Residual unit of {conv_a} changes kernel/dilation inside a group.")
    groups[-1].append(geometry[0])
    prefix = f"group_{g}_unit_{u}"
    mapping += [(bn_a, (prefix, "bn_0")), (conv_a, (prefix, "conv_0")),
                (bn_b, (prefix, "bn_1")), (conv_b, (prefix, "conv_1"))]
    if (skip := _skip_conv_at(graph, node)) is not None:
      skips.append(skip)
      mapping.append((skip, (f"skip_{g + 1}",)))
      groups.append([])
  if groups[-1] or len(groups) == 1:
    raise ValueError(
        "The last residual group has no skip convolution; not a SpliceAI graph.")
  groups.pop()

  # The skip sum is cropped and classified.
  (head,) = [n for n in graph.layers if graph.kind(n) == "Conv1D"
             and graph.inputs[n] and graph.kind(graph.inputs[n][0]) == "Cropping1D"]
  _check_conv(graph, head, activation="softmax")
  crop = graph.only_input(head, "Cropping1D")
  summed, frontier = set(), list(graph.inputs[crop])
  while frontier:
    name = frontier.pop()
    if graph.kind(name) == "Add":
      frontier += graph.inputs[name]
    else:
      summed.add(name)
  if summed != set(skips):
    raise ValueError(f"The cropped sum adds {sorted(summed)}, expected the skip "
                     f"convolutions {sorted(skips)}.")
  mapping.append((head, ("head",)))

  fields = dict(
      channels=graph.config(stem)["filters"],
      kernel_sizes=tuple(group[0][0] for group in groups),
      dilations=tuple(group[0][1] for group in groups),
      units_per_group=tuple(len(group) for group in groups),
      num_classes=graph.config(head)["filters"])
  if len(epsilons) > 1:
    raise ValueError(f"The BatchNormalization layers use several epsilons "
                     f"{sorted(epsilons)}; `SpliceAI` has one (bn_epsilon).")
  fields["bn_epsilon"] = epsilons.pop()
  context = spliceai_context(fields["kernel_sizes"], fields["dilations"],
                             fields["units_per_group"])
  cropping = list(np.broadcast_to(graph.config(crop)["cropping"], 2))
  if cropping != [context // 2] * 2:
    raise ValueError(f"Cropping1D {crop} crops {cropping}, but the residual tower has "
                     f"{context} nt of context.")
  return fields, mapping


def _layer_weights(model_weights: h5py.Group, layer: str) -> dict[str, np.ndarray]:
  group = model_weights[layer]
  weights = {}
  for weight_name in group.attrs["weight_names"]:
    weight_name = weight_name.decode() if isinstance(weight_name, bytes) else weight_name
    # "conv1d_3/kernel:0" -> "kernel"
    key = weight_name.rsplit("/", 1)[-1].split(":")[0]
    weights[key] = np.asarray(group[weight_name], dtype=np.float32)
  # Keras leaves out what use_bias=False / center=False / scale=False switch off.
  if "kernel" in weights:
    weights.setdefault("bias", np.zeros(weights["kernel"].shape[-1], np.float32))
  elif "moving_mean" in weights:
    weights.setdefault("beta", np.zeros_like(weights["moving_mean"]))
    weights.setdefault("gamma", np.ones_like(weights["moving_mean"]))
  return weights


def convert_keras_h5(path: str | os.PathLike,
                     **overrides: Any) -> tuple[SpliceAI, dict[str, Any]]:
  """Reads a Keras 2 SpliceAI ``.h5`` (Jaganathan et al. 2019) into Flax, no TensorFlow.

  The layer graph in the file's ``model_config`` decides the architecture (channels,
  kernel sizes, dilations, units per group), so SpliceAI-80nt/400nt/2k/10k models trained
  with the paper's Keras code load alike; Keras' auto-numbered layer names are never
  relied on.

  Args:
    path: a Keras ``.h5`` as saved by ``model.save`` (e.g. ``spliceai1.h5``).
    **overrides: `SpliceAI` fields the caller sets (e.g. ``output="logits"``,
      ``dtype``); they win, and one the file fixes (e.g. ``channels``) must agree
      with it.

  Returns:
    ``(model, variables)``: a `SpliceAI` of the file's architecture (probabilities
    output unless overridden) and its ``{"params": ..., "batch_stats": ...}``.

  Raises:
    ValueError: if the graph is not a SpliceAI network or contradicts ``overrides``.
  """
  with h5py.File(path, "r") as f:
    model_config = f.attrs["model_config"]
    fields, mapping = _parse_spliceai_graph(json.loads(model_config))
    conflicts = [f"{k}={v!r} (the file has {fields[k]!r})" for k, v in overrides.items()
                 if k in fields and np.atleast_1d(v).tolist() != np.atleast_1d(
                     fields[k]).tolist()]
    if conflicts:
      raise ValueError(f"SpliceAI settings contradict {path}: {', '.join(conflicts)}.")
    model_weights = f["model_weights"] if "model_weights" in f else f
    params, batch_stats = {}, {}
    for layer, flax_path in mapping:
      weights = _layer_weights(model_weights, layer)
      if "kernel" in weights:
        leaves = {"params": {"kernel": weights["kernel"], "bias": weights["bias"]}}
      else:
        leaves = {"params": {"scale": weights["gamma"], "bias": weights["beta"]},
                  "batch_stats": {"mean": weights["moving_mean"],
                                  "var": weights["moving_variance"]}}
      for collection, tree in (("params", params), ("batch_stats", batch_stats)):
        if collection in leaves:
          for name in flax_path:
            tree = tree.setdefault(name, {})
          tree.update({k: jnp.asarray(v) for k, v in leaves[collection].items()})
  variables = {"params": params, "batch_stats": batch_stats}
  return SpliceAI(**{**fields, **overrides}), variables


def official_weight_paths() -> list[pathlib.Path]:
  """Paths of the five released SpliceAI-10k models (Jaganathan et al. 2019).

  They are ``spliceai/models/spliceai{1..5}.h5`` in the installed PyPI package
  ``spliceai`` (``pip install --no-deps spliceai==1.3.1``), found without importing it:
  its ``__init__`` replaces the SIGINT handler and its utilities import Keras.
  """
  spec = importlib.util.find_spec("spliceai")
  locations = list(spec.submodule_search_locations or []) if spec else []
  for location in locations:
    paths = [pathlib.Path(location, "models", f"spliceai{i}.h5")
             for i in range(1, NUM_OFFICIAL_MODELS + 1)]
    if all(path.is_file() for path in paths):
      return paths
  raise FileNotFoundError(
      "The SpliceAI weights come with the PyPI package 'spliceai' "
      "(spliceai/models/spliceai1.h5 ... spliceai5.h5); install it with "
      "`pip install --no-deps spliceai==1.3.1` (no TensorFlow needed). "
      f"Searched: {locations or 'package not installed'}.")


def load_official_weights(index: int | None = None) -> dict[str, Any]:
  """Flax variables of the released SpliceAI-10k models (Jaganathan et al. 2019).

  Args:
    index: which model, 1 to 5 as in ``spliceai{index}.h5``, for `SpliceAI` (the
      ``10k`` preset); None for all five stacked on a leading axis under ``members``,
      for `SpliceAIEnsemble`.

  Returns:
    ``{"params": ..., "batch_stats": ...}``.
  """
  paths = official_weight_paths()
  if index is not None and not 1 <= index <= NUM_OFFICIAL_MODELS:
    raise ValueError(f"index must be 1 to {NUM_OFFICIAL_MODELS} (spliceai1.h5 ... "
                     f"spliceai{NUM_OFFICIAL_MODELS}.h5) or None; got {index}.")
  members = []
  for path in paths if index is None else [paths[index - 1]]:
    model, variables = convert_keras_h5(path)
    expected = SpliceAI(**PRESETS["10k"])
    # `SpliceAIEnsemble` builds its members with the default epsilon.
    if (model.channels, tuple(model.kernel_sizes), tuple(model.dilations),
        tuple(model.units_per_group), model.bn_epsilon) != (
            expected.channels, tuple(expected.kernel_sizes), tuple(expected.dilations),
            tuple(expected.units_per_group), expected.bn_epsilon):
      raise ValueError(f"{path} is not a SpliceAI-10k model: {model}.")
    members.append(variables)
  if index is not None:
    return members[0]
  stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
  return {collection: {"members": tree} for collection, tree in stacked.items()}
