"""Shared check for the model tests: a few jitted Adam steps on a fixed batch lower the loss."""

import jax
import numpy as np
import optax


def jitted_losses(model, params, x, y, *, learning_rate: float, dropout_seed: int,
                  steps: int = 5) -> list[float]:
  """Sigmoid cross-entropy after each of ``steps`` jitted Adam steps (dropout on)."""
  tx = optax.adam(learning_rate)

  @jax.jit
  def step(params, opt_state):
    def loss_fn(p):
      logits = model.apply({"params": p}, x, train=True,
                           rngs={"dropout": jax.random.key(dropout_seed)})
      return optax.sigmoid_binary_cross_entropy(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for _ in range(steps):
    params, opt_state, loss = step(params, opt_state)
    losses.append(float(loss))
  assert np.isfinite(losses).all()
  return losses


def key(seed: int = 0) -> jax.Array:
  """A PRNG key of JAX's "rbg" implementation for the learning tests: XLA on CPU compiles
  its draws in about a quarter of the time of threefry's (a tiny CNNC's init: 1.1 vs 4.8
  CPU s), the same distributions with other values."""
  return jax.random.key(seed, impl="rbg")


def fit(loss_fn, params, *, steps: int, learning_rate: float, state=None, seed: int = 0):
  """Full-batch Adam for the "must learn" tests: ``steps`` jitted steps (one compile) of
  ``loss_fn(params, state, key) -> (loss, new state)``, ``state`` a model's mutable
  collections (batch statistics) or None, ``key`` a fresh dropout/sampling key per step.
  Returns ``(params, state, losses)``."""
  tx = optax.adam(learning_rate)

  @jax.jit
  def step(params, state, opt_state, key):
    (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, key)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), state, opt_state, loss

  opt_state, losses = tx.init(params), []
  for step_key in jax.random.split(key(seed), steps):
    params, state, opt_state, loss = step(params, state, opt_state, step_key)
    losses.append(float(loss))
  assert np.isfinite(losses).all()
  return params, state, losses
