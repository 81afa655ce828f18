"""Borzoi (Linder et al., Nat. Genet. 2025): DNA sequence -> RNA-seq and other tracks.

Read top to bottom like Fig. 1a of the paper, channels-last throughout:

  stem      conv k=15 to ``stem_width`` (no norm) -> max pool 2
  tower     conv blocks k=5 to ``tower_widths``, max pool 2 between them:
            ``x_unet0`` at the output resolution (32 bp)
  unet1     max pool 2 -> conv block k=5 to ``dim``: ``x_unet1`` (64 bp)
  trunk     max pool 2 (128 bp) -> ``depth`` Enformer transformer blocks whose
            relative positions are 16 central masks (and their signed copies)
            spaced for the 4,096 training positions
  U-Net     up: pointwise conv block -> nearest upsampling x2, plus a pointwise
            conv block of ``x_unet1``, then a separable conv (depthwise k=3,
            pointwise); the same again with ``x_unet0``
  crop      the centre ``target_length`` bins
  final     pointwise conv block to ``final_width`` -> dropout 0.1 -> GELU
  heads     one per species: dense -> softplus (in float32)

Conv blocks are batch norm (epsilon 1e-3) -> GELU -> conv, with PyTorch's tanh
GELU; they, the transformer block and the attention are Enformer's
(``genereg_jax.models.enformer``) with those settings. Paper size: 524,288 bp in,
16,384 bins of 32 bp cropped to 6,144, human 7,611 and mouse 2,608 tracks,
190,902,667 parameters (185,892,699 with the human head only). Numbers and
weights follow borzoi-pytorch 0.5.1 (github.com/johahi/borzoi-pytorch), whose
state dicts (e.g. the Hugging Face ports of the released replicates,
``johahi/borzoi-replicate-0``) ``convert_pytorch_state_dict`` and
``load_pretrained`` read; the hyperparameters are calico/borzoi's
``examples/params.json``.

Targets: Borzoi's training data store "squashed" coverage (``squashed_scale``:
bin sums to the 3/4 power for RNA-seq, the excess over ``clip_soft`` square-rooted,
times a per-track scale; baskerville's ``hound_data_read.py --transform_old``, the
manuscript's transform). ``undo_squashed_scale`` maps predictions back to
coverage; the loss is ``genereg_jax.tasks.coverage``'s Poisson-multinomial.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.models import enformer

Array = jax.Array
Dtype = Any

PRESETS: dict[str, dict[str, Any]] = {
    # Linder et al. 2025 / calico/borzoi examples/params.json (borzoi-pytorch's
    # BorzoiConfig defaults, with the mouse head the paper trained too).
    "paper": dict(dim=1536, depth=8, heads=8, attn_dim_key=64, attn_dim_value=192,
                  dropout_rate=0.2, attn_dropout=0.05, pos_dropout=0.01,
                  target_length=6144, output_heads={"human": 7611, "mouse": 2608}),
    # 2,048 bp in -> 64 bins of 32 bp (16 transformer positions) -> 48 kept.
    "tiny": dict(dim=32, depth=2, heads=2, attn_dim_key=8, attn_dim_value=16,
                 num_position_features=8, central_mask_length=16, stem_width=16,
                 tower_widths=(16, 16, 24, 24, 32), final_width=48,
                 dropout_rate=0.1, target_length=48,
                 output_heads={"human": 6, "mouse": 3}),
}

SEQUENCE_LENGTH = 524_288
TARGET_LENGTH = 6144
# Transformer positions at the training length (524,288 bp / 128 bp).
TRAIN_POSITIONS = 4096

# borzoi-pytorch's undo_squashed_scale defaults: RNA-seq tracks of targets.txt.
RNA_CLIP_SOFT = 384.0
RNA_SCALE = 0.01
RNA_EXPONENT = 0.75


def _named(init: nn.initializers.Initializer, *names: str | None):
  return nn.with_logical_partitioning(init, names)


def max_pool(x: Array) -> Array:
  """Max pool 2 over the length (a ragged last position is dropped, as PyTorch)."""
  return nn.max_pool(x, (2,), strides=(2,))


def upsample(x: Array) -> Array:
  """Nearest-neighbour upsampling x2 over the length."""
  return jnp.repeat(x, 2, axis=1)


class SeparableConv(nn.Module):
  """Depthwise conv (no bias) then pointwise conv, no norm or activation.

  Borzoi's U-Net refinement after each skip connection (Linder et al. 2025,
  Methods; borzoi-pytorch ``ConvBlock(conv_type="separable")``).

  Attributes:
    features: output channels.
    kernel_size: odd depthwise width; zero padding keeps the length.
    dtype: compute dtype.
    param_dtype: parameter dtype.
  """
  features: int
  kernel_size: int = 3
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    """``[batch, length, in] -> [batch, length, features]``."""
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    pad = self.kernel_size // 2
    x = nn.Conv(x.shape[-1], (self.kernel_size,), padding=[(pad, pad)],
                feature_group_count=x.shape[-1], use_bias=False,
                kernel_init=_named(nn.initializers.lecun_normal(),
                                   "conv_width", None, "conv_out"),
                name="depthwise", **kw)(x)
    return enformer.PointwiseConv(self.features, name="pointwise", **kw)(x)


class Borzoi(nn.Module):
  """Borzoi of Linder et al. (Nat. Genet. 2025), borzoi-pytorch layout.

  Attributes:
    dim: channels of the transformer and the U-Net (paper 1536).
    depth: transformer blocks.
    heads: attention heads.
    attn_dim_key: query/key size per head.
    attn_dim_value: value size per head (paper 192, i.e. ``dim / heads``).
    num_position_features: relative-position basis size (paper 32: 16 central
      masks and their signed copies).
    central_mask_length: transformer positions the masks are spaced for (the
      training length, 4,096), whatever the input length.
    dropout_rate: transformer residual and feed-forward dropout.
    attn_dropout: dropout on attention weights.
    pos_dropout: dropout on the relative positional features.
    stem_width: channels of the first conv.
    tower_widths: channels of the tower's conv blocks; a max pool sits between
      consecutive ones, so the bin size is ``2**len(tower_widths)`` bp.
    final_width: channels of the final pointwise block (the embeddings).
    target_length: centre bins kept; None or -1 keeps all.
    output_heads: ``{head name: tracks}``.
    remat: rematerialise each transformer block in the backward pass.
    dtype: compute dtype; the heads and outputs are float32.
    param_dtype: parameter dtype.
  """
  dim: int = 1536
  depth: int = 8
  heads: int = 8
  attn_dim_key: int = 64
  attn_dim_value: int = 192
  num_position_features: int = 32
  central_mask_length: int = TRAIN_POSITIONS
  dropout_rate: float = 0.2
  attn_dropout: float = 0.05
  pos_dropout: float = 0.01
  stem_width: int = 512
  tower_widths: tuple[int, ...] = (608, 736, 896, 1056, 1280)
  final_width: int = 1920
  target_length: int | None = TARGET_LENGTH
  output_heads: Mapping[str, int] = flax.core.FrozenDict(human=7611, mouse=2608)
  remat: bool = False
  dtype: Dtype = jnp.float32
  param_dtype: Dtype = jnp.float32

  @property
  def output_stride(self) -> int:
    """Base pairs per output bin (paper: 32)."""
    return 2 ** len(self.tower_widths)

  def output_length(self, sequence_length: int) -> int:
    """Bins out for ``sequence_length`` bp in (paper: 524,288 -> 6,144)."""
    if self.target_length is None or self.target_length == -1:
      return sequence_length // self.output_stride
    return self.target_length

  def _crop(self, x: Array) -> Array:
    if self.target_length is None or self.target_length == -1:
      return x
    bins = x.shape[1]
    if bins < self.target_length:
      raise ValueError(f"{bins} bins is less than target_length {self.target_length}; "
                       f"give at least {self.target_length * self.output_stride} bp")
    # borzoi-pytorch's TargetLengthCrop starts at ceil((bins - target) / 2); the same
    # first bin here, and an odd difference leaves the extra bin on the right.
    start = -(-(bins - self.target_length) // 2)
    return x[:, start:start + self.target_length]

  @nn.compact
  def __call__(self, sequence: Array, *, train: bool = False,
               return_embeddings: bool = False
               ) -> dict[str, Array] | tuple[dict[str, Array], Array]:
    """Predicts coverage tracks per head.

    Args:
      sequence: ``float[batch, length, 4]`` one-hot A,C,G,T, ``length`` a
        multiple of ``4 * output_stride`` (paper: 524,288 bp).
      train: batch statistics and dropout (needs a ``"dropout"`` rng and
        ``mutable=["batch_stats"]``).
      return_embeddings: also return the final block's output.

    Returns:
      ``{head: float32[batch, target_length, tracks]}`` (softplus, so
      non-negative), and with ``return_embeddings`` the tuple
      ``(outputs, float32[batch, target_length, final_width])``. Sown in
      ``"intermediates"``: ``conv_tower_out`` (``x_unet0``), ``unet1_out``,
      ``transformer_out`` and ``unet_out`` (cropped, before the final block).
    """
    length = sequence.shape[1]
    if length % (4 * self.output_stride):
      raise ValueError(f"Borzoi needs a length divisible by {4 * self.output_stride} "
                       f"(two U-Net levels below {self.output_stride}-bp bins), got {length}")
    kw = dict(dtype=self.dtype, param_dtype=self.param_dtype)
    block = dict(norm_epsilon=1e-3, gelu_approximation="tanh", **kw)
    x = sequence.astype(self.dtype)

    # Stem and tower.
    x = nn.Conv(self.stem_width, (15,), padding=[(7, 7)],
                kernel_init=_named(nn.initializers.lecun_normal(),
                                   "conv_width", "conv_in", "conv_out"),
                bias_init=_named(nn.initializers.zeros_init(), "conv_out"),
                name="conv_dna", **kw)(x)
    x = max_pool(x)
    for i, width in enumerate(self.tower_widths):
      if i:
        x = max_pool(x)
      x = enformer.ConvBlock(width, 5, name=f"res_tower_{i}", **block)(x, train=train)
    x_unet0 = x
    self.sow("intermediates", "conv_tower_out", x_unet0)
    x_unet1 = enformer.ConvBlock(self.dim, 5, name="unet1", **block)(
        max_pool(x_unet0), train=train)
    self.sow("intermediates", "unet1_out", x_unet1)

    # Transformer trunk at 128 bp.
    x = max_pool(x_unet1)
    layer = (nn.remat(enformer.TransformerBlock, static_argnums=(2,)) if self.remat
             else enformer.TransformerBlock)
    for i in range(self.depth):
      x = layer(heads=self.heads, key_size=self.attn_dim_key,
                dropout_rate=self.dropout_rate, attn_dropout=self.attn_dropout,
                pos_dropout=self.pos_dropout, value_size=self.attn_dim_value,
                num_position_features=self.num_position_features,
                central_mask_length=self.central_mask_length, norm_epsilon=1e-3,
                name=f"transformer_{i}", **kw)(x, train)
    self.sow("intermediates", "transformer_out", x)

    # U-Net back up to the bins, a skip connection per level.
    for level, skip in ((1, x_unet1), (0, x_unet0)):
      x = upsample(enformer.ConvBlock(self.dim, 1, name=f"upsampling_unet{level}",
                                      **block)(x, train=train))
      x = x + enformer.ConvBlock(self.dim, 1, name=f"horizontal_conv{level}",
                                 **block)(skip, train=train)
      x = SeparableConv(self.dim, name=f"separable{level}", **kw)(x)
    x = self._crop(x)
    self.sow("intermediates", "unet_out", x)

    x = enformer.ConvBlock(self.final_width, 1, name="final_joined_convs", **block)(
        x, train=train)
    x = nn.Dropout(0.1)(x, deterministic=not train)
    # The heads run in float32, as borzoi-pytorch turns autocast off there.
    embeddings = enformer.GELUS["tanh"](x).astype(jnp.float32)
    outputs = {}
    for head, tracks in self.output_heads.items():
      logits = nn.Dense(
          tracks, dtype=jnp.float32, param_dtype=self.param_dtype,
          kernel_init=_named(nn.initializers.lecun_normal(), "embed", "tracks"),
          bias_init=_named(nn.initializers.zeros_init(), "tracks"),
          name=f"head_{head}")(embeddings)
      outputs[head] = jax.nn.softplus(logits)
    if return_embeddings:
      return outputs, embeddings
    return outputs


Model = Borzoi


def borzoi(preset: str = "paper", **overrides: Any) -> Borzoi:
  """A Borzoi from a named preset (see ``PRESETS``) with field overrides."""
  if preset not in PRESETS:
    raise KeyError(f"unknown Borzoi preset {preset!r}; have {sorted(PRESETS)}")
  return Borzoi(**{**PRESETS[preset], **overrides})


# ---------------------------------------------------------------------------
# Squashed-scale targets (Linder et al. 2025, Methods "Training data").


def squashed_scale(coverage: Array | np.ndarray, *, scale: Any = RNA_SCALE,
                   clip_soft: Any = RNA_CLIP_SOFT, exponent: Any = RNA_EXPONENT,
                   clip: Any = None) -> Array:
  """Borzoi's target transform of per-bin coverage sums ``[..., tracks]``.

  ``x = coverage**exponent`` (3/4 for ``sum_sqrt`` tracks, i.e. RNA-seq; 1 for
  ``sum``), the excess over ``clip_soft`` square-rooted
  (``clip_soft + sqrt(x - clip_soft)``), an optional hard ``clip``, then times
  ``scale``: the manuscript's transform (baskerville ``hound_data_read.py
  --transform_old``). Arguments broadcast over the track axis, so per-track
  values of ``targets.txt`` (``scale``, ``clip_soft``, ``clip``) work. Data built
  from bigWigs by ``genereg_jax.data.coverage_tracks`` use baskerville's later
  transform instead (``sqrt(1 + x) - 1``, soft clip ``clip_soft - 1 + sqrt(x -
  clip_soft + 1)``).
  """
  x = jnp.asarray(coverage, jnp.float32) ** exponent
  x = jnp.where(x > clip_soft, clip_soft + jnp.sqrt(jnp.maximum(x - clip_soft, 0.0)), x)
  if clip is not None:
    x = jnp.clip(x, -clip, clip)
  return scale * x


def undo_squashed_scale(values: Array | np.ndarray, *, scale: Any = RNA_SCALE,
                        clip_soft: Any = RNA_CLIP_SOFT,
                        exponent: Any = RNA_EXPONENT) -> Array:
  """Coverage from squashed values (predictions): ``squashed_scale``'s inverse.

  ``x = values / scale``, above ``clip_soft`` ``(x - clip_soft)**2 + clip_soft``,
  then ``x**(1 / exponent)`` (borzoi-pytorch ``undo_squashed_scale``, whose
  defaults are these: RNA-seq tracks). A hard clip cannot be undone.
  """
  x = jnp.asarray(values, jnp.float32) / scale
  x = jnp.where(x > clip_soft, jnp.square(x - clip_soft) + clip_soft, x)
  return jnp.maximum(x, 0.0) ** (1.0 / exponent)


def track_exponents(sum_stats: Sequence[str]) -> np.ndarray:
  """``exponent`` per track from ``targets.txt``'s ``sum_stat`` column."""
  exponents = {"sum": 1.0, "mean": 1.0, "sum_sqrt": 0.75, "mean_sqrt": 0.75}
  unknown = sorted(set(sum_stats) - set(exponents))
  if unknown:
    raise ValueError(f"sum_stat {unknown} has no squashed-scale exponent; "
                     f"known: {sorted(exponents)}")
  return np.asarray([exponents[s] for s in sum_stats], np.float32)


# ---------------------------------------------------------------------------
# borzoi-pytorch state dicts -> Flax variables.
# PyTorch Conv1d weights are [out, in, k] (Flax [k, in, out]), Linear [out, in]
# (Flax [in, out]); attention projections split "(heads d)" into two axes.

_PYTORCH_FIELDS = ("dim", "depth", "heads", "attn_dim_key", "attn_dim_value",
                   "dropout_rate", "attn_dropout", "pos_dropout")
# borzoi-pytorch crops 16,384 - 32 bins when return_center_bins_only is False.
_UNCROPPED_BINS = 16_352


def pytorch_config_to_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
  """``Borzoi`` fields from borzoi-pytorch ``BorzoiConfig`` kwargs or ``config.json``.

  ``bins_to_return`` becomes ``target_length`` (16,352 when
  ``return_center_bins_only`` is False). Heads are read off the weights (a track
  subset changes them), so the head switches are not used; the FlashAttention
  variant (``flashed=True``) is not supported.
  """
  if config.get("flashed"):
    raise ValueError("borzoi-pytorch's flashed (FlashAttention) variant is not supported")
  kwargs = {k: config[k] for k in _PYTORCH_FIELDS if k in config}
  if not config.get("return_center_bins_only", True):
    kwargs["target_length"] = _UNCROPPED_BINS
  elif "bins_to_return" in config:
    kwargs["target_length"] = int(config["bins_to_return"])
  return kwargs


def _indices(state_dict: Mapping[str, Any], prefix: str) -> list[int]:
  pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
  return sorted({int(m.group(1)) for k in state_dict if (m := pattern.match(k))})


def config_from_state_dict(state_dict: Mapping[str, Any],
                           **given: Any) -> dict[str, Any]:
  """``Borzoi`` fields read off a borzoi-pytorch state dict.

  Args:
    state_dict: ``{key: array}`` with borzoi-pytorch keys.
    **given: ``Borzoi`` fields the caller sets; they win and are not inferred.

  Returns:
    ``given`` plus, where not given: ``dim``, ``depth``, ``stem_width``,
    ``tower_widths``, ``final_width``, ``output_heads`` and, with ``depth > 0``,
    ``heads``, ``attn_dim_key``, ``attn_dim_value`` and
    ``num_position_features``. ``target_length``, ``central_mask_length`` and
    dropout rates are not stored in weights.

  Raises:
    ValueError: if the tower blocks are not numbered 0, 2, 4 ... (a max pool
      between each) or the transformer blocks 0 .. depth - 1.
  """
  config = dict(given)
  shape = lambda key: tuple(int(n) for n in np.shape(state_dict[key]))
  config.setdefault("dim", shape("unet1.1.conv_layer.weight")[0])
  config.setdefault("stem_width", shape("conv_dna.conv_layer.weight")[0])
  tower = _indices(state_dict, "res_tower.")
  if tower != list(range(0, 2 * len(tower), 2)):
    raise ValueError(f"res_tower blocks are not numbered 0, 2, 4 ...: {tower}")
  config.setdefault("tower_widths", tuple(
      shape(f"res_tower.{i}.conv_layer.weight")[0] for i in tower))
  config.setdefault("final_width", shape("final_joined_convs.0.conv_layer.weight")[0])
  blocks = _indices(state_dict, "transformer.")
  if blocks != list(range(len(blocks))):
    raise ValueError(f"transformer blocks are not numbered 0..n-1: {blocks}")
  config.setdefault("depth", len(blocks))
  if config["depth"]:
    p = "transformer.0.0.fn.1"
    _, heads, _, key_size = shape(f"{p}.rel_content_bias")
    config.setdefault("heads", heads)
    config.setdefault("attn_dim_key", key_size)
    config.setdefault("attn_dim_value", shape(f"{p}.to_v.weight")[0] // config["heads"])
    config.setdefault("num_position_features", shape(f"{p}.to_rel_k.weight")[1])
  config.setdefault("output_heads", {
      m.group(1): shape(k)[0] for k in state_dict
      if (m := re.fullmatch(r"(\w+)_head\.weight", k))})
  return config


def _variable_shapes(model: Borzoi) -> dict[str, Any]:
  # Parameter shapes do not depend on the length or the crop: a short input will do.
  probe = model.clone(target_length=None, parent=None)
  shapes = nn.meta.unbox(jax.eval_shape(
      probe.init, jax.random.PRNGKey(0), jnp.zeros((1, 4 * model.output_stride, 4))))
  return {k: shapes[k] for k in ("params", "batch_stats")}


def convert_pytorch_state_dict(state_dict: Mapping[str, Any],
                               **model_kwargs: Any) -> dict[str, Any]:
  """Flax variables for ``Borzoi`` from a borzoi-pytorch state dict.

  Args:
    state_dict: ``{key: array}`` (NumPy arrays or CPU tensors) as
      ``Borzoi.state_dict()`` gives it in borzoi-pytorch 0.5; ``num_batches_tracked``
      and ``set_track_subset``'s backup head (``human_head_bak.*``) are skipped.
    **model_kwargs: ``Borzoi`` fields; they win over what
      ``config_from_state_dict`` reads off the weights.

  Returns:
    ``{"params": ..., "batch_stats": ...}`` of float32 NumPy arrays, checked
    against ``Borzoi(**config_from_state_dict(sd, **model_kwargs))``.

  Raises:
    ValueError: on keys left over, missing or of the wrong shape.
  """
  sd = {k: np.asarray(v, dtype=np.float32) for k, v in state_dict.items()
        if not k.endswith("num_batches_tracked") and not k.startswith("human_head_bak.")}
  config = config_from_state_dict(sd, **model_kwargs)
  model = Borzoi(**config)
  # heads: the field's default when depth is 0 (no attention).
  reader = enformer.StateDictReader(sd, model.heads)
  take, conv = reader.take, reader.conv

  def conv_block(prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    norm = f"{prefix}.norm"
    return ({"norm": {"scale": take(f"{norm}.weight"), "bias": take(f"{norm}.bias")},
             "conv": conv(f"{prefix}.conv_layer")},
            {"norm": {"mean": take(f"{norm}.running_mean"),
                      "var": take(f"{norm}.running_var")}})

  params: dict[str, Any] = {"conv_dna": conv("conv_dna.conv_layer")}
  stats: dict[str, Any] = {}
  blocks = {f"res_tower_{i}": f"res_tower.{2 * i}" for i in range(len(config["tower_widths"]))}
  blocks.update(unet1="unet1.1", horizontal_conv0="horizontal_conv0",
                horizontal_conv1="horizontal_conv1",
                upsampling_unet0="upsampling_unet0.0",
                upsampling_unet1="upsampling_unet1.0",
                final_joined_convs="final_joined_convs.0")
  for name, prefix in blocks.items():
    params[name], stats[name] = conv_block(prefix)
  for level in (0, 1):
    p = f"separable{level}.conv_layer"
    params[f"separable{level}"] = {
        "depthwise": {"kernel": take(f"{p}.0.weight").transpose(2, 1, 0)},
        "pointwise": conv(f"{p}.1")}
  for i in range(config["depth"]):
    params[f"transformer_{i}"] = reader.transformer_block(f"transformer.{i}")
  for head in config["output_heads"]:
    params[f"head_{head}"] = {"kernel": take(f"{head}_head.weight")[:, :, 0].T,
                              "bias": take(f"{head}_head.bias")}

  if leftover := reader.leftover():
    raise ValueError(f"unconverted borzoi-pytorch keys: {leftover[:20]}")
  variables = {"params": params, "batch_stats": stats}
  got = jax.tree_util.tree_map(np.shape, variables)
  want = jax.tree_util.tree_map(lambda s: tuple(s.shape), _variable_shapes(model))
  if got != want:
    raise ValueError(f"converted shapes do not fit Borzoi(**{config}): got {got}, "
                     f"expected {want}")
  return variables


def load_state_dict(path, prefix: str = "") -> dict[str, np.ndarray]:
  """Reads a borzoi-pytorch state dict (``.npz``, ``.safetensors`` or a torch file);
  see ``genereg_jax.models.enformer.load_state_dict``."""
  return enformer.load_state_dict(path, prefix)


def load_pretrained(path, *, prefix: str = "",
                    **model_kwargs: Any) -> tuple[Borzoi, dict[str, Any]]:
  """Loads borzoi-pytorch weights into ``Borzoi``.

  Args:
    path: a weights file (see ``load_state_dict``) or a Hugging Face snapshot
      directory (``config.json`` and ``model.safetensors`` or
      ``pytorch_model.bin``, e.g. ``johahi/borzoi-replicate-0``).
    prefix: key prefix inside the file.
    **model_kwargs: ``Borzoi`` fields; they win over ``config.json``, which wins
      over what the weights show.

  Returns:
    ``(model, variables)``; ``model.apply(variables, x)`` predicts.
  """
  path, hf_config = enformer.read_snapshot(path)
  config = pytorch_config_to_kwargs(hf_config) if hf_config else {}
  config.update(model_kwargs)
  state_dict = load_state_dict(path, prefix)
  config = config_from_state_dict(state_dict, **config)
  return Borzoi(**config), convert_pytorch_state_dict(state_dict, **config)
