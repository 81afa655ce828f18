"""Streaming pretraining sources: genome windows, protein sequences, MSAs, drawn on the fly.

Pretraining reads unlabelled sequence at a scale no built dataset should copy, so
these sources materialise nothing: each is a grain random-access source whose record
``i`` is *computed* from ``(seed, split, i)`` — a NumPy generator seeded with those
three numbers picks the window, the sequence or the MSA rows, then masks it
(``genereg_jax.tasks.mlm``). The grain sampler's position is therefore the whole data
state: a run resumes from its checkpointed iterator state like every TFDS run, and the
same seed gives the same batches. ``__len__`` is the epoch length (``num_records``;
very large for training so windows never repeat, a fixed set for validation). Files
are opened lazily in each grain worker (the open handle is not pickled).

* ``GenomeWindows`` (DNABERT, Ji et al. 2021): random windows of a FASTA genome read
  with pyfaidx (``genereg_jax.data.genome.Genome``), chromosome ∝ its length;
  windows with more than ``max_n_fraction`` N are skipped (redrawn); validation and
  test hold out whole chromosomes. Tokens are DNABERT's overlapping k-mers,
  ``[CLS] k-mers [SEP]``, masked in k-token spans.
* ``ProteinSequences`` (ESM-1b, Rives et al. 2021): records of a protein FASTA
  (UniRef-style ``>UniRef50_X description`` headers), one drawn uniformly per record
  index; longer ones cropped to a random window of ``max_length - 2`` residues (as
  ESM-1b crops to 1,022); ``<cls> residues <eos>`` padded, masked 15% (80/10/10).
  Splits hold out records by a hash of their name.
* ``MsaFiles`` (MSA Transformer, Rao et al. 2021): ``.a3m`` files (a directory or a
  list), each split holding out files by a hash of their name; the query plus a
  random subset of the other rows up to ``max_rows``, a random crop to
  ``max_columns``, masked 15% over the aligned tokens.

``synthetic_genome`` writes the embedded default: a genome whose background is
i.i.d. bases with planted sites of the JASPAR motifs that the ``synthetic_motifs``
fine-tuning task labels (``genereg_jax.data.motifs``) and N gaps, so an MLM has
structure to learn beyond k-mer frequencies, the structure fine-tuning then labels;
``synthetic_proteins`` and ``synthetic_msas`` are the protein and MSA counterparts
(families of mutated copies).
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import os
import shutil
import tempfile
import zlib
from typing import Any, Mapping, Sequence

import numpy as np

from genereg_jax import files
from genereg_jax.data import genome as genome_lib
from genereg_jax.data import motifs as motifs_lib
from genereg_jax.data import tokenizers
from genereg_jax.tasks import mlm

Example = dict[str, np.ndarray]
#: Split -> the number mixed into each record's seed (train, valid and test differ).
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}
#: ESM's standard residues (``L A G V S E R T I D P K Q N F Y M H W C``): random
#: replacements are drawn from them.
ESM_RESIDUE_IDS = (4, 24)


def _record_rng(seed: int, split: str, index: int) -> np.random.Generator:
  if split not in SPLIT_CODES:
    raise ValueError(f"unknown split {split!r}; splits: {sorted(SPLIT_CODES)}")
  return np.random.default_rng([seed, SPLIT_CODES[split], int(index)])


def hash_split(name: str, valid_fraction: float, test_fraction: float) -> str:
  """``"valid"``, ``"test"`` or ``"train"`` for a record name, from its CRC32 (stable
  across runs and machines, unlike Python's ``hash``)."""
  u = zlib.crc32(name.encode()) / 2**32
  return "valid" if u < valid_fraction else (
      "test" if u < valid_fraction + test_fraction else "train")


class _Source:
  """Shared grain plumbing: length, lazy file handles, metadata."""

  num_records: int

  def __len__(self) -> int:
    return self.num_records

  def __getstate__(self) -> dict[str, Any]:
    state = dict(self.__dict__)
    state["_handle"] = None  # Reopened in each grain worker.
    return state

  def __repr__(self) -> str:
    # grain stores the source's repr in the iterator state and refuses to restore
    # into a source whose repr differs, so it must name the arguments, not the
    # object's address (a restarted run builds a new source).
    fields = ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items())
                       if not k.startswith("_")
                       and isinstance(v, (str, int, float, tuple, list)))
    return f"{type(self).__name__}({fields})"

  @property
  def metadata(self) -> dict[str, Any]:
    return {"stream": type(self).__name__}


class GenomeWindows(_Source):
  """Random k-mer-tokenised windows of a FASTA genome (see the module docstring).

  Args:
    fasta: the genome FASTA.
    split: ``"train"`` (every chromosome not held out), ``"valid"`` or ``"test"``.
    k: k-mer size (3 … 6).
    max_tokens: tokens per example with ``[CLS]``/``[SEP]`` (DNABERT 512), so a
      window has ``max_tokens - 2 + k - 1`` bases.
    valid_chromosomes / test_chromosomes: held-out chromosomes (with or without
      ``chr``); names missing from the FASTA are an error.
    num_records: records per epoch.
    seed: the run seed.
    max_n_fraction: windows with more N than this are redrawn.
    mlm_probability: chance a k-mer is a span centre (DNABERT 0.025 for 6-mers).
    mask_span: tokens masked per centre (None: DNABERT's ``k``, which hides one
      nucleotide; ``k + m - 1`` hides ``m``; ``tasks.mlm.span_offsets``).
  """

  def __init__(self, fasta: str, split: str = "train", *, k: int = 6,
               max_tokens: int = 512, valid_chromosomes: Sequence[str] = ("chr8",),
               test_chromosomes: Sequence[str] = ("chr9",), num_records: int = 10**9,
               seed: int = 0, max_n_fraction: float = 0.1,
               mlm_probability: float = 0.025, mask_span: int | None = None):
    self.fasta, self.split, self.k = os.fspath(fasta), split, k
    mlm.span_offsets(k, mask_span)  # Checks k and the span early.
    # None for DNABERT's span keeps the repr (grain's resume check) of older runs.
    self.mask_span = None if mask_span == k else mask_span
    self.tokenizer = tokenizers.KmerTokenizer(k)
    self.window = max_tokens - 2 + k - 1
    self.num_records, self.seed = num_records, seed
    self.max_n_fraction, self.mlm_probability = max_n_fraction, mlm_probability
    self._handle = None
    sizes = self._genome().sizes
    held = {}
    for name in (*valid_chromosomes, *test_chromosomes):
      match = genome_lib.match_chromosome(name, sizes)
      if match is None:
        raise ValueError(f"held-out chromosome {name!r} is not in {self.fasta}; "
                         f"chromosomes: {list(sizes)[:20]}")
      held[match] = "valid" if name in valid_chromosomes else "test"
    chosen = [c for c in sizes if held.get(c, "train") == split]
    self.chromosomes = [c for c in chosen if sizes[c] >= self.window]
    if not self.chromosomes:
      raise ValueError(f"no chromosome of {self.fasta} is in split {split!r} and at least "
                       f"{self.window} bp long")
    starts = np.array([sizes[c] - self.window + 1 for c in self.chromosomes], np.float64)
    self._weights = starts / starts.sum()
    self._starts = starts.astype(np.int64)

  def _genome(self) -> genome_lib.Genome:
    if self._handle is None:
      self._handle = genome_lib.Genome(self.fasta)
    return self._handle

  def window_at(self, rng: np.random.Generator) -> tuple[str, int, str]:
    """``(chromosome, start, bases)`` of a window with few enough N (redrawn up to
    1,000 times)."""
    genome = self._genome()
    for _ in range(1000):
      i = int(rng.choice(len(self.chromosomes), p=self._weights))
      start = int(rng.integers(self._starts[i]))
      bases = genome.fetch(self.chromosomes[i], start, start + self.window)
      if sum(map(bases.upper().count, "ACGT")) >= (1 - self.max_n_fraction) * self.window:
        return self.chromosomes[i], start, bases
    raise ValueError(f"1,000 windows of split {self.split!r} of {self.fasta} in a row had "
                     f"more than {self.max_n_fraction:.0%} N")

  def __getitem__(self, index: int) -> Example:
    rng = _record_rng(self.seed, self.split, index)
    _, _, bases = self.window_at(rng)
    ids = self.tokenizer.encode(bases)
    maskable = mlm.maskable_positions(ids, (self.tokenizer.cls_id, self.tokenizer.sep_id,
                                            self.tokenizer.pad_id))
    inputs, labels = mlm.mask_kmer_spans(
        ids, rng, k=self.k, maskable=maskable, mask_id=self.tokenizer.mask_id,
        random_ids=(0, self.tokenizer.vocab_size), mlm_probability=self.mlm_probability,
        span=self.mask_span)
    return {"input_ids": inputs, "attention_mask": np.ones_like(inputs),
            "labels": labels}


def _pad(ids: np.ndarray, shape: tuple[int, ...], pad_id: int) -> np.ndarray:
  out = np.full(shape, pad_id, np.int32)
  out[tuple(slice(0, n) for n in ids.shape)] = ids
  return out


class ProteinSequences(_Source):
  """ESM-style masked protein sequences from a FASTA (see the module docstring).

  Args:
    fasta: protein FASTA (UniRef-style headers; the first word names the record).
    split: ``"train"``, ``"valid"`` or ``"test"`` (by ``hash_split`` of the name).
    max_length: tokens per example with ``<cls>`` and ``<eos>`` (ESM-1b 1,024).
    valid_fraction / test_fraction: shares of records held out.
    num_records: records per epoch.
    seed: the run seed.
    mlm_probability: ESM's 15%.
  """

  def __init__(self, fasta: str, split: str = "train", *, max_length: int = 1024,
               valid_fraction: float = 0.01, test_fraction: float = 0.01,
               num_records: int = 10**9, seed: int = 0, mlm_probability: float = 0.15):
    import pyfaidx  # Imported late, as genome.Genome does.
    self.fasta, self.split, self.max_length = os.fspath(fasta), split, max_length
    self.num_records, self.seed, self.mlm_probability = num_records, seed, mlm_probability
    self.tokenizer = tokenizers.ProteinTokenizer()
    self._handle = None
    index = pyfaidx.Faidx(self.fasta)
    self.names = [n for n in index.index
                  if hash_split(n, valid_fraction, test_fraction) == split]
    index.close()
    if not self.names:
      raise ValueError(f"no record of {self.fasta} falls in split {split!r}")

  def _fasta(self):
    if self._handle is None:
      import pyfaidx
      self._handle = pyfaidx.Fasta(self.fasta, as_raw=True, sequence_always_upper=True)
    return self._handle

  def __getitem__(self, index: int) -> Example:
    rng = _record_rng(self.seed, self.split, index)
    record = self._fasta()[self.names[int(rng.integers(len(self.names)))]]
    residues = self.max_length - 2
    start = int(rng.integers(max(len(record) - residues, 0) + 1))
    ids = self.tokenizer.encode(record[start:start + residues])
    maskable = ids >= ESM_RESIDUE_IDS[0]
    maskable[-1] = False  # <eos>
    inputs, labels = mlm.mask_tokens(
        ids, rng, maskable=maskable, mask_id=self.tokenizer.mask_id,
        random_ids=ESM_RESIDUE_IDS, mlm_probability=self.mlm_probability)
    pad = self.tokenizer.pad_id
    return {"input_ids": _pad(inputs, (self.max_length,), pad),
            "attention_mask": _pad(np.ones_like(inputs), (self.max_length,), 0),
            "labels": _pad(labels, (self.max_length,), mlm.IGNORE_INDEX)}


def a3m_paths(paths: str | Sequence[str]) -> list[str]:
  """``.a3m`` files of a directory (sorted), or the given list / comma-separated paths."""
  if isinstance(paths, str):
    if os.path.isdir(paths):
      found = sorted(glob.glob(os.path.join(paths, "*.a3m")))
      if not found:
        raise FileNotFoundError(f"no .a3m files in {paths}")
      return found
    paths = paths.split(",")
  return [os.fspath(p) for p in paths]


@functools.lru_cache(maxsize=256)
def _read_msa(path: str) -> tuple[tuple[str, str], ...]:
  return tuple(tokenizers.read_a3m(path))


class MsaFiles(_Source):
  """MSA Transformer examples from A3M files (see the module docstring).

  Args:
    paths: a directory of ``.a3m`` files or a list of them.
    split: ``"train"``, ``"valid"`` or ``"test"`` (by ``hash_split`` of the file name).
    max_rows: MSA rows kept, the query first (the paper trained on up to 1,024 rows
      and 1,024 tokens per row... within 2^14 tokens per MSA).
    max_columns: tokens per row with ``<cls>``.
    valid_fraction / test_fraction: shares of files held out.
    num_records: records per epoch.
    seed: the run seed.
    mlm_probability: 15%, as ESM.
  """

  def __init__(self, paths: str | Sequence[str], split: str = "train", *,
               max_rows: int = 64, max_columns: int = 256, valid_fraction: float = 0.1,
               test_fraction: float = 0.1, num_records: int = 10**9, seed: int = 0,
               mlm_probability: float = 0.15):
    self.split, self.max_rows, self.max_columns = split, max_rows, max_columns
    self.num_records, self.seed, self.mlm_probability = num_records, seed, mlm_probability
    self.tokenizer = tokenizers.ProteinTokenizer(prepend_bos=True, append_eos=False)
    self._handle = None
    self.paths = [p for p in a3m_paths(paths)
                  if hash_split(os.path.basename(p), valid_fraction, test_fraction) == split]
    if not self.paths:
      raise ValueError(f"no A3M file falls in split {split!r}")

  def __getitem__(self, index: int) -> Example:
    rng = _record_rng(self.seed, self.split, index)
    rows = _read_msa(self.paths[int(rng.integers(len(self.paths)))])
    others = rng.permutation(np.arange(1, len(rows)))[:self.max_rows - 1]
    chosen = [rows[0][1]] + [rows[i][1] for i in np.sort(others)]
    width = self.max_columns - 1
    start = int(rng.integers(max(len(chosen[0]) - width, 0) + 1))
    ids = self.tokenizer.encode_msa([r[start:start + width] for r in chosen])
    maskable = np.ones(ids.shape, bool)
    maskable[:, 0] = False  # <cls>
    inputs, labels = mlm.mask_tokens(
        ids, rng, maskable=maskable, mask_id=self.tokenizer.mask_id,
        random_ids=ESM_RESIDUE_IDS, mlm_probability=self.mlm_probability)
    shape = (self.max_rows, self.max_columns)
    return {"input_ids": _pad(inputs, shape, self.tokenizer.pad_id),
            "labels": _pad(labels, shape, mlm.IGNORE_INDEX)}


# ---------------------------------------------------------------------------------
# Embedded synthetic data (built on first use).
# ---------------------------------------------------------------------------------

_BASES = np.frombuffer(b"ACGT", np.uint8)
_RESIDUES = np.frombuffer(b"LAGVSERTIDPKQNFYMHWC", np.uint8)


def write_fasta(path: str, records: Sequence[tuple[str, bytes]], width: int = 60) -> None:
  """Writes ``(name, sequence)`` records as a FASTA of ``width``-letter lines, atomically."""
  with files.atomic_write(path, "wb") as f:
    for name, sequence in records:
      f.write(b">" + name.encode() + b"\n")
      for i in range(0, len(sequence), width):
        f.write(sequence[i:i + width] + b"\n")


def synthetic_genome(path: str, *, num_chromosomes: int = 10, length: int = 200_000,
                     motif_ids: Mapping[str, str] | None = None,
                     motif_density: float = 1 / 60, min_score_fraction: float = 0.7,
                     release: str | None = None, seed: int = 0) -> str:
  """Writes the embedded pretraining genome to ``path`` (a FASTA); returns ``path``.

  Chromosomes ``chr1 … chr{num_chromosomes}`` of i.i.d. bases (GC 41%, as the human
  genome) in which sites of the JASPAR matrices ``motif_ids`` (default: the vocabulary
  of the ``synthetic_motifs`` fine-tuning task, ``genereg_jax.data.motifs.MOTIF_IDS``,
  from pyjaspar's ``release``) are planted on average once per ``1 / motif_density``
  bp, on either strand, each drawn from its PFM as that task draws them (scoring at
  least ``min_score_fraction`` of the consensus), plus a 5-kb N run at each
  chromosome's start and a 2-kb one inside it (so N-heavy windows exist to skip).
  Deterministic in ``seed`` and the JASPAR release.
  """
  rng = np.random.default_rng(seed)
  matrices = motifs_lib.jaspar_matrices(motifs_lib.MOTIF_IDS if motif_ids is None
                                        else motif_ids, release)
  pfms = [probabilities for _, probabilities in matrices.values()]
  records = []
  for c in range(num_chromosomes):
    seq = rng.choice(4, size=length, p=[0.295, 0.205, 0.205, 0.295])
    position = 0
    while True:
      position += int(rng.geometric(motif_density))
      pfm = pfms[int(rng.integers(len(pfms)))]
      if position + len(pfm) > length:
        break
      site = motifs_lib.sample_site(pfm, rng, 1 if rng.random() < 0.5 else -1,
                                    min_score_fraction)
      seq[position:position + len(site)] = site
      position += len(site)
    letters = _BASES[seq].copy()
    letters[:5000] = ord("N")
    gap = int(rng.integers(length // 4, length // 2))
    letters[gap:gap + 2000] = ord("N")
    records.append((f"chr{c + 1}", letters.tobytes()))
  write_fasta(path, records)
  return path


def _family_members(rng: np.random.Generator, count: int, length: int,
                    substitution_rate: float) -> tuple[np.ndarray, np.ndarray]:
  ancestor = rng.integers(len(_RESIDUES), size=length)
  change = rng.random((count, length)) < substitution_rate
  members = np.where(change, rng.integers(len(_RESIDUES), size=(count, length)), ancestor)
  return ancestor, members


def synthetic_proteins(path: str, *, num_families: int = 50, per_family: int = 40,
                       substitution_rate: float = 0.2, seed: int = 0) -> str:
  """Writes a protein FASTA of ``num_families`` families (random ancestors of 60-200
  residues, members with ``substitution_rate`` of residues redrawn); returns ``path``."""
  rng = np.random.default_rng(seed)
  records = []
  for f in range(num_families):
    _, members = _family_members(rng, per_family, int(rng.integers(60, 201)),
                                 substitution_rate)
    records += [(f"SYN{f:03d}_{m:03d} family {f}", _RESIDUES[row].tobytes())
                for m, row in enumerate(members)]
  order = rng.permutation(len(records))
  write_fasta(path, [records[i] for i in order])
  return path


def synthetic_msas(directory: str, *, num_families: int = 40, depth: int = 48,
                   substitution_rate: float = 0.25, gap_rate: float = 0.05,
                   seed: int = 0) -> str:
  """Writes ``num_families`` A3M files (``depth`` rows of 50-120 match columns, residues
  redrawn at ``substitution_rate``, ``-`` deletions at ``gap_rate``, a lowercase
  insertion in some rows) to ``directory``; returns it."""
  rng = np.random.default_rng(seed)
  os.makedirs(directory, exist_ok=True)
  for f in range(num_families):
    ancestor, members = _family_members(rng, depth, int(rng.integers(50, 121)),
                                        substitution_rate)
    lines = [f">query_{f}", _RESIDUES[ancestor].tobytes().decode()]
    for m, row in enumerate(members[1:], 1):
      letters = _RESIDUES[row].copy()
      letters[rng.random(len(row)) < gap_rate] = ord("-")
      text = letters.tobytes().decode()
      if rng.random() < 0.3:
        cut = int(rng.integers(1, len(text)))
        text = text[:cut] + "".join(rng.choice(list("acdefg"), size=3)) + text[cut:]
      lines += [f">hit_{f}_{m}", text]
    with files.atomic_write(os.path.join(directory, f"family_{f:03d}.a3m")) as out:
      out.write("\n".join(lines) + "\n")
  return directory


def embedded_dir(data_dir: str | None) -> str:
  """Where the embedded synthetic pretraining data live: ``<data_dir>/pretrain_synthetic/
  v2`` (``data_dir`` defaults to TFDS's ``~/tensorflow_datasets``; v1's genome planted
  random motifs, v2's the JASPAR vocabulary of ``synthetic_motifs``)."""
  root = data_dir or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
  return os.path.join(root, "pretrain_synthetic", "v2")


def embedded(kind: str, data_dir: str | None = None) -> str:
  """The embedded synthetic ``"genome"`` FASTA, ``"proteins"`` FASTA or ``"msas"``
  directory, written on first use."""
  writers = {"genome": ("genome.fa", synthetic_genome),
             "proteins": ("proteins.fa", synthetic_proteins),
             "msas": ("msas", synthetic_msas)}
  if kind not in writers:
    raise ValueError(f"unknown embedded pretraining data {kind!r}; kinds: {sorted(writers)}")
  name, writer = writers[kind]
  path = os.path.join(embedded_dir(data_dir), name)
  if not os.path.exists(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "msas":  # A directory: built beside, then renamed into place.
      tmp = tempfile.mkdtemp(prefix=".msas.", suffix=".partial", dir=os.path.dirname(path))
      writer(tmp)
      try:
        os.replace(tmp, path)
      except OSError:  # Another process renamed its copy first.
        shutil.rmtree(tmp)
    else:
      writer(path)
  return path


@dataclasses.dataclass(frozen=True)
class _Kind:
  cls: type
  embedded: str
  path_field: str
  options: tuple[str, ...]


KINDS = {
    "genome": _Kind(GenomeWindows, "genome", "fasta",
                    ("k", "max_tokens", "valid_chromosomes", "test_chromosomes",
                     "max_n_fraction", "mlm_probability", "mask_span")),
    "proteins": _Kind(ProteinSequences, "proteins", "fasta",
                      ("max_length", "valid_fraction", "test_fraction", "mlm_probability")),
    "msas": _Kind(MsaFiles, "msas", "a3m",
                  ("max_rows", "max_columns", "valid_fraction", "test_fraction",
                   "mlm_probability")),
}


def stream_source(dataset: Any, split: str, seed: int = 0) -> _Source:
  """The source a config's ``dataset`` section describes (``dataset.stream`` names the
  kind: ``genome``, ``proteins`` or ``msas``).

  The input file is ``dataset.fasta`` (genome, proteins) or ``dataset.a3m`` (a
  directory or comma-separated ``.a3m`` files); when unset, the embedded synthetic
  data in ``dataset.data_dir``. Training streams ``dataset.train_records`` records an
  epoch, evaluation splits a fixed ``dataset.eval_records``.
  """
  kind = KINDS.get(dataset.stream)
  if kind is None:
    raise ValueError(f"unknown dataset.stream {dataset.stream!r}; kinds: {sorted(KINDS)}")
  path = dataset.get(kind.path_field) or embedded(kind.embedded, dataset.get("data_dir"))
  options = {k: (tuple(v) if isinstance(v, (list, tuple)) else v)
             for k in kind.options if (v := dataset.get(k)) is not None}
  records = dataset.get("train_records", 10**9) if split == "train" else dataset.get(
      "eval_records", 512)
  return kind.cls(path, split, num_records=records, seed=seed, **options)
