"""NucleicNet (Lam et al., Nature Communications 2019): what part of RNA binds where on a protein.

Every point of a 1 A lattice lying 2-4 A from the protein's atoms (a "halo" around the
surface) is described by the physico-chemical environment of the atoms around it, in
concentric shells, and classified by the RNA constituent that sits there in complexes:
base A/C/G/U, ribose, phosphate or nothing (``CLASSES``). The network is a residual
CNN over that local environment. In words, following the released code
(github.com/jhmlam/NucleicNet v1.1, ``NucleicNet/Burn/M1.py`` ``B1hw_FcLogits`` +
``B1hw_LayerResnetBottleneck``, hyperparameters from ``Models/AUCG-9CV/*/hparams.yaml``):

  environment [batch, 6 shells, 80 FEATURE properties]   (1.25 A shells, 1.25-8.75 A)
  -> standardise (the released code divides by the training set's mean and SD;
     here a BatchNorm without scale or bias learns those statistics)
  -> Gaussian input noise (training only, SD 1; ``User_NoiseX``) -> dropout 0.01
  -> 32 residual blocks, alternating (``User_n_ResnetBlock``):
       pre-activation: BN -> GELU -> shell conv -> BN -> GELU -> shell conv, + input
       bottleneck:     1x1 conv to 40 -> BN -> GELU -> shell conv (40) -> BN -> GELU
                       -> shell conv back to 80, + input -> GELU
     where a "shell conv" mixes every property of a shell with those of the next inner
     shell (``B1hw_ShellConv``: a kernel spanning 2 shells x all properties, padded so
     that shell s sees shells s-1 and s; no bias)
  -> flatten (480) -> dropout 0.7 -> dense 480 -> dropout 0.7 -> dense num_classes
     (both without bias and with no nonlinearity between them, as released)
  -> logits

The released code uses ghost batch norm (virtual batches of 128) inside batches of
1,024; we use plain batch norm. It trains two 4-class heads (site type and base);
here one head covers all seven classes (``num_classes`` changes it).

The same blocks run on a *3-D* local grid (``spatial_dims=3``): input
``[batch, depth, height, width, channels]`` (e.g. atom-type densities in a cube around
the point), ``kernel_size`` cubes with SAME padding. That is the "3-D CNN" reading of
NucleicNet; the ``voxel`` preset is ours, not the paper's.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from genereg_jax import nn as gnn

#: Class order of the labels (``data_builders.nucleicnet_grids``) and the logits.
CLASSES = ("A", "C", "G", "U", "ribose", "phosphate", "nonsite")

#: The released code's two choices (``User_Activation``); GELU is PyTorch's erf form.
ACTIVATIONS = {"gelu": lambda x: nn.gelu(x, approximate=False), "relu": nn.relu}

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    # Seconds on a CPU: 4 blocks, a 16-wide bottleneck.
    "tiny": dict(num_blocks=4, bottleneck_features=16, dropout_rate=0.1, input_noise=0.0),
    # A 3-D grid around each point (module docstring); our choice of sizes.
    "voxel": dict(spatial_dims=3, kernel_size=3, num_blocks=4, bottleneck_features=16,
                  hidden_features=256, dropout_rate=0.3, input_noise=0.0),
}


class ShellConv(nn.Module):
  """Convolution along the shell axis (or a 3-D cube), no bias (``B1hw_ShellConv``).

  On shells (``spatial_dims=1``) the padding is causal: output shell s mixes input
  shells s-k+1..s, as the released code pads both ends and drops the outer extra shell.
  """
  features: int
  kernel_size: int
  spatial_dims: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    padding = ((self.kernel_size - 1, 0),) if self.spatial_dims == 1 else "SAME"
    # One logical name per kernel axis (a sharding rule may not see a name twice).
    axes = ("conv_depth", "conv_height", "conv_width")[3 - self.spatial_dims:]
    return nn.Conv(self.features, (self.kernel_size,) * self.spatial_dims, padding=padding,
                   use_bias=False, dtype=self.dtype,
                   kernel_init=nn.with_logical_partitioning(
                       nn.initializers.lecun_normal(), (*axes, "conv_in", "conv_out")))(x)


def _batch_norm(train: bool, dtype: Any) -> nn.BatchNorm:
  return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype)


class PreActivationBlock(nn.Module):
  """BN -> act -> conv -> BN -> act -> conv, + input (He et al. 2016, identity mappings)."""
  kernel_size: int
  spatial_dims: int
  activation: str = "gelu"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    act = ACTIVATIONS[self.activation]
    features = x.shape[-1]
    z = act(_batch_norm(train, self.dtype)(x))
    z = ShellConv(features, self.kernel_size, self.spatial_dims, self.dtype)(z)
    z = act(_batch_norm(train, self.dtype)(z))
    z = ShellConv(features, self.kernel_size, self.spatial_dims, self.dtype)(z)
    return x + z


class BottleneckBlock(nn.Module):
  """1x1 conv down -> BN -> act -> conv -> BN -> act -> conv up, + input -> act."""
  bottleneck_features: int
  kernel_size: int
  spatial_dims: int
  activation: str = "gelu"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray, *, train: bool) -> jnp.ndarray:
    act = ACTIVATIONS[self.activation]
    z = ShellConv(self.bottleneck_features, 1, self.spatial_dims, self.dtype)(x)
    z = act(_batch_norm(train, self.dtype)(z))
    z = ShellConv(self.bottleneck_features, self.kernel_size, self.spatial_dims, self.dtype)(z)
    z = act(_batch_norm(train, self.dtype)(z))
    z = ShellConv(x.shape[-1], self.kernel_size, self.spatial_dims, self.dtype)(z)
    return act(x + z)


class NucleicNet(nn.Module):
  """``[batch, shells, properties]`` (or a 3-D grid) -> ``[batch, num_classes]`` logits.

  Attributes:
    num_blocks: residual blocks, alternating pre-activation and bottleneck (32).
    bottleneck_features: width inside a bottleneck block (40).
    kernel_size: shells mixed by one convolution (``n_ShellMix`` 2), or the cube side.
    spatial_dims: 1 for shells, 3 for a local grid.
    activation: ``ACTIVATIONS`` name.
    input_noise: SD of Gaussian noise added to the standardised input in training.
    input_dropout_rate: dropout on the input (0.01).
    hidden_features: width of the first dense layer; None = the flattened size (480).
    dropout_rate: dropout around that layer (0.7).
    num_classes: output logits (``CLASSES``).
    dtype: compute dtype.
  """
  num_blocks: int = 32
  bottleneck_features: int = 40
  kernel_size: int = 2
  spatial_dims: int = 1
  activation: str = "gelu"
  input_noise: float = 1.0
  input_dropout_rate: float = 0.01
  hidden_features: int | None = None
  dropout_rate: float = 0.7
  num_classes: int = len(CLASSES)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, environment: jnp.ndarray | None = None,
               voxels: jnp.ndarray | None = None, *, train: bool = False) -> jnp.ndarray:
    """Takes the shells as ``environment`` or a 3-D grid as ``voxels`` (the batch key
    the config feeds); both are the same input to the network."""
    if (environment is None) == (voxels is None):
      raise ValueError("NucleicNet takes exactly one of environment= and voxels=")
    environment = environment if environment is not None else voxels
    if environment.ndim != self.spatial_dims + 2:
      raise ValueError(f"NucleicNet with spatial_dims={self.spatial_dims} takes "
                       f"[batch, {'shells' if self.spatial_dims == 1 else '*grid'}, "
                       f"features]; got shape {environment.shape}")
    if self.activation not in ACTIVATIONS:
      raise ValueError(f"unknown activation {self.activation!r}; valid: {sorted(ACTIVATIONS)}")
    x = environment.astype(jnp.float32)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.99, use_scale=False,
                     use_bias=False, name="standardise")(x)
    if train and self.input_noise > 0:
      x = x + self.input_noise * jax.random.normal(self.make_rng("dropout"), x.shape)
    x = nn.Dropout(self.input_dropout_rate, deterministic=not train)(x).astype(self.dtype)
    for i in range(self.num_blocks):
      if i % 2 == 0:
        x = PreActivationBlock(self.kernel_size, self.spatial_dims, self.activation,
                               self.dtype, name=f"block{i}")(x, train=train)
      else:
        x = BottleneckBlock(self.bottleneck_features, self.kernel_size, self.spatial_dims,
                            self.activation, self.dtype, name=f"block{i}")(x, train=train)
    x = x.reshape(x.shape[0], -1)
    hidden = self.hidden_features or math.prod(environment.shape[1:])
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    x = gnn.dense(hidden, use_bias=False, dtype=self.dtype, name="hidden")(x)
    x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return gnn.dense(self.num_classes, use_bias=False, dtype=self.dtype,
                     axes=("mlp", "tracks"), name="output")(x).astype(jnp.float32)


Model = NucleicNet
