"""Grain input pipelines over TFDS array_record data sources (DESIGN.md, layer 2).

``load_data_source`` finds a builder by name (importing ``data_builders.<name>`` so
it registers) and returns ``builder.as_data_source(split)`` — no TensorFlow at train
time. ``make_loader`` turns a data source into a checkpointable ``grain.DataLoader``:
each process's rows of every global batch, seeded shuffle, reverse-complement and shift
augmentation, batching.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any, Callable, Sequence

import grain
import numpy as np
import tensorflow_datasets as tfds

from genereg_jax.data import encoding
from genereg_jax.data import fingerprint

Example = dict[str, Any]


class DatasetNotBuiltError(FileNotFoundError):
  """The dataset has not been prepared in ``data_dir``; the message says how to build it."""


def build_command(name: str, data_dir: str | None) -> str:
  command = f"python -m data_builders.build --dataset={name}"
  return command + (f" --data_dir={data_dir}" if data_dir else "")


def load_builder(name: str, data_dir: str | None = None, *, build_if_missing: bool = False,
                 manual_dir: str | None = None,
                 download_config: tfds.download.DownloadConfig | None = None
                 ) -> tfds.core.DatasetBuilder:
  """The TFDS builder ``name`` (``"dataset"`` or ``"dataset/config"``), built if asked.

  Raises ``DatasetNotBuiltError`` naming the command that builds it when the dataset
  has not been prepared and ``build_if_missing`` is false. A build uses
  ``download_config`` when given (e.g. one with Beam options,
  ``data_builders.sharded.download_config``), else one with ``manual_dir``.
  """
  package = name.split("/")[0].split(":")[0]
  try:
    importlib.import_module(f"data_builders.{package}")
  except ModuleNotFoundError as e:
    if e.name != f"data_builders.{package}":
      raise
    import data_builders
    available = sorted(d for d in os.listdir(os.path.dirname(data_builders.__file__))
                       if not d.startswith("_") and
                       os.path.isdir(os.path.join(os.path.dirname(data_builders.__file__), d)))
    raise ValueError(f"unknown dataset {name!r}; available builders: {available}") from None
  try:
    builder = tfds.builder(name, data_dir=data_dir, file_format="array_record")
  except ValueError as e:
    if "BuilderConfig" not in str(e):
      raise
    # Configs made from user arguments (intervals, bpnet_profiles) exist only once built.
    module = importlib.import_module(f"data_builders.{package}")
    hint = getattr(module, "BUILD_HINT", build_command(name, data_dir))
    raise DatasetNotBuiltError(
        f"dataset {name!r} is not built in {data_dir or '~/tensorflow_datasets'!r} and is "
        f"not a predefined config. Build it with:\n  {hint}") from None
  if builder.is_prepared():
    _check_inputs(builder, name, data_dir, manual_dir)
  else:
    if not build_if_missing:
      raise DatasetNotBuiltError(
          f"dataset {name!r} is not built in {builder.data_dir!r}. Build it with:\n  "
          + build_command(name, data_dir)
          + (" --manual_dir=<dir with the downloaded files>" if manual_dir is None and
             getattr(builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None) else ""))
    download_config = download_config or tfds.download.DownloadConfig(manual_dir=manual_dir)
    # One line of ours instead of TFDS's "Downloading and preparing dataset Unknown size"
    # (nothing is downloaded); its progress bars only on a terminal (log files would fill
    # with carriage returns).
    import contextlib
    import io
    import sys
    from absl import logging
    logging.info("building dataset %s in %s (first use; later runs reuse it)", name,
                 builder.data_dir)
    tfds.display_progress_bar(sys.stderr.isatty())
    with contextlib.redirect_stdout(io.StringIO()):
      builder.download_and_prepare(file_format="array_record", download_config=download_config)
    logging.info("built dataset %s", name)
  return builder


def _check_inputs(builder, name: str, data_dir: str | None, manual_dir: str | None) -> None:
  """Refuses a dataset built from other files than ``manual_dir`` holds now.

  Builders that read user files from ``manual_dir`` expose ``input_fingerprint``; the
  comparison is `fingerprint.differences` on what the build recorded in its metadata.
  """
  compute = getattr(builder, "input_fingerprint", None)
  current = compute(manual_dir) if compute is not None and manual_dir else None
  stored = fingerprint.stored_fingerprint(builder)
  if current is None or stored is None:
    return
  changes = fingerprint.differences(stored, current)
  if changes:
    raise ValueError(
        f"dataset {name!r} in {builder.data_path} was built from other inputs than "
        f"{manual_dir} holds now: {'; '.join(changes)}. Rebuild it with:\n  "
        + build_command(name, data_dir) + f" --manual_dir={manual_dir} --overwrite")


@dataclasses.dataclass(frozen=True)
class Augmentation:
  """Random reverse complement (p = 0.5) and shift by up to ``max_shift`` bp.

  ``reverse_complement_targets`` is the task's hook for positional/stranded targets.
  Shifted sequences are padded with N (all zeros).
  """
  reverse_complement: bool = False
  max_shift: int = 0
  sequence_key: str = "sequence"
  reverse_complement_targets: Callable[[Example], Example] | None = None


def shift_sequence(sequence: np.ndarray, shift: int) -> np.ndarray:
  """Moves ``[length, 4]`` content right by ``shift`` (left if negative), N-padded."""
  if shift == 0:
    return sequence
  out = np.zeros_like(sequence)
  if shift > 0:
    out[shift:] = sequence[:-shift]
  else:
    out[:shift] = sequence[-shift:]
  return out


class _Augment(grain.transforms.RandomMap):

  def __init__(self, augmentation: Augmentation):
    self.augmentation = augmentation

  def random_map(self, example: Example, rng: np.random.Generator) -> Example:
    aug = self.augmentation
    example = dict(example)
    if aug.max_shift:
      shift = int(rng.integers(-aug.max_shift, aug.max_shift + 1))
      example[aug.sequence_key] = shift_sequence(example[aug.sequence_key], shift)
    if aug.reverse_complement and rng.random() < 0.5:
      example[aug.sequence_key] = np.ascontiguousarray(
          encoding.reverse_complement(example[aug.sequence_key]))
      if aug.reverse_complement_targets is not None:
        example = aug.reverse_complement_targets(example)
    return example


class _SelectKeys(grain.transforms.Map):

  def __init__(self, keys: Sequence[str]):
    self.keys = tuple(keys)

  def map(self, example: Example) -> Example:
    missing = [k for k in self.keys if k not in example]
    if missing:
      raise KeyError(f"examples have no field(s) {missing}; fields: {sorted(example)}")
    return {k: np.asarray(example[k]) for k in self.keys}


class ProcessRows:
  """Sampler: this process's rows of every global batch of the one-process record order.

  Several JAX processes each load ``rows`` consecutive rows, from ``first`` on, of each
  global batch of ``global_batch_size`` records; the global record order (shuffle,
  epochs, augmentation draws) is the one a single process reads. So a run on N hosts
  trains on exactly the batches of a run on one, and every process's iterator state is
  the same position: the one state a checkpoint keeps (orbax saves JSON from process 0)
  restores them all. ``repr`` (which grain checks on restore) leaves ``first`` out for
  that reason, and names the rows per process so a relaunch with another number of
  processes is refused instead of silently reading other records.
  """

  def __init__(self, sampler: grain.samplers.IndexSampler, first: int, rows: int,
               global_batch_size: int):
    self._sampler, self._first, self._rows = sampler, first, rows
    self._global = global_batch_size

  def _global_index(self, index: int) -> int:
    batch, row = divmod(index, self._rows)
    return batch * self._global + self._first + row

  def __len__(self) -> int:
    total = len(self._sampler)
    batches, remainder = divmod(total, self._global)
    return batches * self._rows + min(max(remainder - self._first, 0), self._rows)

  def __getitem__(self, index: int):
    if index < 0 or index >= len(self):
      raise IndexError(f"index {index} is past this process's {len(self)} records")
    return self._sampler[self._global_index(index)]

  def __repr__(self) -> str:
    return (f"ProcessRows({self._sampler!r}, rows={self._rows}, "
            f"global_batch_size={self._global})")


def dataset_transforms(name: str, metadata: dict[str, Any], train: bool) -> list[Any]:
  """Per-example grain transforms a dataset asks for (e.g. BPNet's jitter crops).

  A builder package may define ``grain_transforms(metadata, train) -> list``; most
  define none.
  """
  if metadata.get("stream"):  # A pretraining stream (pretrain_sources), no builder.
    return []
  module = importlib.import_module(f"data_builders.{name.split('/')[0]}")
  hook = getattr(module, "grain_transforms", None)
  return list(hook(metadata, train)) if hook else []


def make_loader(data_source, *, batch_size: int, keys: Sequence[str], seed: int = 0,
                shuffle: bool = True, num_epochs: int | None = None,
                augmentation: Augmentation | None = None, drop_remainder: bool = True,
                worker_count: int = 0, transforms: Sequence[Any] = (),
                process_rows: tuple[int, int] | None = None) -> grain.DataLoader:
  """A checkpointable loader yielding dicts of ``[batch_size, ...]`` numpy arrays.

  ``batch_size`` is per process. ``num_epochs=None`` repeats forever (training);
  evaluation uses ``num_epochs=1, shuffle=False, drop_remainder=False``.
  ``transforms`` (from ``dataset_transforms``) run before augmentation.
  ``process_rows=(first row, global batch size)``: with several processes, this
  process's ``batch_size`` rows of each global batch (`ProcessRows`); None (one
  process, or every process reading whole batches) reads every record.
  """
  # One shard: with several processes, ProcessRows splits each global batch instead.
  shard = grain.sharding.ShardOptions(shard_index=0, shard_count=1,
                                      drop_remainder=drop_remainder)
  sampler = grain.samplers.IndexSampler(
      num_records=len(data_source), shard_options=shard, shuffle=shuffle,
      num_epochs=num_epochs, seed=seed)
  if process_rows is not None and process_rows[1] != batch_size:
    sampler = ProcessRows(sampler, process_rows[0], batch_size, process_rows[1])
  operations: list[Any] = [_SelectKeys(keys), *transforms]
  if augmentation is not None and (augmentation.reverse_complement or augmentation.max_shift):
    operations.append(_Augment(augmentation))
  operations.append(grain.transforms.Batch(batch_size, drop_remainder=drop_remainder))
  # A source whose reads hold the GIL says ``read_threads = 0`` (genome_source): grain's
  # 16 reader threads then only add handoffs, ~250 us of CPU per example there.
  threads = getattr(data_source, "read_threads", None)
  read_options = None
  if threads == 0:
    read_options = grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)
  elif threads is not None:
    read_options = grain.ReadOptions(num_threads=threads)
  return grain.DataLoader(data_source=data_source, sampler=sampler, operations=operations,
                          worker_count=worker_count, shard_options=shard,
                          read_options=read_options)
