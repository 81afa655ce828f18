"""DeepGP (Zingaretti et al., Front. Plant Sci. 2020): a CNN over SNP genotypes -> traits,
and the penalised linear baseline it is compared with.

The released code (``lauzingaretti/DeepGP``, ``GP/CNN/cnn.py`` and the defaults of
``GP/Deep_genomic.py``): genotypes one-hot encoded per SNP (``--dummy``, on by default:
one column per observed genotype class) -> ``nconv`` (1) x [Conv1D ``nfilters`` (8) of
width ``ks`` (3), stride ``ns`` (1), activation ``act1``, then max-pool ``ps`` (3)] ->
flatten -> ``hl`` (1) x [dense ``hn`` (8), activation ``act2``, dropout ``dr2`` (0)] ->
a linear output per trait, trained on the mean squared error with Adam (``lr`` 0.025),
batch 16 for 50 epochs; L2 on the kernels (``reg2``) and an L1 activity penalty
(``reg1``). Activations were searched (talos) among relu/elu/linear/tanh/softplus; the
README's example searches ``act1`` in {linear, tanh} and ``act2`` = tanh, our defaults
(``tanh``). Here the three genotype classes 0/1/2 are channels of each SNP position
(``[batch, snps, 3]``; a missing genotype is all zeros) rather than the reference's
flattened one-hot columns, so the convolution slides over SNPs in map order.

`ridge_cv` is the paper's penalised-regression baseline in closed form (ridge on centred
dosages = GBLUP with a linear kernel; lambda by K-fold cross-validation on the training
individuals).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax import nn as gnn
from genereg_jax.nn import layers

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": dict(num_filters=4, hidden=(4,)),
}


def genotype_channels(dosage: jnp.ndarray) -> jnp.ndarray:
  """Dosages ``[batch, snps]`` (0/1/2, NaN or < 0 missing) -> one-hot ``[batch, snps, 3]``."""
  dosage = jnp.asarray(dosage, jnp.float32)
  known = (dosage == dosage) & (dosage >= 0)
  classes = jnp.round(jnp.where(known, dosage, -1.0)).astype(jnp.int32)
  return jax.nn.one_hot(classes, 3)  # -1 (missing) gives a row of zeros.


class DeepGP(nn.Module):
  """``genotypes [batch, snps]`` dosages -> ``[batch, num_outputs]`` trait values.

  Attributes:
    num_outputs: traits.
    num_conv: convolution + pooling layers (``nconv``, 1).
    num_filters, kernel_size, stride, pool_size: ``nfilters`` 8, ``ks`` 3, ``ns`` 1, ``ps`` 3.
    conv_activation, hidden_activation: ``act1``, ``act2`` (tanh, tanh).
    hidden: widths of the dense layers (``hl`` x ``hn``: one of 8).
    dropout_rate: dropout after each dense layer (``dr2``, 0).
    dtype: compute dtype.
  """
  num_outputs: int = 1
  num_conv: int = 1
  num_filters: int = 8
  kernel_size: int = 3
  stride: int = 1
  pool_size: int = 3
  conv_activation: str = "tanh"
  hidden_activation: str = "tanh"
  hidden: tuple[int, ...] = (8,)
  dropout_rate: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, genotypes: jnp.ndarray, *, train: bool = False) -> jnp.ndarray:
    x = genotype_channels(genotypes).astype(self.dtype)
    for index in range(self.num_conv):
      x = nn.Conv(self.num_filters, (self.kernel_size,), strides=(self.stride,),
                  padding="VALID", dtype=self.dtype, name=f"conv_{index}",
                  kernel_init=nn.initializers.normal(0.05))(x)  # Keras 'normal'.
      x = layers.activation(self.conv_activation)(x)
      x = nn.max_pool(x, (self.pool_size,), strides=(self.pool_size,), padding="VALID")
    x = x.reshape(x.shape[0], -1)
    for index, width in enumerate(self.hidden):
      x = gnn.DenseBlock(width, dropout_rate=self.dropout_rate,
                         activation=self.hidden_activation, dtype=self.dtype,
                         name=f"hidden_{index}")(x, train=train)
    return gnn.dense(self.num_outputs, dtype=self.dtype, axes=("mlp", "tracks"),
                     name="output")(x)


Model = DeepGP


def _ridge_kernel_fit(kernel: np.ndarray, y: np.ndarray, lambdas: np.ndarray):
  """Dual ridge coefficients ``alpha = (K + lambda I)^-1 y`` for every lambda at once."""
  values, vectors = np.linalg.eigh(kernel)
  projected = vectors.T @ y
  return np.stack([vectors @ (projected / (values + lam)) for lam in lambdas])


def ridge_cv(x_train: np.ndarray, y_train: np.ndarray,
             lambdas: np.ndarray | None = None, folds: int = 5, seed: int = 0):
  """Closed-form ridge on dosages with lambda by K-fold CV; returns ``predict(x)``.

  Markers are centred by their training means (missing -> the mean), the phenotype by
  its mean; with ``n < p`` the fit uses the kernel form ``beta = X^T (X X^T + lambda
  I)^-1 y`` (GBLUP with ``G = X X^T``). ``lambdas`` default: 30 values log-spaced over
  ``[1e-3, 1e3] x p`` (the scale of ``trace(X X^T) / n`` for standardised markers).

  Returns:
    ``(predict, best_lambda, cv_mse)``: a function of a dosage matrix, the chosen
    lambda and the CV mean squared error per lambda.
  """
  x_train = np.asarray(x_train, np.float64)
  y_train = np.asarray(y_train, np.float64).reshape(len(x_train), -1)
  means = np.nanmean(x_train, axis=0)
  means = np.where(np.isnan(means), 0.0, means)

  def centred(x):
    x = np.asarray(x, np.float64)
    return np.where(np.isnan(x), 0.0, x - means)

  x = centred(x_train)
  y_mean = y_train.mean(axis=0)
  y = y_train - y_mean
  if lambdas is None:
    lambdas = np.logspace(-3, 3, 30) * x.shape[1] * max(float(x.var()), 1e-12)
  order = np.random.default_rng(seed).permutation(len(x))
  errors = np.zeros(len(lambdas))
  for fold in np.array_split(order, folds):
    train = np.setdiff1d(order, fold)
    alphas = _ridge_kernel_fit(x[train] @ x[train].T, y[train], lambdas)
    cross = x[fold] @ x[train].T
    for i, alpha in enumerate(alphas):
      errors[i] += np.sum((cross @ alpha - y[fold]) ** 2)
  errors /= len(x) * y.shape[1]
  best = float(lambdas[int(np.argmin(errors))])
  alpha = _ridge_kernel_fit(x @ x.T, y, np.array([best]))[0]
  beta = x.T @ alpha

  def predict(x_new):
    return centred(x_new) @ beta + y_mean

  return predict, best, errors
