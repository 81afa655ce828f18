"""Throughput and memory benchmarks (never run by the tests; their machinery is).

Nothing is imported here: the PyTorch side (``reference_torch``) and the official
SpliceAI side run in virtual environments without JAX, flax or genereg_jax, and import
only ``timing`` and ``reference_inputs`` from this package.
"""
