"""What a dataset was built from, so a rebuild with other inputs is never silently skipped.

TFDS skips ``download_and_prepare`` whenever the dataset's folder exists, so rerunning a
builder's ``make`` command with the same ``--name`` but other BEDs or another window
used to return the old dataset. `prepare` stores a fingerprint of the inputs in the
dataset's metadata (``metadata.json``, key ``input_fingerprint``): every build option,
and for every input file its absolute path, size and SHA-256 (files up to
`HASHED_BYTES`; bigger ones, e.g. a genome or bigWigs, by size and modification time,
which is what ``make`` also trusts). On a rerun the fingerprint is recomputed and
compared: equal, the dataset is reused; different, the command stops and lists what
changed, unless it was given ``--overwrite``, which deletes and rebuilds the dataset.

``intervals.make`` and ``bpnet_profiles.make`` use `prepare`; builders of registered
configs that read user files from ``--manual_dir`` (``spliceai_gencode``) store the
fingerprint themselves and expose ``input_fingerprint(manual_dir)``, which
``data_builders.build`` checks with `check` before reusing a built dataset, and
``pipeline.load_builder`` (training with ``build_if_missing``) before reading it.
It lives in the library because the pipeline needs it; builders import it from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from absl import logging

KEY = "input_fingerprint"
HASHED_BYTES = 64 << 20
# BuilderConfig fields that say nothing about the data.
_NOT_OPTIONS = ("name", "version", "release_notes", "supported_versions", "description",
                "tags")


def config_options(config) -> dict[str, Any]:
  """The build options of a dataclass ``BuilderConfig`` (its fields but name, version...)."""
  return {field.name: getattr(config, field.name) for field in dataclasses.fields(config)
          if field.name not in _NOT_OPTIONS}


def file_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
  """``size`` and ``sha256`` (small files) or ``size`` and ``mtime_ns`` (large ones).

  A missing file is ``{"missing": True}``; the builder then says what it expected.
  """
  if not os.path.isfile(path):
    return {"missing": True}
  stat = os.stat(path)
  if stat.st_size > HASHED_BYTES:
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return {"size": stat.st_size, "sha256": digest.hexdigest()}


def fingerprint(files: Iterable[str | os.PathLike], options: Mapping[str, Any]
                ) -> dict[str, Any]:
  """The inputs' fingerprint: ``{"options": ..., "files": {abspath: ...}}`` (JSON-ready)."""
  return {
      "options": json.loads(json.dumps(dict(options), default=str)),
      "files": {os.path.abspath(p): file_fingerprint(p)
                for p in dict.fromkeys(os.fspath(p) for p in files)},
  }


def differences(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
  """What changed from ``stored`` to ``current``, one short phrase per change."""
  changes = []
  old_options, new_options = stored.get("options", {}), current["options"]
  for key in sorted(set(old_options) | set(new_options)):
    if old_options.get(key) != new_options.get(key):
      changes.append(f"{key}: {old_options.get(key)!r} -> {new_options.get(key)!r}")
  old_files, new_files = stored.get("files", {}), current["files"]
  for path in sorted(set(old_files) | set(new_files)):
    if path not in new_files:
      changes.append(f"input {path} is no longer used")
    elif path not in old_files:
      changes.append(f"input {path} is new")
    elif old_files[path] != new_files[path]:
      changes.append(f"input {path} changed since the build (size, content or time)")
  return changes


def stored_fingerprint(builder) -> dict[str, Any] | None:
  path = builder.data_path / "metadata.json"
  return json.loads(path.read_text()).get(KEY) if path.exists() else None


def check(builder, current: Mapping[str, Any], overwrite: bool = False) -> bool:
  """Whether ``builder``'s dataset must be (re)built for inputs ``current``.

  A dataset built from the same inputs is kept (False). One built from other inputs,
  or before fingerprints were stored, is refused with a ``ValueError`` listing the
  changes, or deleted when ``overwrite`` (True, as when none is built yet).
  """
  if not (builder.data_path / "dataset_info.json").exists():
    return True
  stored = stored_fingerprint(builder)
  changes = (["it was built without a record of its inputs (by an older version)"]
             if stored is None else differences(stored, current))
  if not changes:
    logging.info("Reusing %s: built from the same inputs and options", builder.data_path)
    return False
  if not overwrite:
    raise ValueError(
        f"dataset {builder.name}/{builder.builder_config.name} in {builder.data_path} "
        "was built from other inputs: " + "; ".join(changes) + ". Rerun with "
        "--overwrite to rebuild it, or choose another --name.")
  logging.warning("Rebuilding %s (--overwrite): %s", builder.data_path, "; ".join(changes))
  shutil.rmtree(os.fspath(builder.data_path))
  return True


def prepare(make_builder: Callable[[], Any], current: Mapping[str, Any],
            overwrite: bool = False, **prepare_kwargs) -> Any:
  """Builds the dataset of ``make_builder()`` or reuses it when its inputs are unchanged.

  Args:
    make_builder: returns the TFDS builder (called again after deleting a stale build).
    current: `fingerprint` of the inputs and options of this run.
    overwrite: delete and rebuild a dataset built from other inputs instead of refusing.
    **prepare_kwargs: passed to ``download_and_prepare``.

  Returns:
    The prepared builder.

  Raises:
    ValueError: the dataset exists, was built from other inputs (or before fingerprints
      were stored), and ``overwrite`` is False; the message lists the changes.
  """
  builder = make_builder()
  if check(builder, current, overwrite):
    builder = make_builder()  # A fresh one: the old one read the deleted dataset's info.
    builder.info.metadata[KEY] = dict(current)
    builder.download_and_prepare(**prepare_kwargs)
  return builder
