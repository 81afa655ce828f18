"""Shared neural-network blocks (DESIGN.md: "shared blocks live once").

Model files compose these; attention blocks live in ``genereg_jax.nn.attention``.
Parameters carry logical axis names (``conv_width``, ``conv_in``, ``conv_out``, ``embed``,
``mlp``, ``tracks`` ...) which the trainer maps onto the device mesh from the config.
"""

from genereg_jax.nn.layers import ConvBlock
from genereg_jax.nn.layers import ConvTower
from genereg_jax.nn.layers import DenseBlock
from genereg_jax.nn.layers import conv
from genereg_jax.nn.layers import dense
