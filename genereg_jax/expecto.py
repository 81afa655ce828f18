"""ExPecto: tissue expression and variant effects from sequence (Zhou et al., Nat. Genet. 2018).

Three stages, as in the paper (Fig. 1) and its code (FunctionLab/ExPecto):

1. **Chromatin.** A chromatin model (`genereg_jax.models.beluga`, 2,002 features)
   predicts probabilities for 2,000 bp windows at 200 positions around each gene's
   representative TSS: window centres at ``TSS + strand * o`` for
   ``o = -20,000, -19,800, ..., 19,800`` (200 bp apart, ``Layout.offsets``; the
   reference repository ships these features precomputed, ``Xreducedall.2002.npy``,
   so the offsets follow the re-implementation in SFGLab/spex ``tensors.py``); a window
   centred at 0-based ``c`` spans ``[c - 999, c + 1001)``, as the reference's
   ``fetchSeqs`` (999 bases before the centre, 1,000 after). Forward and
   reverse-complement predictions are averaged (the reference's ``predict.py`` averages
   the two halves of its ``.h5`` files).
2. **Spatial transform.** Each feature's 200 predictions are summed under 10
   exponential-decay weights of the strand-oriented distance ``d`` from the TSS
   (negative = upstream):  ``w_k(d) = exp(-c_k * floor(|d| / 200)) * [d <= 0]`` for the
   five upstream bases and ``* [d >= 0]`` for the five downstream ones, decay constants
   ``c = 0.01, 0.02, 0.05, 0.1, 0.2`` per 200 bp (``DECAYS``; reference ``predict.py``).
   So 10 bases in all (5 decays x up/down; the window at the TSS counts in both), and
   ``10 * F`` features per gene (20,020 for Beluga), basis-major: feature ``f`` of basis
   ``k`` is column ``k * F + f``, the column order of the published models.
3. **Expression.** Per tissue, an L2-regularised linear model of
   ``log(expression + 0.0001)`` (natural log, pseudocount 1e-4; reference ``train.py``).
   The paper fits it with XGBoost's linear booster (``gblinear``, lambda 100, alpha 0,
   eta 0.01, 100 rounds, base score 2), i.e. coordinate descent stopped early on
   ``1/2 sum (y - Xw - b)^2 + 1/2 lambda |w|^2``. Here that objective is solved
   exactly (ridge regression with an unpenalised intercept), in JAX: one Cholesky
   factorisation of the smaller of ``X^T X`` and ``X X^T`` serves every tissue at once
   (for a lambda grid, one eigendecomposition serves every lambda), float32, on the
   accelerator when there is one; no scikit-learn (not a package dependency) and no
   XGBoost. A lambda grid can be chosen per tissue on held-out genes (the paper holds
   out chromosome 8 for testing).

**Variant effect on expression** = the change of the linear prediction when the variant
changes the predicted features: ``sum_windows basis(d) (x) (ALT - REF probabilities)``
times each tissue's weights (the intercept cancels; the reference's ``predict.py``
computes ``model(diff) - model(0)``, the same number). Two window sets:
``"gene_grid"`` (default): those of the gene's own 200 windows that contain the variant
(at most 10), so for substitutions the effect equals exactly the prediction for the
ALT sequence minus that for REF (an indel also shifts the windows beyond it; those are
not rescored); ``"variant_shifts"``: the reference ``chromatin.py`` layout, 9 windows
centred at the variant +-0, 200, ..., 800 bp, each weighted by its own centre's
distance to the TSS.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from genereg_jax.data import encoding
from genereg_jax.files import atomic_write

DECAYS = (0.01, 0.02, 0.05, 0.1, 0.2)  # per 200 bp bin; reference predict.py.
PSEUDOCOUNT = 1e-4  # reference train.py --pseudocount
L2 = 100.0  # reference train.py --l2 (XGBoost gblinear lambda, on the summed loss)
VARIANT_SHIFTS = (0, -200, -400, -600, -800, 200, 400, 600, 800)  # chromatin.py, maxshift 800


@dataclasses.dataclass(frozen=True)
class Layout:
  """Where the chromatin windows sit around a TSS and how the spatial bases decay.

  Attributes:
    window: bases per chromatin window (Beluga: 2,000).
    step: bases between window centres, also the distance unit of the decays (200).
    span: windows from ``-span`` to ``span - step`` around the TSS (20,000: 200 windows).
    decays: decay constants per ``step`` bases (``DECAYS``).
  """
  window: int = 2000
  step: int = 200
  span: int = 20000
  decays: tuple[float, ...] = DECAYS

  @property
  def offsets(self) -> np.ndarray:
    """Strand-oriented window-centre offsets from the TSS, ``[positions]``."""
    return np.arange(-self.span, self.span, self.step)

  @property
  def num_bases(self) -> int:
    return 2 * len(self.decays)

  def window_start(self, centre: np.ndarray) -> np.ndarray:
    """0-based first base of the window centred at 0-based ``centre`` (999 before it)."""
    return np.asarray(centre) - (self.window // 2 - 1)


def strand_sign(strand: Any) -> np.ndarray:
  """``'+'``/``'-'`` or ``+1``/``-1`` (array or scalar) -> int array of +1/-1."""
  strand = np.asarray(strand)
  if strand.dtype.kind in "US":
    sign = np.where(strand == "+", 1, np.where(strand == "-", -1, 0))
  else:
    sign = np.sign(strand).astype(int)
  if np.any(sign == 0):
    raise ValueError(f"strand must be '+'/'-' or +1/-1, got {np.unique(strand)}")
  return sign


def basis_weights(distance: Any, layout: Layout = Layout()) -> np.ndarray:
  """``[..., 2 * len(decays)]`` weights of strand-oriented TSS distances (bp, - = upstream).

  Upstream bases first (``d <= 0``), then downstream (``d >= 0``); each
  ``exp(-c * floor(|d| / step))``.
  """
  d = np.asarray(distance, np.float64)[..., None]
  decay = np.exp(-np.asarray(layout.decays) * np.floor(np.abs(d) / layout.step))
  return np.concatenate([decay * (d <= 0), decay * (d >= 0)], axis=-1)


def spatial_features(predictions: Any, strand: Any, distances: Any = None,
                     layout: Layout = Layout()) -> np.ndarray:
  """ExPecto's spatial transform: ``[genes, positions, F]`` -> ``[genes, 10 * F]``.

  Args:
    predictions: chromatin probabilities per window.
    strand: ``[genes]`` of ``'+'``/``'-'`` or +1/-1.
    distances: genomic offset (window centre - TSS, bp) of each window, ``[positions]``
      or ``[genes, positions]``. Default: ``strand * layout.offsets``, i.e. window ``i``
      centred at ``TSS + strand * offsets[i]`` (the windows of `gene_window_starts`).

  Returns:
    float32 ``[genes, num_bases * F]``, column ``k * F + f`` (basis-major, as the
    published models read them).
  """
  predictions = np.asarray(predictions, np.float32)
  sign = strand_sign(strand)
  if distances is None:
    oriented = np.broadcast_to(layout.offsets, predictions.shape[:2])
  else:
    oriented = np.broadcast_to(distances, predictions.shape[:2]) * sign[:, None]
  weights = basis_weights(oriented, layout).astype(np.float32)  # [genes, positions, bases]
  features = np.einsum("gpk,gpf->gkf", weights, predictions)
  return features.reshape(predictions.shape[0], -1)


def gene_window_starts(tss: Any, strand: Any, layout: Layout = Layout()) -> np.ndarray:
  """0-based window starts ``[genes, positions]`` for 0-based TSS positions."""
  centres = np.asarray(tss)[:, None] + strand_sign(strand)[:, None] * layout.offsets
  return layout.window_start(centres)


# ---------------------------------------------------------------------------------------
# Stage 1: chromatin predictions for windows.


def probability_fn(model, params: Any) -> Callable[[np.ndarray], np.ndarray]:
  """Jitted ``[batch, window, 4]`` one-hot -> sigmoid probabilities of a logit model."""
  @jax.jit
  def predict(x):
    return jax.nn.sigmoid(model.apply({"params": params}, x, train=False))
  return lambda x: np.asarray(predict(jnp.asarray(x, jnp.float32)))


def predict_windows(predict_fn: Callable[[np.ndarray], np.ndarray],
                    one_hot: np.ndarray, batch_size: int = 64,
                    reverse_complement_average: bool = True) -> np.ndarray:
  """``[n, window, 4]`` -> ``[n, F]`` in fixed-size batches (the last one padded, so one
  compiled shape), forward and reverse-complement averaged as the reference does."""
  n = one_hot.shape[0]
  out = []
  for start in range(0, n, batch_size):
    batch = one_hot[start:start + batch_size]
    rows = batch.shape[0]
    if rows < batch_size:
      batch = np.concatenate([batch, np.zeros((batch_size - rows, *batch.shape[1:]),
                                              batch.dtype)])
    pred = np.asarray(predict_fn(batch), np.float32)
    if reverse_complement_average:
      pred = (pred + np.asarray(predict_fn(encoding.reverse_complement(batch)), np.float32)) / 2
    out.append(pred[:rows])
  return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def gene_window_predictions(predict_fn: Callable[[np.ndarray], np.ndarray], genome,
                            chroms: Sequence[str], tss: Any, strand: Any,
                            layout: Layout = Layout(), batch_size: int = 64,
                            reverse_complement_average: bool = True,
                            progress: Any = None) -> np.ndarray:
  """Stage 1 for genes: ``[genes, positions, F]`` chromatin probabilities.

  ``genome`` is a `genereg_jax.data.genome.Genome` (bases off a chromosome end read
  as N); ``progress`` an optional bar with ``update(n)`` (one unit per gene).
  """
  starts = gene_window_starts(tss, strand, layout)
  result = []
  for chrom, gene_starts in zip(chroms, starts):
    lo, hi = int(gene_starts.min()), int(gene_starts.max()) + layout.window
    region = encoding.one_hot_dna(genome.fetch(chrom, lo, hi), np.float32)
    windows = np.stack([region[s - lo:s - lo + layout.window] for s in gene_starts])
    result.append(predict_windows(predict_fn, windows, batch_size, reverse_complement_average))
    if progress is not None:
      progress.update(1)
  return np.stack(result)


# ---------------------------------------------------------------------------------------
# Stage 3: per-tissue ridge regression.


def log_expression(values: Any, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
  """``log(values + pseudocount)`` (natural log), ExPecto's regression target."""
  return np.log(np.asarray(values, np.float64) + pseudocount)


@jax.jit
def _ridge_solve(x: jnp.ndarray, y: jnp.ndarray, l2: jnp.ndarray) -> jnp.ndarray:
  """Ridge weights of centred ``x``, ``y`` for one lambda: a Cholesky solve of the smaller
  Gram system (primal ``X^T X`` when features <= genes, else dual ``X X^T``)."""
  if x.shape[1] <= x.shape[0]:
    gram = x.T @ x
    factor = jax.scipy.linalg.cho_factor(gram + l2 * jnp.eye(gram.shape[0], dtype=x.dtype))
    return jax.scipy.linalg.cho_solve(factor, x.T @ y)
  gram = x @ x.T
  factor = jax.scipy.linalg.cho_factor(gram + l2 * jnp.eye(gram.shape[0], dtype=x.dtype))
  return x.T @ jax.scipy.linalg.cho_solve(factor, y)


@jax.jit
def _spectrum(x: jnp.ndarray, y: jnp.ndarray):
  """For a lambda grid: eigenpairs of the smaller Gram matrix of centred ``x`` and ``y``
  projected on them, so each lambda costs one matrix product."""
  if x.shape[1] <= x.shape[0]:  # primal: W = V (S + l)^-1 V^T X^T Y
    s, v = jnp.linalg.eigh(x.T @ x)
    return s, v, v.T @ (x.T @ y)
  s, u = jnp.linalg.eigh(x @ x.T)  # dual: W = X^T U (S + l)^-1 U^T Y
  return s, u, u.T @ y


def _ridge_weights(x: np.ndarray, spectrum, l2: float) -> np.ndarray:
  s, vectors, projected = spectrum
  scaled = projected / (jnp.maximum(s, 0) + l2)[:, None]
  if x.shape[1] <= x.shape[0]:
    return np.array(vectors @ scaled)  # writable copies: the grid search edits them
  return np.array(jnp.asarray(x).T @ (vectors @ scaled))


def _spearman_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  from scipy import stats
  return np.array([stats.spearmanr(a[:, t], b[:, t])[0] for t in range(a.shape[1])])


@dataclasses.dataclass
class ExpressionModel:
  """Per-tissue linear models of log expression on spatial features.

  Attributes:
    weights: ``[features, tissues]``.
    bias: ``[tissues]``.
    tissues: tissue names.
    l2: ``[tissues]`` lambda each tissue was fit with.
    layout: the spatial layout the features were made with.
    pseudocount: of the ``log(expression + pseudocount)`` target.
  """
  weights: np.ndarray
  bias: np.ndarray
  tissues: tuple[str, ...]
  l2: np.ndarray
  layout: Layout = Layout()
  pseudocount: float = PSEUDOCOUNT

  @property
  def num_chromatin_features(self) -> int:
    return self.weights.shape[0] // self.layout.num_bases

  def predict(self, features: Any) -> np.ndarray:
    """``[genes, features]`` spatial features -> ``[genes, tissues]`` log expression."""
    return np.asarray(features, np.float32) @ self.weights + self.bias

  def save(self, path: str | os.PathLike) -> None:
    """Writes an ``.npz`` atomically (weights, bias, tissues, lambdas, layout)."""
    with atomic_write(path, "wb") as f:
      np.savez(f, weights=self.weights, bias=self.bias, tissues=np.asarray(self.tissues),
               l2=self.l2, pseudocount=self.pseudocount, window=self.layout.window,
               step=self.layout.step, span=self.layout.span,
               decays=np.asarray(self.layout.decays))

  @classmethod
  def load(cls, path: str | os.PathLike) -> "ExpressionModel":
    with np.load(path) as data:
      layout = Layout(int(data["window"]), int(data["step"]), int(data["span"]),
                      tuple(float(c) for c in data["decays"]))
      return cls(data["weights"], data["bias"], tuple(str(t) for t in data["tissues"]),
                 data["l2"], layout, float(data["pseudocount"]))


def fit_expression_model(features: Any, targets: Any, tissues: Sequence[str],
                         l2: float | Sequence[float] = L2,
                         validation: tuple[Any, Any] | None = None,
                         layout: Layout = Layout(),
                         pseudocount: float = PSEUDOCOUNT) -> ExpressionModel:
  """Ridge regression per tissue: ``min 1/2 |y - Xw - b|^2 + 1/2 l2 |w|^2``.

  Args:
    features: ``[genes, D]`` spatial features.
    targets: ``[genes, tissues]`` log expression (`log_expression`); NaN entries (a
      gene without a value in a tissue) are not allowed: drop those genes first.
    tissues: names, one per target column.
    l2: one lambda (the paper's 100), or a grid: then ``validation`` is required and
      each tissue keeps the lambda with the highest Spearman correlation on it.
    validation: ``(features, targets)`` of held-out genes, for the grid.

  Returns:
    The fitted `ExpressionModel`.
  """
  x = np.asarray(features, np.float32)
  y = np.asarray(targets, np.float32)
  if not np.isfinite(y).all() or not np.isfinite(x).all():
    raise ValueError("features and targets must be finite (drop genes without a value)")
  grid = np.atleast_1d(np.asarray(l2, np.float64))
  if grid.size > 1 and validation is None:
    raise ValueError("a grid of l2 values needs validation genes to choose from")
  x_mean, y_mean = x.mean(0), y.mean(0)
  xc = x - x_mean
  if grid.size == 1:
    best_w = np.asarray(_ridge_solve(jnp.asarray(xc), jnp.asarray(y - y_mean), grid[0]))
    best_l2 = np.full(y.shape[1], grid[0])
  else:
    val_x, val_y = (np.asarray(v, np.float32) for v in validation)
    if len(val_y) < 3:
      raise ValueError(f"{len(val_y)} validation genes; choosing lambda needs at least 3")
    spectrum = _spectrum(jnp.asarray(xc), jnp.asarray(y - y_mean))
    best_w = best_l2 = best_score = None
    for value in grid:
      w = _ridge_weights(xc, spectrum, float(value))
      score = _spearman_columns(val_x @ w + (y_mean - x_mean @ w), val_y)
      score = np.nan_to_num(score, nan=-np.inf)
      if best_w is None:
        best_w, best_l2, best_score = w, np.full(y.shape[1], value), score
      else:
        better = score > best_score
        best_w[:, better], best_l2[better], best_score[better] = (w[:, better], value,
                                                                   score[better])
  bias = y_mean - x_mean @ best_w
  return ExpressionModel(best_w.astype(np.float32), bias.astype(np.float32), tuple(tissues),
                         best_l2, layout, pseudocount)


# ---------------------------------------------------------------------------------------
# Variant effects.


def variant_window_starts(pos: int, tss: int, strand: Any, layout: Layout = Layout(),
                          windows: str = "gene_grid") -> tuple[np.ndarray, np.ndarray]:
  """``(starts, distances)`` of the windows whose change carries a variant's effect.

  Args:
    pos: 0-based variant position (its first REF base); tss: 0-based TSS.
    windows: ``"gene_grid"`` or ``"variant_shifts"`` (module docstring).

  Returns:
    0-based window starts and each window's genomic centre - TSS offset (bp), for
    `expression_effect`'s ``distances``.
  """
  if windows == "gene_grid":
    centres = tss + int(strand_sign(strand)) * layout.offsets
    starts = layout.window_start(centres)
    inside = (starts <= pos) & (pos < starts + layout.window)
    return starts[inside], centres[inside] - tss
  if windows == "variant_shifts":
    centres = pos + np.asarray(VARIANT_SHIFTS)
    return layout.window_start(centres), centres - tss
  raise ValueError(f"unknown window set {windows!r}; valid: gene_grid, variant_shifts")


def alternative_window(reference: str, offset: int, ref: str, alt: str,
                       right_flank: str = "") -> str:
  """The ALT sequence of a window (same length): ``ref`` at ``offset`` replaced by ``alt``.

  Deletions fill from ``right_flank`` (the bases after the window); insertions push the
  window's last bases out. The window start stays put, as the reference's ``fetchSeqs``.
  """
  sequence = reference + right_flank
  changed = sequence[:offset] + alt + sequence[offset + len(ref):]
  return (changed + "N" * len(reference))[:len(reference)]


def expression_effect(model: ExpressionModel, differences: Any, distances: Any,
                      strand: Any) -> np.ndarray:
  """Change of each tissue's prediction from chromatin changes in some windows.

  Args:
    differences: ``[variants, windows, F]`` ALT - REF probabilities (zero rows for
      padding windows).
    distances: ``[variants, windows]`` genomic window centre - TSS (bp).
    strand: ``[variants]`` strand of each variant's gene.

  Returns:
    ``[variants, tissues]`` change of ``log(expression + pseudocount)``.
  """
  delta = spatial_features(differences, strand, distances, model.layout)
  return delta @ model.weights


def _pair_windows(genome, pair, layout: Layout, windows: str):
  """REF and ALT window sequences of one (variant, gene) pair, and the windows' distances."""
  chrom, pos, ref, alt, tss, strand = pair
  starts, distances = variant_window_starts(pos, tss, strand, layout, windows)
  if starts.size == 0:
    return [], [], distances
  lo, hi = int(starts.min()), int(starts.max()) + layout.window
  flank = max(len(ref) - len(alt), 0)
  region = genome.fetch(chrom, lo, hi + flank)
  refs = [region[s - lo:s - lo + layout.window] for s in starts]
  alts = [alternative_window(r, pos - s, ref, alt,
                             region[s - lo + layout.window:s - lo + layout.window + flank])
          for r, s in zip(refs, starts)]
  return refs, alts, distances


def variant_effects(model: ExpressionModel, predict_fn: Callable[[np.ndarray], np.ndarray],
                    genome, pairs: Iterable[tuple[str, int, str, str, int, Any]],
                    windows: str = "gene_grid", batch_size: int = 64,
                    reverse_complement_average: bool = True,
                    progress: Any = None) -> np.ndarray:
  """``[pairs, tissues]`` expression effects of (variant, gene) pairs.

  The windows of consecutive pairs share model batches (a pair has at most 20 REF + ALT
  windows; a batch holds ``batch_size``), so batches are full but for the last.

  Args:
    pairs: ``(chrom, pos, ref, alt, tss, strand)`` with 0-based ``pos`` and ``tss``;
      ``chrom`` as spelled in ``genome``; ``ref`` must match the genome (the caller
      checks and reports mismatches).
    progress: optional bar, ``update(1)`` per pair.
  """
  layout = model.layout
  effects, pending, sequences = [], [], []

  def flush():
    if sequences:
      one_hot = np.stack([encoding.one_hot_dna(s, np.float32) for s in sequences])
      pred = predict_windows(predict_fn, one_hot, batch_size, reverse_complement_average)
    at = 0
    for count, distances, strand in pending:
      if count == 0:
        effects.append(np.zeros(len(model.tissues), np.float32))
      else:
        diff = pred[at + count:at + 2 * count] - pred[at:at + count]
        effects.append(expression_effect(model, diff[None], distances[None],
                                         np.atleast_1d(strand_sign(strand)))[0])
      at += 2 * count
      if progress is not None:
        progress.update(1)
    pending.clear()
    sequences.clear()

  for pair in pairs:
    refs, alts, distances = _pair_windows(genome, pair, layout, windows)
    pending.append((len(refs), distances, pair[5]))
    sequences.extend(refs + alts)
    if len(sequences) >= batch_size:
      flush()
  flush()
  return np.stack(effects) if effects else np.zeros((0, len(model.tissues)), np.float32)
