"""Safe file output for every writer in the package: nothing half-written, no input lost.

* ``atomic_path`` / ``atomic_write``: write to a hidden temporary name in the destination's
  folder and ``os.replace`` it onto the destination only when the block finishes; on any
  error (or Ctrl-C) the temporary file is removed and an existing destination is untouched.
  A reader therefore sees either the old file or the complete new one, never a prefix.
* ``check_output_path``: refuses an output that is one of the inputs (``--out in.vcf``),
  before anything is opened.
* ``InputFormatError``: the base of the package's "bad user file" errors; its message
  names the file and the line, so an entry point can print it as one ``error:`` line.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any, IO, Iterator


class InputFormatError(ValueError):
  """A user file is malformed; ``str(error)`` is ``"<path>:<line>: <what is wrong>"``."""

  def __init__(self, path: str | os.PathLike | None, line: int | None, message: str):
    self.path, self.line, self.message = (None if path is None else os.fspath(path)), line, message
    where = ":".join(str(p) for p in (self.path, line) if p is not None)
    super().__init__(f"{where}: {message}" if where else message)


def _umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
  """Yields a temporary path beside ``path``; renamed onto ``path`` when the block succeeds.

  For writers that want a file name (``np.save``, ``savefig``, a BGZF writer). The
  temporary name starts with ``.`` and ends with ``.partial`` so nobody mistakes it for
  output; it is removed when the block raises.
  """
  path = os.fspath(path)
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial",
                             dir=directory)
  os.close(fd)
  os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode.
  try:
    yield tmp
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
  """``open(path, mode)`` that replaces ``path`` only once the ``with`` block completes."""
  if not mode.startswith("w"):
    raise ValueError(f"atomic_write writes whole files; mode {mode!r} is not a 'w' mode")
  with atomic_path(path) as tmp:
    with open(tmp, mode, **open_kwargs) as f:
      yield f
      f.flush()
      os.fsync(f.fileno())


def write_json(path: str | os.PathLike, value: Any, **dump_kwargs) -> None:
  """Atomically writes ``value`` as JSON (indent 2 unless told otherwise)."""
  dump_kwargs.setdefault("indent", 2)
  with atomic_write(path) as f:
    json.dump(value, f, **dump_kwargs)
    f.write("\n")


def _same_file(a: str, b: str) -> bool:
  if os.path.exists(a) and os.path.exists(b):
    return os.path.samefile(a, b)
  return os.path.realpath(a) == os.path.realpath(b)


def check_output_path(output: str | os.PathLike, *inputs: str | os.PathLike | None) -> None:
  """Raises ``ValueError`` when ``output`` is one of ``inputs`` (before anything is opened)."""
  output = os.fspath(output)
  for source in inputs:
    if source is not None and _same_file(output, os.fspath(source)):
      raise ValueError(f"output {output} is the input {os.fspath(source)}; "
                       "choose another output path (the input would be overwritten)")
