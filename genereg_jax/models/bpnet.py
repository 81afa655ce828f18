"""BPNet (Avsec et al., Nat Genet 2021) and ChromBPNet (Pampari et al.).

Base-resolution profile models, written to match bpnet-lite 1.1.0
(github.com/jmschrei/bpnet-lite) number for number so that its weights load
unchanged:

  stem    conv(kernel 21 or 25) -> ReLU
  tower   for i = 1..n_layers:  h = h + ReLU(conv_k3_dilation_2^i(h))
  heads   profile: conv(kernel 75) over [h, control], cropped to the output
          window; counts: mean of h over the output window widened by half the
          profile kernel, concatenated with log(1 + control reads there),
          dense to the count outputs.

Every convolution is zero-padded to keep the length ("same"), as in bpnet-lite;
the output window is ``[trim, length - trim)``. With the default trim (half
the receptive field) every output sees real sequence only, so 2,114 bp in give
1,000 bp out for the bpnet-lite size; ``trimming=0`` gives the paper's
same-length layout (1 kb in, 1 kb out).

ChromBPNet adds a frozen Tn5/DNase bias BPNet to an accessibility BPNet:
profile logits add (the bias ones centre-cropped), counts combine as
``log(exp(a) + exp(b))``. Its parameters are ``{"bias": ...,
"accessibility": ...}`` so a trainer can freeze ``params["bias"]`` with
``optax.multi_transform``.

Everything is channels-last (DESIGN.md): sequence ``[batch, length, 4]``,
control ``[batch, length, n_control_tracks]``, profile logits
``[batch, out_length, n_outputs]``, log counts ``[batch, n_count_outputs]``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.nn import cone

Array = jax.Array
Params = dict[str, Any]

# PyTorch's default Conv1d/Linear weight init, kaiming_uniform(a=sqrt(5)), is
# U(-1/sqrt(fan_in), 1/sqrt(fan_in)); keeping it makes from-scratch training
# behave like bpnet-lite.
_torch_default_kernel_init = nn.initializers.variance_scaling(
    1.0 / 3.0, "fan_in", "uniform")


def _torch_default_bias_init(fan_in: int) -> nn.initializers.Initializer:
  """PyTorch's default bias init, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
  bound = 1.0 / np.sqrt(fan_in)

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -bound, bound)

  return init


PRESETS: dict[str, dict[str, Any]] = {
    # Avsec et al. 2021 (Methods, "BPNet architecture"): 64 filters, first conv
    # width 25, nine dilated residual layers (dilation 2..512), profile
    # deconvolution width 25, 1 kb in and out ('same' padding, so no trim),
    # one count per strand, two control strands (input / PATCH-CAP).
    "paper": dict(n_filters=64, n_layers=9, first_kernel_size=25,
                  profile_kernel_size=25, n_outputs=2, n_count_outputs=2,
                  n_control_tracks=2, trimming=0),
    # bpnet-lite's BPNet() defaults: 2,114 bp in, 1,000 bp out, total count.
    "bpnet_lite": dict(n_filters=64, n_layers=8, first_kernel_size=21,
                       profile_kernel_size=75, n_outputs=2, n_count_outputs=1,
                       n_control_tracks=2),
    # ChromBPNet (Pampari et al.): bias model 128 filters x 4 layers,
    # accessibility model 512 filters x 8 layers, unstranded, no control.
    "chrombpnet_bias": dict(n_filters=128, n_layers=4, n_outputs=1,
                            n_control_tracks=0),
    "chrombpnet_accessibility": dict(n_filters=512, n_layers=8, n_outputs=1,
                                     n_control_tracks=0),
    "tiny": dict(n_filters=8, n_layers=3, first_kernel_size=7,
                 profile_kernel_size=9, n_outputs=2, n_count_outputs=1,
                 n_control_tracks=2),
    # A ChromBPNet pair for tests: the bias model is shallower, so its output
    # window is wider and gets centre-cropped, as in the paper's pair.
    "tiny_bias": dict(n_filters=4, n_layers=2, first_kernel_size=7,
                      profile_kernel_size=9, n_outputs=1, n_control_tracks=0),
    "tiny_accessibility": dict(n_filters=8, n_layers=3, first_kernel_size=7,
                               profile_kernel_size=9, n_outputs=1,
                               n_control_tracks=0),
}

# ChromBPNet presets name a (bias, accessibility) pair of BPNet presets.
CHROMBPNET_PRESETS: dict[str, tuple[str, str]] = {
    "paper": ("chrombpnet_bias", "chrombpnet_accessibility"),
    "tiny": ("tiny_bias", "tiny_accessibility"),
}


class BPNet(nn.Module):
  """BPNet of Avsec et al. (Nat Genet 2021) in bpnet-lite's exact form.

  The defaults are bpnet-lite's (the layout ChromBPNet and released weights
  use: 2,114 bp in, 1,000 bp out); ``PRESETS["paper"]`` has the sizes of
  Avsec et al. Control tracks enter as bpnet-lite feeds them (concatenated
  before the profile convolution; their log total as one count feature),
  not through the paper's separate bias-track weights.

  Attributes:
    n_filters: channels of every convolution in the stem and tower.
    n_layers: dilated residual layers; layer i (1-based) has dilation 2^i.
    first_kernel_size: width of the stem convolution (odd).
    profile_kernel_size: width of the profile-head convolution (odd).
    n_outputs: profile tracks, tasks x strands.
    n_count_outputs: count outputs; 1 is bpnet-lite's total over strands.
    n_control_tracks: per-base control tracks (0 for none).
    trimming: bases cut from each end to give the output window; None
      computes half the receptive field, ``first_kernel_size // 2 +
      sum(2^i) + profile_kernel_size // 2`` (557 for bpnet-lite's size).
    profile_bias: whether the profile convolution has a bias.
    count_bias: whether the count dense layer has a bias.
    profile_conv_matmul: run the profile convolution as one matmul plus the taps'
      shifted sum (`_taps_conv`; same parameters and outputs). Faster for
      predictions on XLA:CPU, but its gradient is ~9x slower than the convolution's
      (train step 0.31 -> 2.76 s at batch 64), so training keeps it off; variant
      scoring's `cone_model` turns it on.
    dtype: computation dtype; outputs are returned in float32.
    param_dtype: parameter dtype.
  """

  n_filters: int = 64
  n_layers: int = 8
  first_kernel_size: int = 21
  profile_kernel_size: int = 75
  n_outputs: int = 2
  n_count_outputs: int = 1
  n_control_tracks: int = 2
  trimming: int | None = None
  profile_bias: bool = True
  count_bias: bool = True
  profile_conv_matmul: bool = False
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @property
  def trim(self) -> int:
    """Bases removed from each end of the input to give the output window."""
    if self.trimming is not None:
      return self.trimming
    return (self.first_kernel_size // 2
            + sum(2 ** i for i in range(1, self.n_layers + 1))
            + self.profile_kernel_size // 2)

  @property
  def receptive_field(self) -> int:
    """Input bases that one output position depends on."""
    return (self.first_kernel_size
            + sum(2 * 2 ** i for i in range(1, self.n_layers + 1))
            + self.profile_kernel_size - 1)

  @property
  def min_input_length(self) -> int:
    """Shortest input with a non-empty output window."""
    return 2 * self.trim + 1

  def output_length(self, input_length: int) -> int:
    """Profile length for ``input_length`` bases of input."""
    return input_length - 2 * self.trim

  def _conv(self, features: int, kernel_size: int, fan_in: int, name: str,
            dilation: int = 1, padding: int | None = None,
            use_bias: bool = True, conv: Any = None) -> nn.Conv:
    pad = dilation * (kernel_size // 2) if padding is None else padding
    return nn.Conv(
        features, (kernel_size,), kernel_dilation=(dilation,),
        padding=[(pad, pad)], use_bias=use_bias, dtype=self.dtype,
        param_dtype=self.param_dtype, kernel_init=_torch_default_kernel_init,
        bias_init=_torch_default_bias_init(fan_in * kernel_size), name=name,
        conv_general_dilated=conv)

  def _check(self, sequence: Array, control: Array | None) -> None:
    for name, k in (("first_kernel_size", self.first_kernel_size),
                    ("profile_kernel_size", self.profile_kernel_size)):
      if k % 2 != 1:
        raise ValueError(f"BPNet {name} must be odd, got {k}.")
    if sequence.ndim != 3:
      raise ValueError("BPNet expects sequence [batch, length, channels], got "
                       f"shape {sequence.shape}.")
    length = sequence.shape[1]
    if length < self.min_input_length:
      raise ValueError(
          f"BPNet input of {length} bp is too short: trimming {self.trim} bp "
          f"from each end leaves no output (receptive field "
          f"{self.receptive_field} bp); give at least {self.min_input_length} "
          "bp.")
    if control is not None:
      if self.n_control_tracks == 0:
        raise ValueError("BPNet was built with n_control_tracks=0 but was "
                         "given a control track.")
      if control.shape != (*sequence.shape[:2], self.n_control_tracks):
        expected = (*sequence.shape[:2], self.n_control_tracks)
        raise ValueError(
            f"BPNet control must have shape {expected} ([batch, length, "
            f"n_control_tracks]), got {control.shape}.")

  @nn.compact
  def __call__(self, sequence: Array, control: Array | None = None, *,
               train: bool = False, tower: Array | None = None
               ) -> dict[str, Array]:
    """Predicts base-resolution profile logits and log total counts.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T.
      control: ``float[batch, length, n_control_tracks]`` control reads; None
        means all zeros (bpnet-lite's ControlWrapper) when the model has
        control tracks.
      train: unused (BPNet has no dropout or normalisation); kept so every
        model has the same call signature.
      tower: the stem and tower's output ``[batch, length, n_filters]`` when
        computed elsewhere (`cone_model` splices a mutant's cone into it);
        only the heads run.

    Returns:
      ``{"profile_logits": float32[batch, length - 2 * trim, n_outputs],
      "log_counts": float32[batch, n_count_outputs]}``. The profile is
      unnormalised: bpnet-lite applies one softmax over positions and
      strands together.
    """
    del train
    self._check(sequence, control)
    batch, length = sequence.shape[:2]
    if control is None and self.n_control_tracks:
      control = jnp.zeros((batch, length, self.n_control_tracks), self.dtype)
    start, end = self.trim, length - self.trim

    # Stem -> dilated residual tower; ReLU on the branch before the add, as
    # in bpnet-lite and the official ChromBPNet code.
    if tower is not None:
      h = tower.astype(self.dtype)
    else:
      h = nn.relu(self._conv(self.n_filters, self.first_kernel_size,
                             sequence.shape[-1], "stem_conv")(
                                 sequence.astype(self.dtype)))
      for i in range(self.n_layers):
        h = h + nn.relu(self._conv(self.n_filters, 3, self.n_filters,
                                   f"dilated_conv_{i}",
                                   dilation=2 ** (i + 1))(h))

    # Profile head. The zero-padded conv is only evaluated on the output
    # window: padding the whole track and taking a valid window is the same
    # computation as bpnet-lite's conv-then-crop, without the cropped part.
    half = self.profile_kernel_size // 2
    features = h if control is None else jnp.concatenate(
        [h, control.astype(self.dtype)], axis=-1)
    window = jnp.pad(features, ((0, 0), (half, half), (0, 0)))[
        :, start:end + 2 * half]
    profile = self._conv(self.n_outputs, self.profile_kernel_size,
                         features.shape[-1], "profile_conv", padding=0,
                         use_bias=self.profile_bias,
                         conv=_taps_conv if self.profile_conv_matmul else None)(window)

    # Count head on the output window widened by the profile kernel's reach,
    # as in bpnet-lite (``start - 37 : end + 37``). Clipped at the ends where
    # bpnet-lite's negative slice would wrap around (trim < half kernel).
    lo, hi = max(start - half, 0), min(end + half, length)
    pooled = jnp.mean(h[:, lo:hi].astype(jnp.float32), axis=1)
    if control is not None:
      control_reads = jnp.sum(control[:, lo:hi].astype(jnp.float32),
                              axis=(1, 2))
      pooled = jnp.concatenate([pooled, jnp.log1p(control_reads)[:, None]],
                               axis=-1)
    log_counts = nn.Dense(
        self.n_count_outputs, use_bias=self.count_bias, dtype=self.dtype,
        param_dtype=self.param_dtype, kernel_init=_torch_default_kernel_init,
        bias_init=_torch_default_bias_init(pooled.shape[-1]),
        name="count_dense")(pooled.astype(self.dtype))
    return {"profile_logits": profile.astype(jnp.float32),
            "log_counts": log_counts.astype(jnp.float32)}


def _taps_conv(lhs: Array, rhs: Array, window_strides, padding, lhs_dilation=None,
               rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
               precision=None) -> Array:
  """``lax.conv_general_dilated`` for an unpadded, undilated 1-D ``nn.Conv`` (``[batch,
  length, in]``, kernel ``[taps, in, out]``): one matmul to every tap's outputs, then
  the taps' shifted sum.

  For the profile head (75 taps, 2 outputs) XLA's CPU convolution is ~20x slower than
  this (2.0 vs 0.1 ms per 1,000-position window, measured); the sums differ only in
  float rounding.
  """
  del lhs_dilation, rhs_dilation, dimension_numbers  # nn.Conv's defaults: NWC, WIO, none.
  if tuple(window_strides) != (1,) or tuple(map(tuple, padding)) != ((0, 0),) or (
      feature_group_count != 1):
    raise ValueError("_taps_conv computes only unpadded, unstrided, ungrouped 1-D convs")
  taps = rhs.shape[0]
  n = lhs.shape[1] - taps + 1
  y = jnp.einsum("blc,tco->blto", lhs, rhs, precision=precision,
                 preferred_element_type=jnp.float32)  # Sums in float32, as XLA's conv.
  return sum(y[:, t:t + n, t] for t in range(taps)).astype(lhs.dtype)


def _valid_conv(params: Params, x: Array, dilation: int, dtype: Any) -> Array:
  """An unpadded convolution with a ``nn.Conv``'s parameters (kernel ``[w, in, out]``)."""
  y = jax.lax.conv_general_dilated(
      x.astype(dtype), params["kernel"].astype(dtype), (1,), "VALID",
      rhs_dilation=(dilation,), dimension_numbers=("NWC", "WIO", "NWC"))
  return y + params["bias"].astype(dtype) if "bias" in params else y


def cone_model(model: BPNet, params: Params, control: Array | None = None,
               readout: Any = None) -> cone.Split:
  """BPNet as a stem + dilated-tower `cone.Tower` ("same" padding) and its heads.

  For fastISM-style reuse (`genereg_jax.nn.cone`): the stem (half-width
  ``first_kernel_size // 2``) and each residual layer ``h + ReLU(conv(h))``
  (half-width ``2^i``) are layers; the heads read the whole tower output.

  Args:
    model: the BPNet.
    params: its parameters.
    control: control tracks for the heads, as for ``model.apply``.
    readout: maps the output dict to what the split returns (default the dict).

  Returns:
    A `cone.Split` whose call equals ``readout(model.apply({"params": params},
    x, control))``.
  """
  dtype = model.dtype
  stem = params["stem_conv"]
  layers = [cone.Layer(lambda x: jax.nn.relu(_valid_conv(stem, x, 1, dtype)),
                       model.first_kernel_size // 2)]
  for i in range(model.n_layers):
    dilation = 2 ** (i + 1)

    def residual(h, conv=params[f"dilated_conv_{i}"], r=dilation):
      return h[:, r:h.shape[1] - r] + jax.nn.relu(_valid_conv(conv, h, r, dtype))

    layers.append(cone.Layer(residual, dilation))
  readout = readout or (lambda y: y)
  head_model = model.clone(profile_conv_matmul=True)  # Forward only: the fast form.

  def head(h):
    return readout(head_model.apply({"params": params}, h, control, tower=h))

  # The heads read the tower from trim - profile_kernel_size // 2 on (the count head's
  # widened window); fixed control tracks tie the head to one batch, so no margin then.
  margin = max(model.trim - model.profile_kernel_size // 2, 0)
  return cone.Split(cone.Tower(layers, "same"), head,
                    head_margin=None if control is not None else margin)


def _default_bias_model() -> BPNet:
  return BPNet(**PRESETS["chrombpnet_bias"])


def _default_accessibility_model() -> BPNet:
  return BPNet(**PRESETS["chrombpnet_accessibility"])


class ChromBPNet(nn.Module):
  """ChromBPNet (Pampari et al., bioRxiv) as in bpnet-lite 1.1.0.

  A bias BPNet, trained first on background regions and then frozen, explains
  the enzyme's (Tn5 / DNase I) sequence preference; an accessibility BPNet
  learns the rest. Their parameters are the ``bias`` and ``accessibility``
  sub-trees, each a plain BPNet tree.

  Attributes:
    bias: the bias model; its output window must contain the accessibility
      model's (the profile logits are centre-cropped to it).
    accessibility: the accessibility model; takes the control tracks, if any.
  """

  bias: BPNet = dataclasses.field(default_factory=_default_bias_model)
  accessibility: BPNet = dataclasses.field(
      default_factory=_default_accessibility_model)

  @nn.compact
  def __call__(self, sequence: Array, control: Array | None = None, *,
               train: bool = False) -> dict[str, Array]:
    """Predicts the combined profile logits and log counts.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T.
      control: ``float[batch, length, n_control_tracks]`` for the
        accessibility model, or None. The bias model never sees it.
      train: passed to both sub-models.

    Returns:
      ``{"profile_logits": float32[batch, out_length, n_outputs],
      "log_counts": float32[batch, n_count_outputs]}`` where ``out_length``
      is the accessibility model's.
    """
    acc = self.accessibility(sequence, control, train=train)
    bias = self.bias(sequence, train=train)
    acc_len, bias_len = acc["profile_logits"].shape[1], bias[
        "profile_logits"].shape[1]
    if bias_len < acc_len:
      raise ValueError(
          f"ChromBPNet bias model's output ({bias_len} bp) is shorter than "
          f"the accessibility model's ({acc_len} bp); give the bias model a "
          "smaller trim.")
    offset = (bias_len - acc_len) // 2
    bias_profile = bias["profile_logits"][:, offset:offset + acc_len]
    return {
        "profile_logits": acc["profile_logits"] + bias_profile,
        "log_counts": jnp.logaddexp(acc["log_counts"], bias["log_counts"]),
    }


def bpnet(preset: str = "bpnet_lite", **overrides: Any) -> BPNet:
  """A BPNet from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"Unknown BPNet preset {preset!r}; have {sorted(PRESETS)}.")
  return BPNet(**{**PRESETS[preset], **overrides})


def chrombpnet(preset: str = "paper") -> ChromBPNet:
  """A ChromBPNet from a named preset (see ``CHROMBPNET_PRESETS``)."""
  if preset not in CHROMBPNET_PRESETS:
    raise KeyError(f"Unknown ChromBPNet preset {preset!r}; have "
                   f"{sorted(CHROMBPNET_PRESETS)}.")
  bias_preset, acc_preset = CHROMBPNET_PRESETS[preset]
  return ChromBPNet(bias=BPNet(**PRESETS[bias_preset]),
                    accessibility=BPNet(**PRESETS[acc_preset]))


# ---------------------------------------------------------------------------
# bpnet-lite state dicts -> Flax parameters.
# PyTorch Conv1d weights are [out, in, kernel], Flax Conv kernels
# [kernel, in, out]; Linear [out, in] vs Dense [in, out].


def _select(sd: Mapping[str, Any], prefix: str) -> dict[str, np.ndarray]:
  picked = {k[len(prefix):]: np.asarray(v, dtype=np.float32)
            for k, v in sd.items() if k.startswith(prefix)}
  if not picked:
    raise KeyError(f"No state-dict keys start with {prefix!r}; keys look like "
                   f"{sorted(sd)[:5]}.")
  return picked


def _n_layers(sd: Mapping[str, np.ndarray]) -> int:
  indices = sorted(int(k.split(".")[1]) for k in sd
                   if k.startswith("rconvs.") and k.endswith(".weight"))
  if indices != list(range(len(indices))):
    raise ValueError(f"bpnet-lite rconvs are not numbered 0..n-1: {indices}.")
  return len(indices)


def bpnet_config_from_state_dict(sd: Mapping[str, Any], prefix: str = "",
                                 **given: Any) -> dict[str, Any]:
  """BPNet constructor arguments read off a bpnet-lite BPNet state dict.

  Args:
    sd: ``{name: array}`` with bpnet-lite keys (``iconv.weight``,
      ``rconvs.{i}.weight``, ``fconv.weight``, ``linear.weight`` and biases).
    prefix: prepended to every key, e.g. ``"bias."`` inside a ChromBPNet.
    **given: ``BPNet`` fields the caller sets (e.g. ``trimming``, which the
      weights do not store); they are returned as given. One the weights fix
      (e.g. ``n_filters``) must agree with them.

  Returns:
    ``BPNet`` keyword arguments. Without a given ``trimming`` it is left to
    BPNet's default, which equals bpnet-lite's.

  Raises:
    ValueError: if the weights are inconsistent or contradict ``given``.
  """
  sd = _select(sd, prefix)
  n_filters, _, first_kernel = sd["iconv.weight"].shape
  n_outputs, profile_in, profile_kernel = sd["fconv.weight"].shape
  n_layers = _n_layers(sd)
  for i in range(n_layers):
    shape = sd[f"rconvs.{i}.weight"].shape
    if shape != (n_filters, n_filters, 3):
      raise ValueError(f"{prefix}rconvs.{i}.weight has shape {shape}; BPNet "
                       f"expects {(n_filters, n_filters, 3)}.")
  n_control = profile_in - n_filters
  n_count_outputs, count_in = sd["linear.weight"].shape
  if count_in != n_filters + (1 if n_control else 0):
    raise ValueError(f"{prefix}linear.weight takes {count_in} inputs; with "
                     f"{n_filters} filters and {n_control} control tracks "
                     f"BPNet expects {n_filters + (1 if n_control else 0)}.")
  read = dict(n_filters=int(n_filters), n_layers=n_layers,
              first_kernel_size=int(first_kernel),
              profile_kernel_size=int(profile_kernel),
              n_outputs=int(n_outputs), n_count_outputs=int(n_count_outputs),
              n_control_tracks=int(n_control),
              profile_bias="fconv.bias" in sd, count_bias="linear.bias" in sd)
  if conflicts := [f"{k}={v!r} (the weights have {read[k]!r})"
                   for k, v in given.items() if k in read and v != read[k]]:
    raise ValueError(f"BPNet settings contradict the bpnet-lite weights under "
                     f"{prefix!r}: {', '.join(conflicts)}.")
  return {**read, **given}


def convert_bpnet_lite_state_dict(sd: Mapping[str, Any],
                                  prefix: str = "") -> Params:
  """Flax parameters for ``BPNet`` from a bpnet-lite BPNet state dict.

  Args:
    sd: ``{name: array}`` (NumPy arrays or CPU tensors) in PyTorch layouts.
    prefix: prepended to every bpnet-lite key; other keys are ignored.

  Returns:
    The ``params`` collection (``{"stem_conv": ..., "dilated_conv_{i}": ...,
    "profile_conv": ..., "count_dense": ...}``), float32.

  Raises:
    ValueError: if keys under ``prefix`` are left over or inconsistent.
  """
  config = bpnet_config_from_state_dict(sd, prefix)
  sd = _select(sd, prefix)
  used = set()

  def take(key: str) -> np.ndarray:
    used.add(key)
    return sd[key]

  def conv(torch_name: str, has_bias: bool = True) -> dict[str, np.ndarray]:
    out = {"kernel": np.transpose(take(f"{torch_name}.weight"), (2, 1, 0))}
    if has_bias:
      out["bias"] = take(f"{torch_name}.bias")
    return out

  params = {"stem_conv": conv("iconv")}
  for i in range(config["n_layers"]):
    params[f"dilated_conv_{i}"] = conv(f"rconvs.{i}")
  params["profile_conv"] = conv("fconv", config["profile_bias"])
  params["count_dense"] = {"kernel": take("linear.weight").T}
  if config["count_bias"]:
    params["count_dense"]["bias"] = take("linear.bias")
  if leftover := sorted(set(sd) - used):
    raise ValueError(f"Unconverted bpnet-lite keys under {prefix!r}: "
                     f"{leftover}.")
  return params


def chrombpnet_config_from_state_dict(
    sd: Mapping[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
  """``{"bias": kwargs, "accessibility": kwargs}`` from a ChromBPNet dict."""
  return {part: bpnet_config_from_state_dict(sd, f"{prefix}{part}.")
          for part in ("bias", "accessibility")}


def convert_chrombpnet_state_dict(sd: Mapping[str, Any],
                                  prefix: str = "") -> Params:
  """Flax parameters for ``ChromBPNet`` from a bpnet-lite ChromBPNet dict.

  Args:
    sd: state dict with ``bias.*`` and ``accessibility.*`` BPNet keys.
    prefix: prepended to every key.

  Returns:
    ``{"bias": BPNet params, "accessibility": BPNet params}``.
  """
  return {part: convert_bpnet_lite_state_dict(sd, f"{prefix}{part}.")
          for part in ("bias", "accessibility")}


def _read_state_dict(path: str | os.PathLike[str],
                     trust_pickle: bool) -> dict[str, np.ndarray]:
  path = os.fspath(path)
  if path.endswith(".npz"):
    with np.load(path) as data:
      return {k: data[k] for k in data.files}
  import torch  # pylint: disable=g-import-not-at-top  # only for .torch/.pt

  try:
    obj = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
  except Exception as e:  # torch raises UnpicklingError subclasses variously.
    if trust_pickle:
      raise
    raise ValueError(
        f"Could not read {path} as a plain state dict ({e}). bpnet-lite's "
        "fit() pickles the whole model; if you trust the file, pass "
        "trust_pickle=True (needs bpnet-lite importable).") from e
  if hasattr(obj, "state_dict"):
    obj = obj.state_dict()
  return {k: v.detach().to("cpu").float().numpy() for k, v in obj.items()
          if hasattr(v, "detach")}


def load_bpnet_lite(path: str | os.PathLike[str], prefix: str = "", *,
                    trust_pickle: bool = False,
                    **overrides: Any) -> tuple[BPNet, Params]:
  """Loads a bpnet-lite BPNet from an ``.npz`` or a PyTorch file.

  Args:
    path: ``.npz`` of state-dict arrays, or a ``torch.save`` file (a state
      dict, or with ``trust_pickle`` a whole pickled model); PyTorch is
      imported only for the latter.
    prefix: prepended to every key inside the file.
    trust_pickle: allow unpickling arbitrary objects from a PyTorch file.
    **overrides: BPNet fields, e.g. ``trimming`` (not stored in weights);
      see ``bpnet_config_from_state_dict``.

  Returns:
    ``(model, params)``; call ``model.apply({"params": params}, x)``.
  """
  sd = _read_state_dict(path, trust_pickle)
  config = bpnet_config_from_state_dict(sd, prefix, **overrides)
  return BPNet(**config), convert_bpnet_lite_state_dict(sd, prefix)


def load_chrombpnet_lite(
    path: str | os.PathLike[str], prefix: str = "", *,
    trust_pickle: bool = False,
    bias_overrides: Mapping[str, Any] | None = None,
    accessibility_overrides: Mapping[str, Any] | None = None,
) -> tuple[ChromBPNet, Params]:
  """Loads a bpnet-lite ChromBPNet from an ``.npz`` or a PyTorch file.

  Args:
    path: as for ``load_bpnet_lite``; keys ``bias.*`` and ``accessibility.*``.
    prefix: prepended to every key inside the file.
    trust_pickle: allow unpickling arbitrary objects from a PyTorch file.
    bias_overrides: extra BPNet fields for the bias model (e.g. trimming).
    accessibility_overrides: extra BPNet fields for the accessibility model.

  Returns:
    ``(model, params)`` with ``params = {"bias": ..., "accessibility": ...}``.
  """
  sd = _read_state_dict(path, trust_pickle)
  overrides = {"bias": bias_overrides or {},
               "accessibility": accessibility_overrides or {}}
  model = ChromBPNet(**{
      part: BPNet(**bpnet_config_from_state_dict(sd, f"{prefix}{part}.",
                                                 **given))
      for part, given in overrides.items()})
  return model, convert_chrombpnet_state_dict(sd, prefix)
