r"""First-layer convolution filters as motifs, matched against JASPAR (TomTom-like).

Filter motifs follow the Basset and DanQ analyses (Kelley et al., Genome Res. 2016;
Quang & Xie, NAR 2016): each filter of the first convolution layer (a ``[width, 4,
filters]`` kernel) is scanned over a set of sequences; its response at a window is the
layer's linear output, ``sum(kernel * window) + bias`` (before any batch norm or ReLU,
which are monotone per filter); every window whose response exceeds
``threshold_fraction`` (0.5) times the filter's largest response over the whole set is
collected, and the aligned windows' base counts form the filter's position frequency
matrix (PFM). Only windows of A/C/G/T bases count (N and padding never do). Filters
whose largest response is <= 0 never fire and get no motif.

Matching follows TomTom (Gupta, Stamatoyannopoulos, Bailey & Noble, Genome Biol. 2007)
in spirit, with a shuffled-target null:

1. Column similarity: Pearson correlation of the two columns' base probabilities
   (``metric="pcc"``, 0 when a column is uniform) or minus their Euclidean distance
   (``"ed"``).
2. An alignment places the query at an offset against the target on either strand (the
   query's reverse complement for ``-``), with at least ``min_overlap`` (5, or the
   shorter width) overlapping columns. Its ``similarity`` is the column similarity
   averaged over the overlap, and ``z`` standardises the overlap's sum ``S``:
   ``z = (S - sum mu_i) / sqrt(sum var_i)`` over the overlapping query columns ``i``,
   where ``mu_i`` and ``var_i`` are the mean and variance of column ``i``'s similarity
   to the columns of column-shuffled targets (which are the database's columns), so
   uninformative flanks weigh as little as they inform.
3. Null: every target's columns are shuffled ``num_shuffles`` times (default 20,
   ~20,000 shuffled motifs for JASPAR CORE vertebrates; fixed seed). A normal fitted to
   the ``z`` of all their alignments gives each alignment's p-value, and the best
   alignment (smallest p) of a target is corrected for the number of alignments tried,
   ``p = 1 - (1 - p_best) ** k``, with ``k`` the effective number of independent
   alignments for targets of that width, fitted per query so that the shuffled
   targets' corrected p-values have median 1/2 (TomTom corrects by the number of
   offsets; fitting ``k`` accounts for overlapping alignments being correlated).
4. ``E = p * number of targets``; ``q`` is the Benjamini-Hochberg q-value over targets
   of one query, as TomTom reports.

Query PFMs are trimmed of low-information flanks (columns of less than ``trim_bits``)
before matching, since the Pearson correlation of a near-uniform column is noise.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import special

from genereg_jax.data.encoding import DNA_ALPHABET
from genereg_jax.data.encoding import reverse_complement
from genereg_jax.files import atomic_path
from genereg_jax.files import atomic_write

# Pseudocount added to each JASPAR base frequency, as ``synthetic_motifs`` plants them.
JASPAR_PSEUDOCOUNT = 0.01
METRICS = ("pcc", "ed")


# ----------------------------------------------------------------------------------
# Motifs.
# ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Motif:
  """A position probability matrix with where it came from.

  Attributes:
    name: the motif's name (``filter12``, or the TF for JASPAR: ``CTCF``).
    probabilities: ``[width, 4]`` A,C,G,T probabilities, rows summing to 1.
    num_sites: sites the matrix was built from (0 if unknown).
    matrix_id: a database ID (``MA0139.2``), or the name.
    tf_class: TF structural class (JASPAR), or "".
    tf_family: TF family (JASPAR), or "".
  """

  name: str
  probabilities: np.ndarray
  num_sites: int = 0
  matrix_id: str = ""
  tf_class: str = ""
  tf_family: str = ""

  @property
  def width(self) -> int:
    """Columns of the matrix."""
    return self.probabilities.shape[0]

  @property
  def identifier(self) -> str:
    """The database ID, else the name (MEME's motif identifier)."""
    return self.matrix_id or self.name


def information_content(probabilities: np.ndarray,
                        background: Sequence[float] = (0.25,) * 4) -> np.ndarray:
  """Per-column relative entropy ``sum p log2(p / b)`` in bits, ``[width]``."""
  p = np.asarray(probabilities, np.float64)
  b = np.asarray(background, np.float64)
  with np.errstate(divide="ignore", invalid="ignore"):
    terms = np.where(p > 0, p * np.log2(p / b), 0.0)
  return terms.sum(axis=-1)


def consensus(probabilities: np.ndarray, min_probability: float = 0.5) -> str:
  """Most likely base per column, lower case below ``min_probability`` (N if flat)."""
  letters = []
  for column in np.asarray(probabilities):
    best = int(np.argmax(column))
    if np.ptp(column) < 1e-6:
      letters.append("N")
    else:
      letter = DNA_ALPHABET[best]
      letters.append(letter if column[best] >= min_probability else letter.lower())
  return "".join(letters)


def trim_edges(probabilities: np.ndarray, min_bits: float,
               background: Sequence[float] = (0.25,) * 4) -> tuple[int, int]:
  """``(start, end)`` of the columns from the first to the last with >= ``min_bits``;
  the whole motif when no column reaches it."""
  informative = np.flatnonzero(information_content(probabilities, background) >= min_bits)
  if informative.size == 0:
    return 0, len(probabilities)
  return int(informative[0]), int(informative[-1]) + 1


def load_jaspar(collection: str = "CORE", tax_group: str | None = "vertebrates",
                release: str | None = None,
                pseudocount: float = JASPAR_PSEUDOCOUNT) -> list[Motif]:
  """The latest version of every matrix of a JASPAR collection, from pyjaspar's
  bundled offline database (``release=None``: pyjaspar's default)."""
  from pyjaspar import jaspardb
  database = jaspardb(release=release) if release else jaspardb()
  matrices = database.fetch_motifs(collection=collection,
                                   tax_group=[tax_group] if tax_group else None)
  if not matrices:
    raise ValueError(f"{database.release} has no {collection} matrices"
                     + (f" for {tax_group}" if tax_group else ""))
  motifs = []
  for matrix in matrices:
    counts = np.array([matrix.counts[base] for base in DNA_ALPHABET], np.float64).T
    frequencies = counts / counts.sum(axis=1, keepdims=True)
    motifs.append(Motif(
        name=matrix.name, matrix_id=matrix.matrix_id,
        probabilities=(frequencies + pseudocount) / (1 + 4 * pseudocount),
        num_sites=int(round(counts.sum(axis=1).max())),
        tf_class="; ".join(matrix.tf_class or ()),
        tf_family="; ".join(matrix.tf_family or ())))
  return motifs


# ----------------------------------------------------------------------------------
# First-layer filters: kernel lookup, activations, sites, PFMs.
# ----------------------------------------------------------------------------------


def _natural_key(path: str) -> list[Any]:
  return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def conv_kernels(params: Mapping[str, Any]) -> list[tuple[str, np.ndarray]]:
  """``(module path, kernel)`` of every 1-D conv kernel ``[width >= 2, 4, filters]``
  reading one-hot DNA (4 input channels), in natural path order."""
  found = []

  def visit(tree, prefix):
    for key, value in tree.items():
      path = f"{prefix}/{key}" if prefix else str(key)
      if isinstance(value, Mapping):
        visit(value, path)
      elif (key == "kernel" and np.ndim(value) == 3 and np.shape(value)[1] == 4
            and np.shape(value)[0] >= 2):
        found.append((prefix, value))

  visit(params, "")
  return sorted(found, key=lambda item: _natural_key(item[0]))


@dataclasses.dataclass(frozen=True)
class ConvFilters:
  """A first-layer convolution: ``kernel [width, 4, filters]``, ``bias [filters]``."""

  path: str
  kernel: np.ndarray
  bias: np.ndarray

  @property
  def width(self) -> int:
    """Filter width in bp."""
    return self.kernel.shape[0]

  @property
  def num_filters(self) -> int:
    """Number of filters (output channels)."""
    return self.kernel.shape[2]


def find_conv_filters(params: Mapping[str, Any], path: str | None = None) -> ConvFilters:
  """The conv layer at ``path`` (``"tower/ConvBlock_0/Conv_0"``; a trailing
  ``/kernel`` is allowed) or, by default, the first conv kernel with 4 input channels
  (``conv_kernels``). A conv without bias (before batch norm) gets zeros. ``params``
  may be boxed (``nn.LogicallyPartitioned``) or the whole ``{"params": ...}``."""
  import flax.linen as nn
  params = nn.meta.unbox(params)
  params = params["params"] if "params" in params else params
  if path is None:
    candidates = conv_kernels(params)
    if not candidates:
      raise ValueError("the model has no 1-D convolution kernel [width >= 2, 4, filters] "
                       "reading one-hot DNA; give the layer's path")
    path = candidates[0][0]
  path = path.strip("/")
  path = path[:-len("/kernel")] if path.endswith("/kernel") else path
  node = params
  for part in path.split("/"):
    if not isinstance(node, Mapping) or part not in node:
      available = [p for p, _ in conv_kernels(params)]
      raise KeyError(f"no parameters at {path!r} (missing {part!r}); conv layers "
                     f"reading DNA: {available}")
    node = node[part]
  if not isinstance(node, Mapping) or "kernel" not in node:
    raise KeyError(f"{path!r} holds no 'kernel'")
  kernel = np.asarray(node["kernel"], np.float32)
  if kernel.ndim != 3 or kernel.shape[1] != 4:
    raise ValueError(f"{path}/kernel has shape {kernel.shape}; expected [width, 4, filters]")
  bias = np.asarray(node.get("bias", np.zeros(kernel.shape[2])), np.float32)
  return ConvFilters(path, kernel, bias)


def _responses(x: jax.Array, kernel: jax.Array, bias: jax.Array):
  """``([batch, positions, filters]`` responses, ``[batch, positions]`` ACGT-only)."""
  responses = jax.lax.conv_general_dilated(
      x, kernel, (1,), "VALID", dimension_numbers=("NWC", "WIO", "NWC")) + bias
  width = kernel.shape[0]
  acgt = (x.sum(-1) > 0).astype(jnp.float32)
  base_windows = jax.lax.conv_general_dilated(
      acgt[..., None], jnp.ones((width, 1, 1)), (1,), "VALID",
      dimension_numbers=("NWC", "WIO", "NWC"))[..., 0]
  return responses, base_windows > width - 0.5


@jax.jit
def _max_response(x, kernel, bias):
  responses, valid = _responses(x, kernel, bias)
  return jnp.where(valid[..., None], responses, -jnp.inf).max(axis=(0, 1))


@jax.jit
def _site_counts(x, kernel, bias, threshold):
  responses, valid = _responses(x, kernel, bias)
  fired = ((responses > threshold) & valid[..., None]).astype(jnp.float32)
  width, positions = kernel.shape[0], responses.shape[1]
  windows = jnp.stack([x[:, k:k + positions] for k in range(width)], axis=2)
  counts = jnp.einsum("bpf,bpkc->fkc", fired, windows)
  return counts, fired.sum(axis=(0, 1))


@dataclasses.dataclass
class FilterSites:
  """Aligned base counts of the windows that activate each filter.

  Attributes:
    path: the conv layer.
    counts: ``[filters, width, 4]`` base counts over the collected windows.
    num_sites: ``[filters]`` windows collected.
    max_activation: ``[filters]`` largest response over the sequences.
    threshold: ``[filters]`` the response a window had to exceed (inf: never fired).
    background: ``[4]`` A,C,G,T frequencies of the scanned sequences.
    num_sequences: sequences scanned (reverse complements counted separately).
  """

  path: str
  counts: np.ndarray
  num_sites: np.ndarray
  max_activation: np.ndarray
  threshold: np.ndarray
  background: np.ndarray
  num_sequences: int

  def motifs(self, pseudocount: float = 1.0) -> list[Motif | None]:
    """One PFM per filter (None for filters without sites); ``pseudocount`` sites
    spread by the background frequencies regularise filters with few sites."""
    motifs = []
    for f, counts in enumerate(self.counts):
      if self.num_sites[f] == 0:
        motifs.append(None)
        continue
      smoothed = counts + pseudocount * self.background
      motifs.append(Motif(name=f"filter{f}", matrix_id=f"filter{f}",
                          probabilities=smoothed / smoothed.sum(axis=1, keepdims=True),
                          num_sites=int(self.num_sites[f])))
    return motifs


def filter_sites(filters: ConvFilters, batches: Callable[[], Iterable[np.ndarray]], *,
                 threshold_fraction: float = 0.5, both_strands: bool = False,
                 progress: Callable[[int], None] | None = None) -> FilterSites:
  """Collects, per filter, the windows responding above ``threshold_fraction`` x its
  maximum (Basset/DanQ) over the sequences that ``batches()`` yields.

  Args:
    filters: the conv layer (``find_conv_filters``).
    batches: called twice (maximum pass, then collection pass); each call yields
      ``[batch, length, 4]`` one-hot arrays (N and padding all zeros).
    threshold_fraction: fraction of each filter's maximum a window must exceed.
    both_strands: also scan each sequence's reverse complement.
    progress: called with the number of sequences after each batch of the second pass.
  """
  if not 0 < threshold_fraction <= 1:
    raise ValueError(f"threshold_fraction must be in (0, 1], got {threshold_fraction}")
  kernel, bias = jnp.asarray(filters.kernel), jnp.asarray(filters.bias)

  def strands(x):
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[-1] != 4:
      raise ValueError(f"sequences must be [batch, length, 4] one-hot, got {x.shape}")
    if x.shape[1] < filters.width:
      raise ValueError(f"sequences of {x.shape[1]} bp are shorter than the "
                       f"{filters.width} bp filters")
    if both_strands:
      x = np.concatenate([x, np.ascontiguousarray(reverse_complement(x))])
    return x

  maximum = np.full(filters.num_filters, -np.inf, np.float32)
  base_counts = np.zeros(4)
  num_sequences = 0
  for x in batches():
    x = strands(x)
    maximum = np.maximum(maximum, np.asarray(_max_response(x, kernel, bias)))
    base_counts += x.sum(axis=(0, 1))
    num_sequences += x.shape[0]
  if num_sequences == 0:
    raise ValueError("no sequences to scan")
  threshold = np.where(maximum > 0, threshold_fraction * maximum, np.inf).astype(np.float32)
  counts = np.zeros((filters.num_filters, filters.width, 4))
  sites = np.zeros(filters.num_filters)
  for x in batches():
    x = strands(x)
    batch_counts, batch_sites = _site_counts(x, kernel, bias, jnp.asarray(threshold))
    counts += np.asarray(batch_counts)
    sites += np.asarray(batch_sites)
    if progress is not None:
      progress(x.shape[0] // (2 if both_strands else 1))
  return FilterSites(path=filters.path, counts=counts, num_sites=sites.astype(np.int64),
                     max_activation=maximum, threshold=threshold,
                     background=base_counts / max(base_counts.sum(), 1.0),
                     num_sequences=num_sequences)


# ----------------------------------------------------------------------------------
# Output: MEME minimal format and logos.
# ----------------------------------------------------------------------------------


def write_meme(path: str | os.PathLike, motifs: Iterable[Motif],
               background: Sequence[float] = (0.25,) * 4) -> None:
  """Writes MEME minimal motif format (version 4): DNA alphabet, both strands, the
  background, and one ``letter-probability matrix`` per motif."""
  background = np.asarray(background, np.float64)
  background = background / background.sum()
  with atomic_write(path) as f:
    f.write("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
            "Background letter frequencies\n"
            + " ".join(f"{b} {v:.4f}" for b, v in zip(DNA_ALPHABET, background)) + "\n")
    for motif in motifs:
      f.write(f"\nMOTIF {motif.identifier}"
              + (f" {motif.name}" if motif.name != motif.identifier else "") + "\n")
      f.write(f"letter-probability matrix: alength= 4 w= {motif.width} "
              f"nsites= {motif.num_sites} E= 0\n")
      for row in motif.probabilities:
        f.write(" ".join(f"{v:.6f}" for v in row) + "\n")


def plot_logos(path: str | os.PathLike, motifs: Sequence[Motif], titles: Sequence[str],
               background: Sequence[float] = (0.25,) * 4, columns: int = 6) -> None:
  """Information-content logos (bits) of ``motifs`` in a grid, saved as PNG."""
  import matplotlib
  matplotlib.use("Agg")
  import logomaker
  import matplotlib.pyplot as plt
  import pandas as pd
  if not motifs:
    raise ValueError("no motifs to draw")
  columns = min(columns, len(motifs))
  rows = math.ceil(len(motifs) / columns)
  figure, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 1.5 * rows),
                              squeeze=False)
  background = np.asarray(background, np.float64)
  for ax, motif, title in zip(axes.flat, motifs, titles):
    p = motif.probabilities
    bits = p * information_content(p, background)[:, None]
    logomaker.Logo(pd.DataFrame(bits, columns=list(DNA_ALPHABET)), ax=ax,
                   color_scheme="classic")
    ax.set_ylim(0, 2)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.tick_params(labelsize=6)
  for ax in list(axes.flat)[len(motifs):]:
    ax.axis("off")
  figure.tight_layout()
  with atomic_path(path) as tmp:  # The temporary name has no extension to infer from.
    figure.savefig(tmp, dpi=100, format=os.path.splitext(path)[1][1:] or "png")
  plt.close(figure)


# ----------------------------------------------------------------------------------
# Matching: TomTom-like comparison with a column-shuffled null.
# ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Match:
  """The best alignment of a query with one target.

  Attributes:
    target: the matched database motif.
    similarity: column similarity averaged over the overlap (Pearson r, or minus the
      Euclidean distance).
    z: the overlap's standardised summed similarity (module docstring).
    p_value: corrected for the alignments tried.
    e_value: ``p_value`` times the number of targets.
    q_value: Benjamini-Hochberg over the targets of this query.
    orientation: ``+`` (query as given) or ``-`` (its reverse complement).
    offset: target column under the oriented query's first column (may be negative).
    overlap: columns aligned.
  """

  target: Motif
  similarity: float
  z: float
  p_value: float
  e_value: float
  q_value: float
  orientation: str
  offset: int
  overlap: int


def _standardised_columns(columns: np.ndarray, metric: str) -> np.ndarray:
  if metric == "ed":
    return columns
  centred = columns - columns.mean(axis=-1, keepdims=True)
  norm = np.linalg.norm(centred, axis=-1, keepdims=True)
  return np.where(norm > 1e-9, centred / np.maximum(norm, 1e-9), 0.0)


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
  order = np.argsort(p)
  ranked = p[order] * p.size / np.arange(1, p.size + 1)
  q = np.minimum.accumulate(ranked[::-1])[::-1]
  out = np.empty_like(p)
  out[order] = np.minimum(q, 1.0)
  return out


class MotifMatcher:
  """Compares query PFMs with a motif database (module docstring, "Matching").

  Args:
    targets: the database, e.g. ``load_jaspar()``.
    metric: ``"pcc"`` or ``"ed"``.
    min_overlap: fewest aligned columns (capped by the shorter motif).
    num_shuffles: column-shuffled copies of every target in the null.
    seed: of the shuffles.
  """

  def __init__(self, targets: Sequence[Motif], *, metric: str = "pcc", min_overlap: int = 5,
               num_shuffles: int = 20, seed: int = 0):
    if metric not in METRICS:
      raise ValueError(f"unknown metric {metric!r}; valid: {list(METRICS)}")
    if not targets:
      raise ValueError("no target motifs")
    if num_shuffles < 1 or min_overlap < 1:
      raise ValueError("num_shuffles and min_overlap must be >= 1")
    self.targets = list(targets)
    self.metric = metric
    self.min_overlap = min_overlap
    self.num_shuffles = num_shuffles
    widths = np.array([t.width for t in self.targets])
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    columns = np.concatenate([t.probabilities for t in self.targets])
    self._num_columns = len(columns)
    # One extra all-zero column pads alignments; its similarity is set to 0.
    self._columns = np.concatenate([_standardised_columns(columns, metric), np.zeros((1, 4))])
    rng = np.random.default_rng(seed)
    self._groups = []  # (width, target indices, column index rows: targets then shuffles)
    for width in np.unique(widths):
      ids = np.flatnonzero(widths == width)
      real = starts[ids, None] + np.arange(width)
      permutations = np.argsort(rng.random((ids.size, num_shuffles, width)), axis=-1)
      shuffled = (starts[ids, None, None] + permutations).reshape(-1, width)
      self._groups.append((int(width), ids, np.concatenate([real, shuffled])))

  def _similarity(self, query: np.ndarray) -> np.ndarray:
    """``[query width, database columns + 1]`` column similarities (pad column 0)."""
    if self.metric == "ed":
      distances = np.linalg.norm(query[:, None, :] - self._columns[None, :-1], axis=-1)
      similarity = -distances
    else:
      similarity = _standardised_columns(query, "pcc") @ self._columns[:-1].T
    return np.concatenate([similarity, np.zeros((len(query), 1))], axis=1)

  def _alignments(self, similarity, mean, variance, width, rows):
    """z ``[rows, offsets]`` (-inf where the overlap is too short), overlaps, sums."""
    query_width = similarity.shape[0]
    pad = np.full((len(rows), query_width - 1), self._num_columns)
    padded = np.concatenate([pad, rows, pad], axis=1)
    num_offsets = width + query_width - 1
    index = padded[:, np.arange(query_width)[:, None] + np.arange(num_offsets)[None, :]]
    sums = similarity[np.arange(query_width)[None, :, None], index].sum(axis=1)
    inside = index[0] != self._num_columns  # [query width, offsets], same for every row.
    overlap = inside.sum(axis=0)
    expected, spread = mean @ inside, np.sqrt(variance @ inside)
    with np.errstate(divide="ignore", invalid="ignore"):
      z = np.where(spread > 1e-12, (sums - expected) / spread, 0.0)
    z = np.where(overlap >= min(self.min_overlap, query_width, width), z, -np.inf)
    return z, overlap, sums

  def match(self, query: np.ndarray) -> list[Match]:
    """Every target's best alignment with ``query [width, 4]``, by p-value."""
    query = np.asarray(query, np.float64)
    if query.ndim != 2 or query.shape[1] != 4:
      raise ValueError(f"query must be [width, 4] probabilities, got {query.shape}")
    query_width = query.shape[0]
    strands = ("+", "-")
    similarities = [self._similarity(query), self._similarity(query[::-1, ::-1])]
    moments = [(s[:, :-1].mean(axis=1), s[:, :-1].var(axis=1)) for s in similarities]
    groups, null_z = [], []
    for width, ids, rows in self._groups:
      results = [self._alignments(s, *m, width, rows) for s, m in zip(similarities, moments)]
      z = np.stack([r[0] for r in results])  # [strand, rows, offsets]
      null = z[:, ids.size:]
      null_z.append(null[np.isfinite(null)])
      groups.append((ids, z, results))
    null_z = np.concatenate(null_z)
    centre, scale = null_z.mean(), max(null_z.std(), 1e-12)

    num_targets = len(self.targets)
    p_values = np.ones(num_targets)
    details = [None] * num_targets
    for ids, z, results in groups:
      num_offsets = z.shape[2]
      by_row = z.transpose(1, 0, 2).reshape(z.shape[1], -1)
      best = np.argmax(by_row, axis=1)
      z_best = by_row[np.arange(len(best)), best]
      log_p_alignment = special.log_ndtr(-(z_best - centre) / scale)
      # Effective number of independent alignments k for this width: the shuffled
      # targets' corrected p-values 1 - (1 - p) ** k then have median 1/2.
      median = float(np.median(np.exp(log_p_alignment[ids.size:])))
      k = max(math.log(0.5) / math.log1p(-median), 1.0) if 0 < median < 1 else 1.0
      p_alignment = np.exp(log_p_alignment[:ids.size])
      p = np.where(p_alignment < 1e-12, k * p_alignment,
                   -np.expm1(k * np.log1p(-np.minimum(p_alignment, 1 - 1e-16))))
      p_values[ids] = np.maximum(p, np.finfo(float).tiny)
      for j, target in enumerate(ids):
        strand, offset = divmod(int(best[j]), num_offsets)
        _, overlap, sums = results[strand]
        details[target] = (float(sums[j, offset] / overlap[offset]), float(z_best[j]),
                           strands[strand], offset - (query_width - 1), int(overlap[offset]))
    q_values = _benjamini_hochberg(p_values)
    order = np.lexsort((-np.array([d[1] for d in details]), p_values))
    return [Match(target=self.targets[i], similarity=details[i][0], z=details[i][1],
                  p_value=float(p_values[i]), e_value=float(p_values[i] * num_targets),
                  q_value=float(q_values[i]), orientation=details[i][2],
                  offset=details[i][3], overlap=details[i][4]) for i in order]


# ----------------------------------------------------------------------------------
# Reports.
# ----------------------------------------------------------------------------------


MATCH_COLUMNS = ("filter", "rank", "target_id", "target_name", "tf_family", "similarity",
                 "z", "p_value", "e_value", "q_value", "orientation", "offset", "overlap",
                 "query_consensus", "target_consensus")


def match_rows(query: Motif, matches: Sequence[Match], top_k: int,
               trimmed: tuple[int, int] = (0, -1)) -> list[list[str]]:
  """TSV rows (``MATCH_COLUMNS``) of a query's ``top_k`` matches; ``trimmed`` is the
  query's matched column range, reported as ``query_consensus``."""
  start, end = trimmed
  core = query.probabilities[start:end if end > 0 else None]
  rows = []
  for rank, m in enumerate(matches[:top_k], start=1):
    oriented = core if m.orientation == "+" else core[::-1, ::-1]
    rows.append([query.identifier, str(rank), m.target.matrix_id, m.target.name,
                 m.target.tf_family, f"{m.similarity:.4f}", f"{m.z:.3f}",
                 f"{m.p_value:.3g}", f"{m.e_value:.3g}", f"{m.q_value:.3g}", m.orientation,
                 str(m.offset), str(m.overlap), consensus(oriented),
                 consensus(m.target.probabilities)])
  return rows


def recovered(matches: Mapping[str, Sequence[Match]], truth: Mapping[str, str], *,
              top_k: int = 1, max_q: float = 1.0, family_level: bool = False
              ) -> dict[str, list[str]]:
  """Which ``truth`` motifs (``{name: JASPAR base ID}``, e.g. MA0139) are among the
  ``top_k`` matches (with ``q <= max_q``) of at least one query: ``{name: [queries]}``.

  With ``family_level`` a match to any matrix of the true motif's TF family counts
  (JASPAR holds near-identical matrices for paralogues: GATA1-6, SOX, FOX ...).
  """
  by_id = {}
  for ranked in matches.values():
    for m in ranked:
      by_id.setdefault(m.target.matrix_id.split(".")[0], m.target)
  out = {name: [] for name in truth}
  for query, ranked in matches.items():
    for m in ranked[:top_k]:
      if m.q_value > max_q:
        continue
      for name, base_id in truth.items():
        true_target = by_id.get(base_id)
        hit = m.target.matrix_id.split(".")[0] == base_id
        if family_level and true_target is not None and true_target.tf_family:
          hit = hit or m.target.tf_family == true_target.tf_family
        if hit and query not in out[name]:
          out[name].append(query)
  return out


FILTER_COLUMNS = ("filter", "num_sites", "max_activation", "threshold", "information_bits",
                  "consensus", "matched_columns", "top_target_id", "top_target_name",
                  "top_p_value", "top_q_value")


@dataclasses.dataclass
class FilterReport:
  """Everything ``analyse_filters`` computed and where it wrote it.

  Attributes:
    sites: the collected windows (``filter_sites``).
    motifs: one PFM per filter, None for filters that never fired.
    matches: ``{filter name: matches by p-value}`` (empty without a matcher).
    files: ``{"meme", "filters", "matches", "logos"}`` -> path (those written).
  """

  sites: FilterSites
  motifs: list[Motif | None]
  matches: dict[str, list[Match]]
  files: dict[str, str]


def analyse_filters(filters: ConvFilters, batches: Callable[[], Iterable[np.ndarray]],
                    out_dir: str, *, matcher: MotifMatcher | None = None,
                    threshold_fraction: float = 0.5, both_strands: bool = False,
                    pseudocount: float = 1.0, trim_bits: float = 0.25, top_k: int = 5,
                    logos: bool = True, num_sequences: int | None = None,
                    progress_bar: Callable[..., Any] | None = None) -> FilterReport:
  """Filter PFMs, MEME file, logos and JASPAR matches of one conv layer.

  Writes ``filters.meme`` (every filter that fired, untrimmed), ``filters.tsv`` (one
  row per filter: sites, maximum, threshold, information, consensus, best match),
  ``matches.tsv`` (``top_k`` per filter, ``MATCH_COLUMNS``) and ``logos.png`` to
  ``out_dir``. ``progress_bar(total=, desc=, unit=)`` (e.g. ``tqdm``) makes the bars
  of the collection pass over ``num_sequences`` sequences and of the matching. Each
  file is written under a temporary name and renamed when complete.
  """
  os.makedirs(out_dir, exist_ok=True)
  bar = None
  if progress_bar is not None:
    bar = progress_bar(total=num_sequences, desc="collecting sites", unit="seq")
  try:
    sites = filter_sites(filters, batches, threshold_fraction=threshold_fraction,
                         both_strands=both_strands, progress=bar.update if bar else None)
  finally:
    if bar is not None:
      bar.close()
  motifs = sites.motifs(pseudocount)
  fired = [m for m in motifs if m is not None]
  files = {"meme": os.path.join(out_dir, "filters.meme"),
           "filters": os.path.join(out_dir, "filters.tsv")}
  write_meme(files["meme"], fired, sites.background)
  matches, match_table = {}, []
  cores = {m.name: trim_edges(m.probabilities, trim_bits, sites.background) for m in fired}
  if matcher is not None:
    bar = None
    if progress_bar is not None:
      bar = progress_bar(total=len(fired), desc="matching", unit="filter")
    for motif in fired:
      start, end = cores[motif.name]
      matches[motif.name] = matcher.match(motif.probabilities[start:end])
      match_table.extend(match_rows(motif, matches[motif.name], top_k, cores[motif.name]))
      if bar is not None:
        bar.update(1)
    if bar is not None:
      bar.close()
  if matcher is not None:
    files["matches"] = os.path.join(out_dir, "matches.tsv")
    with atomic_write(files["matches"]) as f:
      f.write("\t".join(MATCH_COLUMNS) + "\n")
      f.writelines("\t".join(row) + "\n" for row in match_table)
  with atomic_write(files["filters"]) as f:
    f.write("\t".join(FILTER_COLUMNS) + "\n")
    for index, motif in enumerate(motifs):
      name = f"filter{index}"
      row = [name, str(sites.num_sites[index]), f"{sites.max_activation[index]:.4g}",
             f"{sites.threshold[index]:.4g}"]
      if motif is None:
        row += ["0", "", ""] + [""] * 4
      else:
        start, end = cores[name]
        best = matches.get(name, [None])[0]
        row += [f"{information_content(motif.probabilities, sites.background).sum():.3f}",
                consensus(motif.probabilities), f"{start}-{end}"]
        row += ([best.target.matrix_id, best.target.name, f"{best.p_value:.3g}",
                 f"{best.q_value:.3g}"] if best else [""] * 4)
      f.write("\t".join(row) + "\n")
  if logos and fired:
    files["logos"] = os.path.join(out_dir, "logos.png")
    titles = []
    for motif in fired:
      best = matches.get(motif.name, [None])[0]
      titles.append(f"{motif.name} n={motif.num_sites}" + (
          f" {best.target.name} q={best.q_value:.1g}" if best else ""))
    plot_logos(files["logos"], fired, titles, sites.background)
  return FilterReport(sites, motifs, matches, files)
