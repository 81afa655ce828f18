"""Shared neural-network blocks (DESIGN.md: "shared blocks live once").

Model files compose these; attention blocks live in ``genereg_jax.nn.attention``,
the bidirectional LSTM (DanQ) in ``genereg_jax.nn.recurrent``.
Parameters carry logical axis names (``conv_width``, ``conv_in``, ``conv_out``, ``embed``,
``mlp``, ``tracks`` ...) which the trainer maps onto the device mesh from the config.
"""

from genereg_jax.nn.layers import ConvBlock
from genereg_jax.nn.layers import ConvTower
from genereg_jax.nn.layers import DenseBlock
from genereg_jax.nn.layers import conv
from genereg_jax.nn.layers import dense
from genereg_jax.nn.layers import global_pool
from genereg_jax.nn.recurrent import BiLSTM
from genereg_jax.nn.residual import DilatedResidualBlock
from genereg_jax.nn.residual import DilatedResidualTower
from genereg_jax.nn.residual import PreActivationConvBlock
