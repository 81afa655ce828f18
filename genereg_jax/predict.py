"""Predictions of a trained model for FASTA records or BED regions, written to TSV/.npy.

The ``predict`` tool of DESIGN.md, in the manner of Selene's ``get_predictions``
(Chen et al., Nat. Methods 2019) and Kipoi's batch prediction: a user brings
sequences and a trained checkpoint, no code.

* Inputs: FASTA records (``FastaRecords``) or BED regions of a genome
  (``BedRegions``), read with ``genereg_jax.data.genome`` and ``genereg_jax.data.bed``
  (errors name the file and line or record). Every sequence is one-hot encoded (A,C,G,T;
  other IUPAC letters N, all zeros) and brought to the model's input length, the
  length of the training dataset's sequences: a longer FASTA record is centre-cropped,
  a shorter one N-padded on both sides (the extra base on the right), and a BED region
  is replaced by the window of that length centred on its midpoint (narrowPeak: its
  summit), so the model sees genomic flanks rather than padding; only where a window
  runs off a chromosome end is it N-padded. Counts of what was changed are logged as a
  warning before prediction.
* Predictions are the task's ``predictions`` (probabilities, rates, profiles) of every
  output head, jitted and batched (the last batch padded to keep one compiled shape).
  With ``reverse_complement_average`` each sequence is also predicted on the reverse
  strand and the two are averaged, as Selene's and Basenji's ``--rc`` evaluation does;
  positional outputs (per-example rank >= 2: coverage bins, profiles, per-base classes)
  are first mapped back to the forward strand with the task's own
  ``reverse_complement_targets`` (positions reversed, strand-paired tracks swapped).
* Outputs: one TSV row per record (``name``, or ``chrom start end`` for BED) with one
  column per scalar output (label names from the task or the dataset metadata when
  available), and a ``.npy`` beside the TSV for every output with more than one axis
  per example (``<out stem>.<output>.npy``, ``float32[records, ...]``, written through
  a memory map so large tracks never sit in RAM), plus ``<out stem>.json`` describing
  the files, shapes, names and the checkpoint. Every file is written under a temporary
  name and renamed onto its own only when prediction has finished, the ``.json`` last,
  so an interrupted run leaves no TSV that looks complete and an existing output is
  untouched; an output that is one of the inputs is refused before anything runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Callable

import jax
import numpy as np
from absl import logging

from genereg_jax.data import encoding
from genereg_jax.data.bed import read_bed
from genereg_jax.data.genome import FastaFormatError
from genereg_jax.data.genome import Genome
from genereg_jax.files import atomic_path
from genereg_jax.files import check_output_path
from genereg_jax.train import partitioning
from genereg_jax.train import reporting

# Output name of a single-head model whose task returns one array.
DEFAULT_OUTPUT = "predictions"


# ----------------------------------------------------------------------------------
# Inputs: records of any length, brought to the model's length.
# ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Record:
  """One sequence to predict.

  Attributes:
    ids: the TSV's identifying fields (``(name,)`` or ``(chrom, start, end)``).
    sequence: ``uint8[input_length, 4]`` one-hot, already fitted to the model.
  """

  ids: tuple[Any, ...]
  sequence: np.ndarray


@dataclasses.dataclass
class LengthReport:
  """What was done to sequences that did not have the model's input length."""

  input_length: int
  total: int = 0
  cropped: int = 0
  padded: int = 0
  recentred: int = 0
  off_chromosome: int = 0
  min_length: int | None = None
  max_length: int | None = None

  def add_length(self, length: int) -> None:
    """Counts one input sequence of ``length`` bp."""
    self.total += 1
    self.min_length = length if self.min_length is None else min(self.min_length, length)
    self.max_length = length if self.max_length is None else max(self.max_length, length)

  def message(self) -> str | None:
    """A one-line warning, or None when every sequence had the input length."""
    length = self.input_length
    lengths = f"lengths {self.min_length}-{self.max_length} bp"
    if self.recentred or self.off_chromosome:
      text = (f"{self.recentred} of {self.total} regions are not the {length} bp window "
              f"the model reads ({lengths}); each was replaced by the {length} bp genome "
              "window centred on its midpoint (narrowPeak: summit)")
      if self.off_chromosome:
        text += (f"; {self.off_chromosome} windows run off a chromosome end and were "
                 "N-padded there")
      return text
    if not (self.cropped or self.padded):
      return None
    parts = []
    if self.cropped:
      parts.append(f"{self.cropped} longer were centre-cropped")
    if self.padded:
      parts.append(f"{self.padded} shorter were N-padded on both sides")
    return (f"{self.cropped + self.padded} of {self.total} sequences are not {length} bp, "
            f"the model's input length ({lengths}): " + ", ".join(parts))

  def as_dict(self) -> dict[str, Any]:
    """The counts, JSON-ready."""
    return dataclasses.asdict(self)


def fit_length(one_hot: np.ndarray, length: int) -> tuple[np.ndarray, str | None]:
  """Centre-crops or N-pads ``[n, 4]`` to ``[length, 4]``.

  Returns:
    ``(array, change)`` with change ``"cropped"``, ``"padded"`` or None. An odd
    difference puts the extra base removed or added on the right.
  """
  n = one_hot.shape[0]
  if n == length:
    return one_hot, None
  if n > length:
    start = (n - length) // 2
    return one_hot[start:start + length], "cropped"
  left = (length - n) // 2
  out = np.zeros((length, one_hot.shape[1]), one_hot.dtype)
  out[left:left + n] = one_hot
  return out, "padded"


class FastaRecords:
  """The records of a FASTA file, one-hot and fitted to ``input_length``, in file order.

  Raises ``FastaFormatError`` naming the file (and the line, for structural errors)
  when the FASTA is missing or malformed, and for empty records.
  """

  id_columns = ("name",)

  def __init__(self, path: str | os.PathLike, input_length: int):
    self.path = os.fspath(path)
    self.inputs = (self.path,)
    self.input_length = int(input_length)
    self._genome = Genome(self.path)
    self.names = list(self._genome.sizes)
    empty = [name for name, size in self._genome.sizes.items() if size == 0]
    if empty:
      raise FastaFormatError(self.path, None, f"record(s) {empty[:5]} have no sequence")
    self.report = LengthReport(self.input_length)
    for size in self._genome.sizes.values():
      self.report.add_length(size)
      if size > self.input_length:
        self.report.cropped += 1
      elif size < self.input_length:
        self.report.padded += 1

  def __len__(self) -> int:
    return len(self.names)

  def __iter__(self) -> Iterator[Record]:
    for name in self.names:
      one_hot = encoding.one_hot_dna(self._genome.sequence(name).tobytes())
      yield Record((name,), fit_length(one_hot, self.input_length)[0])

  def close(self) -> None:
    """Closes the FASTA."""
    self._genome.close()


class BedRegions:
  """Windows of ``input_length`` bp centred on BED regions of a genome FASTA.

  The centre is the region's midpoint, or the summit of a ``.narrowPeak`` line
  (column 10); bases beyond a chromosome end are N. Rows keep the BED's order and are
  identified by the region's own ``chrom, start, end``. Malformed BED lines raise
  ``BedFormatError`` (``path:line: problem``); a missing or malformed FASTA raises
  ``FastaFormatError``. Chromosome sequences are read once per run of consecutive
  lines on the same chromosome (a sorted BED reads each chromosome once).
  """

  id_columns = ("chrom", "start", "end")

  def __init__(self, bed_path: str | os.PathLike, genome_path: str | os.PathLike,
               input_length: int):
    self.input_length = int(input_length)
    self.inputs = (os.fspath(bed_path), os.fspath(genome_path))
    self._genome = Genome(genome_path)
    self.bed = read_bed(os.fspath(bed_path), self._genome.sizes, self._genome.path)
    half = self.input_length // 2
    self.window_starts = self.bed.centers - half
    self.report = LengthReport(self.input_length)
    for chrom, start, end, window_start in zip(self.bed.chroms, self.bed.starts,
                                               self.bed.ends, self.window_starts):
      self.report.add_length(int(end - start))
      if window_start != start or end - start != self.input_length:
        self.report.recentred += 1
      if window_start < 0 or window_start + self.input_length > self._genome.sizes[chrom]:
        self.report.off_chromosome += 1

  def __len__(self) -> int:
    return len(self.bed.chroms)

  def __iter__(self) -> Iterator[Record]:
    chrom_codes, current = None, None
    for i, chrom in enumerate(self.bed.chroms):
      if chrom != current:
        chrom_codes, current = self._genome.sequence(chrom), chrom
      start = int(self.window_starts[i])
      lo, hi = max(start, 0), min(start + self.input_length, chrom_codes.size)
      window = np.zeros((self.input_length, 4), np.uint8)
      window[lo - start:hi - start] = encoding.one_hot_dna(chrom_codes[lo:hi].tobytes())
      yield Record((str(chrom), int(self.bed.starts[i]), int(self.bed.ends[i])), window)

  def close(self) -> None:
    """Closes the FASTA."""
    self._genome.close()


# ----------------------------------------------------------------------------------
# The predictor: a restored model's task predictions, jitted.
# ----------------------------------------------------------------------------------


def flatten_outputs(by_head: Mapping[str | None, Any]) -> dict[str, Any]:
  """``{head: predictions}`` -> ``{name: array}``.

  Names are the head (``"human"``), the task's dict key (``"profile_probs"``), both
  joined by ``/``, or ``"predictions"`` for a single head with a single array.
  """
  flat = {}
  for head, predictions in by_head.items():
    if isinstance(predictions, Mapping):
      for key, value in predictions.items():
        flat[f"{head}/{key}" if head else str(key)] = value
    else:
      flat[head or DEFAULT_OUTPUT] = predictions
  return flat


def to_forward_strand(task: Any, rc_predictions: np.ndarray) -> np.ndarray:
  """``[batch, ...]`` predictions for reverse-complemented inputs, on the forward strand.

  Outputs with rank >= 2 per example (bins or positions x tracks or classes) go through
  the task's ``reverse_complement_targets`` (positions reversed, strand-paired tracks
  swapped, as for targets under RC augmentation); per-example vectors and scalars
  (labels, total counts) are strand-free and returned as they are.
  """
  if rc_predictions.ndim < 3:
    return rc_predictions
  key = task.target_keys[0]
  return np.stack([task.reverse_complement_targets({key: p})[key] for p in rc_predictions])


def _names_from(task: Any, metadata: Mapping[str, Any]) -> tuple[str, ...]:
  for names in (getattr(task, "label_names", ()), getattr(task, "track_names", ()),
                metadata.get("label_names") or (), metadata.get("track_names") or ()):
    if names is not None and len(names):
      return tuple(str(n) for n in names)
  return ()


class Predictor:
  """Task predictions of a trained model for one-hot batches, every head at once.

  Args:
    experiment: a ``trainer.Experiment`` (model, tasks, mesh, inputs).
    state: its restored ``TrainState``.
    example: one training example (``load_split(...)[0]``): fixes the input length
      and the shapes of extra model inputs.
    metadata: ``{head: info.metadata}`` of the training dataset(s) (label and track
      names, strand pairs); heads are ``experiment.heads``.
    reverse_complement_average: average forward and reverse-strand predictions.
    zero_missing_inputs: feed zeros for model inputs other than the sequence (e.g.
      BPNet's control tracks) instead of refusing.

  ``predict_snvs`` and ``predict_snv_region`` are the fast SNV paths of
  `genereg_jax.variants.scoring.Scorer` where the model has them (`_snv_paths`: BPNet,
  Enformer), else None.
  """

  def __init__(self, experiment, state, example: Mapping[str, Any],
               metadata: Mapping[str | None, Mapping[str, Any]] | None = None, *,
               reverse_complement_average: bool = False,
               zero_missing_inputs: bool = False):
    foreign = [d for d in experiment.mesh.devices.flat if d.process_index != jax.process_index()]
    if foreign:
      # Predictions are independent per process (no collectives): each process feeds
      # only its own devices, and the caller splits the records (`load_predictor`).
      raise ValueError(f"the mesh holds {len(foreign)} devices of other processes; a "
                       "Predictor runs on this process's devices (load_predictor builds "
                       "such a mesh)")
    self.experiment = experiment
    self.state = state
    self.metadata = {head: dict((metadata or {}).get(head) or {})
                     for head in experiment.heads}
    self.sequence_key = experiment.inputs[0]
    self.input_length = int(np.shape(example[self.sequence_key])[0])
    self.reverse_complement_average = reverse_complement_average
    extra = list(experiment.inputs[1:])
    if extra and not zero_missing_inputs:
      raise ValueError(
          f"the model also reads {extra} besides {self.sequence_key!r}; predict supplies "
          "only sequences. Pass --zero_missing_inputs to feed zeros (e.g. BPNet without "
          "a control experiment).")
    self._extra = {k: np.zeros(np.shape(example[k]), np.asarray(example[k]).dtype)
                   for k in extra}
    for head, task in experiment.tasks.items():
      task.use_dataset_metadata(self.metadata[head])
    self.data_devices = experiment.mesh.shape["data"]
    model, tasks, inputs = experiment.model, experiment.tasks, experiment.inputs

    def predict(params, batch_stats, batch):
      variables = {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}
      outputs = model.apply(variables, **{k: batch[k] for k in inputs}, train=False)
      return flatten_outputs({head: task.predictions(outputs)
                              for head, task in tasks.items()})

    self._predict = jax.jit(predict)
    self.predict_snvs, self.predict_snv_region = self._snv_paths(
        model, state, reverse_complement_average, extra)

  def _snv_paths(self, model, state, reverse_complement_average: bool,
                 extra: Sequence[str]) -> tuple[Callable | None, Callable | None]:
    """``predict_snvs`` and ``predict_snv_region`` for `scoring.Scorer`, or None.

    On the forward strand and one data device, a BPNet (control tracks zero) and an
    Enformer (input length a multiple of its total pooling) get SNV ALTs on receptive
    cones (`scoring.ConeSubstitutions`: BPNet's dilated tower, Enformer's stem and
    strided conv tower); a BPNet, whose outputs never see a window's padding
    (`cone.Split.padding_free`: bpnet-lite's trim), also gets REF passes shared by
    nearby SNVs. Other models score whole windows.
    """
    from genereg_jax.models import bpnet, enformer
    if reverse_complement_average or self.data_devices != 1:
      return None, None
    if (isinstance(model, bpnet.BPNet) and not set(extra) - {"control"}
        and not state.batch_stats):
      split = bpnet.cone_model(model, state.params)
    elif (isinstance(model, enformer.Enformer) and not extra
          and self.input_length % 2 ** model.num_downsamples == 0):
      split = enformer.cone_model(
          model, {"params": state.params, "batch_stats": state.batch_stats})
    else:
      return None, None
    from genereg_jax.variants import scoring
    tasks = self.experiment.tasks
    snvs = scoring.ConeSubstitutions(
        split,
        lambda out: flatten_outputs({h: task.predictions(out) for h, task in tasks.items()}))
    as_numpy = lambda outputs: {k: np.asarray(v, np.float32) for k, v in outputs.items()}

    def predict_snvs(x, position, value):
      return tuple(map(as_numpy, snvs(x, position, value)))

    def predict_snv_region(sequence, starts, values):
      return snvs.region(sequence, starts, values, self.input_length)
    return predict_snvs, predict_snv_region if snvs.padding_free else None

  def _run(self, sequences: np.ndarray) -> dict[str, np.ndarray]:
    rows = sequences.shape[0]
    batch = {self.sequence_key: sequences,
             **{k: np.broadcast_to(v, (rows, *v.shape)) for k, v in self._extra.items()}}
    batch = partitioning.global_batch(batch, self.experiment.mesh)
    outputs = self._predict(self.state.params, self.state.batch_stats, batch)
    return {k: np.asarray(v, np.float32) for k, v in outputs.items()}  # Local arrays.

  def head_of(self, name: str) -> str | None:
    """The head (task) an output name belongs to."""
    heads = [h for h in self.experiment.heads if h and (name == h or
                                                       name.startswith(f"{h}/"))]
    return heads[0] if heads else self.experiment.heads[0]

  def to_forward_strand(self, name: str, rc_predictions: np.ndarray) -> np.ndarray:
    """Output ``name`` for reverse-complemented inputs, in forward-strand coordinates."""
    return to_forward_strand(self.experiment.tasks[self.head_of(name)], rc_predictions)

  def __call__(self, sequences: np.ndarray) -> dict[str, np.ndarray]:
    """``[batch, input_length, 4]`` one-hot -> ``{output name: float32[batch, ...]}``.

    The batch size must be a multiple of the mesh's data devices.
    """
    if sequences.shape[1:] != (self.input_length, 4):
      raise ValueError(f"sequences must be [batch, {self.input_length}, 4], got "
                       f"{sequences.shape}")
    if sequences.shape[0] % self.data_devices:
      raise ValueError(f"batch of {sequences.shape[0]} is not divisible by the "
                       f"{self.data_devices} data devices")
    forward = self._run(sequences)
    if not self.reverse_complement_average:
      return forward
    reverse = self._run(np.ascontiguousarray(encoding.reverse_complement(sequences)))
    return {k: (v + self.to_forward_strand(k, reverse[k])) / 2 for k, v in forward.items()}

  def output_names(self, name: str, size: int) -> tuple[str, ...]:
    """Names for the last axis (``size`` entries) of output ``name``, or indices."""
    head = self.head_of(name)
    names = _names_from(self.experiment.tasks[head], self.metadata[head])
    if len(names) == size:
      return names
    return tuple(str(i) for i in range(size))


# ----------------------------------------------------------------------------------
# Writing: a TSV of scalar outputs, a .npy per larger output.
# ----------------------------------------------------------------------------------


def output_stem(out: str) -> str:
  """``preds.tsv`` -> ``preds``: the prefix of the ``.npy`` and ``.json`` files."""
  return out[:-len(".tsv")] if out.endswith(".tsv") else out


def npy_path(out: str, name: str) -> str:
  """Where output ``name`` (``"human"``, ``"profile_probs"``) goes beside ``out``."""
  return f"{output_stem(out)}.{name.replace('/', '.')}.npy"


class PredictionWriter:
  """Streams predictions to ``out`` (TSV) and memory-mapped ``.npy`` files.

  Columns are set by the first batch: the record's id columns, then for each output
  with at most one axis per example one column per entry (named by ``names_for``;
  prefixed ``<output>/`` when there are several such outputs). Outputs with more axes
  go to ``npy_path(out, name)`` as ``float32[num_records, ...]``. Each file is opened
  at ``temporary(final path)`` (by default the final path itself; `predict_to_files`
  passes temporary names that it renames once everything is written).
  """

  def __init__(self, out: str, num_records: int, id_columns: Sequence[str],
               names_for: Callable[[str, int], Sequence[str]],
               temporary: Callable[[str], str] = lambda path: path):
    self.out = out
    self.temporary = temporary
    self.num_records = num_records
    self.id_columns = tuple(id_columns)
    self.names_for = names_for
    self._tsv = None
    self._arrays: dict[str, np.ndarray] = {}
    self._tabular: list[str] = []
    self.columns: list[str] = []
    self.written = 0

  def _start(self, outputs: Mapping[str, np.ndarray]) -> None:
    self._tabular = [k for k, v in outputs.items() if v.ndim <= 2]
    prefix = len(self._tabular) > 1
    self.columns = list(self.id_columns)
    for name in self._tabular:
      value = outputs[name]
      labels = ([name] if value.ndim == 1 else
                [f"{name}/{n}" if prefix else n
                 for n in self.names_for(name, value.shape[1])])
      self.columns.extend(labels)
    directory = os.path.dirname(os.path.abspath(self.out))
    os.makedirs(directory, exist_ok=True)
    self._tsv = open(self.temporary(self.out), "w")
    self._tsv.write("\t".join(self.columns) + "\n")
    for name, value in outputs.items():
      if value.ndim > 2:
        self._arrays[name] = np.lib.format.open_memmap(
            self.temporary(npy_path(self.out, name)), mode="w+", dtype=np.float32,
            shape=(self.num_records, *value.shape[1:]))

  def write(self, ids: Sequence[tuple[Any, ...]], outputs: Mapping[str, np.ndarray]) -> None:
    """Appends ``len(ids)`` records; ``outputs`` hold at least that many rows."""
    if self._tsv is None:
      self._start(outputs)
    rows = len(ids)
    table = [np.asarray(outputs[k][:rows]).reshape(rows, -1) for k in self._tabular]
    values = np.concatenate(table, axis=1) if table else np.zeros((rows, 0))
    for record_ids, row in zip(ids, values):
      self._tsv.write("\t".join([*(str(i) for i in record_ids),
                                 *(f"{v:.6g}" for v in row)]) + "\n")
    for name, array in self._arrays.items():
      array[self.written:self.written + rows] = outputs[name][:rows]
    self.written += rows

  def close(self) -> dict[str, str]:
    """Flushes everything; returns ``{output name: file}`` of the .npy outputs."""
    if self._tsv is not None:
      self._tsv.close()
    for array in self._arrays.values():
      array.flush()
    return {name: npy_path(self.out, name) for name in self._arrays}

  def array_shape(self, name: str) -> tuple[int, ...]:
    """Shape of the ``.npy`` of output ``name``."""
    return self._arrays[name].shape


def _batches(records: Iterable[Record], batch_size: int) -> Iterator[list[Record]]:
  batch = []
  for record in records:
    batch.append(record)
    if len(batch) == batch_size:
      yield batch
      batch = []
  if batch:
    yield batch


def predict_records(predictor: Callable[[np.ndarray], dict[str, np.ndarray]],
                    records: Iterable[Record], writer: PredictionWriter, *,
                    batch_size: int, progress: Any = None) -> int:
  """Predicts ``records`` in batches of ``batch_size`` (the last one padded), writing
  each batch; ``progress`` (a tqdm bar) is advanced by records. Returns the count."""
  count = 0
  for batch in _batches(records, batch_size):
    rows = len(batch)
    sequences = np.stack([r.sequence for r in batch])
    if rows < batch_size:  # One compiled shape: pad with copies of the last record.
      sequences = np.concatenate([sequences, np.repeat(sequences[-1:], batch_size - rows, 0)])
    writer.write([r.ids for r in batch], predictor(sequences))
    count += rows
    if progress is not None:
      progress.update(rows)
  return count


# ----------------------------------------------------------------------------------
# The whole command.
# ----------------------------------------------------------------------------------


def model_input_length(config) -> int:
  """Length of the training dataset's sequences (``config.model_inputs[0]``)."""
  from genereg_jax.train import trainer
  heads = trainer.heads(config)
  example = trainer.load_split(config, config.train_split, heads[0])[0]
  return int(np.shape(example[config.model_inputs[0]])[0])


def load_predictor(config, workdir: str, which: str = "latest", step: int | None = None, *,
                   reverse_complement_average: bool = False,
                   zero_missing_inputs: bool = False) -> tuple[Predictor, int]:
  """A ``Predictor`` for a workdir's checkpoint, and the checkpoint's step.

  The state is placed on this process's devices only (mesh ``config.mesh_shape`` over
  ``jax.local_devices()``), so with several processes (``jax.distributed``) each one
  predicts its own share of the records without talking to the others.
  """
  from genereg_jax.train import trainer
  mesh = partitioning.make_mesh(config.get("mesh_shape", (-1, 1)), jax.local_devices())
  experiment, state, _ = trainer.restore_for_eval(config, workdir, which, step, mesh)
  sources = {head: trainer.load_split(config, config.train_split, head)
             for head in experiment.heads}
  predictor = Predictor(experiment, state, sources[experiment.heads[0]][0],
                        {head: source.metadata for head, source in sources.items()},
                        reverse_complement_average=reverse_complement_average,
                        zero_missing_inputs=zero_missing_inputs)
  return predictor, int(state.step)


def open_records(input_length: int, *, fasta: str | None = None, bed: str | None = None,
                 genome: str | None = None) -> FastaRecords | BedRegions:
  """``FastaRecords`` for ``fasta`` or ``BedRegions`` for ``bed`` + ``genome``."""
  if (fasta is None) == (bed is None):
    raise ValueError("give either a FASTA (--fasta) or a BED file with its genome "
                     "(--bed and --genome)")
  if bed is not None:
    if genome is None:
      raise ValueError(f"--bed {bed} needs --genome, the FASTA its coordinates refer to")
    return BedRegions(bed, genome, input_length)
  return FastaRecords(fasta, input_length)


def predict_to_files(predictor: Predictor, records: FastaRecords | BedRegions, out: str, *,
                     batch_size: int = 64, show_progress: bool = True,
                     provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
  """Predicts every record into ``out`` (+ ``.npy`` files); returns the summary that is
  also written to ``<out stem>.json``. Nothing appears under those names unless the
  whole run succeeds (see the module docstring)."""
  if jax.process_count() > 1:
    raise ValueError("predict writes one TSV; run it on a single process (score_variants "
                     "splits its records over processes)")
  json_path = f"{output_stem(out)}.json"
  for path in (out, json_path):
    check_output_path(path, *records.inputs)
  if batch_size % predictor.data_devices:
    raise ValueError(f"--batch_size {batch_size} must be a multiple of the "
                     f"{predictor.data_devices} data devices")
  message = records.report.message()
  if message:
    logging.warning("%s", message)
  # Leaving the stack renames every temporary file onto its name in reverse order of
  # creation, so the .json (created first) appears last; an error removes them all.
  with contextlib.ExitStack() as outputs:
    temporary = lambda path: outputs.enter_context(atomic_path(path))
    json_tmp = temporary(json_path)
    writer = PredictionWriter(out, len(records), records.id_columns,
                              predictor.output_names, temporary)
    with (reporting.progress_bar(len(records), desc="predict", unit="seq")
          if show_progress else contextlib.nullcontext()) as progress:
      try:
        count = predict_records(predictor, records, writer, batch_size=batch_size,
                                progress=progress)
      finally:
        npy_files = writer.close()
        records.close()
    arrays = {}
    for name, path in npy_files.items():
      shape = writer.array_shape(name)
      arrays[name] = {"file": path, "shape": list(shape),
                      "last_axis_names": list(predictor.output_names(name, shape[-1]))}
    summary = {
        "tsv": out, "records": count, "columns": writer.columns, "arrays": arrays,
        "input_length": predictor.input_length,
        "reverse_complement_average": predictor.reverse_complement_average,
        "length_changes": records.report.as_dict(), "warning": message,
        **dict(provenance or {}),
    }
    with open(json_tmp, "w") as f:
      json.dump(summary, f, indent=2)
  return summary


# ----------------------------------------------------------------------------------
# Genome-browser tracks: bigWig.
# ----------------------------------------------------------------------------------


def genome_sizes(genome_path: str | os.PathLike) -> dict[str, int]:
  """``{chromosome: length}`` in FASTA order, from the FASTA index (built if missing)."""
  genome = Genome(genome_path)
  try:
    return dict(genome.sizes)
  finally:
    genome.close()


def write_bigwig(path: str | os.PathLike, sizes: Mapping[str, int],
                 windows: Sequence[tuple[str, int]], values, *, bin_size: int = 1,
                 offset: int = 0) -> int:
  """Writes per-window values as one bigWig track (pyBigWig).

  ``values[i, b]`` covers ``[start_i + offset + b * bin_size, + bin_size)`` on
  ``chrom_i`` for ``windows[i] = (chrom_i, start_i)``; where windows overlap, each base
  gets the mean of the windows covering it, bases no window covers are left out, and
  bases off the chromosome are dropped. Runs of equal values are one bigWig entry.
  The header lists ``sizes`` (e.g. ``genome_sizes``) in order. Returns the entries.
  """
  import pyBigWig
  values = np.asarray(values, np.float64)
  if values.ndim != 2 or len(values) != len(windows):
    raise ValueError(f"values must be [windows, bins] for {len(windows)} windows, "
                     f"got {values.shape}")
  per_base = np.repeat(values, bin_size, axis=1)
  span = per_base.shape[1]
  by_chrom: dict[str, list[int]] = {}
  for i, (chrom, _) in enumerate(windows):
    if chrom not in sizes:
      raise ValueError(f"{chrom} is not a chromosome of the genome ({len(sizes)} names)")
    by_chrom.setdefault(chrom, []).append(i)
  entries = 0
  with atomic_path(path) as tmp:
    writer = pyBigWig.open(tmp, "w")
    try:
      writer.addHeader([(str(c), int(n)) for c, n in sizes.items()])
      for chrom in (c for c in sizes if c in by_chrom):  # Header order, as bigWig needs.
        rows = by_chrom[chrom]
        starts = np.array([windows[i][1] + offset for i in rows])
        lo, hi = max(int(starts.min()), 0), min(int(starts.max()) + span, sizes[chrom])
        if hi <= lo:
          continue
        total, count = np.zeros(hi - lo), np.zeros(hi - lo)
        for i, start in zip(rows, starts):
          a, b = max(start, lo), min(start + span, hi)
          if b > a:
            total[a - lo:b - lo] += per_base[i, a - start:b - start]
            count[a - lo:b - lo] += 1
        covered = count > 0
        mean = np.where(covered, total / np.maximum(count, 1), 0.0)
        # A run ends where coverage or the value changes.
        change = np.flatnonzero((np.diff(mean) != 0) | (np.diff(covered) != 0)) + 1
        run_starts = np.concatenate([[0], change])
        run_ends = np.concatenate([change, [hi - lo]])
        keep = covered[run_starts]
        run_starts, run_ends = run_starts[keep], run_ends[keep]
        if run_starts.size:
          writer.addEntries([chrom] * run_starts.size, (run_starts + lo).tolist(),
                            ends=(run_ends + lo).tolist(),
                            values=mean[run_starts].tolist())
          entries += run_starts.size
    finally:
      writer.close()
  return entries


def write_prediction_bigwigs(out: str, npy_files: Mapping[str, str],
                             names: Callable[[str, int], Sequence[str]],
                             sizes: Mapping[str, int], windows: Sequence[tuple[str, int]],
                             input_length: int, bin_size: int | None = None
                             ) -> dict[str, str]:
  """One bigWig per track of every ``[records, bins, tracks]`` (or ``[records, bins]``)
  prediction: ``<out stem>.<output>.<track>.bw``. The bins are centred on each input
  window (``bin_size`` bp each; default ``input_length // bins``, no crop), as the
  coverage and profile models' cropped outputs are. Returns ``{file: track}``."""
  written = {}
  for output, npy in npy_files.items():
    predictions = np.load(npy, mmap_mode="r")
    if predictions.ndim == 2:
      predictions = predictions[..., None]
    if predictions.ndim != 3:
      continue
    bins = predictions.shape[1]
    width = bin_size or input_length // bins
    offset = (input_length - bins * width) // 2
    for t, track in enumerate(names(output, predictions.shape[2])):
      safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(track))
      path = f"{output_stem(out)}.{output.replace('/', '_')}.{safe}.bw"
      check_output_path(path)
      write_bigwig(path, sizes, windows, predictions[:, :, t], bin_size=width,
                   offset=offset)
      written[path] = str(track)
  return written
